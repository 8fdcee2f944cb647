package catalog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultCatalogs(t *testing.T) {
	v := DefaultVersions()
	if d := v.Default("westus"); d.Version == "" {
		t.Fatal("no default version for westus")
	}
	if _, ok := DefaultVMSizes().Get("standard_d3_v2"); !ok {
		t.Fatal("Standard_D3_v2 missing")
	}
	for _, name := range []string{"Standard_D3_v2", "Standard_DS3_v2", "Standard_D4s_v3", "Standard_NC6", "Standard_PB6"} {
		if _, ok := DefaultVMSizes().Get(name); !ok {
			t.Errorf("%s missing", name)
		}
	}
	if nc, _ := DefaultVMSizes().Get("Standard_NC6"); nc.GPUs != 1 {
		t.Errorf("NC6 GPUs = %d", nc.GPUs)
	}
	if pb, _ := DefaultVMSizes().Get("Standard_PB6"); pb.FPGAs != 1 {
		t.Errorf("PB6 FPGAs = %d", pb.FPGAs)
	}
	for name, family := range map[string]string{"Standard_D3_v2": "standardDv2Family", "Standard_DS2_v2": "standardDSv2Family",
		"Standard_D4s_v3": "standardDSv3Family", "Standard_NC6s_v3": "standardNCSv3Family"} {
		if s, _ := DefaultVMSizes().Get(name); s.Family != family {
			t.Errorf("%s family = %q, want %s", name, s.Family, family)
		}
	}
	families := DefaultVMSizes().Families()
	if len(families) != 8 || families[0] != "standardAv2Family" {
		t.Errorf("Families() = %v, want 8 sorted names from standardAv2Family", families)
	}
}

func TestFind(t *testing.T) {
	v := DefaultVersions()
	cases := []struct {
		name, in, want string
		ok             bool
	}{
		{"exact", "1.36.3", "1.36.3", true},
		{"minor picks newest patch", "1.37", "1.37.2", true},
		{"leading v", "v1.37.2", "1.37.2", true},
		{"unknown", "1.20.1", "", false},
		{"prefix is not a minor", "1.3", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := v.Find("eastus", tc.in)
			if ok != tc.ok || got.Version != tc.want {
				t.Fatalf("Find(%q) = %q, %v", tc.in, got.Version, ok)
			}
		})
	}
}

func TestLoadVersionsRejectsBadFiles(t *testing.T) {
	cases := []struct{ name, body, wantErr string }{
		{"not json", `{`, "unexpected"},
		{"no default", `{"locations":{"*":[{"version":"1.2.3"}]}}`, "exactly one"},
		{"two defaults", `{"locations":{"*":[{"version":"1.2.3","default":true},{"version":"1.2.4","default":true}]}}`, "exactly one"},
		{"bad version", `{"locations":{"*":[{"version":"1.2","default":true}]}}`, "major.minor.patch"},
		{"no locations", `{}`, "no locations"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "v.json")
			os.WriteFile(p, []byte(tc.body), 0o600)
			_, err := LoadVersions(p)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// TestLoadVersionsPerLocation also reads the "upgrades" files of earlier versions listed,
// which are ignored (mlfleet upgrades no cluster) rather than refused.
func TestLoadVersionsPerLocation(t *testing.T) {
	p := filepath.Join(t.TempDir(), "v.json")
	os.WriteFile(p, []byte(`{"locations":{"*":[{"version":"1.37.2","default":true}],"WestUS":[{"version":"1.36.3","upgrades":["1.37.2"]},{"version":"1.37.2","default":true,"preview":true}]}}`), 0o600)
	v, err := LoadVersions(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Names("westus"); strings.Join(got, ",") != "1.36.3,1.37.2 (preview)" {
		t.Errorf("westus: %v", got)
	}
	if got := v.Names("eastus"); strings.Join(got, ",") != "1.37.2" {
		t.Errorf("eastus: %v", got)
	}
}
