package cli

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
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

// registeredID resolves s when it names a registered asset of kind, in any of az ml's
// forms (armRef, assetRef); ok is false for anything else (a local path).
func (a *assetsClient) registeredID(kind, s string) (id string, ok bool, err error) {
	if id, ok := armRef(s); ok {
		return id, true, nil
	}
	name, version, ok := assetRef(s)
	if !ok {
		return "", false, nil
	}
	id, err = a.versionID(kind, name, version)
	return id, true, err
}

// assetsClient is what resolving a spec needs from the SDK.
type assetsClient struct {
	c         *mlfleet.Client
	ctx       context.Context
	group, ws string
	dir       string // the YAML file's directory: relative paths are relative to it
}

// versionID returns the id of an asset version, looking up the latest when version is "".
func (a *assetsClient) versionID(kind, name, version string) (string, error) {
	if version == "" {
		cont, err := a.c.GetAssetContainer(a.ctx, a.group, a.ws, kind, name)
		if err != nil {
			return "", err
		}
		version = cont.Properties.LatestVersion
	}
	return a.c.AssetVersionID(a.group, a.ws, kind, name, version), nil
}

// upload sends a file as one blob (URI ending in its name) or a directory as a tar
// archive, and returns the URI and a short content hash to version anonymous assets by.
// The hash is of the URI, which holds the blob's sha256 (and the file's name): the same
// content gives the same anonymous version, so deploying a file again registers nothing
// new. A directory is streamed through a pipe, not built in memory or on disk.
func (a *assetsClient) upload(path string) (uri, hash string, err error) {
	if !filepath.IsAbs(path) && a.dir != "" {
		path = filepath.Join(a.dir, path)
	}
	st, err := os.Stat(path)
	if err != nil {
		return "", "", usagef("%v", err)
	}
	var body io.Reader
	if st.IsDir() {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(writeTar(pw, path)) }()
		body = pr
	} else {
		f, err := os.Open(path)
		if err != nil {
			return "", "", err
		}
		defer f.Close()
		body = f
	}
	blob, err := a.c.UploadBlob(a.ctx, a.group, a.ws, body)
	if err != nil {
		return "", "", err
	}
	uri = blob.URI
	if !st.IsDir() {
		uri += "/" + filepath.Base(path)
	}
	sum := sha256.Sum256([]byte(uri))
	return uri, hex.EncodeToString(sum[:])[:16], nil
}

