package quota

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// Quota names besides the VM families, whose quotas are named after the family
// (catalog.VMSize.Family, e.g. standardDv2Family).
const (
	// Cores is the total regional vCPUs of the nodes of every cluster.
	Cores = "cores"
	// ManagedClusters is the number of managed clusters.
	ManagedClusters = "managedClusters"
)

// Built-in limits per subscription and region. Every embedded cluster is a real
// kube-apiserver of about 110 MB (49 clusters took a server to 5.4 GB), so 10 clusters keep
// one subscription in one region near 1 GB; 100 vCPUs hold ten clusters of the usual sizes
// (a workspace's cluster is 3 × Standard_D3_v2 = 12 vCPUs) and the README's examples, while a
// client asking for hundreds of simulated nodes is stopped. A VM family has no limit of its
// own by default: the regional total bounds it.
const (
	DefaultManagedClusters = 10
	DefaultCores           = 100
)

// Limits are quota limits by quota name. A VM family without a limit of its own is bounded
// by the Cores limit alone.
type Limits map[string]int

// Of returns the limit of quota name.
func (l Limits) Of(name string) int {
	if n, ok := l[name]; ok {
		return n
	}
	return l[Cores]
}

// Quotas are the limits of every subscription in every region: the built-in defaults,
// changed by a quota file. A *Quotas is read-only once made, so safe for concurrent use.
type Quotas struct {
	base Limits
	// subs is keyed by lowercased subscription id.
	subs map[string]subscriptionLimits
}

type subscriptionLimits struct {
	all Limits
	// locations is keyed by region name (westus).
	locations map[string]Limits
}

// Defaults returns the built-in limits, the same for every subscription and region.
func Defaults() *Quotas {
	return &Quotas{base: Limits{ManagedClusters: DefaultManagedClusters, Cores: DefaultCores}}
}

// For returns the limits of subscription sub in location: the quota file's values for that
// subscription in that region, else its values for the subscription, else its defaults,
// else the built-in ones.
func (q *Quotas) For(sub, location string) Limits {
	out := Limits{}
	layers := []Limits{q.base}
	if s, ok := q.subs[strings.ToLower(sub)]; ok {
		layers = append(layers, s.all, s.locations[location])
	}
	for _, l := range layers {
		for k, v := range l {
			out[k] = v
		}
	}
	return out
}

// file is the quota file:
//
//	{
//	  "default": {"managedClusters": 10, "cores": 100},
//	  "subscriptions": {
//	    "00000000-0000-0000-0000-000000000000": {
//	      "default": {"cores": 200},
//	      "locations": {"westus": {"managedClusters": 20, "standardNCFamily": 24}}
//	    }
//	  }
//	}
type file struct {
	// Comment is ignored: JSON has no comments.
	Comment       string                      `json:"comment,omitempty"`
	Default       Limits                      `json:"default"`
	Subscriptions map[string]subscriptionFile `json:"subscriptions"`
}

type subscriptionFile struct {
	Default   Limits            `json:"default"`
	Locations map[string]Limits `json:"locations"`
}

// Load reads a quota file. families are the VM family quota names the file may set
// (catalog.VMSizes.Families). Every mistake is an error that names the file and the entry.
func Load(path string, families []string) (*Quotas, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read quota file: %w", err)
	}
	q, err := Parse(b, families)
	if err != nil {
		return nil, fmt.Errorf("quota file %s: %w", path, err)
	}
	return q, nil
}

// Parse reads the JSON of a quota file (see Load).
func Parse(b []byte, families []string) (*Quotas, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f file
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("not a quota file (%v); want {\"default\": {\"managedClusters\": N, \"cores\": N}, \"subscriptions\": {...}}", err)
	}
	if dec.More() {
		return nil, errors.New("unexpected data after the JSON object")
	}
	q := Defaults()
	if err := validLimits(f.Default, "default", families); err != nil {
		return nil, err
	}
	for k, v := range f.Default {
		q.base[k] = v
	}
	q.subs = map[string]subscriptionLimits{}
	for sub, sf := range f.Subscriptions {
		where := fmt.Sprintf("subscriptions.%s", sub)
		if strings.TrimSpace(sub) == "" {
			return nil, fmt.Errorf("%s: empty subscription id", where)
		}
		if _, dup := q.subs[strings.ToLower(sub)]; dup {
			return nil, fmt.Errorf("%s: subscription given twice", where)
		}
		if err := validLimits(sf.Default, where+".default", families); err != nil {
			return nil, err
		}
		sl := subscriptionLimits{all: sf.Default, locations: map[string]Limits{}}
		for loc, l := range sf.Locations {
			name, ok := arm.NormalizeLocation(loc)
			if !ok {
				return nil, fmt.Errorf("%s.locations: unknown location %q; use a region name such as westus", where, loc)
			}
			if _, dup := sl.locations[name]; dup {
				return nil, fmt.Errorf("%s.locations: location %s given twice", where, name)
			}
			if err := validLimits(l, where+".locations."+name, families); err != nil {
				return nil, err
			}
			sl.locations[name] = l
		}
		q.subs[strings.ToLower(sub)] = sl
	}
	return q, nil
}

// validLimits refuses unknown quota names and negative limits.
func validLimits(l Limits, where string, families []string) error {
	for name, n := range l {
		if name != Cores && name != ManagedClusters && !slices.Contains(families, name) {
			return fmt.Errorf("%s: unknown quota %q; use %s, %s or a VM family (%s)", where, name, ManagedClusters, Cores, strings.Join(families, ", "))
		}
		if n < 0 {
			return fmt.Errorf("%s: quota %s is %d; a limit cannot be negative", where, name, n)
		}
	}
	return nil
}

