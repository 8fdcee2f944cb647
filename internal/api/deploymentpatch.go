package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/endpoints"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// deploymentPatch is the body of a deployment PATCH, ARM's OnlineDeployments_Update with a
// PartialMinimalTrackedResourceWithSku: tags and a PartialSku. Properties is read only to
// refuse it: the partial resource has none, and a change of them dropped unseen would be
// a silent no-op.
type deploymentPatch struct {
	Tags       map[string]string `json:"tags"`
	Sku        *partialSku       `json:"sku"`
	Properties json.RawMessage   `json:"properties"`
}

// partialSku is ARM's PartialSku. mlfleet sizes a deployment's instances by its
// instanceType, so of the sku only capacity (the instance count) and the name Default
// have a meaning here.
type partialSku struct {
	Capacity *int    `json:"capacity"`
	Name     *string `json:"name"`
	Tier     *string `json:"tier"`
	Size     *string `json:"size"`
	Family   *string `json:"family"`
}

// check refuses, all together, what of the patch mlfleet cannot honour, each naming what
// to do instead.
func (patch *deploymentPatch) check(what string) error {
	var errs arm.Problems
	if len(patch.Properties) > 0 && string(patch.Properties) != "null" {
		errs.Add(arm.CodeUserError, "properties", "A PATCH of a deployment changes its tags and sku.capacity only; change its properties with a PUT of the whole deployment (az ml online-deployment update, OnlineDeployments.BeginCreateOrUpdate).")
	}
	if sku := patch.Sku; sku != nil {
		if sku.Name != nil && !strings.EqualFold(*sku.Name, "Default") {
			errs.Add(arm.CodeUserError, "sku.name", "sku.name '%s' is not available: a Kubernetes deployment's sku is Default; send sku.capacity alone to change the instance count.", *sku.Name)
		}
		for _, f := range []struct {
			field string
			v     *string
		}{{"sku.tier", sku.Tier}, {"sku.size", sku.Size}, {"sku.family", sku.Family}} {
			if f.v != nil {
				errs.Add(arm.CodeUserError, f.field, "%s cannot be set: mlfleet sizes a deployment's instances by properties.instanceType (change it with a PUT); send sku.capacity alone to change the instance count.", f.field)
			}
		}
	}
	return errs.Err(arm.CodeUserError, what)
}

// apply sets on d the fields the patch sends. The instance count goes into both places a
// deployment carries it (sku.capacity and scaleSettings.instanceCount), which the PUT
// requires to agree.
func (patch *deploymentPatch) apply(d *armapi.OnlineDeployment) {
	if patch.Tags != nil {
		d.Tags = patch.Tags
	}
	if patch.Sku != nil && patch.Sku.Capacity != nil {
		n := *patch.Sku.Capacity
		d.Sku = &armapi.DeploymentSku{Name: "Default", Capacity: &n}
		d.Properties.ScaleSettings = &armapi.ScaleSettings{ScaleType: "Default", InstanceCount: &n}
	}
}

// patchDeployment changes the tags and the instance count (sku.capacity) of an existing
// deployment (OnlineDeployments_Update, the SDKs' begin_update): a PUT of the deployment
// as read, merged with the patch, at the etag read (see mergeWrite), so that the PUT's
// checks (capacity of the compute, 1 to 100 instances) apply. It answers 202 with the
// operation that scales the deployment, as the spec's LRO PATCH does.
func (s *Server) patchDeployment(w http.ResponseWriter, r *http.Request, p params) {
	patch, pre, ok := decodeWrite[deploymentPatch](w, r)
	if !ok {
		return
	}
	what := fmt.Sprintf("Deployment '%s' of endpoint '%s'", p["d"], p["ep"])
	if err := patch.check(what); err != nil {
		writeError(w, r, err)
		return
	}
	ctx := r.Context()
	res, err := mergeWrite(pre, "api/patch deployment/merged", what,
		func() (*armapi.OnlineDeployment, string, error) {
			return s.cfg.Endpoints.GetDeployment(ctx, p["sub"], p["rg"], p["ws"], p["ep"], p["d"])
		},
		patch.apply,
		func(d armapi.OnlineDeployment, put arm.Preconditions) (*endpoints.Result[armapi.OnlineDeployment], error) {
			return s.cfg.Endpoints.PutDeployment(ctx, p["sub"], p["rg"], p["ws"], p["ep"], p["d"], d, endpoints.Options{Preconditions: put})
		})
	replyPatched(s, w, r, res, err)
}
