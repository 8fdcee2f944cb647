package cli

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// endpointSpec is an online endpoint YAML file as az ml reads it: the same keys, so a file
// written for az ml works here. Unknown keys are refused (readSpec).
type endpointSpec struct {
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Tags        map[string]string `json:"tags"`
	AuthMode    string            `json:"auth_mode"`
	Compute     string            `json:"compute"`
	Traffic     map[string]int    `json:"traffic"`
	// MirrorTraffic copies a percentage of the live requests to a deployment, whose
	// answers are dropped (az ml's mirror_traffic; at most 50 in all).
	MirrorTraffic map[string]int `json:"mirror_traffic"`
}

// deploymentSpec is an online deployment YAML file as az ml reads it (Kubernetes online
// deployment), with compute as mlfleet's addition.
type deploymentSpec struct {
	Name              string            `json:"name"`
	EndpointName      string            `json:"endpoint_name"`
	Description       string            `json:"description"`
	Tags              map[string]string `json:"tags"`
	Model             any               `json:"model"`
	CodeConfiguration *struct {
		Code          string `json:"code"`
		ScoringScript string `json:"scoring_script"`
	} `json:"code_configuration"`
	Environment          any               `json:"environment"`
	EnvironmentVariables map[string]string `json:"environment_variables"`
	InstanceType         string            `json:"instance_type"`
	InstanceCount        *int              `json:"instance_count"`
	Compute              string            `json:"compute"`
	RequestSettings      *struct {
		RequestTimeoutMS                 int `json:"request_timeout_ms"`
		MaxConcurrentRequestsPerInstance int `json:"max_concurrent_requests_per_instance"`
		// MaxQueueWaitMS is a pointer because 0 is a setting of its own: no waiting.
		MaxQueueWaitMS *int `json:"max_queue_wait_ms"`
	} `json:"request_settings"`
	LivenessProbe  *probeSpec `json:"liveness_probe"`
	ReadinessProbe *probeSpec `json:"readiness_probe"`
	// ScaleSettings is read as a map so that target_utilization's own keys get the
	// message below rather than "unknown field".
	ScaleSettings map[string]any `json:"scale_settings"`
}

// scaleSettings returns ARM's scale settings of az ml's scale_settings. Only type: default
// (a fixed instance_count) is taken: mlfleet does not autoscale deployments, so
// target_utilization is refused rather than run at a fixed count the user did not ask for.
func (s *deploymentSpec) scaleSettings() (*mlfleet.ScaleSettings, error) {
	if s.ScaleSettings == nil {
		return nil, nil
	}
	t, _ := s.ScaleSettings["type"].(string)
	switch strings.ToLower(strings.ReplaceAll(t, "_", "")) {
	case "default":
		for k := range s.ScaleSettings {
			if k != "type" {
				return nil, usagef("scale_settings of type default takes no %s: set the number of instances with instance_count", k)
			}
		}
		return &mlfleet.ScaleSettings{ScaleType: "Default"}, nil
	case "targetutilization", "targetutilizationbased":
		return nil, usagef("scale_settings type %s is not supported: mlfleet does not autoscale deployments by utilization. "+
			"Use type: default with a fixed instance_count, and change it with 'mlfleet ml online-deployment update --instance-count N'", t)
	case "":
		return nil, usagef("scale_settings needs type: default (a fixed instance_count)")
	}
	return nil, usagef("scale_settings type %q is not one of default, target_utilization", t)
}

// assetSpec is a model, code or environment YAML file as az ml reads it. One struct
// serves the three kinds; version refuses the keys of another kind.
type assetSpec struct {
	Name        string            `json:"name"`
	Version     any               `json:"version"` // az ml's files write it as a number or a string
	Description string            `json:"description"`
	Tags        map[string]string `json:"tags"`
	Properties  map[string]string `json:"properties"`
	Path        string            `json:"path"`       // model, code
	Type        string            `json:"type"`       // model
	Image       string            `json:"image"`      // environment
	OSType      string            `json:"os_type"`    // environment
	CondaFile   any               `json:"conda_file"` // environment; refused
	Build       any               `json:"build"`      // environment; refused
}

// versionString returns the file's version as a string ("" when it has none).
func (s *assetSpec) versionString() string {
	switch v := s.Version.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return fmt.Sprint(s.Version)
}

