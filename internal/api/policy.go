package api

import (
	"net/http"

	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

const policyPath = subPath + "/providers/Microsoft.Authorization/policyAssignments"

// policyRoutes serve the subscription's policy assignments (S16: forbid public IPs). They
// live at the subscription only, not in resource groups, and are written at once, with no
// operation.
func (s *Server) policyRoutes() {
	rt := &s.router
	rt.handle(http.MethodGet, policyPath, s.listPolicies)
	rt.handle(http.MethodPut, policyPath+"/{name}", s.putPolicy)
	rt.handle(http.MethodGet, policyPath+"/{name}", s.getPolicy)
	rt.handle(http.MethodDelete, policyPath+"/{name}", s.deletePolicy)
}

func (s *Server) listPolicies(w http.ResponseWriter, r *http.Request, p params) {
	list, err := s.cfg.Policies.List(r.Context(), p["sub"])
	if err != nil {
		writeError(w, r, err)
		return
	}
	if readableWithin(r.Context()) != nil {
		// The assignments are the subscription's: a caller who may read only some of its
		// resource groups sees none of them.
		list = list[:0]
	}
	writeJSON(w, http.StatusOK, listBody{Value: list})
}

// putPolicy creates or replaces an assignment and answers 201 either way: ARM's
// PolicyAssignments_Create lists only 201, and the generated clients take a 200 for an
// error.
func (s *Server) putPolicy(w http.ResponseWriter, r *http.Request, p params) {
	servePutNow(w, r, putCreated, func(in armapi.PolicyAssignmentInput) (*armapi.PolicyAssignment, bool, error) {
		return s.cfg.Policies.Put(r.Context(), p["sub"], p["name"], in)
	})
}

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request, p params) {
	a, err := s.cfg.Policies.Get(r.Context(), p["sub"], p["name"])
	reply(w, r, http.StatusOK, a, err)
}

func (s *Server) deletePolicy(w http.ResponseWriter, r *http.Request, p params) {
	found, err := s.cfg.Policies.Delete(r.Context(), p["sub"], p["name"])
	replyRemoved(w, r, found, err)
}
