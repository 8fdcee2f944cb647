package endpoints

import (
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/mlassets"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// InstanceType is what one instance of a deployment gets (requests = limits).
type InstanceType struct {
	Name string
	// MilliCPU is CPU in thousandths of a core; MemoryMiB memory in MiB.
	MilliCPU  int64
	MemoryMiB int64
}

func (t InstanceType) String() string {
	return fmt.Sprintf("%s (%s CPU, %s memory)", t.Name, cpuString(t.MilliCPU), memString(t.MemoryMiB))
}

// InstanceTypes are the instance types deployments may ask for, as the instance types of
// an Azure Arc / AKS compute; defaultinstancetype is used when none is named.
var InstanceTypes = []InstanceType{
	{Name: "defaultinstancetype", MilliCPU: 500, MemoryMiB: 1024},
	{Name: "smallinstancetype", MilliCPU: 250, MemoryMiB: 512},
	{Name: "largeinstancetype", MilliCPU: 2000, MemoryMiB: 4096},
}

// DefaultInstanceType is the instance type of a deployment that names none.
const DefaultInstanceType = "defaultinstancetype"

// instanceType finds an instance type by name, in any case; the row then stores the
// name as InstanceTypes spells it.
func instanceType(name string) (InstanceType, bool) {
	for _, t := range InstanceTypes {
		if strings.EqualFold(t.Name, name) {
			return t, true
		}
	}
	return InstanceType{}, false
}

// cpuString and memString spell resources the way messages name them: cores as a decimal
// (0.25), memory in GiB when whole.
func cpuString(m int64) string {
	return strconv.FormatFloat(float64(m)/1000, 'f', -1, 64)
}

func memString(mib int64) string {
	if mib%1024 == 0 {
		return strconv.FormatInt(mib/1024, 10) + " GiB"
	}
	return strconv.FormatInt(mib, 10) + " MiB"
}

var (
	endpointName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{1,30}[A-Za-z0-9]$`)
	envVarName   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	isoDuration  = regexp.MustCompile(`^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)
)

// ValidateName checks an endpoint or deployment name (Azure's rules: 3 to 32 letters,
// digits and '-', starting with a letter, not ending with '-').
func ValidateName(what, name string) *arm.Error {
	if !endpointName.MatchString(name) {
		return arm.BadRequest(arm.CodeInvalidResourceName, "%s name '%s' is invalid: use 3 to 32 letters, digits or '-', starting with a letter and not ending with '-'.", what, name).WithTarget("name")
	}
	return nil
}

// ParseDuration reads an ISO 8601 duration such as PT5S, PT0.5S, PT1M30S or P1D.
func ParseDuration(s string) (time.Duration, error) {
	m := isoDuration.FindStringSubmatch(s)
	// Every part of the pattern is optional, so it also matches "P" and "PT", which name
	// no duration at all.
	if m == nil || s == "P" || s == "PT" {
		return 0, fmt.Errorf("'%s' is not an ISO 8601 duration (e.g. PT5S, PT0.5S, PT1M)", s)
	}
	var d time.Duration
	for i, unit := range []time.Duration{24 * time.Hour, time.Hour, time.Minute} {
		if m[i+1] != "" {
			n, _ := strconv.Atoi(m[i+1])
			d += time.Duration(n) * unit
		}
	}
	if m[4] != "" {
		f, _ := strconv.ParseFloat(m[4], 64)
		d += time.Duration(f * float64(time.Second))
	}
	return d, nil
}