// Amount counts quota units by quota name: clusters under ManagedClusters, vCPUs under
// Cores and under their VM family. It is what is in use, or what a request adds.
type Amount map[string]int

// AddCluster counts one cluster.
func (a Amount) AddCluster() { a[ManagedClusters]++ }

// AddVCPUs counts n vCPUs of VM family family (n < 0 takes them away).
func (a Amount) AddVCPUs(family string, n int) {
	a[Cores] += n
	a[family] += n
}

// Check returns nil when use plus request stays within limits for every quota request adds
// to, else a 400 QuotaExceeded that names each quota it would exceed with its limit, the
// current use, the request and the limit it would need, as AKS's InsufficientVCPUQuota
// does. Quotas the request does not add to are not checked: a scale-down is allowed even
// when a lowered limit is already exceeded.
func Check(limits Limits, location string, use, request Amount) error {
	names := make([]string, 0, len(request))
	for name, n := range request {
		if n > 0 {
			names = append(names, name)
		}
	}
	slices.SortFunc(names, compareNames)
	var errs []*arm.Error
	for _, name := range names {
		if _, own := limits[name]; !own {
			continue // a VM family without a limit of its own: the regional total bounds it
		}
		limit, cur, add := limits[name], use[name], request[name]
		if cur+add <= limit {
			continue
		}
		errs = append(errs, arm.BadRequest(arm.CodeQuotaExceeded,
			"Operation could not be completed as it results in exceeding approved %s quota. Location: %s, Current Limit: %d, Current Usage: %d, Additional Required: %d, (Minimum) New Limit Required: %d.",
			title(name), location, limit, cur, add, cur+add).WithTarget(name))
	}
	hint := fmt.Sprintf(" Delete or scale down clusters of this subscription in %s, or raise the limit in the server's quota file (mlfleet serve --quota-file); 'mlfleet vm list-usage -l %s -o table' shows the use.", location, location)
	switch len(errs) {
	case 0:
		return nil
	case 1:
		errs[0].Message += hint
		return errs[0]
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Message
	}
	e := arm.BadRequest(arm.CodeQuotaExceeded, "%d quotas would be exceeded. %s%s", len(errs), strings.Join(msgs, " "), hint)
	e.Details = errs
	return e
}

// compareNames orders quotas in messages: managed clusters, the regional vCPUs, then the VM
// families by name.
func compareNames(a, b string) int {
	if oa, ob := order(a), order(b); oa != ob {
		return oa - ob
	}
	return strings.Compare(a, b)
}

func order(name string) int {
	switch name {
	case ManagedClusters:
		return 0
	case Cores:
		return 1
	}
	return 2
}

// title is how a quota is named in a QuotaExceeded message, as Azure names it there.
func title(name string) string {
	switch name {
	case Cores:
		return "Total Regional Cores"
	case ManagedClusters:
		return "Managed Clusters"
	}
	return name + " Cores"
}

// DisplayName is a quota's name for people, as usages' name.localizedValue: "Total
// Regional vCPUs", "Standard DSv2 Family vCPUs", "Managed Clusters".
func DisplayName(name string) string {
	switch name {
	case Cores:
		return "Total Regional vCPUs"
	case ManagedClusters:
		return "Managed Clusters"
	}
	if mid, ok := strings.CutPrefix(name, "standard"); ok {
		if mid, ok := strings.CutSuffix(mid, "Family"); ok && mid != "" {
			return "Standard " + mid + " Family vCPUs"
		}
	}
	return name
}

// Usages lists the quotas with their use, as Microsoft.Compute's usages answer: the
// regional vCPUs, each VM family of families, then the managed clusters.
func Usages(limits Limits, use Amount, families []string) []armapi.Usage {
	names := append(append([]string{Cores}, families...), ManagedClusters)
	out := make([]armapi.Usage, 0, len(names))
	for _, name := range names {
		out = append(out, armapi.Usage{CurrentValue: use[name], Limit: limits.Of(name), Unit: "Count",
			Name: armapi.UsageName{Value: name, LocalizedValue: DisplayName(name)}})
	}
	return out
}

// Room is what the quotas of one subscription in one region still leave of their limits
// once what is used is counted: what an autoscaler may still add there. A nil *Room leaves
// everything (clusters that count toward no quota).
type Room struct {
	limits Limits
	// use is what was used when the room was made; taken what Take has taken since.
	use, taken Amount
}

// NewRoom returns the room limits leave besides use.
func NewRoom(limits Limits, use Amount) *Room {
	return &Room{limits: limits, use: use, taken: Amount{}}
}

// Take takes n vCPUs of VM family family from the room when both the regional total and
// the family's own limit (if it has one) still have them, and reports whether it did.
func (r *Room) Take(family string, n int) bool {
	if r == nil {
		return true
	}
	if r.use[Cores]+r.taken[Cores]+n > r.limits[Cores] {
		return false
	}
	if limit, own := r.limits[family]; own && r.use[family]+r.taken[family]+n > limit {
		return false
	}
	r.taken.AddVCPUs(family, n)
	return true
}

// Describe says, for messages, the limit and use of the regional vCPU quota (and of
// family's own, if it has one), as they were when the room was made: "Total Regional
// vCPUs: limit 16, used 16".
func (r *Room) Describe(family string) string {
	if r == nil {
		return "no vCPU quota"
	}
	parts := []string{fmt.Sprintf("%s: limit %d, used %d", DisplayName(Cores), r.limits[Cores], r.use[Cores])}
	if limit, own := r.limits[family]; own {
		parts = append(parts, fmt.Sprintf("%s: limit %d, used %d", DisplayName(family), limit, r.use[family]))
	}
	return strings.Join(parts, "; ")
}
