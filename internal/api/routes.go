package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/auth"
	"github.com/mlfleet/mlfleet/internal/resources"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/workspaces"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

const (
	subPath = "/subscriptions/{sub}"
	rgPath  = subPath + "/resourceGroups/{rg}"
	wsPath  = rgPath + "/providers/Microsoft.MachineLearningServices/workspaces/{ws}"
)

// routes serves Microsoft.Resources (subscriptions, resource groups), the workspaces and
// the operation URLs. Those authorize themselves (operation): their path names the
// subscription only, and who may follow an operation depends on its resource.
func (s *Server) routes() {
	rt := &s.router
	rt.handle(http.MethodGet, "/subscriptions", s.listSubscriptions)
	rt.handle(http.MethodGet, subPath, s.getSubscription)
	rt.handle(http.MethodGet, subPath+"/resourceGroups", s.listGroups)
	rt.resource(rgPath, resourceHandlers{put: s.putGroup, patch: s.patchGroup, get: s.getGroup, head: s.headGroup, delete: s.deleteGroup})
	rt.handle(http.MethodGet, subPath+"/providers/Microsoft.MachineLearningServices/workspaces", s.listWorkspaces)
	rt.handle(http.MethodGet, rgPath+"/providers/Microsoft.MachineLearningServices/workspaces", s.listWorkspaces)
	rt.resource(wsPath, resourceHandlers{put: s.putWorkspace, patch: s.patchWorkspace, get: s.getWorkspace, head: s.headWorkspace, delete: s.deleteWorkspace})
	rt.handle(http.MethodGet, subPath+"/providers/{ns}/operationStatuses/{op}", s.getOperationStatus).selfAuthorized = true
	rt.handle(http.MethodGet, subPath+"/providers/{ns}/operationResults/{op}", s.getOperationResult).selfAuthorized = true
}

// listSubscriptions lists the subscriptions the caller sees anything in, as ARM does: a
// role on one resource group is enough to see its subscription.
func (s *Server) listSubscriptions(w http.ResponseWriter, r *http.Request, _ params) {
	subs, err := s.cfg.Resources.ListSubscriptions(r.Context())
	if err != nil {
		writeError(w, r, err)
		return
	}
	caller := auth.PrincipalFrom(r.Context())
	visible := []*armapi.Subscription{}
	for _, sub := range subs {
		if caller.SeesAnything(sub.ID) {
			visible = append(visible, sub)
		}
	}
	writeJSON(w, http.StatusOK, listBody{Value: visible})
}

func (s *Server) getSubscription(w http.ResponseWriter, r *http.Request, p params) {
	sub, err := s.cfg.Resources.GetSubscription(r.Context(), p["sub"])
	reply(w, r, http.StatusOK, sub, err)
}