// validateEndpoint checks an endpoint's fields and fills in defaults; deployments are the
// names of its deployments (none on create).
func validateEndpoint(name string, p *armapi.OnlineEndpointProperties, deployments []string) error {
	var errs mlassets.Problems
	if e := ValidateName("Endpoint", name); e != nil {
		errs = append(errs, e)
	}
	// Key is the default, as in az ml. AADToken is named apart: it is a valid Azure
	// mode, and the user should learn that mlfleet lacks it, not that it is misspelt.
	switch p.AuthMode {
	case "":
		p.AuthMode = AuthKey
	case AuthKey, AuthAMLToken:
	case "AADToken":
		errs.Add(arm.CodeUserError, "properties.authMode", "authMode AADToken is not supported by mlfleet; use Key or AMLToken.")
	default:
		errs.Add(arm.CodeUserError, "properties.authMode", "authMode '%s' is not one of Key, AMLToken.", p.AuthMode)
	}
	// checkWeights checks the weights of field and keys them by the deployments' own
	// names: names compare without case ("BLUE" is "blue"), and what is stored and shown
	// is the name the deployment was created with.
	checkWeights := func(field string, weights *map[string]int, max int) int {
		sum := 0
		own := make(map[string]int, len(*weights))
		for _, d := range slices.Sorted(maps.Keys(*weights)) {
			w := (*weights)[d]
			i := slices.IndexFunc(deployments, func(x string) bool { return strings.EqualFold(x, d) })
			if i < 0 {
				errs.Add(arm.CodeUserError, "properties."+field, "%s names deployment '%s', which endpoint '%s' does not have; create it first (mlfleet ml online-deployment create), then route traffic to it.", field, d, name)
				own[d] = w
			} else if _, twice := own[deployments[i]]; twice {
				errs.Add(arm.CodeUserError, "properties."+field, "%s names deployment '%s' twice, in different cases; name it once.", field, deployments[i])
			} else {
				own[deployments[i]] = w
			}
			if w < 0 || w > max {
				errs.Add(arm.CodeUserError, "properties."+field, "%s of deployment '%s' is %d; use 0 to %d percent.", field, d, w, max)
			}
			sum += w
		}
		if *weights != nil {
			*weights = own
		}
		return sum
	}
	// Traffic adds up to 100, or to 0 while nothing is routed yet (an endpoint before its
	// first deployment gets traffic). Mirrored traffic copies live requests to a
	// deployment that gets no live traffic itself; at most 50 percent, as in Azure.
	if sum := checkWeights("traffic", &p.Traffic, 100); sum != 0 && sum != 100 {
		errs.Add(arm.CodeUserError, "properties.traffic", "traffic adds up to %d percent; it must add up to 100 (or 0 to send nothing).", sum)
	}
	if sum := checkWeights("mirrorTraffic", &p.MirrorTraffic, 50); sum > 50 {
		errs.Add(arm.CodeUserError, "properties.mirrorTraffic", "mirrorTraffic adds up to %d percent; mirror at most 50 percent.", sum)
	}
	// Deployment names compare without case, as everywhere else ("Blue" is "blue").
	live := map[string]bool{}
	for d, w := range p.Traffic {
		live[strings.ToLower(d)] = live[strings.ToLower(d)] || w > 0
	}
	for d, w := range p.MirrorTraffic {
		if w > 0 && live[strings.ToLower(d)] {
			errs.Add(arm.CodeUserError, "properties.mirrorTraffic", "Deployment '%s' gets both live traffic and mirrored traffic; a deployment gets one or the other.", d)
		}
	}
	// Stored as empty maps, never null: clients read traffic as an object.
	if p.Traffic == nil {
		p.Traffic = map[string]int{}
	}
	if p.MirrorTraffic == nil {
		p.MirrorTraffic = map[string]int{}
	}
	if k := p.Keys; k != nil && (len(k.PrimaryKey) < 16 || len(k.SecondaryKey) < 16) {
		errs.Add(arm.CodeUserError, "properties.keys", "properties.keys needs both primaryKey and secondaryKey of at least 16 characters, or leave keys out to have them generated.")
	}
	return errs.Err("Endpoint " + name)
}

// normalized is a deployment's settings after validation, with the defaults applied: what
// the operation turns into the Kubernetes Deployment and what the capacity check counts.
type normalized struct {
	InstanceType   InstanceType
	InstanceCount  int
	RequestTimeout time.Duration
	MaxConcurrent  int
	Liveness       probe
	Readiness      probe
}

// probe is a liveness or readiness probe's settings as durations.
type probe struct {
	FailureThreshold, SuccessThreshold int
	InitialDelay, Period, Timeout      time.Duration
}

