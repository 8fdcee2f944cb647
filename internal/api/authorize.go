package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/mlfleet/mlfleet/internal/auth"
)

// permission is what a request needs: an ARM action over a scope, as ARM's role-based
// access control names them.
type permission struct {
	// action is e.g. "Microsoft.ContainerService/managedClusters/write".
	action string
	// scope is the id the action is over: "/", a subscription, a resource group or a
	// resource.
	scope string
	// list marks the read of a collection: the caller needs some role at, above or below
	// scope, and sees only the items it may read.
	list bool
}

// permissionKey is the context key of the permission authorize checked.
type permissionKey struct{}

// permissionFrom returns the permission serveAPI checked for the request in ctx.
func permissionFrom(ctx context.Context) (permission, bool) {
	p, ok := ctx.Value(permissionKey{}).(permission)
	return p, ok
}

// requestPermission derives the action and scope of a request from its route, the way
// ARM does from the path: the provider namespace and resource types give the action's
// name, the method its verb (read, write, delete, or a POST's action), and the longest
// prefix naming a subscription, a resource group or a resource in one is the scope.
// Paths under a subscription's providers with no resource group (catalogs, usages,
// policy assignments) are scoped to the subscription.
func requestPermission(pattern []string, method, path string) permission {
	segs := split(path)
	namespace := "Microsoft.Resources"
	var types []string
	scopeLen := 0
	inGroup := false
	trailing := false // the path ends in a type (a collection) or an action name
	// The pattern alternates literal and {name} segments (type/name pairs), so it is
	// walked two at a time; the request's own segments give the names, spelled as sent.
	for i := 0; i < len(pattern); {
		lit := pattern[i]
		hasName := i+1 < len(pattern)
		switch {
		// A nested /providers/{namespace} starts the types afresh: the action of
		// …/resourceGroups/rg/providers/NS/a/x/b is NS/a/b/…, not Microsoft.Resources/….
		case strings.EqualFold(lit, "providers") && hasName:
			namespace = segs[i+1]
			types = nil
			i += 2
			continue
		case strings.EqualFold(lit, "subscriptions"):
			types = append(types, "subscriptions")
			if hasName {
				scopeLen = i + 2
			}
		// Only right under a subscription: a resource type named resourceGroups
		// elsewhere would not make the path a group's.
		case strings.EqualFold(lit, "resourceGroups") && len(types) == 1:
			types = append(types, "resourceGroups")
			if hasName {
				scopeLen, inGroup = i+2, true
			}
		default:
			types = append(types, lit)
			if hasName && inGroup {
				scopeLen = i + 2
			}
		}
		if !hasName {
			trailing = true
		}
		i += 2
	}
	if len(types) == 0 {
		// …/providers/{namespace}[/register]: the namespace itself, a child of the
		// subscription's provider list.
		namespace, types = "Microsoft.Resources", []string{"subscriptions", "providers"}
		trailing = true
	}
	scope := "/"
	if scopeLen > 0 {
		scope = "/" + strings.Join(segs[:scopeLen], "/")
	}
	p := permission{scope: scope}
	switch {
	// A POST names an action (…/listKeys, …/register): its ARM action ends in /action,
	// as in Microsoft.ContainerService/managedClusters/listClusterUserCredential/action.
	// A POST on a named resource has no action name and counts as a write.
	case trailing && method == http.MethodPost:
		p.action = namespace + "/" + strings.Join(types, "/") + "/action"
	case method == http.MethodGet || method == http.MethodHead:
		p.action = namespace + "/" + strings.Join(types, "/") + "/read"
		// A subscription is shown, as in a list, to whoever holds a role somewhere in it.
		p.list = trailing || len(types) == 1 && types[0] == "subscriptions"
	case method == http.MethodDelete:
		p.action = namespace + "/" + strings.Join(types, "/") + "/delete"
	default: // PUT and PATCH
		p.action = namespace + "/" + strings.Join(types, "/") + "/write"
	}
	return p
}

// authorize checks that the caller may make the request; the permission goes into the
// request's context for the lists to filter by. A list only needs some role at, above or
// below its scope, as in ARM: a Reader of one resource group may list the subscription's
// groups and sees that one (readableWithin narrows the list).
func authorize(r *http.Request, rt *route) (*http.Request, error) {
	if rt.selfAuthorized {
		return r, nil
	}
	caller := auth.PrincipalFrom(r.Context())
	p := requestPermission(rt.segments, r.Method, r.URL.Path)
	if p.list {
		if !caller.SeesAnything(p.scope) {
			return r, caller.Forbidden(p.action, p.scope)
		}
	} else if err := caller.Check(p.action, p.scope); err != nil {
		return r, err
	}
	return r.WithContext(context.WithValue(r.Context(), permissionKey{}, p)), nil
}

// readableWithin returns, for a list request, the scopes its items must lie at or under:
// nil when the caller may read the whole listed scope.
func readableWithin(ctx context.Context) []string {
	p, ok := permissionFrom(ctx)
	if !ok || !p.list {
		return nil
	}
	all, scopes := auth.PrincipalFrom(ctx).ReadableUnder(p.scope)
	if all {
		return nil
	}
	return scopes
}
