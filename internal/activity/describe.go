package activity

import (
	"net/http"
	"strings"
)

// Target is what a request acts on, in the activity log's terms.
type Target struct {
	// SubscriptionID is the subscription the path names ("" for paths outside any).
	SubscriptionID string
	// ResourceGroup is the resource group the path names ("" when none).
	ResourceGroup string
	// ResourceID is the scope: the path up to the resource, without an action segment.
	ResourceID string
	// Provider is the resource provider namespace, e.g. Microsoft.ContainerService
	// (Microsoft.Resources for subscriptions and resource groups).
	Provider string
	// OperationName is ARM's name of the operation, e.g.
	// Microsoft.ContainerService/managedClusters/write,
	// Microsoft.Resources/subscriptions/resourceGroups/delete or
	// Microsoft.ContainerService/managedClusters/listClusterAdminCredential/action.
	OperationName string
}

// Describe returns the target of a request with this method and path. The path should
// spell literal segments as the API's routes do (the caller canonicalises them), so that
// operation names do not depend on the case a client used.
//
// The path is read as ARM lays ids out: /subscriptions/{sub}, then /resourceGroups/{rg},
// then /providers/{namespace}, then type/name pairs; a segment left over at the end is an
// action (POST …/listKeys). PUT and PATCH are "write", DELETE "delete", POST "action".
func Describe(method, path string) Target {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	verb := verbOf(method)
	if len(segs) < 2 || !strings.EqualFold(segs[0], "subscriptions") || segs[1] == "" {
		// Outside ARM's tree (mlfleet's own /mlfleet/v1/tokens): the path names itself.
		p := strings.Trim(path, "/")
		return Target{ResourceID: "/" + p, Provider: strings.Split(p, "/")[0], OperationName: p + "/" + verb}
	}
	t := Target{SubscriptionID: segs[1], Provider: "Microsoft.Resources"}
	id := "/subscriptions/" + segs[1]
	types := []string{"subscriptions"}
	rest := segs[2:]
	if len(rest) >= 2 && strings.EqualFold(rest[0], "resourceGroups") {
		t.ResourceGroup = rest[1]
		id += "/" + rest[0] + "/" + rest[1]
		types = append(types, rest[0])
		rest = rest[2:]
	}
	if len(rest) >= 2 && strings.EqualFold(rest[0], "providers") {
		t.Provider = rest[1]
		id += "/" + rest[0] + "/" + rest[1]
		types = nil
		rest = rest[2:]
	}
	for len(rest) >= 2 {
		id += "/" + rest[0] + "/" + rest[1]
		types = append(types, rest[0])
		rest = rest[2:]
	}
	name := t.Provider
	if len(types) > 0 {
		name += "/" + strings.Join(types, "/")
	}
	if len(rest) == 1 {
		name += "/" + rest[0]
	}
	t.ResourceID, t.OperationName = id, name+"/"+verb
	return t
}

func verbOf(method string) string {
	switch method {
	case http.MethodPut, http.MethodPatch:
		return "write"
	case http.MethodDelete:
		return "delete"
	case http.MethodPost:
		return "action"
	case http.MethodGet, http.MethodHead:
		return "read"
	}
	return strings.ToLower(method)
}

// resourceType returns the ARM type of a resource id, e.g. Microsoft.ContainerService/
// managedClusters, or Microsoft.Resources/subscriptions/resourceGroups.
func resourceType(id string) string {
	t := Describe(http.MethodPut, id)
	return strings.TrimSuffix(t.OperationName, "/write")
}
