package resources

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/auth"
	"github.com/mlfleet/mlfleet/internal/failpoint"
	"github.com/mlfleet/mlfleet/internal/operations"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// KindDelete is the operation kind of a cascading delete.
const KindDelete = "resources.delete"

// Deleter removes one resource of a type, with whatever it owns outside the store, and then
// its store row. It must be idempotent and return nil when the resource is already gone.
type Deleter func(ctx context.Context, run *operations.Run, r *store.Resource) error

// Service manages subscriptions and resource groups.
type Service struct {
	store    store.Store
	engine   *operations.Engine
	deleters map[string]Deleter
	// before maps a type (lower case) to the types its resources are deleted before in a
	// cascade, at the same depth (DeleteBefore).
	before map[string][]string
	now    func() time.Time
	// accessChanged is called after a delete removed role assignments (nil: nothing).
	accessChanged func()
}

// New returns a Service and registers its operation handler on engine.
func New(s store.Store, engine *operations.Engine) *Service {
	svc := &Service{store: s, engine: engine, deleters: map[string]Deleter{}, before: map[string][]string{}, now: time.Now}
	engine.Register(KindDelete, svc.runDelete)
	engine.OnFailure(KindDelete, svc.failedDelete)
	// failedDelete only writes the target's state: should it fail every time, it is tried
	// again when the cleanup is given up.
	engine.OnGiveUp(KindDelete, operations.GiveUp(svc.failedDelete))
	return svc
}

// OnAccessChanged sets what a delete calls after it removed role assignments: the
// authenticator's Forget, so that no request is allowed by a role that went with a deleted
// scope. Call it before the engine starts.
func (s *Service) OnAccessChanged(f func()) { s.accessChanged = f }

// AccessChanged tells the authenticator that role assignments were deleted (by a
// service deleting a resource's assignments with it), so that no request is allowed by
// them any more. Nothing without OnAccessChanged.
func (s *Service) AccessChanged() {
	if s != nil && s.accessChanged != nil {
		s.accessChanged()
	}
}

// RegisterDeleter sets how resources of an ARM type are deleted in a cascade. Types without
// one are removed from the store only.
func (s *Service) RegisterDeleter(armType string, d Deleter) {
	s.deleters[strings.ToLower(armType)] = d
}

// DeleteBefore has a cascading delete remove the resources of armType before those of
// other that are as deep (siblings, such as the online endpoints and the computes of a
// workspace): armType's Deleter reaches what it owns through an other (an endpoint's
// Secret is in the cluster of its compute), which must still be there. Call it before
// the engine starts.
func (s *Service) DeleteBefore(armType, other string) {
	t := strings.ToLower(armType)
	s.before[t] = append(s.before[t], strings.ToLower(other))
}

// Touch returns system data for a change made now by the principal in ctx, keeping the
// creation fields of prev when there is one.
func Touch(ctx context.Context, prev *armapi.SystemData, now time.Time) *armapi.SystemData {
	caller := auth.PrincipalFrom(ctx)
	who, kind := caller.Name, identityType(caller)
	sd := &armapi.SystemData{CreatedAt: now.UTC(), CreatedBy: who, CreatedByType: kind}
	if prev != nil {
		sd.CreatedAt, sd.CreatedBy, sd.CreatedByType = prev.CreatedAt, prev.CreatedBy, prev.CreatedByType
	}
	sd.LastModifiedAt, sd.LastModifiedBy, sd.LastModifiedByType = now.UTC(), who, kind
	return sd
}

// identityType is ARM's systemData name for the kind of p: "User" for a user,
// "Application" for a service principal, as ARM records an app registration's changes, and
// for mlfleet's own background work (auth.System), which acts as the service itself.
func identityType(p *auth.Principal) string {
	if p.Type == store.PrincipalUser {
		return "User"
	}
	return "Application"
}

// Page selects a page of a list: the items after After, less the first Skip, then at most
// Top.
type Page struct {
	// After, when not "", is the id of the last item of the previous page (what a nextLink's
	// $skiptoken carries): the page starts with the first item after it in id order, so
	// items deleted or added before it do not shift the page.
	After string
	// Skip is $skip, the number of items passed over before the page starts (counted after
	// After when both are set).
	Skip int
	// Top is $top, the most items on the page; 0 means no limit.
	Top int
	// Within, when not nil, keeps only resources at or under one of these ids: what the
	// caller may read (see store.ListOptions.Within).
	Within []string
}

