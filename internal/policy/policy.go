// Package policy keeps subscription policy assignments
// (Microsoft.Authorization/policyAssignments) and answers the one question mlfleet asks of
// them: are public IP addresses forbidden in this subscription (SPEC S16)? A public IP is
// forbidden by an assignment of the built-in "Not allowed resource types" definition whose
// listOfResourceTypesNotAllowed holds Microsoft.Network/publicIPAddresses.
package policy

import (
	"context"
	"errors"
	"regexp"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/resources"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// Type is the ARM type of policy assignments.
const Type = "Microsoft.Authorization/policyAssignments"

// NotAllowedResourceTypes is the id of Azure's built-in "Not allowed resource types"
// policy definition; "not-allowed-resource-types" is accepted as a short name for it.
const NotAllowedResourceTypes = "/providers/Microsoft.Authorization/policyDefinitions/6c112d4e-5bc7-47ae-a041-ea2d9dccd749"

const publicIPType = "Microsoft.Network/publicIPAddresses"

// Service manages policy assignments.
type Service struct {
	store     store.Store
	resources *resources.Service
}

// New returns a policy Service.
func New(s store.Store, rs *resources.Service) *Service { return &Service{store: s, resources: rs} }

var namePattern = regexp.MustCompile(`^[^<>*%&:\\?.+/]{1,128}$`)

func id(sub, name string) string {
	return arm.SubscriptionPath(sub) + "/providers/" + Type + "/" + name
}

// Put creates or replaces an assignment at subscription scope.
func (s *Service) Put(ctx context.Context, sub, name string, in armapi.PolicyAssignmentInput) (*armapi.PolicyAssignment, bool, error) {
	if _, err := s.resources.GetSubscription(ctx, sub); err != nil {
		return nil, false, err
	}
	if !namePattern.MatchString(name) {
		return nil, false, arm.BadRequest(arm.CodeInvalidResourceName, "Policy assignment name '%s' is invalid: 1 to 128 characters without <>*%%&:\\?.+/.", name)
	}
	def := in.Properties.PolicyDefinitionID
	if strings.EqualFold(def, "not-allowed-resource-types") {
		def = NotAllowedResourceTypes
	}
	if !strings.EqualFold(def, NotAllowedResourceTypes) {
		return nil, false, arm.BadRequest("PolicyDefinitionNotFound", "Policy definition '%s' is not available; mlfleet knows %s (Not allowed resource types).", in.Properties.PolicyDefinitionID, NotAllowedResourceTypes).WithTarget("properties.policyDefinitionId")
	}
	if _, err := notAllowed(in.Properties.Parameters); err != nil {
		return nil, false, err
	}
	mode := in.Properties.EnforcementMode
	if mode == "" {
		mode = "Default"
	}
	if mode != "Default" && mode != "DoNotEnforce" {
		return nil, false, arm.BadRequest("InvalidRequestContent", "enforcementMode must be Default or DoNotEnforce, not '%s'.", mode).WithTarget("properties.enforcementMode")
	}
	a := &armapi.PolicyAssignment{ID: id(sub, name), Name: name, Type: Type, Properties: armapi.PolicyAssignmentProperties{DisplayName: in.Properties.DisplayName,
		PolicyDefinitionID: NotAllowedResourceTypes, Scope: arm.SubscriptionPath(sub), Parameters: in.Properties.Parameters, EnforcementMode: mode}}
	body := assignmentRecord.Encode(a)
	created, err := resources.Upsert(ctx, s.store, "policy assignment "+name, a.ID, func() *store.Resource {
		return &store.Resource{ID: a.ID, ParentID: arm.SubscriptionPath(sub), Type: Type, Name: name, SubscriptionID: sub, Body: body}
	}, func(existing *store.Resource) error {
		existing.Body = body
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return a, created, nil
}

// Get returns an assignment or a 404.
func (s *Service) Get(ctx context.Context, sub, name string) (*armapi.PolicyAssignment, error) {
	r, err := s.store.GetResource(ctx, id(sub, name))
	if errors.Is(err, store.ErrNotFound) {
		return nil, arm.NotFound("PolicyAssignmentNotFound", "Policy assignment '%s' could not be found.", name)
	}
	if err != nil {
		return nil, err
	}
	return assignmentRecord.Read(r.ID, r.Body)
}

// List returns the subscription's assignments.
func (s *Service) List(ctx context.Context, sub string) ([]*armapi.PolicyAssignment, error) {
	if _, err := s.resources.GetSubscription(ctx, sub); err != nil {
		return nil, err
	}
	rows, err := s.store.ListResources(ctx, store.ListOptions{ParentID: arm.SubscriptionPath(sub), Type: Type})
	if err != nil {
		return nil, err
	}
	return resources.DecodeRows(rows, func(r *store.Resource) (*armapi.PolicyAssignment, error) { return assignmentRecord.Read(r.ID, r.Body) })
}

// Delete removes an assignment; found is false when there was none.
func (s *Service) Delete(ctx context.Context, sub, name string) (found bool, err error) {
	err = s.store.DeleteResource(ctx, id(sub, name), 0)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// PublicIPsForbidden reports whether an enforced assignment forbids public IP addresses in
// the subscription, and which one.
func (s *Service) PublicIPsForbidden(ctx context.Context, sub string) (bool, string, error) {
	list, err := s.List(ctx, sub)
	if err != nil {
		return false, "", err
	}
	for _, a := range list {
		if a.Properties.EnforcementMode == "DoNotEnforce" {
			continue
		}
		types, _ := notAllowed(a.Properties.Parameters)
		for _, t := range types {
			if strings.EqualFold(t, publicIPType) {
				return true, a.Name, nil
			}
		}
	}
	return false, "", nil
}

func notAllowed(params map[string]armapi.PolicyParameterValue) ([]string, error) {
	p, ok := params["listOfResourceTypesNotAllowed"]
	bad := arm.BadRequest("InvalidPolicyParameters", "The policy needs parameters {\"listOfResourceTypesNotAllowed\":{\"value\":[\"%s\", ...]}}.", publicIPType).WithTarget("properties.parameters")
	if !ok {
		return nil, bad
	}
	list, ok := p.Value.([]any)
	if !ok {
		return nil, bad
	}
	var out []string
	for _, v := range list {
		s, ok := v.(string)
		if !ok {
			return nil, bad
		}
		out = append(out, s)
	}
	return out, nil
}