// listGroups lists the subscription's resource groups, filtered by tag when $filter says
// so (az group list --tag); a $filter it cannot apply is a 400, never ignored.
func (s *Server) listGroups(w http.ResponseWriter, r *http.Request, p params) {
	pg, err := s.page(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	filter, err := resources.ParseGroupFilter(r.URL.Query().Get("$filter"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	groups, next, err := s.cfg.Resources.ListGroups(r.Context(), p["sub"], filter, pg)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writePage(w, r, groups, next)
}

func (s *Server) putGroup(w http.ResponseWriter, r *http.Request, p params) {
	servePutNow(w, r, createdStatus, func(in armapi.GroupInput) (*armapi.ResourceGroup, bool, error) {
		return s.cfg.Resources.PutGroup(r.Context(), p["sub"], p["rg"], in)
	})
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request, p params) {
	rg, err := s.cfg.Resources.GetGroup(r.Context(), p["sub"], p["rg"])
	reply(w, r, http.StatusOK, rg, err)
}

// patchGroup changes the tags or managedBy sent of an existing group, at once (200), as
// ARM's ResourceGroups_Update does.
func (s *Server) patchGroup(w http.ResponseWriter, r *http.Request, p params) {
	in, pre, ok := decodeWrite[armapi.GroupInput](w, r)
	if !ok {
		return
	}
	rg, err := s.cfg.Resources.PatchGroup(r.Context(), p["sub"], p["rg"], in, pre)
	reply(w, r, http.StatusOK, rg, err)
}

// headGroup is what az group exists asks.
func (s *Server) headGroup(w http.ResponseWriter, r *http.Request, p params) {
	_, err := s.cfg.Resources.GetGroup(r.Context(), p["sub"], p["rg"])
	replyHead(w, err)
}

// replyHead answers a HEAD on a resource that GET reads with err: 204, or the error's
// status, with no body, as the answer to a HEAD has none.
func replyHead(w http.ResponseWriter, err error) {
	if err != nil {
		w.WriteHeader(toARM(err).Status)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// deleteGroup answers 202 with an operation: deleting a group deletes everything in it
// (clusters, workspaces and their computes).
func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request, p params) {
	op, err := s.cfg.Resources.DeleteGroup(r.Context(), p["sub"], p["rg"])
	s.replyDeleted(w, r, "Microsoft.Resources", op, err)
}

func (s *Server) listWorkspaces(w http.ResponseWriter, r *http.Request, p params) {
	replyPage(s, w, r, func(pg resources.Page) ([]*armapi.Workspace, string, error) {
		return s.cfg.Workspaces.List(r.Context(), p["sub"], p["rg"], pg)
	})
}

// putWorkspace creates or replaces a workspace at once and answers 200 either way: ARM's
// Workspaces_CreateOrUpdate lists only 200 and 202 (a workspace it provisions
// asynchronously), and the generated clients (Python azure-mgmt-machinelearningservices,
// Go armmachinelearning) take a 201 for an error.
func (s *Server) putWorkspace(w http.ResponseWriter, r *http.Request, p params) {
	servePutNow(w, r, putOK, func(in armapi.WorkspaceInput) (*armapi.Workspace, bool, error) {
		return s.cfg.Workspaces.Put(r.Context(), p["sub"], p["rg"], p["ws"], in)
	})
}

func (s *Server) getWorkspace(w http.ResponseWriter, r *http.Request, p params) {
	ws, err := s.cfg.Workspaces.Get(r.Context(), p["sub"], p["rg"], p["ws"])
	reply(w, r, http.StatusOK, ws, err)
}

// patchWorkspace changes the tags, friendly name or description sent of an existing
// workspace, at once (200), as ARM's Workspaces_Update does.
func (s *Server) patchWorkspace(w http.ResponseWriter, r *http.Request, p params) {
	in, pre, ok := decodeWrite[armapi.WorkspacePatch](w, r)
	if !ok {
		return
	}
	ws, err := s.cfg.Workspaces.Patch(r.Context(), p["sub"], p["rg"], p["ws"], in, pre)
	reply(w, r, http.StatusOK, ws, err)
}

func (s *Server) headWorkspace(w http.ResponseWriter, r *http.Request, p params) {
	_, err := s.cfg.Workspaces.Get(r.Context(), p["sub"], p["rg"], p["ws"])
	replyHead(w, err)
}

func (s *Server) deleteWorkspace(w http.ResponseWriter, r *http.Request, p params) {
	op, err := s.cfg.Workspaces.Delete(r.Context(), p["sub"], p["rg"], p["ws"])
	s.replyDeleted(w, r, workspaces.Namespace, op, err)
}

// operation returns the operation {op} if the caller may follow it. An operation of
// another subscription answers the same 404 as a missing one, so that an id says nothing
// across subscriptions.
func (s *Server) operation(r *http.Request, p params) (*store.Operation, error) {
	caller := auth.PrincipalFrom(r.Context())
	if scope := arm.SubscriptionPath(p["sub"]); !caller.SeesAnything(scope) {
		return nil, caller.Forbidden(p["ns"]+"/operationStatuses/read", scope)
	}
	op, err := s.cfg.Store.GetOperation(r.Context(), p["op"])
	if errors.Is(err, store.ErrNotFound) || (err == nil && op.SubscriptionID != p["sub"]) {
		return nil, arm.NotFound(arm.CodeNotFound, "Operation '%s' could not be found in subscription '%s'.", p["op"], p["sub"])
	}
	if err != nil {
		return nil, err
	}
	// Who may read the resource may follow its operations.
	if !caller.CanRead(op.ResourceID) {
		return nil, caller.Forbidden(p["ns"]+"/operationStatuses/read", op.ResourceID)
	}
	return op, nil
}

// getOperationStatus is the Azure-AsyncOperation URL (A4): always 200 while the operation
// can be read, its status spelled exactly InProgress|Succeeded|Failed|Canceled (azureml-core
// compares case-sensitively), with Retry-After: 1 while it runs so that the Go SDK polls
// every second instead of its default 30.
func (s *Server) getOperationStatus(w http.ResponseWriter, r *http.Request, p params) {
	op, err := s.operation(r, p)
	if err != nil {
		writeError(w, r, err)
		return
	}
	st := armapi.OperationStatus{OperationStatusBase: armapi.OperationStatusBase{
		ID:         arm.SubscriptionPath(op.SubscriptionID) + "/providers/" + p["ns"] + "/operationStatuses/" + op.ID,
		Name:       op.ID,
		ResourceID: op.ResourceID,
		Status:     op.Status,
		StartTime:  op.StartedAt,
	}}
	if !op.EndedAt.IsZero() {
		st.EndTime = &op.EndedAt
		st.PercentComplete = 100
	}
	if len(op.Error) > 0 {
		st.Error = &armapi.Error{}
		_ = json.Unmarshal(op.Error, st.Error)
	}
	if op.Status == store.StatusInProgress {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, http.StatusOK, st)
}

// getOperationResult is the Location URL of a delete: 202 while running, 204 when done,
// and the operation's error when it failed.
func (s *Server) getOperationResult(w http.ResponseWriter, r *http.Request, p params) {
	op, err := s.operation(r, p)
	if err != nil {
		writeError(w, r, err)
		return
	}
	switch op.Status {
	case store.StatusInProgress:
		w.Header().Set("Location", baseURL(r)+r.URL.RequestURI())
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusAccepted)
	case store.StatusSucceeded:
		w.WriteHeader(http.StatusNoContent)
	default:
		e := &arm.Error{}
		_ = json.Unmarshal(op.Error, e)
		// An operation that ended without a recorded error still answers with a code a
		// client can act on.
		if e.Code == "" {
			e = arm.Errorf(http.StatusInternalServerError, arm.CodeInternalServerError, "The operation ended %s without recording why; retry the request.", op.Status)
			if op.Status == store.StatusCanceled {
				e = arm.Errorf(http.StatusConflict, "Canceled", "The operation was canceled; retry the request to run it again.")
			}
		}
		// The stored error is its wire form, which has no HTTP status (arm.Error.Status
		// is not serialized): a store that could not take writes is 503, an internal or
		// interrupted operation the server's fault (500), anything else failed on what the
		// request asked for (400).
		if e.Status == 0 {
			switch e.Code {
			case arm.CodeServiceUnavailable:
				e.Status = http.StatusServiceUnavailable
			case arm.CodeInternalServerError, arm.CodeOperationInterrupted:
				e.Status = http.StatusInternalServerError
			default:
				e.Status = http.StatusBadRequest
			}
		}
		writeError(w, r, e)
	}
}

// accepted answers a started delete: 202 with Azure-AsyncOperation and Location, both as
// A4 and ARM's async guide ask, so that a client may poll either.
func (s *Server) accepted(w http.ResponseWriter, r *http.Request, op *store.Operation, namespace string) {
	s.setAsyncHeaders(w, r, op, namespace)
	w.Header().Set("Location", s.operationURL(r, op, namespace, "operationResults"))
	w.WriteHeader(http.StatusAccepted)
}

// setAsyncHeaders sets Azure-AsyncOperation and Retry-After for a running operation.
func (s *Server) setAsyncHeaders(w http.ResponseWriter, r *http.Request, op *store.Operation, namespace string) {
	w.Header().Set("Azure-AsyncOperation", s.operationURL(r, op, namespace, "operationStatuses"))
	w.Header().Set("Retry-After", "1")
}

// operationURL is the absolute URL of an operation's status or result under the namespace
// that started it, with the request's api-version: azureml-core appends an api-version
// only when the URL has none, and the status route requires one.
func (s *Server) operationURL(r *http.Request, op *store.Operation, namespace, kind string) string {
	return baseURL(r) + arm.SubscriptionPath(op.SubscriptionID) + "/providers/" + namespace + "/" + kind + "/" + op.ID +
		"?api-version=" + r.URL.Query().Get("api-version")
}

// createdStatus is a PUT's status: 201 when it created the resource, 200 when it replaced
// one, as ARM answers where an operation's spec lists both (resource groups, clusters,
// agent pools, computes, online endpoints and deployments, asset versions).
func createdStatus(created bool) int {
	if created {
		return http.StatusCreated
	}
	return http.StatusOK
}

// putOK is the status of a synchronous PUT whose spec lists no 201
// (Workspaces_CreateOrUpdate: 200, or 202 when asynchronous): 200, new or not.
func putOK(bool) int { return http.StatusOK }

// putCreated is the status of a PUT whose spec lists only 201
// (PolicyAssignments_Create): 201, new or not.
func putCreated(bool) int { return http.StatusCreated }
