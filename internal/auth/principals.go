package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/store"
)

// Actions on principals and role assignments, as 403 errors name them.
const (
	ActionPrincipalWrite       = "Microsoft.Directory/servicePrincipals/write"
	ActionPrincipalDelete      = "Microsoft.Directory/servicePrincipals/delete"
	ActionRoleAssignmentWrite  = "Microsoft.Authorization/roleAssignments/write"
	ActionRoleAssignmentDelete = "Microsoft.Authorization/roleAssignments/delete"
	ActionRoleAssignmentRead   = "Microsoft.Authorization/roleAssignments/read"
)

// NewPrincipal describes a principal to create.
type NewPrincipal struct {
	// Type is store.PrincipalUser or store.PrincipalServicePrincipal.
	Type string
	// Name is the display name.
	Name string
	// Login is a user's user principal name; a service principal gets a new appId.
	Login string
	// Password is a user's password; a service principal gets a new client secret.
	Password string
	// Role, when set, is assigned to the new principal at each of Scopes (which must exist).
	Role   string
	Scopes []string
}

// CreatedPrincipal is a new principal, its secret (shown once) and its role assignments.
type CreatedPrincipal struct {
	Principal   *store.Principal
	Secret      string
	Assignments []*store.RoleAssignment
}

// ownsSomething reports whether p is Owner at some scope: who may create principals.
func (p *Principal) ownsSomething() bool {
	if p.system {
		return true
	}
	if p.Cap != RoleOwner {
		return false
	}
	for _, a := range p.assignments {
		if a.Role == RoleOwner {
			return true
		}
	}
	return false
}

