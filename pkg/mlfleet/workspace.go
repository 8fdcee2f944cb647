package mlfleet

import (
	"context"
	"errors"
	"strings"
)

// errUnbound is returned by the methods of a Workspace that no Client returned.
var errUnbound = errors.New("workspace is not bound to a client: get it with Client.GetWorkspace")

// resourceGroupOf returns the resource group named in an ARM id ("" when none).
func resourceGroupOf(id string) string {
	parts := strings.Split(id, "/")
	for i := 0; i+1 < len(parts); i++ {
		if strings.EqualFold(parts[i], "resourceGroups") {
			return parts[i+1]
		}
	}
	return ""
}

// ResourceGroup returns the resource group the workspace is in.
func (w *Workspace) ResourceGroup() string { return w.group }

// Client returns the client the workspace is bound to (nil when none).
func (w *Workspace) Client() *Client { return w.c }

func (w *Workspace) compute(name string) *AKSCompute {
	return &AKSCompute{c: w.c, group: w.group, workspace: w.Name, name: name}
}

// CreateAKS starts creating a cluster from the workspace and attaching it as the AKS
// compute name (S1): azureml-core's ComputeTarget.create with a provisioning
// configuration. It checks name (ValidateComputeName) and cfg (Validate) first, reporting
// their problems together as one *ValidationError, and reads its TLS files. The returned
// compute is Creating; WaitForCompletion follows the operation to its end. Checks the
// server makes (name uniqueness, capacity for the purpose, CIDRs) fail as an *Error
// listing every failed precondition. A compute of that name that exists is never changed:
// the server answers 409 Conflict (use Update or Scale to change it).
func (w *Workspace) CreateAKS(ctx context.Context, name string, cfg AKSProvisioningConfig) (*AKSCompute, error) {
	return w.putAKS(ctx, name, &cfg)
}

// ValidateCreateAKS runs every check of CreateAKS, the server's included, without
// creating anything (a dry run, B1). Failed checks come back as an *Error with one detail
// per failure; when all pass, the result lists the checks and any warnings.
func (w *Workspace) ValidateCreateAKS(ctx context.Context, name string, cfg AKSProvisioningConfig) (*ComputeValidation, error) {
	return w.validateAKS(ctx, name, &cfg)
}

// AttachAKS starts attaching an existing cluster to the workspace as the AKS compute name
// (S2): azureml-core's ComputeTarget.attach with an attach configuration. It checks name
// (ValidateComputeName) and cfg (Validate) first, reporting their problems together as one
// *ValidationError, and reads its TLS files. Every
// precondition (reachability, permissions, version, capacity, an existing attachment) is
// checked by the server before anything is installed and fails as one *Error listing
// them. A compute of that name that exists is never changed (409 Conflict). The returned
// compute is Creating; WaitForCompletion follows the operation.
func (w *Workspace) AttachAKS(ctx context.Context, name string, cfg AKSAttachConfig) (*AKSCompute, error) {
	return w.putAKS(ctx, name, &cfg)
}

// ValidateAttachAKS runs every check of AttachAKS, the server's included, without
// changing anything (a dry run, B1). Failed checks come back as an *Error with one detail
// per failure; when all pass, the result lists the checks and any warnings.
func (w *Workspace) ValidateAttachAKS(ctx context.Context, name string, cfg AKSAttachConfig) (*ComputeValidation, error) {
	return w.validateAKS(ctx, name, &cfg)
}

// aksConfig is what makes an AKS compute: *AKSProvisioningConfig or *AKSAttachConfig.
type aksConfig interface {
	Validate() error
	// readFiles reads the TLS files the SSL options name.
	readFiles() error
	// compute returns the PUT body; the TLS files must have been read.
	compute(subscription, workspaceLocation string) *Compute
	options() *ComputeOptions
}

// putAKS checks cfg, reads its TLS files and PUTs the compute name it makes.
func (w *Workspace) putAKS(ctx context.Context, name string, cfg aksConfig) (*AKSCompute, error) {
	body, err := w.aksBody(name, cfg)
	if err != nil {
		return nil, err
	}
	a := w.compute(name)
	if err := a.put(ctx, body, cfg.options()); err != nil {
		return nil, err
	}
	return a, nil
}

// validateAKS is putAKS's dry run.
func (w *Workspace) validateAKS(ctx context.Context, name string, cfg aksConfig) (*ComputeValidation, error) {
	body, err := w.aksBody(name, cfg)
	if err != nil {
		return nil, err
	}
	return w.c.ValidateCompute(ctx, w.group, w.Name, name, body, cfg.options())
}

// aksBody checks the compute name and cfg, reporting all their problems together as one
// *ValidationError, reads cfg's TLS files and returns the PUT body.
func (w *Workspace) aksBody(name string, cfg aksConfig) (*Compute, error) {
	if w.c == nil {
		return nil, errUnbound
	}
	var ps problems
	ps.checkComputeName(name)
	if err := cfg.Validate(); err != nil {
		var ve *ValidationError
		if !errors.As(err, &ve) {
			return nil, err
		}
		return nil, &ValidationError{What: ve.What, Problems: append(ps, ve.Problems...)}
	}
	if len(ps) > 0 {
		return nil, ps.err("compute name")
	}
	if err := cfg.readFiles(); err != nil {
		return nil, err
	}
	return cfg.compute(w.c.SubscriptionID(), w.Location), nil
}

// Compute returns the AKS compute name of the workspace, as azureml-core's
// AksCompute(workspace, name) does. A missing compute is an *Error for which IsNotFound
// is true.
func (w *Workspace) Compute(ctx context.Context, name string) (*AKSCompute, error) {
	if w.c == nil {
		return nil, errUnbound
	}
	a := w.compute(name)
	if err := a.Refresh(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

// Computes returns every compute of the workspace.
func (w *Workspace) Computes(ctx context.Context) ([]*AKSCompute, error) {
	if w.c == nil {
		return nil, errUnbound
	}
	list, err := w.c.ListComputes(ctx, w.group, w.Name)
	if err != nil {
		return nil, err
	}
	out := make([]*AKSCompute, len(list))
	for i, comp := range list {
		out[i] = w.compute(comp.Name)
		out[i].comp = comp
	}
	return out, nil
}

// CheckComputeName says whether name can be used for a new compute of the workspace: it
// follows the naming rules and is taken neither in the workspace nor in its region (S4).
func (w *Workspace) CheckComputeName(ctx context.Context, name string) (*NameAvailability, error) {
	if w.c == nil {
		return nil, errUnbound
	}
	return w.c.CheckComputeName(ctx, w.group, w.Name, name)
}

// KubernetesVersions returns the Kubernetes versions of the workspace's location; a
// cluster created from the workspace runs the default one (S7, S8).
func (w *Workspace) KubernetesVersions(ctx context.Context) (*Orchestrators, error) {
	if w.c == nil {
		return nil, errUnbound
	}
	return w.c.KubernetesVersions(ctx, w.Location)
}
