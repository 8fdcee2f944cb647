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
	"strings"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// The references of an az ml spec (a model, code, an environment, a compute) become ARM ids
// here: a registered asset is looked up, a local path is uploaded and registered as an
// anonymous version, as az ml does.

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
// field names where the path came from (a YAML key or a flag), for the error when it is
// not there.
func (a *assetsClient) upload(field, path string) (uri, hash string, err error) {
	given := path
	if !filepath.IsAbs(path) && a.dir != "" {
		path = filepath.Join(a.dir, path)
	}
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && path != given:
		return "", "", usagef("%s: '%s' does not exist (%s); a path in a YAML file is relative to the file's folder", field, given, path)
	case errors.Is(err, fs.ErrNotExist):
		return "", "", usagef("%s: '%s' does not exist", field, given)
	case err != nil:
		return "", "", usagef("%s: %v", field, err)
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
	uri, hash, err := a.upload("model", path)
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
	uri, hash, err := a.upload("code_configuration.code", code)
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
