package api

import (
	"net/http"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/compute"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// mlVMSize is one VM size as Microsoft.MachineLearningServices lists it
// (locations/{loc}/vmSizes, VirtualMachineSize): the same catalog as Microsoft.Compute's
// list, in Machine Learning's shape.
type mlVMSize struct {
	Name                  string   `json:"name"`
	Family                string   `json:"family"`
	VCPUs                 int      `json:"vCPUs"`
	GPUs                  int      `json:"gpus"`
	MemoryGB              float64  `json:"memoryGB"`
	LowPriorityCapable    bool     `json:"lowPriorityCapable"`
	PremiumIO             bool     `json:"premiumIO"`
	SupportedComputeTypes []string `json:"supportedComputeTypes"`
}

// mlUsage is a quota with its use as Machine Learning lists it (locations/{loc}/usages):
// Microsoft.Compute's usage with its id, type and the workspace location.
type mlUsage struct {
	ID                   string `json:"id"`
	AMLWorkspaceLocation string `json:"amlWorkspaceLocation"`
	Type                 string `json:"type"`
	armapi.Usage
}

// mlQuota is a quota as Machine Learning lists it (locations/{loc}/quotas, ResourceQuota).
type mlQuota struct {
	ID                   string           `json:"id"`
	AMLWorkspaceLocation string           `json:"amlWorkspaceLocation"`
	Type                 string           `json:"type"`
	Name                 armapi.UsageName `json:"name"`
	Limit                int              `json:"limit"`
	Unit                 string           `json:"unit"`
}

// mlLocationRoutes serves Machine Learning's per-location catalogs (the Python SDK's
// virtual_machine_sizes.list, usages.list and quotas.list): the data mlfleet serves under
// Microsoft.Compute, since its computes are AKS clusters sized and counted by it.
func (s *Server) mlLocationRoutes() {
	loc := subPath + "/providers/" + compute.Namespace + "/locations/{location}"
	s.router.handle(http.MethodGet, loc+"/vmSizes", s.listMLVMSizes)
	s.router.handle(http.MethodGet, loc+"/usages", s.listMLUsages(false))
	s.router.handle(http.MethodGet, loc+"/quotas", s.listMLUsages(true))
}

func (s *Server) listMLVMSizes(w http.ResponseWriter, r *http.Request, p params) {
	if _, err := s.subscriptionLocation(r, p, compute.Namespace, "locations/vmSizes"); err != nil {
		writeError(w, r, err)
		return
	}
	out := []mlVMSize{}
	for _, v := range s.cfg.Clusters.VMSizes().All() {
		out = append(out, mlVMSize{Name: v.Name, Family: v.Family, VCPUs: v.Cores, GPUs: v.GPUs, MemoryGB: float64(v.MemoryMiB) / 1024,
			SupportedComputeTypes: []string{"AKS"}})
	}
	writeJSON(w, http.StatusOK, listBody{Value: out})
}

// listMLUsages serves the usages (quotas false) or the quotas (their limits) of the
// subscription in a location.
func (s *Server) listMLUsages(quotas bool) handlerFunc {
	typ := "usages"
	if quotas {
		typ = "quotas"
	}
	return func(w http.ResponseWriter, r *http.Request, p params) {
		loc, err := s.subscriptionLocation(r, p, compute.Namespace, "locations/"+typ)
		if err != nil {
			writeError(w, r, err)
			return
		}
		usages, err := s.cfg.Clusters.Usages(r.Context(), p["sub"], loc)
		if err != nil {
			writeError(w, r, err)
			return
		}
		base := arm.SubscriptionPath(p["sub"]) + "/providers/" + compute.Namespace + "/locations/" + loc + "/" + typ + "/"
		kind := compute.Namespace + "/locations/" + typ
		var out []any
		for _, u := range usages {
			if quotas {
				out = append(out, mlQuota{ID: base + u.Name.Value, AMLWorkspaceLocation: loc, Type: kind, Name: u.Name, Limit: u.Limit, Unit: u.Unit})
			} else {
				out = append(out, mlUsage{ID: base + u.Name.Value, AMLWorkspaceLocation: loc, Type: kind, Usage: u})
			}
		}
		if out == nil {
			out = []any{}
		}
		writeJSON(w, http.StatusOK, listBody{Value: out})
	}
}
