package policy

import (
	"errors"
	"os"
	"reflect"
	"testing"

	"github.com/mlfleet/mlfleet/internal/record"
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

// TestRecordGolden pins what an assignment's row holds, so that a change of the wire type
// cannot change the database's format unnoticed.
func TestRecordGolden(t *testing.T) {
	a := exampleAssignment()
	recordtest.AllSet(t, a)
	recordtest.Golden(t, "testdata/record/policyassignment.v1.json", encode(a))
}

// TestRecordReadsEveryVersion reads rows of every format a server wrote: v0 is what servers
// before record versions wrote (the wire body alone).
func TestRecordReadsEveryVersion(t *testing.T) {
	for _, file := range []string{"policyassignment.v0.json", "policyassignment.v1.json"} {
		t.Run(file, func(t *testing.T) {
			body, err := os.ReadFile("testdata/record/" + file)
			if err != nil {
				t.Fatal(err)
			}
			got, err := readRecord("no-public-ip", body)
			if err != nil {
				t.Fatal(err)
			}
			if want := exampleAssignment(); !reflect.DeepEqual(got, want) {
				t.Errorf("read %s:\n got %+v\nwant %+v", file, got, want)
			}
		})
	}
}

func TestRecordNewerVersionRefused(t *testing.T) {
	_, err := readRecord("no-public-ip", []byte(`{"schemaVersion":2,"name":"x"}`))
	if !errors.Is(err, record.ErrNewerSchema) {
		t.Errorf("read a version 2 row: %v; want ErrNewerSchema", err)
	}
}
