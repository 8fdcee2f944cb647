package api

import (
	"net/http"
	"strings"

	"github.com/mlfleet/mlfleet/internal/endpoints"
)

const (
	endpointPath   = wsPath + "/onlineEndpoints/{ep}"
	deploymentPath = endpointPath + "/deployments/{d}"
)

// endpointRoutes serves online endpoints and their deployments.
func (s *Server) endpointRoutes() {
	rt := &s.router
	rt.handle(http.MethodGet, wsPath+"/onlineEndpoints", s.listEndpoints)
	rt.handle(http.MethodPut, endpointPath, s.putEndpoint)
	rt.handle(http.MethodPatch, endpointPath, s.patchEndpoint)
	rt.handle(http.MethodGet, endpointPath, s.getEndpoint)
	rt.handle(http.MethodDelete, endpointPath, s.deleteEndpoint)
	rt.handle(http.MethodPost, endpointPath+"/listKeys", s.endpointKeys)
	rt.handle(http.MethodPost, endpointPath+"/regenerateKeys", s.regenerateEndpointKeys)
	rt.handle(http.MethodPost, endpointPath+"/token", s.endpointToken)
	rt.handle(http.MethodGet, endpointPath+"/deployments", s.listDeployments)
	rt.handle(http.MethodPut, deploymentPath, s.putDeployment)
	rt.handle(http.MethodGet, deploymentPath, s.getDeployment)
	rt.handle(http.MethodDelete, deploymentPath, s.deleteDeployment)
	rt.handle(http.MethodPost, deploymentPath+"/getLogs", s.deploymentLogs)
	rt.handle(http.MethodGet, deploymentPath+"/skus", s.deploymentSkus)
}

func (s *Server) endpointsConfigured(w http.ResponseWriter, r *http.Request) bool {
	if s.cfg.Endpoints == nil {
		writeError(w, r, notServed("online endpoints"))
		return false
	}
	return true
}

