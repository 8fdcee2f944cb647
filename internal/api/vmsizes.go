package api

import "net/http"

// vmSize is one VM size as Microsoft.Compute lists it (locations/{loc}/vmSizes).
type vmSize struct {
	Name          string        `json:"name"`
	NumberOfCores int           `json:"numberOfCores"`
	MemoryInMB    int           `json:"memoryInMB"`
	Mlfleet       *vmSizeExtras `json:"mlfleet,omitempty"`
}

// vmSizeExtras are the accelerators of a size, which ARM's vmSizes list does not carry
// (Azure has them in resourceSkus capabilities).
type vmSizeExtras struct {
	GPUs  int `json:"gpus,omitempty"`
	FPGAs int `json:"fpgas,omitempty"`
}

// vmSizeRoutes serves the VM size catalog read-only, so that clients (the Studio page)
// can show the cores of each size and total a cluster's vCPUs before they submit it.
func (s *Server) vmSizeRoutes() {
	s.router.handle(http.MethodGet, subPath+"/providers/Microsoft.Compute/locations/{location}/vmSizes", s.listVMSizes)
}

func (s *Server) listVMSizes(w http.ResponseWriter, r *http.Request, p params) {
	if _, err := s.subscriptionLocation(r, p, "Microsoft.Compute", "locations/vmSizes"); err != nil {
		writeError(w, r, err)
		return
	}
	var out []vmSize
	for _, v := range s.cfg.Clusters.VMSizes().All() {
		size := vmSize{Name: v.Name, NumberOfCores: v.Cores, MemoryInMB: v.MemoryMiB}
		if v.GPUs > 0 || v.FPGAs > 0 {
			size.Mlfleet = &vmSizeExtras{GPUs: v.GPUs, FPGAs: v.FPGAs}
		}
		out = append(out, size)
	}
	writeJSON(w, http.StatusOK, listBody{Value: out})
}
