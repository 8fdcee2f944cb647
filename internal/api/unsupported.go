package api

import (
	"net/http"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
)

// ARM operations az calls that mlfleet does not run answer a 400 OperationNotSupported that
// names the operation and says what mlfleet does instead, never the 404 of a path no API
// answers, which az reads as "not found" (exit 3) and which tells the user nothing. Lists
// of things mlfleet never has (template deployments, preview features, locks) are served,
// empty: that is the truth, and az's list commands then work.

// unsupportedRoutes serves the Tags API's subscription lists and the operations above.
func (s *Server) unsupportedRoutes() {
	rt := &s.router
	rt.handle(http.MethodGet, subPath+"/tagNames", s.listTagNames)
	for _, pattern := range []string{subPath + "/tagNames/{tag}", subPath + "/tagNames/{tag}/tagValues/{value}"} {
		rt.handle(http.MethodPut, pattern, s.refuseTagNames)
		rt.handle(http.MethodDelete, pattern, s.refuseTagNames)
	}

	const deployments = "/providers/Microsoft.Resources/deployments"
	for _, scope := range []string{subPath, rgPath} {
		rt.handle(http.MethodGet, scope+deployments, emptyList)
		rt.handle(http.MethodGet, scope+deployments+"/{deployment}", noDeployment)
		rt.handle(http.MethodDelete, scope+deployments+"/{deployment}", noDeployment)
		rt.handle(http.MethodPut, scope+deployments+"/{deployment}", refuse("Template deployments (az deployment create, ARM and Bicep templates) are not supported by mlfleet: create resources with 'az group create', 'az aks create', 'az ml …' or 'az resource create'."))
		for _, action := range []string{"validate", "whatIf", "cancel", "exportTemplate"} {
			rt.handle(http.MethodPost, scope+deployments+"/{deployment}/"+action, refuse("Template deployments are not supported by mlfleet, so there is no deployment to "+action+"."))
		}
	}
	rt.handle(http.MethodPost, rgPath+"/exportTemplate", refuse("Exporting a resource group as a template (az group export) is not supported by mlfleet: read its resources with 'az resource list -g NAME' and each one with 'az resource show --ids ID'."))
	move := refuse("Moving resources to another resource group or subscription (az resource move) is not supported by mlfleet: create them again where they belong and delete the old ones.")
	rt.handle(http.MethodPost, rgPath+"/moveResources", move)
	rt.handle(http.MethodPost, rgPath+"/validateMoveResources", move)
	rt.handle(http.MethodPost, subPath+"/providers/{namespace}/unregister", refuse("Unregistering a resource provider is not supported by mlfleet: the namespaces it serves are always registered in every subscription."))

	rt.handle(http.MethodGet, subPath+"/providers/Microsoft.Features/features", emptyList)
	rt.handle(http.MethodPost, subPath+"/providers/Microsoft.Features/providers/{namespace}/features/{feature}/register",
		refuse("Preview features are not supported by mlfleet: it has none to register, and what it serves needs none."))
	rt.handle(http.MethodPost, subPath+"/providers/Microsoft.Features/providers/{namespace}/features/{feature}/unregister",
		refuse("Preview features are not supported by mlfleet: it has none registered."))
}

// mlUnsupportedRoutes serves what Azure Machine Learning has and mlfleet does not run: the
// actions of compute instances and of a workspace's own resources are refused (after a
// 404 for a missing compute or workspace), and the lists of kinds mlfleet never has
// (batch endpoints, jobs, datastores, workspace features) are served empty.
func (s *Server) mlUnsupportedRoutes() {
	rt := &s.router
	for action, message := range map[string]string{
		"start":   "Starting compute '%s' is not supported by mlfleet: start, stop and restart apply to compute instances, and an AKS compute runs while its cluster does.",
		"stop":    "Stopping compute '%s' is not supported by mlfleet: an AKS compute runs while its cluster does. To use fewer nodes, scale its agent pool down ('az aks nodepool scale', to 1 node at least); to free everything, detach or delete the compute.",
		"restart": "Restarting compute '%s' is not supported by mlfleet: an AKS compute runs while its cluster does. To restart a model server, update its online deployment.",
	} {
		rt.handle(http.MethodPost, computePath+"/"+action, func(w http.ResponseWriter, r *http.Request, p params) {
			c, err := s.cfg.Computes.Get(r.Context(), p["sub"], p["rg"], p["ws"], p["name"])
			if err != nil {
				writeError(w, r, err)
				return
			}
			writeError(w, r, arm.BadRequest(arm.CodeOperationNotSupported, message, c.Name))
		})
	}
	workspaceRefusal := func(message string) handlerFunc {
		return s.inWorkspace(func(w http.ResponseWriter, r *http.Request, name string) {
			writeError(w, r, arm.BadRequest(arm.CodeOperationNotSupported, message, name))
		})
	}
	rt.handle(http.MethodPost, wsPath+"/listKeys", workspaceRefusal("Workspace keys are not available: workspace '%s' has no storage account, Application Insights or container registry of its own. Upload model and code content with PUT …/blobs; a compute's kubeconfigs come from …/computes/{name}/listKeys and an online endpoint's keys from …/onlineEndpoints/{name}/listKeys."))
	rt.handle(http.MethodPost, wsPath+"/diagnose", workspaceRefusal("Diagnosing workspace '%s' is not supported by mlfleet: it has no dependent resources (storage, key vault, registry, network) to check. Read the state of its computes (GET …/computes) and online endpoints instead."))
	empty := s.inWorkspace(func(w http.ResponseWriter, r *http.Request, _ string) { emptyList(w, r, nil) })
	for _, list := range []string{"features", "batchEndpoints", "jobs", "datastores"} {
		rt.handle(http.MethodGet, wsPath+"/"+list, empty)
	}
}