// CreatePrincipal creates a principal and its role assignments in one transaction. The
// caller must be Owner somewhere, and Owner at each scope it assigns a role at.
func (a *Authenticator) CreatePrincipal(ctx context.Context, caller *Principal, in NewPrincipal) (*CreatedPrincipal, error) {
	if !caller.ownsSomething() {
		return nil, caller.Forbidden(ActionPrincipalWrite, "/")
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || utf8.RuneCountInString(in.Name) > 120 {
		return nil, badInput("A principal needs a display name of 1 to 120 characters.")
	}
	p := &store.Principal{ID: newGUID(), Type: in.Type, Name: in.Name, CreatedBy: caller.ID}
	secret := ""
	switch in.Type {
	case store.PrincipalServicePrincipal:
		p.Login = newGUID()
		secret = newClientSecret()
	case store.PrincipalUser:
		if err := checkUserName(in.Login); err != nil {
			return nil, err
		}
		if len(in.Password) < 8 || len(in.Password) > 256 {
			return nil, badInput("A user's password must be 8 to 256 characters long.")
		}
		p.Login, secret = in.Login, in.Password
	default:
		return nil, badInput("A principal's type is User or ServicePrincipal, not '%s'.", in.Type)
	}
	p.SecretHash = hashSecret(secret)
	var assignments []*store.RoleAssignment
	if in.Role != "" || len(in.Scopes) > 0 {
		role := CanonicalRole(in.Role)
		if role == "" {
			return nil, badInput("The role must be Owner, Contributor or Reader, not '%s'.", in.Role)
		}
		if len(in.Scopes) == 0 {
			return nil, badInput("A role needs at least one scope (--scopes), e.g. /subscriptions/{id}/resourceGroups/{name}.")
		}
		for _, scope := range in.Scopes {
			if err := caller.Check(ActionRoleAssignmentWrite, scope); err != nil {
				return nil, err
			}
			assignments = append(assignments, &store.RoleAssignment{Name: newGUID(), Scope: scope, PrincipalID: p.ID, Role: role, CreatedBy: caller.ID})
		}
	}
	err := a.store.InTx(ctx, func(tx store.Store) error {
		if err := tx.CreatePrincipal(ctx, p); err != nil {
			return err
		}
		for _, ra := range assignments {
			if err := tx.CreateRoleAssignment(ctx, ra); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, store.ErrConflict) {
		return nil, arm.Conflict("A principal signing in as '%s' already exists; choose another name.", p.Login)
	}
	if err != nil {
		return nil, fmt.Errorf("create principal: %w", err)
	}
	return &CreatedPrincipal{Principal: p, Secret: secret, Assignments: assignments}, nil
}

// checkUserName accepts user principal names such as alice or alice@example.com.
func checkUserName(name string) error {
	if name == "" || len(name) > 113 || strings.ContainsAny(name, " /\\?#%\"'<>") || strings.HasPrefix(name, ".") {
		return badInput("'%s' is not a valid user principal name: use letters, digits, '.', '-', '_' and '@' (e.g. alice@mlfleet.local), at most 113 characters.", name)
	}
	if looksLikeGUID(name) {
		return badInput("A user principal name cannot be a GUID ('%s'): GUIDs name service principals.", name)
	}
	return nil
}

func looksLikeGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}

// ListPrincipals returns the principals the caller may see: all of them for an Owner,
// else only itself.
func (a *Authenticator) ListPrincipals(ctx context.Context, caller *Principal) ([]*store.Principal, error) {
	all, err := a.store.ListPrincipals(ctx)
	if err != nil {
		return nil, fmt.Errorf("list principals: %w", err)
	}
	if caller.ownsSomething() {
		return all, nil
	}
	var mine []*store.Principal
	for _, p := range all {
		if p.ID == caller.ID {
			mine = append(mine, p)
		}
	}
	return mine, nil
}

// GetPrincipal returns the principal whose id or login is ref, if the caller may see it.
func (a *Authenticator) GetPrincipal(ctx context.Context, caller *Principal, ref string) (*store.Principal, error) {
	p, err := a.store.GetPrincipal(ctx, ref)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !caller.ownsSomething() && p.ID != caller.ID) {
		return nil, arm.NotFound(arm.CodeNotFound, "No principal has the id, appId or user name '%s'. List them with 'mlfleet ad sp list' or 'mlfleet ad user list'.", ref)
	}
	if err != nil {
		return nil, fmt.Errorf("get principal: %w", err)
	}
	return p, nil
}

// managed returns the principal ref if the caller may delete it or reset its secret: the
// root Owner may, and so may whoever created it. The admin cannot be changed this way.
func (a *Authenticator) managed(ctx context.Context, caller *Principal, ref, action string) (*store.Principal, error) {
	p, err := a.GetPrincipal(ctx, caller, ref)
	if err != nil {
		return nil, err
	}
	if p.ID == a.adminID {
		return nil, arm.BadRequest(arm.CodeInvalidRequestContent, "The bootstrap admin cannot be deleted or given a secret; its token is the file admin.token in the server's home.")
	}
	if !(caller.IsRootOwner() || (p.CreatedBy == caller.ID && caller.ownsSomething())) {
		return nil, caller.Forbidden(action, "/principals/"+p.ID)
	}
	return p, nil
}

// DeletePrincipal deletes a principal with its tokens and role assignments.
func (a *Authenticator) DeletePrincipal(ctx context.Context, caller *Principal, ref string) error {
	defer a.cache.forget()
	p, err := a.managed(ctx, caller, ref, ActionPrincipalDelete)
	if err != nil {
		return err
	}
	if err := a.store.DeletePrincipal(ctx, p.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("delete principal: %w", err)
	}
	return nil
}

// ResetSecret gives a principal a new secret (a user the password given, a service
// principal a new client secret) and revokes every token minted for it.
func (a *Authenticator) ResetSecret(ctx context.Context, caller *Principal, ref, password string) (*store.Principal, string, error) {
	defer a.cache.forget()
	p, err := a.managed(ctx, caller, ref, ActionPrincipalWrite)
	if err != nil {
		return nil, "", err
	}
	secret := newClientSecret()
	if p.Type == store.PrincipalUser {
		if len(password) < 8 || len(password) > 256 {
			return nil, "", badInput("A user's password must be 8 to 256 characters long.")
		}
		secret = password
	}
	if err := a.store.SetPrincipalSecret(ctx, p.ID, hashSecret(secret)); err != nil {
		return nil, "", fmt.Errorf("reset secret: %w", err)
	}
	return p, secret, nil
}

// AssignRole creates the role assignment named name (a GUID) granting role at scope to
// the principal ref. The caller must be Owner at scope. Assigning the same again is not
// an error: the existing assignment is returned with created false.
func (a *Authenticator) AssignRole(ctx context.Context, caller *Principal, name, scope, ref, role string) (*store.RoleAssignment, bool, error) {
	defer a.cache.forget()
	if err := caller.Check(ActionRoleAssignmentWrite, scope); err != nil {
		return nil, false, err
	}
	canonical := CanonicalRole(role)
	if canonical == "" {
		return nil, false, badInput("The role must be Owner, Contributor or Reader, not '%s'.", role)
	}
	p, err := a.store.GetPrincipal(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, arm.BadRequest("PrincipalNotFound", "Principal %s does not exist in the directory %s.", ref, a.opts.Tenant)
	}
	if err != nil {
		return nil, false, fmt.Errorf("assign role: %w", err)
	}
	ra := &store.RoleAssignment{Name: name, Scope: scope, PrincipalID: p.ID, Role: canonical, CreatedBy: caller.ID}
	err = a.store.CreateRoleAssignment(ctx, ra)
	if errors.Is(err, store.ErrConflict) {
		old, gerr := a.store.GetRoleAssignment(ctx, name)
		if gerr == nil && old.PrincipalID == p.ID && old.Role == canonical && equalFold(old.Scope, scope) {
			return old, false, nil
		}
		return nil, false, arm.Errorf(http.StatusConflict, "RoleAssignmentExists", "The role assignment already exists: %s already holds %s at %s, or the name %s is taken.", p.Login, canonical, scope, name)
	}
	if err != nil {
		return nil, false, fmt.Errorf("assign role: %w", err)
	}
	return ra, true, nil
}

// GetRoleAssignment returns the assignment name if it lies at scope and the caller may
// read it.
func (a *Authenticator) GetRoleAssignment(ctx context.Context, caller *Principal, scope, name string) (*store.RoleAssignment, error) {
	ra, err := a.store.GetRoleAssignment(ctx, name)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !equalFold(strings.TrimRight(ra.Scope, "/"), strings.TrimRight(scope, "/"))) {
		return nil, arm.NotFound("RoleAssignmentNotFound", "The role assignment '%s' is not found at scope '%s'.", name, scope)
	}
	if err != nil {
		return nil, fmt.Errorf("get role assignment: %w", err)
	}
	if ra.PrincipalID != caller.ID {
		if err := caller.Check(ActionRoleAssignmentRead, scope); err != nil {
			return nil, err
		}
	}
	return ra, nil
}

