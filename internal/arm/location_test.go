package arm_test

import (
	"slices"
	"testing"

	"github.com/mlfleet/mlfleet/internal/arm"
)

func TestNormalizeLocation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     string
		want   string
		wantOK bool
	}{
		{name: "canonical name", in: "westus", want: "westus", wantOK: true},
		{name: "display name", in: "West US", want: "westus", wantOK: true},
		{name: "display name with digit", in: "West US 2", want: "westus2", wantOK: true},
		{name: "upper case", in: "EASTUS", want: "eastus", wantOK: true},
		{name: "surrounding spaces", in: "  North Europe ", want: "northeurope", wantOK: true},
		{name: "first region", in: "Australia Central", want: "australiacentral", wantOK: true},
		{name: "last region", in: "westus3", want: "westus3", wantOK: true},
		{name: "unknown", in: "moonbase1", wantOK: false},
		{name: "near miss", in: "westus4", wantOK: false},
		{name: "empty", in: "", wantOK: false},
		{name: "blank", in: "   ", wantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := arm.NormalizeLocation(tt.in)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("NormalizeLocation(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// Every listed region must be found: NormalizeLocation binary-searches the list, so a region
// added out of order would silently be rejected.
func TestRegionsAreAccepted(t *testing.T) {
	t.Parallel()
	regions := arm.Regions()
	if len(regions) == 0 {
		t.Fatal("Regions() is empty")
	}
	if !slices.IsSorted(regions) {
		t.Errorf("Regions() is not sorted: %q", regions)
	}
	for _, r := range regions {
		if got, ok := arm.NormalizeLocation(r); !ok || got != r {
			t.Errorf("NormalizeLocation(%q) = %q, %v; want %q, true", r, got, ok, r)
		}
	}
	// Regions returns a copy: changing it must not change what is accepted.
	regions[0] = "changed"
	if _, ok := arm.NormalizeLocation(arm.Regions()[0]); !ok {
		t.Error("changing the slice Regions returned changed the accepted regions")
	}
}
