package quota

import (
	"errors"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/arm"
)

var families = []string{"standardDSv2Family", "standardDv2Family", "standardNCFamily"}

const sub = "00000000-0000-0000-0000-0000000000aa"

func TestLoad(t *testing.T) {
	q, err := Load("testdata/quotas.json", families)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, sub, location string
		want                Limits
	}{
		{"another subscription gets the file's defaults", "00000000-0000-0000-0000-0000000000bb", "westus",
			Limits{ManagedClusters: 20, Cores: 200}},
		{"the subscription's own default over the file's", sub, "northeurope", Limits{ManagedClusters: 5, Cores: 200}},
		{"its region over its default (display name, any case)", strings.ToUpper(sub), "westus",
			Limits{ManagedClusters: 5, Cores: 48, "standardNCFamily": 24}},
		{"zero is a limit", sub, "eastus", Limits{ManagedClusters: 0, Cores: 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := q.For(tt.sub, tt.location)
			if len(got) != len(tt.want) {
				t.Fatalf("For(%s, %s) = %v, want %v", tt.sub, tt.location, got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Fatalf("For(%s, %s) = %v, want %v", tt.sub, tt.location, got, tt.want)
				}
			}
		})
	}
	if _, err := Load("testdata/missing.json", families); err == nil || !strings.Contains(err.Error(), "read quota file") {
		t.Errorf("Load of a missing file: %v", err)
	}
}

func TestDefaults(t *testing.T) {
	l := Defaults().For(sub, "westus")
	if l.Of(ManagedClusters) != DefaultManagedClusters || l.Of(Cores) != DefaultCores || l.Of("standardDv2Family") != DefaultCores {
		t.Fatalf("defaults = %v; want %d clusters, %d vCPUs, families bounded by the total", l, DefaultManagedClusters, DefaultCores)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, json, want string
	}{
		{"not JSON", `{"default":`, "not a quota file"},
		{"a list", `[]`, "not a quota file"},
		{"unknown field", `{"defaults":{"cores":1}}`, `unknown field "defaults"`},
		{"unknown quota", `{"default":{"vcpus":1}}`, `default: unknown quota "vcpus"; use managedClusters, cores or a VM family (standardDSv2Family`},
		{"a VM size is no family", `{"subscriptions":{"s1":{"locations":{"westus":{"Standard_D3_v2":4}}}}}`, `subscriptions.s1.locations.westus: unknown quota "Standard_D3_v2"`},
		{"negative", `{"subscriptions":{"s1":{"default":{"cores":-1}}}}`, "subscriptions.s1.default: quota cores is -1; a limit cannot be negative"},
		{"not a number", `{"default":{"cores":"many"}}`, "not a quota file"},
		{"unknown location", `{"subscriptions":{"s1":{"locations":{"moon":{"cores":1}}}}}`, `unknown location "moon"`},
		{"location twice", `{"subscriptions":{"s1":{"locations":{"westus":{},"West US":{}}}}}`, "location westus given twice"},
		{"subscription twice", `{"subscriptions":{"S1":{},"s1":{}}}`, "given twice"},
		{"empty subscription", `{"subscriptions":{" ":{}}}`, "empty subscription id"},
		{"trailing data", `{} {}`, "after the JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.json), families)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse(%s) = %v, want an error containing %q", tt.json, err, tt.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	limits := Limits{ManagedClusters: 3, Cores: 24, "standardNCFamily": 12}
	amount := func(clusters int, vcpus map[string]int) Amount {
		a := Amount{}
		for range clusters {
			a.AddCluster()
		}
		for f, n := range vcpus {
			a.AddVCPUs(f, n)
		}
		return a
	}
	tests := []struct {
		name     string
		use, req Amount
		// want are the messages' parts, in order; none means allowed.
		want    []string
		details int
	}{
		{"within every quota", amount(1, map[string]int{"standardDv2Family": 12}), amount(1, map[string]int{"standardDv2Family": 12}), nil, 0},
		{"exactly at the limit", amount(2, map[string]int{"standardDv2Family": 12}), amount(1, map[string]int{"standardDv2Family": 12}), nil, 0},
		{"total regional vCPUs", amount(1, map[string]int{"standardDv2Family": 12}), amount(1, map[string]int{"standardDv2Family": 16}), []string{
			"Operation could not be completed as it results in exceeding approved Total Regional Cores quota. Location: westus, Current Limit: 24, Current Usage: 12, Additional Required: 16, (Minimum) New Limit Required: 28.",
			"mlfleet vm list-usage -l westus -o table"}, 0},
		{"a family's own limit", amount(1, map[string]int{"standardNCFamily": 6}), amount(0, map[string]int{"standardNCFamily": 12}), []string{
			"exceeding approved standardNCFamily Cores quota. Location: westus, Current Limit: 12, Current Usage: 6, Additional Required: 12, (Minimum) New Limit Required: 18."}, 0},
		{"clusters and vCPUs together, clusters first", amount(3, map[string]int{"standardDv2Family": 20}), amount(1, map[string]int{"standardDv2Family": 8}), []string{
			"2 quotas would be exceeded.", "Managed Clusters quota. Location: westus, Current Limit: 3, Current Usage: 3, Additional Required: 1, (Minimum) New Limit Required: 4.",
			"Total Regional Cores quota. Location: westus, Current Limit: 24, Current Usage: 20, Additional Required: 8"}, 2},
		{"a scale-down is never refused", amount(5, map[string]int{"standardDv2Family": 40}), amount(0, map[string]int{"standardDv2Family": -8}), nil, 0},
		{"nothing asked", amount(5, map[string]int{"standardDv2Family": 40}), Amount{}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(limits, "westus", tt.use, tt.req)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			var ae *arm.Error
			if !errors.As(err, &ae) || ae.Status != 400 || ae.Code != "QuotaExceeded" || len(ae.Details) != tt.details {
				t.Fatalf("Check = %#v, want a 400 QuotaExceeded with %d details", err, tt.details)
			}
			rest := ae.Message
			for _, part := range tt.want {
				i := strings.Index(rest, part)
				if i < 0 {
					t.Fatalf("message %q lacks %q (in order)", ae.Message, part)
				}
				rest = rest[i+len(part):]
			}
		})
	}
}

func TestUsages(t *testing.T) {
	use := Amount{}
	use.AddCluster()
	use.AddVCPUs("standardDv2Family", 12)
	got := Usages(Limits{ManagedClusters: 10, Cores: 100, "standardNCFamily": 24}, use, families)
	want := []struct {
		name, display string
		cur, limit    int
	}{
		{"cores", "Total Regional vCPUs", 12, 100},
		{"standardDSv2Family", "Standard DSv2 Family vCPUs", 0, 100},
		{"standardDv2Family", "Standard Dv2 Family vCPUs", 12, 100},
		{"standardNCFamily", "Standard NC Family vCPUs", 0, 24},
		{"managedClusters", "Managed Clusters", 1, 10},
	}
	if len(got) != len(want) {
		t.Fatalf("Usages = %+v, want %d entries", got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Name.Value != w.name || g.Name.LocalizedValue != w.display || g.CurrentValue != w.cur || g.Limit != w.limit || g.Unit != "Count" {
			t.Errorf("usage %d = %+v, want %+v", i, g, w)
		}
	}
}