// writeTar writes dir as a tar archive with sorted entries and no times or owners, so
// that the same files always give the same archive (and blob).
func writeTar(w io.Writer, dir string) error {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			files = append(files, p)
		} else if !d.IsDir() {
			return fmt.Errorf("%s is not a file or directory; mlfleet uploads files and directories only", p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(files)
	tw := tar.NewWriter(w)
	for _, p := range files {
		rel, _ := filepath.Rel(dir, p)
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: filepath.ToSlash(rel), Mode: int64(st.Mode().Perm()), Size: st.Size(), Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		_, err = io.Copy(tw, f)
		f.Close()
		if err != nil {
			return err
		}
	}
	return tw.Close()
}

// modelID resolves a deployment's model: azureml:name:version, or a local path (a file or
// directory, uploaded and registered as an anonymous model version), the two forms az
// ml's YAML takes (a string, or {path: ...}).
func (a *assetsClient) modelID(model any) (string, error) {
	var path string
	switch m := model.(type) {
	case nil:
		return "", nil
	case string:
		if id, ok, err := a.registeredID(mlfleet.AssetModels, m); ok {
			return id, err
		}
		path = m
	case map[string]any:
		p, _ := m["path"].(string)
		if p == "" {
			return "", usagef("model needs azureml:<name>:<version>, a path, or {path: ...}")
		}
		path = p
	default:
		return "", usagef("model needs azureml:<name>:<version> or a local path")
	}
	uri, hash, err := a.upload(path)
	if err != nil {
		return "", err
	}
	return a.anonymousID(mlfleet.AssetModels, "anonymous-model", hash, mlfleet.AssetVersionProperties{ModelURI: uri})
}

// codeID resolves code: azureml:name:version, or a local directory uploaded as an
// anonymous code version.
func (a *assetsClient) codeID(code string) (string, error) {
	if id, ok, err := a.registeredID(mlfleet.AssetCodes, code); ok {
		return id, err
	}
	uri, hash, err := a.upload(code)
	if err != nil {
		return "", err
	}
	return a.anonymousID(mlfleet.AssetCodes, "anonymous-code", hash, mlfleet.AssetVersionProperties{CodeURI: uri})
}

// environmentID resolves an environment: azureml:name:version, or {image: ...} registered
// as an anonymous environment version.
func (a *assetsClient) environmentID(env any) (string, error) {
	switch e := env.(type) {
	case nil:
		return "", nil
	case string:
		if id, ok, err := a.registeredID(mlfleet.AssetEnvironments, e); ok {
			return id, err
		}
		return "", usagef("environment '%s' needs the form azureml:<name>:<version>, or give {image: ...}", e)
	case map[string]any:
		image, _ := e["image"].(string)
		if image == "" {
			return "", usagef("an inline environment needs image: (building from conda files is not supported)")
		}
		sum := sha256.Sum256([]byte(image))
		version := hex.EncodeToString(sum[:])[:16]
		return a.anonymousID(mlfleet.AssetEnvironments, "anonymous-environment", version, mlfleet.AssetVersionProperties{Image: image})
	}
	return "", usagef("environment needs azureml:<name>:<version> or {image: ...}")
}

// anonymousID registers props as a version, named by its content, of the anonymous asset
// name of kind, and returns its id. It sends no If-None-Match: registering the same content
// again is then an update that changes nothing, where a create-only PUT would be a 409.
func (a *assetsClient) anonymousID(kind, name, version string, props mlfleet.AssetVersionProperties) (string, error) {
	props.IsAnonymous = true
	if _, err := a.c.CreateOrUpdateAssetVersion(a.ctx, a.group, a.ws, kind, name, version, &mlfleet.AssetVersion{Properties: props}, false); err != nil {
		return "", err
	}
	return a.c.AssetVersionID(a.group, a.ws, kind, name, version), nil
}

// computeID resolves azureml:<name> (or a bare name, or an id, with or without azureml:)
// to a compute id of the workspace. "" stays "": the deployment then takes its
// endpoint's compute.
func (a *assetsClient) computeID(ref string) string {
	ref = strings.TrimPrefix(ref, "azureml:")
	if ref == "" || strings.HasPrefix(ref, "/") {
		return ref
	}
	return a.c.ComputeID(a.group, a.ws, ref)
}

// deployment builds the ARM body of a deployment spec, uploading and registering what it
// names by path.
func (a *assetsClient) deployment(s *deploymentSpec) (*mlfleet.OnlineDeployment, error) {
	d := &mlfleet.OnlineDeployment{Tags: s.Tags}
	p := &d.Properties
	// Online deployments run on AKS computes here (B7): az ml's Kubernetes online
	// deployment, never a managed one.
	p.EndpointComputeType = "Kubernetes"
	p.Description, p.InstanceType, p.EnvironmentVariables = s.Description, s.InstanceType, s.EnvironmentVariables
	p.Compute = a.computeID(s.Compute)
	if s.InstanceCount != nil {
		d.Sku = &mlfleet.DeploymentSku{Name: "Default", Capacity: s.InstanceCount}
	}
	var err error
	if p.Model, err = a.modelID(s.Model); err != nil {
		return nil, err
	}
	if cc := s.CodeConfiguration; cc != nil {
		if cc.Code == "" {
			return nil, usagef("code_configuration needs code: (a directory, or azureml:<name>:<version>)")
		}
		id, err := a.codeID(cc.Code)
		if err != nil {
			return nil, err
		}
		p.CodeConfiguration = &mlfleet.CodeConfiguration{CodeID: id, ScoringScript: cc.ScoringScript}
	}
	if p.EnvironmentID, err = a.environmentID(s.Environment); err != nil {
		return nil, err
	}
	if rs := s.RequestSettings; rs != nil {
		p.RequestSettings = &mlfleet.RequestSettings{MaxConcurrentRequestsPerInstance: rs.MaxConcurrentRequestsPerInstance}
		// az ml's YAML says milliseconds, ARM an ISO 8601 duration; %g keeps 1500 ms as
		// PT1.5S and 2000 ms as PT2S.
		if rs.RequestTimeoutMS > 0 {
			p.RequestSettings.RequestTimeout = fmt.Sprintf("PT%gS", float64(rs.RequestTimeoutMS)/1000)
		}
		if w := rs.MaxQueueWaitMS; w != nil {
			if *w < 0 {
				return nil, usagef("request_settings.max_queue_wait_ms is %d; use 0 (no waiting) or more milliseconds", *w)
			}
			p.RequestSettings.MaxQueueWait = fmt.Sprintf("PT%gS", float64(*w)/1000)
		}
	}
	p.LivenessProbe, p.ReadinessProbe = s.LivenessProbe.settings(), s.ReadinessProbe.settings()
	if p.ScaleSettings, err = s.scaleSettings(); err != nil {
		return nil, err
	}
	return d, nil
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
