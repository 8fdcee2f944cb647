// Package catalog holds the data mlfleet decides with: the Kubernetes versions supported per
// location (default, preview) and the VM sizes (cores, memory, GPUs, FPGAs,
// and what a node of each has allocatable once AKS has reserved its share).
// Both ship embedded as JSON; the versions can be replaced at start-up from a file
// (`mlfleet serve --versions-file`) without a rebuild.
package catalog

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

//go:embed versions.json
var defaultVersions []byte

//go:embed vmsizes.json
var defaultSizes []byte

// Version is one supported Kubernetes version of a location.
type Version struct {
	// Version is major.minor.patch, e.g. 1.37.2.
	Version string `json:"version"`
	// Default marks the version new clusters get when none is asked for (one per location).
	Default bool `json:"default,omitempty"`
	// Preview versions may be used but carry no SLA.
	Preview bool `json:"preview,omitempty"`
}

// Versions is the version catalog.
type Versions struct {
	locations map[string][]Version
}

type versionsFile struct {
	Locations map[string][]fileVersion `json:"locations"`
}

// fileVersion is a Version as a versions file writes it. Upgrades, which files of earlier
// mlfleet versions list, is read and ignored: mlfleet does not upgrade clusters (az aks
// upgrade is refused, every upgrade profile lists none), so a catalog that offered upgrade
// paths would advertise what it then denies; and refusing such a file would stop a server
// that upgraded mlfleet from starting.
type fileVersion struct {
	Version
	Upgrades []string `json:"upgrades"`
}

// DefaultVersions returns the built-in version catalog.
func DefaultVersions() *Versions {
	v, err := parseVersions(defaultVersions)
	if err != nil {
		panic(fmt.Sprintf("built-in versions.json: %v", err)) // caught by tests
	}
	return v
}

// LoadVersions reads a version catalog file (the shape of the built-in versions.json).
func LoadVersions(path string) (*Versions, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read versions file: %w", err)
	}
	v, err := parseVersions(b)
	if err != nil {
		return nil, fmt.Errorf("versions file %s: %w", path, err)
	}
	return v, nil
}

func parseVersions(b []byte) (*Versions, error) {
	var f versionsFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	if len(f.Locations) == 0 {
		return nil, fmt.Errorf("no locations")
	}
	out := &Versions{locations: map[string][]Version{}}
	for loc, list := range f.Locations {
		defaults := 0
		seen := map[string]bool{}
		sorted := make([]Version, 0, len(list))
		for _, fv := range list {
			v := fv.Version
			if _, err := ParseVersion(v.Version); err != nil {
				return nil, fmt.Errorf("location %s: %w", loc, err)
			}
			if seen[v.Version] {
				return nil, fmt.Errorf("location %s: version %s listed twice", loc, v.Version)
			}
			seen[v.Version] = true
			if v.Default {
				defaults++
			}
			sorted = append(sorted, v)
		}
		if defaults != 1 {
			return nil, fmt.Errorf("location %s: exactly one version must be the default, found %d", loc, defaults)
		}
		sort.Slice(sorted, func(i, j int) bool { return Less(sorted[i].Version, sorted[j].Version) })
		out.locations[strings.ToLower(loc)] = sorted
	}
	return out, nil
}

// For returns the versions of a location, oldest first.
func (v *Versions) For(location string) []Version {
	if l, ok := v.locations[strings.ToLower(location)]; ok {
		return l
	}
	return v.locations["*"]
}

// Default returns the default version of a location.
func (v *Versions) Default(location string) Version {
	for _, x := range v.For(location) {
		if x.Default {
			return x
		}
	}
	return Version{}
}

// Find returns the catalog entry matching version in a location. version may be
// major.minor (the newest patch of that minor matches) or major.minor.patch; a leading "v"
// is ignored.
func (v *Versions) Find(location, version string) (Version, bool) {
	want := strings.TrimPrefix(version, "v")
	list := v.For(location)
	for i := len(list) - 1; i >= 0; i-- {
		x := list[i]
		if x.Version == want || strings.Count(want, ".") == 1 && strings.HasPrefix(x.Version, want+".") {
			return x, true
		}
	}
	return Version{}, false
}

// Locations returns the locations the catalog lists versions for, sorted; "*" stands for
// every location without a list of its own.
func (v *Versions) Locations() []string {
	out := make([]string, 0, len(v.locations))
	for loc := range v.locations {
		out = append(out, loc)
	}
	sort.Strings(out)
	return out
}

// Names returns the version strings of a location, with " (preview)" marks.
func (v *Versions) Names(location string) []string {
	var out []string
	for _, x := range v.For(location) {
		s := x.Version
		if x.Preview {
			s += " (preview)"
		}
		out = append(out, s)
	}
	return out
}

// ParseVersion parses major.minor.patch (a leading "v" and a "+build" or "-pre" suffix are
// ignored) into three numbers.
func ParseVersion(s string) ([3]int, error) {
	var out [3]int
	core := strings.TrimPrefix(s, "v")
	if i := strings.IndexAny(core, "+-"); i >= 0 {
		core = core[:i]
	}
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return out, fmt.Errorf("version %q is not major.minor.patch", s)
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return out, fmt.Errorf("version %q is not major.minor.patch", s)
		}
		out[i] = n
	}
	return out, nil
}

// Less orders versions numerically.
func Less(a, b string) bool {
	x, _ := ParseVersion(a)
	y, _ := ParseVersion(b)
	for i := range x {
		if x[i] != y[i] {
			return x[i] < y[i]
		}
	}
	return false
}

// VMSize is a virtual machine size.
type VMSize struct {
	Name string `json:"name"`
	// Family is the size's vCPU quota family as Microsoft.Compute usages name it, e.g.
	// standardDv2Family for Standard_D3_v2.
	Family    string `json:"family"`
	Cores     int    `json:"cores"`
	MemoryMiB int    `json:"memoryMiB"`
	GPUs      int    `json:"gpus,omitempty"`
	FPGAs     int    `json:"fpgas,omitempty"`
}

// VMSizes is the VM size catalog.
type VMSizes struct {
	sizes []VMSize
}

// DefaultVMSizes returns the built-in VM size catalog.
func DefaultVMSizes() *VMSizes {
	var f struct {
		Sizes []VMSize `json:"sizes"`
	}
	if err := json.Unmarshal(defaultSizes, &f); err != nil {
		panic(fmt.Sprintf("built-in vmsizes.json: %v", err)) // caught by tests
	}
	for _, s := range f.Sizes {
		if s.Family == "" || s.Cores < 1 {
			panic(fmt.Sprintf("built-in vmsizes.json: size %s needs a family and cores", s.Name)) // caught by tests
		}
	}
	return &VMSizes{sizes: f.Sizes}
}

// Get returns a size by name (case-insensitive).
func (s *VMSizes) Get(name string) (VMSize, bool) {
	for _, x := range s.sizes {
		if strings.EqualFold(x.Name, name) {
			return x, true
		}
	}
	return VMSize{}, false
}

// All returns every size.
func (s *VMSizes) All() []VMSize { return append([]VMSize(nil), s.sizes...) }

// Families returns the quota family names of the sizes, each once, sorted.
func (s *VMSizes) Families() []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s.sizes {
		if !seen[x.Family] {
			seen[x.Family] = true
			out = append(out, x.Family)
		}
	}
	sort.Strings(out)
	return out
}

// Names returns every size's name.
func (s *VMSizes) Names() []string {
	out := make([]string, len(s.sizes))
	for i, x := range s.sizes {
		out[i] = x.Name
	}
	return out
}
