package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/endpoints"
	"github.com/mlfleet/mlfleet/internal/failpoint"
	"github.com/mlfleet/mlfleet/internal/resources"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

const (
	endpointPath   = wsPath + "/onlineEndpoints/{ep}"
	deploymentPath = endpointPath + "/deployments/{d}"
)

// endpointRoutes serves online endpoints and their deployments.
func (s *Server) endpointRoutes() {
	rt := &s.router
	handle := func(method, pattern string, h handlerFunc) {
		rt.handle(method, pattern, servedIf(s.cfg.Endpoints != nil, "online endpoints", h))
	}
	handle(http.MethodGet, wsPath+"/onlineEndpoints", s.listEndpoints)
	handle(http.MethodPut, endpointPath, s.putEndpoint)
	handle(http.MethodPatch, endpointPath, s.patchEndpoint)
	handle(http.MethodGet, endpointPath, s.getEndpoint)
	handle(http.MethodDelete, endpointPath, s.deleteEndpoint)
	handle(http.MethodPost, endpointPath+"/listKeys", s.endpointKeys)
	handle(http.MethodPost, endpointPath+"/regenerateKeys", s.regenerateEndpointKeys)
	handle(http.MethodPost, endpointPath+"/token", s.endpointToken)
	handle(http.MethodPost, endpointPath+"/score", s.scoreEndpoint)
	handle(http.MethodGet, endpointPath+"/deployments", s.listDeployments)
	handle(http.MethodPut, deploymentPath, s.putDeployment)
	handle(http.MethodPatch, deploymentPath, s.patchDeployment)
	handle(http.MethodGet, deploymentPath, s.getDeployment)
	handle(http.MethodDelete, deploymentPath, s.deleteDeployment)
	handle(http.MethodPost, deploymentPath+"/getLogs", s.deploymentLogs)
	handle(http.MethodGet, deploymentPath+"/skus", s.deploymentSkus)
}

// endpointWritten is what replyWritten answers for an endpoint or deployment PUT. A nil
// result comes with an error, which servePut answers instead.
func endpointWritten[T any](res *endpoints.Result[T]) written {
	if res == nil {
		return written{}
	}
	return written{Value: res.Value, ETag: res.ETag, Created: res.Created, Operation: res.Operation}
}

func (s *Server) listEndpoints(w http.ResponseWriter, r *http.Request, p params) {
	replyPage(s, w, r, func(pg resources.Page) ([]json.RawMessage, string, error) {
		return s.cfg.Endpoints.ListEndpoints(r.Context(), p["sub"], p["rg"], p["ws"], pg)
	})
}

func (s *Server) putEndpoint(w http.ResponseWriter, r *http.Request, p params) {
	servePut(s, w, r, endpoints.Namespace, func(in armapi.OnlineEndpoint, pre arm.Preconditions) (written, error) {
		res, err := s.cfg.Endpoints.PutEndpoint(r.Context(), p["sub"], p["rg"], p["ws"], p["ep"], in, endpoints.Options{Preconditions: pre})
		return endpointWritten(res), err
	})
}

// endpointPatch is the body of an endpoint PATCH: the fields it may change.
type endpointPatch struct {
	Tags       map[string]string `json:"tags"`
	Properties *struct {
		Traffic       map[string]int `json:"traffic"`
		MirrorTraffic map[string]int `json:"mirrorTraffic"`
		Description   *string        `json:"description"`
	} `json:"properties"`
}

// preconditionFailed reports whether err is a 412 PreconditionFailed: the one failure
// of patchEndpoint's PUT that another merge can cure.
func preconditionFailed(err error) bool {
	var ae *arm.Error
	return errors.As(err, &ae) && ae.Code == arm.CodePreconditionFailed
}

// apply sets on ep the fields the patch sends.
func (patch *endpointPatch) apply(ep *armapi.OnlineEndpoint) {
	if patch.Tags != nil {
		ep.Tags = patch.Tags
	}
	if pp := patch.Properties; pp != nil {
		if pp.Traffic != nil {
			ep.Properties.Traffic = pp.Traffic
		}
		if pp.MirrorTraffic != nil {
			ep.Properties.MirrorTraffic = pp.MirrorTraffic
		}
		if pp.Description != nil {
			ep.Properties.Description = *pp.Description
		}
	}
}

// patchMerges bounds how often a PATCH without If-Match merges again after another
// write changed the endpoint between its read and its write.
const patchMerges = 3