// DeleteRoleAssignment deletes the assignment name at scope; the caller must be Owner
// there. It returns the deleted assignment, or nil when there was none (ARM answers 204).
func (a *Authenticator) DeleteRoleAssignment(ctx context.Context, caller *Principal, scope, name string) (*store.RoleAssignment, error) {
	defer a.cache.forget()
	if err := caller.Check(ActionRoleAssignmentDelete, scope); err != nil {
		return nil, err
	}
	ra, err := a.store.GetRoleAssignment(ctx, name)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !equalFold(strings.TrimRight(ra.Scope, "/"), strings.TrimRight(scope, "/"))) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("delete role assignment: %w", err)
	}
	if ra.Name == adminAssignment {
		return nil, arm.BadRequest(arm.CodeInvalidRequestContent, "The bootstrap admin's Owner role at '/' cannot be removed: it is how the server's own CLI keeps access.")
	}
	if err := a.store.DeleteRoleAssignment(ctx, name); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("delete role assignment: %w", err)
	}
	return ra, nil
}

// ListRoleAssignments returns the assignments at, above or below scope (only at scope
// when atScope), optionally of one principal, that the caller may read: those at scopes it
// may read, and its own.
func (a *Authenticator) ListRoleAssignments(ctx context.Context, caller *Principal, scope, principalID string, atScope bool) ([]*store.RoleAssignment, error) {
	if !caller.SeesAnything(scope) {
		return nil, caller.Forbidden(ActionRoleAssignmentRead, scope)
	}
	all, err := a.store.ListRoleAssignments(ctx, store.RoleAssignmentFilter{Around: scope, PrincipalID: principalID})
	if err != nil {
		return nil, fmt.Errorf("list role assignments: %w", err)
	}
	var out []*store.RoleAssignment
	for _, ra := range all {
		if atScope && !Within(scope, ra.Scope) {
			continue
		}
		if ra.PrincipalID == caller.ID || caller.Allows(ActionRoleAssignmentRead, ra.Scope) {
			out = append(out, ra)
		}
	}
	return out, nil
}

// PrincipalType returns the type of principal id ("" if unknown), for ARM bodies.
func (a *Authenticator) PrincipalType(ctx context.Context, id string) string {
	p, err := a.store.GetPrincipal(ctx, id)
	if err != nil {
		return ""
	}
	return p.Type
}

// SweepAssignments deletes role assignments whose scope no longer exists (a resource
// deleted outside a group's cascade, or a crash between a delete and its assignments'),
// and returns how many it deleted. The sweeper calls it.
func (a *Authenticator) SweepAssignments(ctx context.Context) (int, error) {
	all, err := a.store.ListRoleAssignments(ctx, store.RoleAssignmentFilter{})
	if err != nil {
		return 0, fmt.Errorf("sweep role assignments: %w", err)
	}
	n := 0
	defer func() {
		if n > 0 {
			a.cache.forget()
		}
	}()
	for _, ra := range all {
		if strings.Trim(ra.Scope, "/") == "" {
			continue
		}
		_, err := a.store.GetResource(ctx, ra.Scope)
		if !errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err := a.store.DeleteRoleAssignment(ctx, ra.Name); err != nil && !errors.Is(err, store.ErrNotFound) {
			return n, fmt.Errorf("sweep role assignments: %w", err)
		}
		n++
	}
	return n, nil
}