// version returns the ARM body of the file's asset version of kind, without what the
// command adds (the uploaded path's URI). A key of another kind is refused, as az ml's
// schema of the kind would.
func (s *assetSpec) version(kind string) (*mlfleet.AssetVersion, error) {
	in := &mlfleet.AssetVersion{Properties: mlfleet.AssetVersionProperties{
		AssetBase: mlfleet.AssetBase{Description: s.Description, Tags: s.Tags, Properties: s.Properties}}}
	whose := map[string]string{mlfleet.AssetModels: "a model's", mlfleet.AssetEnvironments: "an environment's"}[kind]
	if whose == "" {
		whose = "a code asset's"
	}
	notFor := func(key string, set bool) error {
		if set {
			return usagef("%s is not a key of %s YAML", key, whose)
		}
		return nil
	}
	var err error
	switch kind {
	case mlfleet.AssetEnvironments:
		switch {
		case s.CondaFile != nil:
			err = usagef("conda_file is not supported: mlfleet does not build environments, so the packages would not be installed. " +
				"Give an image that has them (image: …), or on embedded clusters a Python with them ('mlfleet serve --python')")
		case s.Build != nil:
			err = usagef("build is not supported: mlfleet does not build images; give an existing image with image:")
		default:
			err = errors.Join(notFor("path", s.Path != ""), notFor("type", s.Type != ""))
		}
		in.Properties.Image = s.Image
		if s.OSType != "" {
			// az ml writes linux; ARM says Linux. Any other value goes to the server, which
			// names what it runs.
			in.Properties.OSType = s.OSType
			if strings.EqualFold(s.OSType, "linux") {
				in.Properties.OSType = "Linux"
			}
		}
	case mlfleet.AssetModels:
		in.Properties.ModelType = s.Type
		err = errors.Join(notFor("image", s.Image != ""), notFor("os_type", s.OSType != ""), notFor("conda_file", s.CondaFile != nil), notFor("build", s.Build != nil))
	default:
		err = errors.Join(notFor("type", s.Type != ""), notFor("image", s.Image != ""), notFor("os_type", s.OSType != ""),
			notFor("conda_file", s.CondaFile != nil), notFor("build", s.Build != nil))
	}
	return in, err
}

// probeSpec is a probe in az ml's YAML, whose times are whole seconds; ARM takes them as
// ISO 8601 durations (PT10S).
type probeSpec struct {
	InitialDelay     int `json:"initial_delay"`
	Period           int `json:"period"`
	Timeout          int `json:"timeout"`
	SuccessThreshold int `json:"success_threshold"`
	FailureThreshold int `json:"failure_threshold"`
}

// settings returns the probe as ARM's ProbeSettings; nil when the YAML has no probe, and
// an unset (zero) time stays unset, so that the server's default applies.
func (p *probeSpec) settings() *mlfleet.ProbeSettings {
	if p == nil {
		return nil
	}
	secs := func(n int) string {
		if n <= 0 {
			return ""
		}
		return fmt.Sprintf("PT%dS", n)
	}
	return &mlfleet.ProbeSettings{InitialDelay: secs(p.InitialDelay), Period: secs(p.Period), Timeout: secs(p.Timeout),
		SuccessThreshold: p.SuccessThreshold, FailureThreshold: p.FailureThreshold}
}

// readSpec reads a YAML (or JSON) file into v, refusing unknown keys so that a typo is
// not silently ignored. No file (file "") leaves v as it is.
func readSpec(file string, v any) error {
	if file == "" {
		return nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return usagef("read --file: %v", err)
	}
	return parseSpec(file, b, v)
}

// parseSpec is readSpec on the content b of file.
func parseSpec(file string, b []byte, v any) error {
	// $schema is what az ml's YAML files start with; it says nothing mlfleet needs. It is
	// removed through a generic map because the strict decoding below would refuse it.
	var generic map[string]any
	if err := yaml.Unmarshal(b, &generic); err != nil {
		return usagef("%s is not valid YAML: %v", file, err)
	}
	delete(generic, "$schema")
	j, _ := yaml.Marshal(generic)
	if err := yaml.UnmarshalStrict(j, v); err != nil {
		return usagef("%s: %v", file, err)
	}
	return nil
}

// assetRef parses azureml:<name>:<version> (or azureml:<name>@latest), az ml's references
// to registered assets; ok is false for anything else (a local path). version "" means
// the latest.
func assetRef(s string) (name, version string, ok bool) {
	rest, found := strings.CutPrefix(s, "azureml:")
	if !found {
		return "", "", false
	}
	if n, found := strings.CutSuffix(rest, "@latest"); found {
		return n, "", true
	}
	name, version, _ = strings.Cut(rest, ":")
	return name, version, true
}

// armRef returns the id of az ml's ARM-id form of a reference,
// azureml:/subscriptions/{id}/…/models/{name}/versions/{version} (or …/computes/{name});
// ok is false for any other form. The id is passed on as it is: the server says whether
// it names something.
func armRef(s string) (id string, ok bool) {
	id, found := strings.CutPrefix(s, "azureml:")
	if !found || !strings.HasPrefix(strings.ToLower(id), "/subscriptions/") {
		return "", false
	}
	return id, true
}

// parseTraffic reads --traffic "blue=90 green=10" (spaces or commas between). Only the
// form is checked here; that the percents add up to 100 (or 0) and that each deployment
// exists is the server's rule.
func parseTraffic(s string) (map[string]int, error) {
	return parsePercents("--traffic", s)
}

// parsePercents reads the deployment=percent pairs of flag.
func parsePercents(flag, s string) (map[string]int, error) {
	out := map[string]int{}
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' }) {
		name, pct, ok := strings.Cut(part, "=")
		// Atoi, not Sscanf: Sscanf's %d stops at the first non-digit and took "90x" or
		// "1=2" for a number.
		n, err := strconv.Atoi(pct)
		if !ok || err != nil || name == "" {
			return nil, usagef("%s takes deployment=percent pairs, e.g. \"blue=90 green=10\", not %q", flag, part)
		}
		out[name] = n
	}
	return out, nil
}