// validateDeployment checks a deployment's own fields (not what they refer to) and fills
// in defaults.
func validateDeployment(name string, d *armapi.OnlineDeployment) (normalized, error) {
	var errs mlassets.Problems
	var n normalized
	p := &d.Properties
	if e := ValidateName("Deployment", name); e != nil {
		errs = append(errs, e)
	}
	// mlfleet runs deployments only on AKS computes, Azure's Kubernetes online
	// deployments; Managed (Azure-hosted instances) has no counterpart here.
	switch {
	case p.EndpointComputeType == "":
		p.EndpointComputeType = "Kubernetes"
	case strings.EqualFold(p.EndpointComputeType, "Kubernetes"):
		p.EndpointComputeType = "Kubernetes"
	default:
		errs.Add(arm.CodeUserError, "properties.endpointComputeType", "endpointComputeType '%s' is not supported: mlfleet deploys to AKS computes; use Kubernetes and set compute.", p.EndpointComputeType)
	}
	if p.InstanceType == "" {
		p.InstanceType = DefaultInstanceType
	}
	if t, ok := instanceType(p.InstanceType); ok {
		n.InstanceType, p.InstanceType = t, t.Name
	} else {
		names := make([]string, len(InstanceTypes))
		for i, t := range InstanceTypes {
			names[i] = t.String()
		}
		errs.Add(arm.CodeUserError, "properties.instanceType", "instanceType '%s' is not one of %s.", p.InstanceType, strings.Join(names, ", "))
	}
	// The instance count is sku.capacity, as in Azure's schema (DefaultScaleSettings has
	// only scaleType); scaleSettings.instanceCount, which older mlfleet wrote, is still
	// taken, both only if they agree (an update first keeps the one that changed:
	// preferChangedCount). The row carries it in sku.capacity only, so that a GET, a
	// change of sku.capacity and a PUT (ARM's read-modify-write) goes through.
	n.InstanceCount = 1
	var fromSku, fromScale *int
	if d.Sku != nil {
		fromSku = d.Sku.Capacity
	}
	if s := p.ScaleSettings; s != nil {
		fromScale = s.InstanceCount
		if s.ScaleType != "" && !strings.EqualFold(s.ScaleType, "Default") {
			errs.Add(arm.CodeUserError, "properties.scaleSettings.scaleType", "scaleType '%s' is not supported; use Default with an instance count (sku.capacity).", s.ScaleType)
		}
	}
	switch {
	case fromSku != nil && fromScale != nil && *fromSku != *fromScale:
		errs.Add(arm.CodeUserError, "sku.capacity", "sku.capacity (%d) and scaleSettings.instanceCount (%d) disagree; set one of them.", *fromSku, *fromScale)
	case fromSku != nil:
		n.InstanceCount = *fromSku
	case fromScale != nil:
		n.InstanceCount = *fromScale
	}
	if n.InstanceCount < 1 || n.InstanceCount > 100 {
		errs.Add(arm.CodeUserError, "sku.capacity", "The instance count is %d; use 1 to 100 instances.", n.InstanceCount)
	}
	count := n.InstanceCount
	d.Sku = &armapi.DeploymentSku{Name: "Default", Capacity: &count}
	p.ScaleSettings = &armapi.ScaleSettings{ScaleType: "Default"}

	// Request settings and probes get Azure's documented defaults for online
	// deployments, written into the row so that a GET shows what is in effect.
	rs := p.RequestSettings
	if rs == nil {
		rs = &armapi.RequestSettings{}
		p.RequestSettings = rs
	}
	if rs.RequestTimeout == "" {
		rs.RequestTimeout = "PT5S"
	}
	if rs.MaxQueueWait == "" {
		rs.MaxQueueWait = "PT0.5S"
	}
	if rs.MaxConcurrentRequestsPerInstance == 0 {
		rs.MaxConcurrentRequestsPerInstance = 1
	}
	n.MaxConcurrent = rs.MaxConcurrentRequestsPerInstance
	if n.MaxConcurrent < 1 || n.MaxConcurrent > 1000 {
		errs.Add(arm.CodeUserError, "properties.requestSettings.maxConcurrentRequestsPerInstance", "maxConcurrentRequestsPerInstance is %d; use 1 to 1000.", n.MaxConcurrent)
	}
	duration := func(field, v string, lo, hi time.Duration) time.Duration {
		dur, err := ParseDuration(v)
		if err != nil {
			errs.Add(arm.CodeUserError, field, "%s: %v.", field, err)
			return 0
		}
		if dur < lo || dur > hi {
			errs.Add(arm.CodeUserError, field, "%s is %s; use %s to %s.", field, v, lo, hi)
		}
		return dur
	}
	n.RequestTimeout = duration("properties.requestSettings.requestTimeout", rs.RequestTimeout, time.Millisecond, 5*time.Minute)
	duration("properties.requestSettings.maxQueueWait", rs.MaxQueueWait, 0, 5*time.Minute)
	probeOf := func(field string, ps **armapi.ProbeSettings) probe {
		if *ps == nil {
			*ps = &armapi.ProbeSettings{}
		}
		s := *ps
		if s.FailureThreshold == 0 {
			s.FailureThreshold = 30
		}
		if s.SuccessThreshold == 0 {
			s.SuccessThreshold = 1
		}
		for _, f := range []struct {
			v   *string
			def string
		}{{&s.InitialDelay, "PT10S"}, {&s.Period, "PT10S"}, {&s.Timeout, "PT2S"}} {
			if *f.v == "" {
				*f.v = f.def
			}
		}
		if s.FailureThreshold < 1 || s.SuccessThreshold < 1 {
			errs.Add(arm.CodeUserError, field, "%s thresholds must be at least 1.", field)
		}
		return probe{
			FailureThreshold: s.FailureThreshold, SuccessThreshold: s.SuccessThreshold,
			InitialDelay: duration(field+".initialDelay", s.InitialDelay, 0, time.Hour),
			Period:       duration(field+".period", s.Period, time.Second, time.Hour),
			Timeout:      duration(field+".timeout", s.Timeout, time.Second, time.Hour),
		}
	}
	n.Liveness = probeOf("properties.livenessProbe", &p.LivenessProbe)
	n.Readiness = probeOf("properties.readinessProbe", &p.ReadinessProbe)

	if c := p.CodeConfiguration; c != nil {
		s := c.ScoringScript
		switch {
		case s == "":
			errs.Add(arm.CodeUserError, "properties.codeConfiguration.scoringScript", "codeConfiguration.scoringScript is required: the script in the code to load, e.g. score.py.")
		// The script is loaded from the materialized code directory on this host: a path
		// that could leave it (absolute, .., a backslash) must never reach the runtime.
		case path.IsAbs(s) || strings.Contains(s, "\\") || path.Clean(s) != s || strings.HasPrefix(s, "../") || s == "..":
			errs.Add(arm.CodeUserError, "properties.codeConfiguration.scoringScript", "codeConfiguration.scoringScript '%s' must be a relative path inside the code, such as score.py or src/score.py.", s)
		case !strings.HasSuffix(s, ".py"):
			errs.Add(arm.CodeUserError, "properties.codeConfiguration.scoringScript", "codeConfiguration.scoringScript '%s' is not a Python file (.py).", s)
		}
		if c.CodeID == "" {
			errs.Add(arm.CodeUserError, "properties.codeConfiguration.codeId", "codeConfiguration.codeId is required: the id of a code version holding the scoring script.")
		}
	}
	for _, k := range slices.Sorted(maps.Keys(p.EnvironmentVariables)) {
		switch {
		case !envVarName.MatchString(k):
			errs.Add(arm.CodeUserError, "properties.environmentVariables", "Environment variable name '%s' is invalid: use letters, digits and '_', not starting with a digit.", k)
		// The inference server tells the scoring script where its model is in
		// AZUREML_MODEL_DIR; AZUREML_* is reserved so that no user variable overrides it.
		case strings.HasPrefix(k, "AZUREML_"):
			errs.Add(arm.CodeUserError, "properties.environmentVariables", "Environment variable '%s' is reserved (AZUREML_* are set by the inference server).", k)
		}
	}
	if p.Model == "" && p.CodeConfiguration == nil && p.EnvironmentID == "" {
		errs.Add(arm.CodeUserError, "properties.model", "A deployment needs something to serve: a model, a codeConfiguration with a scoring script, or an environment whose image serves.")
	}
	return n, errs.Err("Deployment " + name)
}

// preferChangedCount resolves an update whose sku.capacity and
// scaleSettings.instanceCount disagree by the one that changed from stored, the count the
// deployment has: a client that read the deployment (where older servers echoed the count
// in both) and changed one of them means the one it changed. Both changed, or a create
// (stored 0), is left for validateDeployment to refuse. d's Sku and ScaleSettings are
// replaced, never written through, since they may be shared with the request.
func preferChangedCount(d *armapi.OnlineDeployment, stored int) {
	if stored == 0 || d.Sku == nil || d.Sku.Capacity == nil || d.Properties.ScaleSettings == nil || d.Properties.ScaleSettings.InstanceCount == nil {
		return
	}
	sku, scale := *d.Sku.Capacity, *d.Properties.ScaleSettings.InstanceCount
	switch {
	case sku == scale:
	case sku == stored:
		sk := *d.Sku
		sk.Capacity = &scale
		d.Sku = &sk
	case scale == stored:
		s := *d.Properties.ScaleSettings
		s.InstanceCount = nil
		d.Properties.ScaleSettings = &s
	}
}
