package policy

import (
	"testing"

	"github.com/mlfleet/mlfleet/internal/record/recordtest"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// exampleAssignment sets every field of an assignment, so that the goldens show each of
// them.
func exampleAssignment() *armapi.PolicyAssignment {
	return &armapi.PolicyAssignment{ID: "/subscriptions/s1/providers/Microsoft.Authorization/policyAssignments/no-public-ip",
		Name: "no-public-ip", Type: Type,
		Properties: armapi.PolicyAssignmentProperties{DisplayName: "No public IPs", PolicyDefinitionID: NotAllowedResourceTypes, Scope: "/subscriptions/s1",
			Parameters:      map[string]armapi.PolicyParameterValue{"listOfResourceTypesNotAllowed": {Value: []any{publicIPType}}},
			EnforcementMode: "Default"}}
}

func TestRecord(t *testing.T) {
	recordtest.Run(t, recordtest.Kind[armapi.PolicyAssignment]{
		Name: "policyassignment", Schema: assignmentRecord.Schema, Example: exampleAssignment, Encode: assignmentRecord.Encode,
		Read: func(body []byte) (*armapi.PolicyAssignment, error) {
			return assignmentRecord.Read("no-public-ip", body)
		},
	})
}