// patchEndpoint changes the fields sent (tags, traffic, mirrorTraffic, description) of an
// existing endpoint: a PUT of the endpoint as read, merged with the patch. The PUT holds
// only if the endpoint is still the one read (its etag), or a change that landed in between
// would be undone. A caller's own If-Match decides alone; without one, a patch that lost
// that race is merged again on a fresh read.
func (s *Server) patchEndpoint(w http.ResponseWriter, r *http.Request, p params) {
	patch, pre, ok := decodeWrite[endpointPatch](w, r)
	if !ok {
		return
	}
	res, err := s.patchEndpointWith(r.Context(), p, &patch, pre)
	replyPatched(s, w, r, res, err)
}

// replyPatched answers an endpoint's or a deployment's PATCH, an LRO whose spec lists 200
// and 202: 202 with Azure-AsyncOperation and Location while the PUT it made runs, 200
// when that PUT started no operation, or err.
func replyPatched[T any](s *Server, w http.ResponseWriter, r *http.Request, res *endpoints.Result[T], err error) {
	if err != nil {
		writeError(w, r, err)
		return
	}
	setETag(w, res.ETag)
	if res.Operation == nil {
		writeJSON(w, http.StatusOK, res.Value)
		return
	}
	s.setAsyncHeaders(w, r, res.Operation, endpoints.Namespace)
	w.Header().Set("Location", s.operationURL(r, res.Operation, endpoints.Namespace, "operationResults"))
	writeJSON(w, http.StatusAccepted, res.Value)
}

// patchEndpointWith merges patch into the endpoint p names and writes it (see
// patchEndpoint); the Tags API changes an endpoint's tags through it too.
func (s *Server) patchEndpointWith(ctx context.Context, p params, patch *endpointPatch, pre arm.Preconditions) (*endpoints.Result[armapi.OnlineEndpoint], error) {
	return mergeWrite(pre, "api/patch endpoint/merged", fmt.Sprintf("Online endpoint '%s'", p["ep"]),
		func() (*armapi.OnlineEndpoint, string, error) {
			return s.cfg.Endpoints.GetEndpoint(ctx, p["sub"], p["rg"], p["ws"], p["ep"])
		},
		patch.apply,
		func(v armapi.OnlineEndpoint, put arm.Preconditions) (*endpoints.Result[armapi.OnlineEndpoint], error) {
			return s.cfg.Endpoints.PutEndpoint(ctx, p["sub"], p["rg"], p["ws"], p["ep"], v, endpoints.Options{Preconditions: put})
		})
}

// mergeWrite is a PATCH made of a read (get), a merge (apply) and a PUT (put) of the
// result. The PUT holds only if the resource is still the one read (its etag), or a change
// that landed in between would be undone: a caller's own If-Match decides alone; without
// one, a patch that lost that race is merged again on a fresh read, a few times at most,
// then the caller gets a 409 naming what (and decides). The failpoint point is hit between
// the merge and the PUT.
func mergeWrite[T any](pre arm.Preconditions, point, what string, get func() (*T, string, error), apply func(*T),
	put func(T, arm.Preconditions) (*endpoints.Result[T], error)) (*endpoints.Result[T], error) {
	for merges := 1; ; merges++ {
		cur, etag, err := get()
		if err != nil {
			return nil, err
		}
		apply(cur)
		if err := failpoint.Hit(point); err != nil {
			return nil, err
		}
		at := pre
		if at.IfMatch == "" {
			at.IfMatch = etag
		}
		res, err := put(*cur, at)
		if err == nil {
			return res, nil
		}
		if pre.IfMatch != "" || !preconditionFailed(err) {
			return nil, err
		}
		if merges == patchMerges {
			return nil, arm.Conflict("%s kept being changed by other requests while this patch was merged; retry.", what)
		}
	}
}

func (s *Server) getEndpoint(w http.ResponseWriter, r *http.Request, p params) {
	ep, etag, err := s.cfg.Endpoints.GetEndpoint(r.Context(), p["sub"], p["rg"], p["ws"], p["ep"])
	replyTagged(w, r, ep, etag, err)
}

func (s *Server) deleteEndpoint(w http.ResponseWriter, r *http.Request, p params) {
	s.serveDelete(w, r, endpoints.Namespace, func(pre arm.Preconditions) (*store.Operation, error) {
		return s.cfg.Endpoints.DeleteEndpoint(r.Context(), p["sub"], p["rg"], p["ws"], p["ep"], pre)
	})
}

func (s *Server) endpointKeys(w http.ResponseWriter, r *http.Request, p params) {
	keys, err := s.cfg.Endpoints.ListKeys(r.Context(), p["sub"], p["rg"], p["ws"], p["ep"])
	reply(w, r, http.StatusOK, keys, err)
}

