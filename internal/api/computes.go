package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/compute"
)

const computePath = wsPath + "/computes/{name}"

func (s *Server) computeRoutes() {
	rt := &s.router
	rt.handle(http.MethodGet, wsPath+"/computes", s.listComputes)
	rt.handle(http.MethodPut, computePath, s.putCompute)
	rt.handle(http.MethodGet, computePath, s.getCompute)
	rt.handle(http.MethodDelete, computePath, s.deleteCompute)
	rt.handle(http.MethodPost, computePath+"/listKeys", s.computeKeys)
	rt.handle(http.MethodPost, computePath+"/listNodes", s.computeNodes)
	rt.handle(http.MethodPost, wsPath+"/checkComputeNameAvailability", s.checkComputeName)
}

func (s *Server) listComputes(w http.ResponseWriter, r *http.Request, p params) {
	pg, err := s.page(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	list, more, err := s.cfg.Computes.ListJSON(r.Context(), p["sub"], p["rg"], p["ws"], pg)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writePage(w, r, list, pg, len(list), more)
}

// boolQuery reads an optional true/false query parameter.
func boolQuery(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(strings.ToLower(v))
	if err != nil {
		return false, arm.BadRequest(arm.CodeInvalidRequestContent, "Query parameter %s='%s' is invalid: use true or false.", name, v).WithTarget(name)
	}
	return b, nil
}

func (s *Server) putCompute(w http.ResponseWriter, r *http.Request, p params) {
	var opts compute.Options
	var err error
	if opts.Preconditions, err = preconditions(r); err != nil {
		writeError(w, r, err)
		return
	}
	if opts.Force, err = boolQuery(r, "force"); err != nil {
		writeError(w, r, err)
		return
	}
	if opts.ValidateOnly, err = boolQuery(r, "validateOnly"); err != nil {
		writeError(w, r, err)
		return
	}
	var in compute.Compute
	if err := decodeBody(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	res, err := s.cfg.Computes.Put(r.Context(), p["sub"], p["rg"], p["ws"], p["name"], in, opts)
	if err != nil {
		writeError(w, r, err)
		return
	}
	for _, warning := range res.Warnings {
		w.Header().Add("Warning", `299 mlfleet "`+strings.ReplaceAll(warning, `"`, `'`)+`"`)
	}
	if res.Validation != nil {
		writeJSON(w, http.StatusOK, res.Validation)
		return
	}
	s.setAsyncHeaders(w, r, res.Operation, compute.Namespace)
	if res.Compute != nil {
		setETag(w, res.Compute.ETag)
	}
	writeJSON(w, createdStatus(res.Created), res.Compute)
}

func (s *Server) getCompute(w http.ResponseWriter, r *http.Request, p params) {
	c, etag, err := s.cfg.Computes.GetJSON(r.Context(), p["sub"], p["rg"], p["ws"], p["name"])
	if err != nil {
		writeError(w, r, err)
		return
	}
	setETag(w, etag)
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) deleteCompute(w http.ResponseWriter, r *http.Request, p params) {
	pre, err := preconditions(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	action := ""
	for k, v := range r.URL.Query() {
		if strings.EqualFold(k, "underlyingResourceAction") && len(v) > 0 {
			action = v[0]
		}
	}
	op, err := s.cfg.Computes.Delete(r.Context(), p["sub"], p["rg"], p["ws"], p["name"], action, pre)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if op == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	s.accepted(w, r, op, compute.Namespace)
}

func (s *Server) computeKeys(w http.ResponseWriter, r *http.Request, p params) {
	keys, err := s.cfg.Computes.Keys(r.Context(), p["sub"], p["rg"], p["ws"], p["name"])
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, keys)
}

func (s *Server) computeNodes(w http.ResponseWriter, r *http.Request, p params) {
	nodes, err := s.cfg.Computes.Nodes(r.Context(), p["sub"], p["rg"], p["ws"], p["name"])
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, nodes)
}

func (s *Server) checkComputeName(w http.ResponseWriter, r *http.Request, p params) {
	var in struct {
		Name     string `json:"name"`
		Type     string `json:"type"`
		Location string `json:"location"`
	}
	if err := decodeBody(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	if in.Name == "" {
		writeError(w, r, arm.BadRequest(arm.CodeInvalidRequestContent, "The body needs the name to check: {\"name\": \"myaks\"}.").WithTarget("name"))
		return
	}
	res, err := s.cfg.Computes.CheckName(r.Context(), p["sub"], p["rg"], p["ws"], in.Name, in.Location)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}
