package api

import "net/http"

// usageRoutes serve the quotas of a subscription in a location with their use, in
// Microsoft.Compute's shape (`az vm list-usage`): total regional vCPUs, vCPUs per VM
// family, managed clusters.
func (s *Server) usageRoutes() {
	s.router.handle(http.MethodGet, subPath+"/providers/Microsoft.Compute/locations/{location}/usages", s.listUsages)
}

func (s *Server) listUsages(w http.ResponseWriter, r *http.Request, p params) {
	loc, err := s.subscriptionLocation(r, p, "Microsoft.Compute", "locations/usages")
	if err != nil {
		writeError(w, r, err)
		return
	}
	usages, err := s.cfg.Clusters.Usages(r.Context(), p["sub"], loc)
	reply(w, r, http.StatusOK, listBody{Value: usages}, err)
}