// inWorkspace is a handler that answers the workspace's 404 when it does not exist, and
// else calls h with its name.
func (s *Server) inWorkspace(h func(w http.ResponseWriter, r *http.Request, name string)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p params) {
		ws, err := s.cfg.Workspaces.Get(r.Context(), p["sub"], p["rg"], p["ws"])
		if err != nil {
			writeError(w, r, err)
			return
		}
		h(w, r, ws.Name)
	}
}

// refuse is a handler that answers a 400 OperationNotSupported with message.
func refuse(message string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, _ params) {
		writeError(w, r, arm.BadRequest(arm.CodeOperationNotSupported, "%s", message))
	}
}

// emptyList answers a list of things mlfleet never has.
func emptyList(w http.ResponseWriter, _ *http.Request, _ params) {
	writeJSON(w, http.StatusOK, listBody{Value: []any{}})
}

// noDeployment answers a read or delete of a template deployment: there are none.
func noDeployment(w http.ResponseWriter, r *http.Request, p params) {
	writeError(w, r, arm.NotFound("DeploymentNotFound", "Deployment '%s' could not be found: mlfleet runs no template deployments.", p["deployment"]))
}

// locksPath reports whether path is under a scope's management locks
// ({scope}/providers/Microsoft.Authorization/locks[/{name}]), and whether it is their list.
func locksPath(path string) (list, ok bool) {
	segs := split(path)
	for i := 0; i+2 < len(segs); i++ {
		if strings.EqualFold(segs[i], "providers") && strings.EqualFold(segs[i+1], "Microsoft.Authorization") && strings.EqualFold(segs[i+2], "locks") {
			return len(segs) == i+3, len(segs) <= i+4
		}
	}
	return false, false
}

// serveLocks answers management locks at any scope (az lock create/list/delete): mlfleet
// has none, so their list is empty and anything else is refused. Listing needs some role
// in the subscription; the scope's resources are not read.
func (s *Server) serveLocks(w http.ResponseWriter, r *http.Request, list bool) {
	if err := checkAPIVersion(r); err != nil {
		writeError(w, r, err)
		return
	}
	if list && r.Method == http.MethodGet {
		emptyList(w, r, nil)
		return
	}
	writeError(w, r, arm.BadRequest(arm.CodeOperationNotSupported,
		"Management locks (az lock) are not supported by mlfleet: there are none, and none can be made. Role assignments decide who may change or delete a resource ('mlfleet role assignment create')."))
}

// withoutTrailingSlash returns r with one trailing slash taken off the path of a GET or
// HEAD: az deployment group list asks …/deployments/?api-version=…, which ARM reads as
// the list. Writes keep the slash, which checkPath refuses: an empty name there must never
// turn into a write on the collection or its parent.
func withoutTrailingSlash(r *http.Request) *http.Request {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return r
	}
	escaped := r.URL.EscapedPath()
	if len(escaped) < 2 || !strings.HasSuffix(escaped, "/") || strings.HasSuffix(escaped, "//") {
		return r
	}
	u := *r.URL
	u.Path, u.RawPath = strings.TrimSuffix(u.Path, "/"), ""
	if r.URL.RawPath != "" {
		u.RawPath = strings.TrimSuffix(r.URL.RawPath, "/")
	}
	r2 := *r
	r2.URL = &u
	return &r2
}