// EnsureSubscription creates the subscription if it is missing. Idempotent.
func (s *Service) EnsureSubscription(ctx context.Context, id, displayName, tenantID string) (*armapi.Subscription, error) {
	sub := &armapi.Subscription{ID: arm.SubscriptionPath(id), SubscriptionID: id, DisplayName: displayName, State: "Enabled", TenantID: tenantID}
	r := &store.Resource{ID: sub.ID, Type: arm.TypeSubscription, Name: id, SubscriptionID: id, Body: subscriptionRecord.Encode(sub)}
	// Create, not read-then-create: replicas starting together (N2) each try, one wins,
	// and the others read the winner's row.
	err := s.store.CreateResource(ctx, r)
	if err != nil && !errors.Is(err, store.ErrConflict) {
		return nil, fmt.Errorf("ensure subscription %s: %w", id, err)
	}
	return s.GetSubscription(ctx, id)
}

// DefaultSubscriptionName is the display name of the subscription a first start makes.
const DefaultSubscriptionName = "mlfleet default subscription"

// DefaultSubscription returns the subscription a new home's CLI uses: the one a first start
// made, else the oldest, made (with a new id and tenant) when there is none. The choice and the create run in one
// transaction under one lock, so that replicas starting together on an empty store (the
// README starts three at once) agree on one subscription instead of each making its own.
func (s *Service) DefaultSubscription(ctx context.Context) (*armapi.Subscription, error) {
	var sub *armapi.Subscription
	err := s.store.InTx(ctx, func(tx store.Store) error {
		if err := tx.Lock(ctx, "subscriptions/default"); err != nil {
			return err
		}
		rows, err := tx.ListResources(ctx, store.ListOptions{Type: arm.TypeSubscription})
		if err != nil {
			return err
		}
		if len(rows) > 0 {
			subs, err := DecodeRows(rows, func(r *store.Resource) (*armapi.Subscription, error) { return subscriptionRecord.Read(r.ID, r.Body) })
			if err != nil {
				return err
			}
			// The one made as the default, else the oldest; the id breaks ties (the times
			// are in milliseconds).
			i := slices.IndexFunc(subs, func(s *armapi.Subscription) bool { return s.DisplayName == DefaultSubscriptionName })
			if i < 0 {
				i = slices.Index(rows, slices.MinFunc(rows, func(a, b *store.Resource) int {
					return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
				}))
			}
			sub = subs[i]
			return nil
		}
		if err := failpoint.Hit("resources/default subscription/create/before"); err != nil {
			return err
		}
		id := uuid.NewString()
		sub = &armapi.Subscription{ID: arm.SubscriptionPath(id), SubscriptionID: id, DisplayName: DefaultSubscriptionName, State: "Enabled", TenantID: uuid.NewString()}
		return tx.CreateResource(ctx, &store.Resource{ID: sub.ID, Type: arm.TypeSubscription, Name: id, SubscriptionID: id, Body: subscriptionRecord.Encode(sub)})
	})
	if err != nil {
		return nil, fmt.Errorf("default subscription: %w", err)
	}
	return sub, nil
}

