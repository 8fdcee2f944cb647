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