// regenerateEndpointKeys answers 202 with the operation that writes the new key into the
// endpoint's Secret in its clusters: the old key keeps working until that has run.
func (s *Server) regenerateEndpointKeys(w http.ResponseWriter, r *http.Request, p params) {
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
	tok, err := s.cfg.Endpoints.Token(r.Context(), p["sub"], p["rg"], p["ws"], p["ep"])
	reply(w, r, http.StatusOK, tok, err)
}

func (s *Server) listDeployments(w http.ResponseWriter, r *http.Request, p params) {
	replyPage(s, w, r, func(pg resources.Page) ([]json.RawMessage, string, error) {
		return s.cfg.Endpoints.ListDeployments(r.Context(), p["sub"], p["rg"], p["ws"], p["ep"], pg)
	})
}

func (s *Server) putDeployment(w http.ResponseWriter, r *http.Request, p params) {
	servePut(s, w, r, endpoints.Namespace, func(in armapi.OnlineDeployment, pre arm.Preconditions) (written, error) {
		res, err := s.cfg.Endpoints.PutDeployment(r.Context(), p["sub"], p["rg"], p["ws"], p["ep"], p["d"], in, endpoints.Options{Preconditions: pre})
		return endpointWritten(res), err
	})
}

func (s *Server) getDeployment(w http.ResponseWriter, r *http.Request, p params) {
	d, etag, err := s.cfg.Endpoints.GetDeployment(r.Context(), p["sub"], p["rg"], p["ws"], p["ep"], p["d"])
	replyTagged(w, r, d, etag, err)
}

func (s *Server) deleteDeployment(w http.ResponseWriter, r *http.Request, p params) {
	s.serveDelete(w, r, endpoints.Namespace, func(pre arm.Preconditions) (*store.Operation, error) {
		return s.cfg.Endpoints.DeleteDeployment(r.Context(), p["sub"], p["rg"], p["ws"], p["ep"], p["d"], pre)
	})
}

// deploymentLogs serves getLogs. Its body is optional: a POST without a Content-Type (or
// without a body) asks for LogsRequest's defaults: the whole log of the inference server.
func (s *Server) deploymentLogs(w http.ResponseWriter, r *http.Request, p params) {
	var in endpoints.LogsRequest
	if r.ContentLength != 0 && strings.TrimSpace(r.Header.Get("Content-Type")) != "" {
		if err := decodeOptionalBody(r, &in); err != nil {
			writeError(w, r, err)
			return
		}
	}
	logs, err := s.cfg.Endpoints.GetLogs(r.Context(), p["sub"], p["rg"], p["ws"], p["ep"], p["d"], in)
	reply(w, r, http.StatusOK, logs, err)
}

func (s *Server) deploymentSkus(w http.ResponseWriter, r *http.Request, p params) {
	skus, err := s.cfg.Endpoints.Skus(r.Context(), p["sub"], p["rg"], p["ws"], p["ep"], p["d"])
	reply(w, r, http.StatusOK, listBody{Value: skus}, err)
}

// scoreEndpoint forwards a test request (the body, JSON) to the endpoint's scoring URI with
// its primary key or a token, and answers the router's status and body as a value: Studio's
// test box, whose Content-Security-Policy keeps it from calling the router itself. The
// caller needs …/onlineEndpoints/score/action; ?deployment= pins a deployment.
func (s *Server) scoreEndpoint(w http.ResponseWriter, r *http.Request, p params) {
	body, err := io.ReadAll(io.LimitReader(r.Body, endpoints.ScoreMaxRequest+1))
	if err != nil {
		writeError(w, r, arm.BadRequest(arm.CodeInvalidRequestContent, "The request body could not be read: %v", err))
		return
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		writeError(w, r, arm.BadRequest(arm.CodeInvalidRequestContent, "The request body is empty; send the JSON the scoring script expects."))
		return
	}
	// An oversized body is not parsed here: Score answers it with 413, which says more
	// than "not valid JSON" would of a truncated read.
	if len(body) <= endpoints.ScoreMaxRequest && !json.Valid(body) {
		writeError(w, r, arm.BadRequest(arm.CodeInvalidRequestContent, "The test request is not valid JSON; send the JSON the scoring script expects."))
		return
	}
	res, err := s.cfg.Endpoints.Score(r.Context(), p["sub"], p["rg"], p["ws"], p["ep"], r.URL.Query().Get("deployment"), body)
	reply(w, r, http.StatusOK, res, err)
}
