package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/compute"
	"github.com/mlfleet/mlfleet/internal/resources"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

const computePath = wsPath + "/computes/{name}"

// computeRoutes serves a workspace's computes (Microsoft.MachineLearningServices):
// the resource, its keys and nodes, and the name check.
func (s *Server) computeRoutes() {
	rt := &s.router
	rt.handle(http.MethodGet, wsPath+"/computes", s.listComputes)
	rt.resource(computePath, resourceHandlers{put: s.putCompute, patch: s.patchCompute, get: s.getCompute, head: s.headCompute, delete: s.deleteCompute})
	rt.handle(http.MethodPost, computePath+"/listKeys", s.computeKeys)
	rt.handle(http.MethodPost, computePath+"/listNodes", s.computeNodes)
	rt.handle(http.MethodPost, wsPath+"/checkComputeNameAvailability", s.checkComputeName)
}

func (s *Server) listComputes(w http.ResponseWriter, r *http.Request, p params) {
	replyPage(s, w, r, func(pg resources.Page) ([]json.RawMessage, string, error) {
		return s.cfg.Computes.ListJSON(r.Context(), p["sub"], p["rg"], p["ws"], pg)
	})
}

// boolQuery reads an optional true/false query parameter, in any case (True, TRUE). A
// value it cannot read is a 400, never false: ?force=yes must not quietly mean no.
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

// putCompute creates, attaches or updates a compute (compute.Service.Put decides which
// from the body and what exists). ?force=true lets an attach take a cluster attached elsewhere,
// detaching it there first (S11); ?validateOnly=true runs every check and answers their results without writing
// anything (--dry-run). Warnings travel as HTTP Warning headers (code 299), so that the body
// stays the resource clients decode; a quote would end the header's quoted text, so it
// becomes an apostrophe.
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
	var body computeBody[armapi.Compute]
	if err := decodeBody(r, &body); err != nil {
		writeError(w, r, err)
		return
	}
	if err := body.checkKeys(computeWhat(p)); err != nil {
		writeError(w, r, err)
		return
	}
	res, err := s.cfg.Computes.Put(r.Context(), p["sub"], p["rg"], p["ws"], p["name"], body.V, opts)
	s.replyCompute(w, r, res, err)
}

// computePatch is the body of a compute PATCH: tags, the description and the AKS
// properties a PUT may change, each changed only when sent.
type computePatch struct {
	Tags       map[string]string `json:"tags"`
	Properties *struct {
		Description *string               `json:"description"`
		Properties  *armapi.AKSProperties `json:"properties"`
	} `json:"properties"`
}

// computeWhat names the compute of a request in errors.
func computeWhat(p params) string { return "Compute '" + p["name"] + "'" }

// patchCompute changes the fields sent of an existing compute through the update a PUT
// makes (compute.Service.Patch): it answers as that PUT does, 200 with the operation that
// applies the change. A key properties.properties of an AKS compute does not have is a
// 400 (checkAKSKeys), among them the scaleSettings of ARM's Compute_Update
// (ClusterUpdateParameters), which applies to AmlCompute only: answering Succeeded while
// changing nothing would tell the caller it scaled.
func (s *Server) patchCompute(w http.ResponseWriter, r *http.Request, p params) {
	body, pre, ok := decodeWrite[computeBody[computePatch]](w, r)
	if !ok {
		return
	}
	if err := body.checkKeys(computeWhat(p)); err != nil {
		writeError(w, r, err)
		return
	}
	patch := body.V
	in := armapi.Compute{Tags: patch.Tags}
	if pp := patch.Properties; pp != nil {
		in.Properties.Description, in.Properties.Properties = pp.Description, pp.Properties
	}
	res, err := s.cfg.Computes.Patch(r.Context(), p["sub"], p["rg"], p["ws"], p["name"], in, compute.Options{Preconditions: pre})
	s.replyCompute(w, r, res, err)
}

// replyCompute answers a compute PUT or PATCH with what it wrote, or err.
func (s *Server) replyCompute(w http.ResponseWriter, r *http.Request, res *compute.Result, err error) {
	if err != nil {
		writeError(w, r, err)
		return
	}
	for _, warning := range res.Warnings {
		w.Header().Add("Warning", `299 mlfleet "`+strings.ReplaceAll(warning, `"`, `'`)+`"`)
	}
	// A dry run answers 200 with the checks' results and no operation URL: nothing was
	// written and nothing runs.
	if res.Validation != nil {
		writeJSON(w, http.StatusOK, res.Validation)
		return
	}
	out := written{Value: res.Compute, Created: res.Created, Operation: res.Operation}
	if res.Compute != nil {
		out.ETag = res.Compute.ETag
	}
	s.replyWritten(w, r, compute.Namespace, out)
}

func (s *Server) headCompute(w http.ResponseWriter, r *http.Request, p params) {
	_, err := s.cfg.Computes.Get(r.Context(), p["sub"], p["rg"], p["ws"], p["name"])
	replyHead(w, err)
}

func (s *Server) getCompute(w http.ResponseWriter, r *http.Request, p params) {
	c, etag, err := s.cfg.Computes.GetJSON(r.Context(), p["sub"], p["rg"], p["ws"], p["name"])
	replyTagged(w, r, c, etag, err)
}

// deleteCompute deletes or detaches a compute, as underlyingResourceAction says (Delete
// or Detach; the service refuses anything else, and Delete of a cluster the compute did not
// create). The parameter's name is matched whatever its
// case, since azureml-core spells it in lowercase and ARM's own spelling is camelCase.
func (s *Server) deleteCompute(w http.ResponseWriter, r *http.Request, p params) {
	action := ""
	for k, v := range r.URL.Query() {
		if strings.EqualFold(k, "underlyingResourceAction") && len(v) > 0 {
			action = v[0]
		}
	}
	s.serveDelete(w, r, compute.Namespace, func(pre arm.Preconditions) (*store.Operation, error) {
		return s.cfg.Computes.Delete(r.Context(), p["sub"], p["rg"], p["ws"], p["name"], action, pre)
	})
}

func (s *Server) computeKeys(w http.ResponseWriter, r *http.Request, p params) {
	keys, err := s.cfg.Computes.Keys(r.Context(), p["sub"], p["rg"], p["ws"], p["name"])
	reply(w, r, http.StatusOK, keys, err)
}

func (s *Server) computeNodes(w http.ResponseWriter, r *http.Request, p params) {
	nodes, err := s.cfg.Computes.Nodes(r.Context(), p["sub"], p["rg"], p["ws"], p["name"])
	reply(w, r, http.StatusOK, nodes, err)
}

// checkComputeName answers whether a name could be used for a new compute, without
// reserving it: the naming rules, then uniqueness in the workspace and the region.
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
	reply(w, r, http.StatusOK, res, err)
}