func (s *Server) listEndpoints(w http.ResponseWriter, r *http.Request, p params) {
	if !s.endpointsConfigured(w, r) {
		return
	}
	pg, err := s.page(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	list, more, err := s.cfg.Endpoints.ListEndpoints(r.Context(), p["sub"], p["rg"], p["ws"], pg)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writePage(w, r, list, pg, len(list), more)
}

func (s *Server) putEndpoint(w http.ResponseWriter, r *http.Request, p params) {
	if !s.endpointsConfigured(w, r) {
		return
	}
	pre, err := preconditions(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var in endpoints.Endpoint
	if err := decodeBody(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	res, err := s.cfg.Endpoints.PutEndpoint(r.Context(), p["sub"], p["rg"], p["ws"], p["ep"], in, endpoints.Options{Preconditions: pre})
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.setAsyncHeaders(w, r, res.Operation, endpoints.Namespace)
	setETag(w, res.ETag)
	writeJSON(w, createdStatus(res.Created), res.Value)
}

// patchEndpoint changes the fields sent (tags, traffic, mirrorTraffic, description) of an
// existing endpoint: a PUT of the merged endpoint.
func (s *Server) patchEndpoint(w http.ResponseWriter, r *http.Request, p params) {
	if !s.endpointsConfigured(w, r) {
		return
	}
	pre, err := preconditions(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	cur, _, err := s.cfg.Endpoints.GetEndpoint(r.Context(), p["sub"], p["rg"], p["ws"], p["ep"])
	if err != nil {
		writeError(w, r, err)
		return
	}
	var patch struct {
		Tags       map[string]string `json:"tags"`
		Properties *struct {
			Traffic       map[string]int `json:"traffic"`
			MirrorTraffic map[string]int `json:"mirrorTraffic"`
			Description   *string        `json:"description"`
		} `json:"properties"`
	}
	if err := decodeBody(r, &patch); err != nil {
		writeError(w, r, err)
		return
	}
	if patch.Tags != nil {
		cur.Tags = patch.Tags
	}
	if pp := patch.Properties; pp != nil {
		if pp.Traffic != nil {
			cur.Properties.Traffic = pp.Traffic
		}
		if pp.MirrorTraffic != nil {
			cur.Properties.MirrorTraffic = pp.MirrorTraffic
		}
		if pp.Description != nil {
			cur.Properties.Description = *pp.Description
		}
	}
	res, err := s.cfg.Endpoints.PutEndpoint(r.Context(), p["sub"], p["rg"], p["ws"], p["ep"], *cur, endpoints.Options{Preconditions: pre})
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.setAsyncHeaders(w, r, res.Operation, endpoints.Namespace)
	w.Header().Set("Location", s.operationURL(r, res.Operation, endpoints.Namespace, "operationResults"))
	setETag(w, res.ETag)
	writeJSON(w, http.StatusAccepted, res.Value)
}

func (s *Server) getEndpoint(w http.ResponseWriter, r *http.Request, p params) {
	if !s.endpointsConfigured(w, r) {
		return
	}
	ep, etag, err := s.cfg.Endpoints.GetEndpoint(r.Context(), p["sub"], p["rg"], p["ws"], p["ep"])
	if err != nil {
		writeError(w, r, err)
		return
	}
	setETag(w, etag)
	writeJSON(w, http.StatusOK, ep)
}

func (s *Server) deleteEndpoint(w http.ResponseWriter, r *http.Request, p params) {
	if !s.endpointsConfigured(w, r) {
		return
	}
	pre, err := preconditions(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	op, err := s.cfg.Endpoints.DeleteEndpoint(r.Context(), p["sub"], p["rg"], p["ws"], p["ep"], pre)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if op == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	s.accepted(w, r, op, endpoints.Namespace)
}

func (s *Server) endpointKeys(w http.ResponseWriter, r *http.Request, p params) {
	if !s.endpointsConfigured(w, r) {
		return
	}
	keys, err := s.cfg.Endpoints.ListKeys(r.Context(), p["sub"], p["rg"], p["ws"], p["ep"])
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, keys)
}

func (s *Server) regenerateEndpointKeys(w http.ResponseWriter, r *http.Request, p params) {
	if !s.endpointsConfigured(w, r) {
		return
	}
	var in struct {
		KeyType  string `json:"keyType"`
		KeyValue string `json:"keyValue"`
	}
	if err := decodeBody(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	op, err := s.cfg.Endpoints.RegenerateKeys(r.Context(), p["sub"], p["rg"], p["ws"], p["ep"], in.KeyType, in.KeyValue)
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.accepted(w, r, op, endpoints.Namespace)
}

func (s *Server) endpointToken(w http.ResponseWriter, r *http.Request, p params) {
	if !s.endpointsConfigured(w, r) {
		return
	}
	tok, err := s.cfg.Endpoints.Token(r.Context(), p["sub"], p["rg"], p["ws"], p["ep"])
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, tok)
}

func (s *Server) listDeployments(w http.ResponseWriter, r *http.Request, p params) {
	if !s.endpointsConfigured(w, r) {
		return
	}
	pg, err := s.page(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	list, more, err := s.cfg.Endpoints.ListDeployments(r.Context(), p["sub"], p["rg"], p["ws"], p["ep"], pg)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writePage(w, r, list, pg, len(list), more)
}

func (s *Server) putDeployment(w http.ResponseWriter, r *http.Request, p params) {
	if !s.endpointsConfigured(w, r) {
		return
	}
	pre, err := preconditions(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var in endpoints.Deployment
	if err := decodeBody(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	res, err := s.cfg.Endpoints.PutDeployment(r.Context(), p["sub"], p["rg"], p["ws"], p["ep"], p["d"], in, endpoints.Options{Preconditions: pre})
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.setAsyncHeaders(w, r, res.Operation, endpoints.Namespace)
	setETag(w, res.ETag)
	writeJSON(w, createdStatus(res.Created), res.Value)
}

func (s *Server) getDeployment(w http.ResponseWriter, r *http.Request, p params) {
	if !s.endpointsConfigured(w, r) {
		return
	}
	d, etag, err := s.cfg.Endpoints.GetDeployment(r.Context(), p["sub"], p["rg"], p["ws"], p["ep"], p["d"])
	if err != nil {
		writeError(w, r, err)
		return
	}
	setETag(w, etag)
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) deleteDeployment(w http.ResponseWriter, r *http.Request, p params) {
	if !s.endpointsConfigured(w, r) {
		return
	}
	pre, err := preconditions(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	op, err := s.cfg.Endpoints.DeleteDeployment(r.Context(), p["sub"], p["rg"], p["ws"], p["ep"], p["d"], pre)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if op == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	s.accepted(w, r, op, endpoints.Namespace)
}

func (s *Server) deploymentLogs(w http.ResponseWriter, r *http.Request, p params) {
	if !s.endpointsConfigured(w, r) {
		return
	}
	var in endpoints.LogsRequest
	if r.ContentLength != 0 && strings.TrimSpace(r.Header.Get("Content-Type")) != "" {
		if err := decodeOptionalBody(r, &in); err != nil {
			writeError(w, r, err)
			return
		}
	}
	logs, err := s.cfg.Endpoints.GetLogs(r.Context(), p["sub"], p["rg"], p["ws"], p["ep"], p["d"], in)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, logs)
}

func (s *Server) deploymentSkus(w http.ResponseWriter, r *http.Request, p params) {
	if !s.endpointsConfigured(w, r) {
		return
	}
	skus, err := s.cfg.Endpoints.Skus(r.Context(), p["sub"], p["rg"], p["ws"], p["ep"], p["d"])
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listBody{Value: skus})
}