// GetSubscription returns a subscription, or a 404 SubscriptionNotFound.
func (s *Service) GetSubscription(ctx context.Context, id string) (*armapi.Subscription, error) {
	r, err := s.store.GetResource(ctx, arm.SubscriptionPath(id))
	if errors.Is(err, store.ErrNotFound) {
		return nil, arm.NotFound(arm.CodeSubscriptionNotFound, "The subscription '%s' could not be found. Run 'mlfleet account show' to see yours.", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get subscription %s: %w", id, err)
	}
	return subscriptionRecord.Read(id, r.Body)
}

// ListSubscriptions returns every subscription.
func (s *Service) ListSubscriptions(ctx context.Context) ([]*armapi.Subscription, error) {
	rows, err := s.store.ListResources(ctx, store.ListOptions{Type: arm.TypeSubscription})
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	return DecodeRows(rows, func(r *store.Resource) (*armapi.Subscription, error) { return subscriptionRecord.Read(r.ID, r.Body) })
}

// resourceGroupName: 1-90 letters, digits, underscores, hyphens, periods, parentheses;
// not ending in a period. ARM's rule, but with ASCII letters and digits only: ARM takes
// Unicode ones too, which mlfleet refuses for now, since its ids are compared without case
// and not every store folds the case of non-ASCII letters as Go does.
var resourceGroupName = regexp.MustCompile(`^[-\w._()]+$`)

// ValidateGroupName returns a 400 InvalidResourceName when name breaks ARM's rules.
func ValidateGroupName(name string) error {
	n := utf8.RuneCountInString(name)
	if n < 1 || n > 90 || !resourceGroupName.MatchString(name) || strings.HasSuffix(name, ".") {
		return arm.BadRequest(arm.CodeInvalidResourceName,
			"Resource group name '%s' is invalid: use 1 to 90 letters, digits, underscores, hyphens, periods or parentheses, not ending in a period.", name).WithTarget("resourceGroupName")
	}
	return nil
}

// PutGroup creates or updates a resource group. created is true when it was new.
func (s *Service) PutGroup(ctx context.Context, sub, name string, in armapi.GroupInput) (rg *armapi.ResourceGroup, created bool, err error) {
	if _, err := s.GetSubscription(ctx, sub); err != nil {
		return nil, false, err
	}
	if err := ValidateGroupName(name); err != nil {
		return nil, false, err
	}
	if strings.TrimSpace(in.Location) == "" {
		return nil, false, arm.BadRequest(arm.CodeLocationRequired, "The location of resource group '%s' is required, e.g. --location westus.", name).WithTarget("location")
	}
	loc, ok := arm.NormalizeLocation(in.Location)
	if !ok {
		return nil, false, InvalidLocation(in.Location)
	}
	id := arm.ResourceGroupPath(sub, name)
	created, err = Upsert(ctx, s.store, "resource group "+name, id, func() *store.Resource {
		rg = &armapi.ResourceGroup{ID: id, Name: name, Type: arm.TypeResourceGroup, Location: loc, ManagedBy: in.ManagedBy,
			Tags: nonNilTags(in.Tags), Properties: armapi.GroupProperties{ProvisioningState: armapi.StateSucceeded}}
		return &store.Resource{ID: id, ParentID: arm.SubscriptionPath(sub), Type: arm.TypeResourceGroup,
			Name: name, SubscriptionID: sub, ResourceGroup: name, Location: loc, Body: groupRecord.Encode(rg)}
	}, func(existing *store.Resource) error {
		var err error
		if rg, err = groupRecord.Read(name, existing.Body); err != nil {
			return err
		}
		if rg.Properties.ProvisioningState == armapi.StateDeleting {
			return beingDeleted(rg.Name)
		}
		// ARM answers a PUT that moves a group with a 409, not a 400: the request is
		// well formed, it conflicts with the group that exists.
		if rg.Location != loc {
			return arm.Conflict("Resource group '%s' already exists in location '%s'; a resource group's location cannot be changed. Use --location %s or another name.", rg.Name, rg.Location, rg.Location).WithTarget("location")
		}
		rg.Tags = nonNilTags(in.Tags)
		if in.ManagedBy != nil {
			rg.ManagedBy = in.ManagedBy
		}
		existing.Body = groupRecord.Encode(rg)
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return rg, created, nil
}

// PatchGroup changes the fields in sets of an existing resource group (ARM's PATCH): tags,
// when sent, replace the whole set, and managedBy changes when sent; a location, when sent,
// must be the group's. A missing group is a 404: PATCH never creates. A resource group has
// no etag, so If-Match holds only as *.
func (s *Service) PatchGroup(ctx context.Context, sub, name string, in armapi.GroupInput, pre arm.Preconditions) (*armapi.ResourceGroup, error) {
	if _, err := s.GetSubscription(ctx, sub); err != nil {
		return nil, err
	}
	if err := pre.CheckIfMatchUntagged(fmt.Sprintf("Resource group '%s'", name)); err != nil {
		return nil, err
	}
	var rg *armapi.ResourceGroup
	_, err := store.Modify(ctx, s.store, arm.ResourceGroupPath(sub, name), func(r *store.Resource) error {
		var err error
		if rg, err = groupRecord.Read(name, r.Body); err != nil {
			return err
		}
		if rg.Properties.ProvisioningState == armapi.StateDeleting {
			return beingDeleted(rg.Name)
		}
		if in.Location != "" {
			if loc, _ := arm.NormalizeLocation(in.Location); loc != rg.Location {
				return arm.Conflict("Resource group '%s' is in location '%s'; a resource group's location cannot be changed.", rg.Name, rg.Location).WithTarget("location")
			}
		}
		if in.Tags != nil {
			rg.Tags = in.Tags
		}
		if in.ManagedBy != nil {
			rg.ManagedBy = in.ManagedBy
		}
		r.Body = groupRecord.Encode(rg)
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, groupNotFound(name)
	}
	if err != nil {
		return nil, fmt.Errorf("patch resource group %s: %w", name, err)
	}
	return rg, nil
}

// GetGroup returns a resource group, or a 404 ResourceGroupNotFound.
func (s *Service) GetGroup(ctx context.Context, sub, name string) (*armapi.ResourceGroup, error) {
	if _, err := s.GetSubscription(ctx, sub); err != nil {
		return nil, err
	}
	r, err := s.store.GetResource(ctx, arm.ResourceGroupPath(sub, name))
	if errors.Is(err, store.ErrNotFound) {
		return nil, groupNotFound(name)
	}
	if err != nil {
		return nil, fmt.Errorf("get resource group %s: %w", name, err)
	}
	return groupRecord.Read(name, r.Body)
}

// WritableGroup returns the resource group that a new or changed child resource goes into:
// 404 when it does not exist, 409 ResourceGroupBeingDeleted while it is being deleted.
func (s *Service) WritableGroup(ctx context.Context, sub, name string) (*armapi.ResourceGroup, error) {
	rg, err := s.GetGroup(ctx, sub, name)
	if err != nil {
		return nil, err
	}
	if rg.Properties.ProvisioningState == armapi.StateDeleting {
		return nil, beingDeleted(rg.Name)
	}
	return rg, nil
}

// ListGroups returns a page of the subscription's resource groups that pass f's tag
// clauses (see ParseGroupFilter). next is the id of the page's last group when another
// page follows (the next page's Page.After), "" on the last page.
func (s *Service) ListGroups(ctx context.Context, sub string, f Filter, p Page) (groups []*armapi.ResourceGroup, next string, err error) {
	if _, err := s.GetSubscription(ctx, sub); err != nil {
		return nil, "", err
	}
	opts := store.ListOptions{ParentID: arm.SubscriptionPath(sub), Type: arm.TypeResourceGroup, Within: p.Within, After: p.After, Offset: p.Skip}
	if p.Top > 0 {
		opts.Limit = p.Top + 1
	}
	groups = []*armapi.ResourceGroup{}
	last := "" // the id of the last group on the page
	for {
		rows, err := s.store.ListResources(ctx, opts)
		if err != nil {
			return nil, "", fmt.Errorf("list resource groups: %w", err)
		}
		for _, r := range rows {
			rg, err := groupRecord.Read(r.ID, r.Body)
			if err != nil {
				return nil, "", err
			}
			if !f.MatchesTags(rg.Tags) {
				continue
			}
			if p.Top > 0 && len(groups) == p.Top {
				return groups, last, nil
			}
			groups, last = append(groups, rg), r.ID
		}
		if opts.Limit == 0 || len(rows) < opts.Limit {
			return groups, "", nil
		}
		// The filter passed over some of these rows: read on after the last one.
		opts.After, opts.Offset = rows[len(rows)-1].ID, 0
	}
}

// ListPage lists one page of rows selected by opts. next is the id of the page's last row
// when another page follows (the next page's Page.After), "" on the last page. It asks the
// store for one row more than Top: that row says whether a nextLink is due (A5: omitted
// on the last page) without a count of every row.
func ListPage(ctx context.Context, st store.Store, opts store.ListOptions, p Page) (rows []*store.Resource, next string, err error) {
	opts.After, opts.Offset, opts.Limit, opts.Within = p.After, p.Skip, 0, p.Within
	if p.Top > 0 {
		opts.Limit = p.Top + 1
	}
	rows, err = st.ListResources(ctx, opts)
	if err != nil {
		return nil, "", err
	}
	if p.Top > 0 && len(rows) > p.Top {
		return rows[:p.Top], rows[p.Top-1].ID, nil
	}
	return rows, "", nil
}

// ListBodies lists one page of rows selected by opts, as ListPage does, and returns their
// stored JSON bodies: what a list serves of resources it does not rework.
func ListBodies(ctx context.Context, st store.Store, opts store.ListOptions, p Page) ([]json.RawMessage, string, error) {
	rows, next, err := ListPage(ctx, st, opts, p)
	if err != nil {
		return nil, "", err
	}
	out := make([]json.RawMessage, len(rows))
	for i, r := range rows {
		out[i] = r.Body
	}
	return out, next, nil
}

// DecodeRows decodes each of rows with decode, in order; the first error stops it.
func DecodeRows[T any](rows []*store.Resource, decode func(*store.Resource) (T, error)) ([]T, error) {
	out := make([]T, 0, len(rows))
	for _, r := range rows {
		v, err := decode(r)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func nonNilTags(t map[string]string) map[string]string {
	if t == nil {
		return map[string]string{}
	}
	return t
}

func groupNotFound(name string) error {
	return arm.NotFound(arm.CodeResourceGroupNotFound, "Resource group '%s' could not be found. Create it with 'mlfleet group create -n %s -l LOCATION'.", name, name)
}

func beingDeleted(name string) error {
	return arm.Errorf(http.StatusConflict, arm.CodeResourceGroupBeingDeleted,
		"Resource group '%s' is being deleted; wait for the delete to finish, then create it again.", name)
}

// InvalidLocation returns the 400 InvalidLocation error for loc.
func InvalidLocation(loc string) error {
	return arm.BadRequest(arm.CodeInvalidLocation, "The location '%s' is not available. Use an Azure region name such as westus, eastus or westeurope (all regions map to this mlfleet server).", loc).WithTarget("location")
}
