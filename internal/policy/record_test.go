package policy

import (
	"testing"

	"github.com/mlfleet/mlfleet/internal/record/recordtest"
)

// exampleAssignment sets every field of an assignment, so that the goldens show each of
// them.
func exampleAssignment() *Assignment {
	return &Assignment{ID: "/subscriptions/s1/providers/Microsoft.Authorization/policyAssignments/no-public-ip",
		Name: "no-public-ip", Type: Type,
		Properties: Properties{DisplayName: "No public IPs", PolicyDefinitionID: NotAllowedResourceTypes, Scope: "/subscriptions/s1",
			Parameters:      map[string]ParameterValue{"listOfResourceTypesNotAllowed": {Value: []any{publicIPType}}},
			EnforcementMode: "Default"}}
}

func TestRecord(t *testing.T) {
	recordtest.Run(t, recordtest.Kind[Assignment]{
		Name: "policyassignment", Schema: assignmentRecord.Schema, Example: exampleAssignment, Encode: encode,
		Read: func(body []byte) (*Assignment, error) { return readRecord("no-public-ip", body) },
	})
}
