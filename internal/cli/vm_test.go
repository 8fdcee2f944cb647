package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/output"
	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

func TestVMListUsageTable(t *testing.T) {
	usages := []mlfleet.Usage{
		{CurrentValue: 12, Limit: 100, Unit: "Count", Name: mlfleet.UsageName{Value: "cores", LocalizedValue: "Total Regional vCPUs"}},
		{CurrentValue: 12, Limit: 100, Unit: "Count", Name: mlfleet.UsageName{Value: "standardDv2Family", LocalizedValue: "Standard Dv2 Family vCPUs"}},
		{CurrentValue: 1, Limit: 10, Unit: "Count", Name: mlfleet.UsageName{Value: "managedClusters", LocalizedValue: "Managed Clusters"}},
	}
	var out bytes.Buffer
	if err := output.Print(&out, usages, output.Options{Format: "table", Table: usageTable}); err != nil {
		t.Fatal(err)
	}
	want := `Name                       CurrentValue    Limit
-------------------------  --------------  -------
Total Regional vCPUs       12              100
Standard Dv2 Family vCPUs  12              100
Managed Clusters           1               10
`
	if out.String() != want {
		t.Errorf("vm list-usage -o table printed\n%s\nwant\n%s", out.String(), want)
	}
}

func TestVMListUsageNeedsLocation(t *testing.T) {
	_, stderr, code := runCLI(t, "vm", "list-usage")
	if code != 2 || !strings.Contains(stderr, "--location/-l") {
		t.Fatalf("vm list-usage without -l: exit %d, %q; want 2 naming --location/-l", code, stderr)
	}
}
