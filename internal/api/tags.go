package api

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/auth"
	"github.com/mlfleet/mlfleet/internal/compute"
	"github.com/mlfleet/mlfleet/internal/resources"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// The Tags API (Microsoft.Resources/tags) reads and changes the tags of any resource at
// {scope}/providers/Microsoft.Resources/tags/default, which is what az tag create, update,
// list and delete --resource-id call. mlfleet keeps no tags of its own: each resource's
// tags are its own field, changed through the service that owns the resource, as a PATCH
// of the resource would change them, and with the same permission.

// tagsSuffix ends the path of a scope's tags.
const tagsSuffix = "/providers/Microsoft.Resources/tags/default"

// tagsPath returns the scope of a tags path ({scope}/providers/Microsoft.Resources/tags/default).
func tagsPath(path string) (scope string, ok bool) {
	n := len(path) - len(tagsSuffix)
	if n <= 0 || !strings.EqualFold(path[n:], tagsSuffix) {
		return "", false
	}
	return path[:n], true
}

// tagger reads and replaces the tags of one kind of resource, through its service.
type tagger struct {
	get func(ctx context.Context, p params) (map[string]string, error)
	set func(ctx context.Context, p params, tags map[string]string, pre arm.Preconditions) (map[string]string, error)
}

// taggers are the kinds of resource whose tags the Tags API changes, by the route
// pattern of the resource.
func (s *Server) taggers() map[string]tagger {
	return map[string]tagger{
		rgPath: taggerOf(
			func(ctx context.Context, p params) (*armapi.ResourceGroup, error) {
				return s.cfg.Resources.GetGroup(ctx, p["sub"], p["rg"])
			},
			func(ctx context.Context, p params, tags map[string]string, pre arm.Preconditions) (*armapi.ResourceGroup, error) {
				return s.cfg.Resources.PatchGroup(ctx, p["sub"], p["rg"], armapi.GroupInput{Tags: tags}, pre)
			},
			func(rg *armapi.ResourceGroup) map[string]string { return rg.Tags }),
		wsPath: taggerOf(
			func(ctx context.Context, p params) (*armapi.Workspace, error) {
				return s.cfg.Workspaces.Get(ctx, p["sub"], p["rg"], p["ws"])
			},
			func(ctx context.Context, p params, tags map[string]string, pre arm.Preconditions) (*armapi.Workspace, error) {
				return s.cfg.Workspaces.Patch(ctx, p["sub"], p["rg"], p["ws"], armapi.WorkspacePatch{Tags: tags}, pre)
			},
			func(ws *armapi.Workspace) map[string]string { return ws.Tags }),
		mcPath: taggerOf(
			func(ctx context.Context, p params) (*armapi.ManagedCluster, error) {
				return s.cfg.Clusters.Get(ctx, p["sub"], p["rg"], p["name"])
			},
			func(ctx context.Context, p params, tags map[string]string, pre arm.Preconditions) (*armapi.ManagedCluster, error) {
				mc, _, err := s.cfg.Clusters.Patch(ctx, p["sub"], p["rg"], p["name"], armapi.ClusterInput{Tags: tags}, pre)
				return mc, err
			},
			func(mc *armapi.ManagedCluster) map[string]string { return mc.Tags }),
		computePath: taggerOf(
			func(ctx context.Context, p params) (*armapi.Compute, error) {
				return s.cfg.Computes.Get(ctx, p["sub"], p["rg"], p["ws"], p["name"])
			},
			func(ctx context.Context, p params, tags map[string]string, pre arm.Preconditions) (*armapi.Compute, error) {
				res, err := s.cfg.Computes.Patch(ctx, p["sub"], p["rg"], p["ws"], p["name"], armapi.Compute{Tags: tags}, compute.Options{Preconditions: pre})
				if err != nil {
					return nil, err
				}
				return res.Compute, nil
			},
			func(c *armapi.Compute) map[string]string { return c.Tags }),
		endpointPath: taggerOf(
			func(ctx context.Context, p params) (*armapi.OnlineEndpoint, error) {
				if s.cfg.Endpoints == nil {
					return nil, notServed("online endpoints")
				}
				ep, _, err := s.cfg.Endpoints.GetEndpoint(ctx, p["sub"], p["rg"], p["ws"], p["ep"])
				return ep, err
			},
			func(ctx context.Context, p params, tags map[string]string, pre arm.Preconditions) (*armapi.OnlineEndpoint, error) {
				if s.cfg.Endpoints == nil {
					return nil, notServed("online endpoints")
				}
				res, err := s.patchEndpointWith(ctx, p, &endpointPatch{Tags: tags}, pre)
				if err != nil {
					return nil, err
				}
				return res.Value, nil
			},
			func(ep *armapi.OnlineEndpoint) map[string]string { return ep.Tags }),
	}
}

// taggerOf is the tagger of a kind of resource that get reads, set updates with new tags
// and tagsOf finds the tags of.
func taggerOf[T any](get func(context.Context, params) (T, error),
	set func(context.Context, params, map[string]string, arm.Preconditions) (T, error), tagsOf func(T) map[string]string) tagger {
	return tagger{
		get: func(ctx context.Context, p params) (map[string]string, error) {
			v, err := get(ctx, p)
			if err != nil {
				return nil, err
			}
			return tagsOf(v), nil
		},
		set: func(ctx context.Context, p params, tags map[string]string, pre arm.Preconditions) (map[string]string, error) {
			v, err := set(ctx, p, tags, pre)
			if err != nil {
				return nil, err
			}
			return tagsOf(v), nil
		},
	}
}

// serveTags serves GET, PUT, PATCH and DELETE of {scope}/providers/Microsoft.Resources/tags/default.
// It runs outside the route table, so it checks the api-version and the caller's
// permission itself: reading the tags needs the resource's read, changing them its write,
// as a GET or a PATCH of the resource would.
func (s *Server) serveTags(w http.ResponseWriter, r *http.Request, scope string) {
	if err := checkAPIVersion(r); err != nil {
		writeError(w, r, err)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		writeError(w, r, arm.Errorf(http.StatusMethodNotAllowed, arm.CodeMethodNotAllowed, "The method %s is not supported on %s.", r.Method, r.URL.Path))
		return
	}
	rt, p := s.router.match(scope)
	pattern := ""
	if rt != nil {
		pattern = "/" + strings.Join(rt.segments, "/")
	}
	t, ok := s.taggers()[pattern]
	if !ok {
		writeError(w, r, untaggable(scope, pattern))
		return
	}
	method := http.MethodPatch
	if r.Method == http.MethodGet {
		method = http.MethodGet
	}
	perm := requestPermission(rt.segments, method, scope)
	if err := auth.PrincipalFrom(r.Context()).Check(perm.action, perm.scope); err != nil {
		writeError(w, r, err)
		return
	}
	ctx := r.Context()
	var tags map[string]string
	var err error
	switch r.Method {
	case http.MethodGet:
		tags, err = t.get(ctx, p)
	case http.MethodPut:
		in, pre, ok := decodeWrite[armapi.Tags](w, r)
		if !ok {
			return
		}
		tags, err = t.set(ctx, p, orEmpty(in.Properties.Tags), pre)
	case http.MethodPatch:
		in, pre, ok := decodeWrite[armapi.TagsPatch](w, r)
		if !ok {
			return
		}
		var cur map[string]string
		if cur, err = t.get(ctx, p); err == nil {
			var next map[string]string
			if next, err = patchTags(cur, in); err == nil {
				tags, err = t.set(ctx, p, next, pre)
			}
		}
	case http.MethodDelete:
		pre, perr := preconditions(r)
		if perr != nil {
			writeError(w, r, perr)
			return
		}
		if _, err = t.set(ctx, p, map[string]string{}, pre); err == nil {
			w.WriteHeader(http.StatusOK)
			return
		}
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	out := armapi.Tags{ID: scope + tagsSuffix, Name: "default", Type: "Microsoft.Resources/tags"}
	out.Properties.Tags = orEmpty(tags)
	writeJSON(w, http.StatusOK, out)
}

// patchTags returns the tags cur becomes under the PATCH in.
func patchTags(cur map[string]string, in armapi.TagsPatch) (map[string]string, error) {
	next := maps.Clone(orEmpty(cur))
	switch {
	// A tag is named without case: Merge replaces a tag however it was cased (and takes
	// the new casing), Delete removes it however the request cases it.
	case strings.EqualFold(in.Operation, "Merge"):
		for k, v := range in.Properties.Tags {
			maps.DeleteFunc(next, func(name, _ string) bool { return strings.EqualFold(name, k) })
			next[k] = v
		}
	case strings.EqualFold(in.Operation, "Replace"):
		next = orEmpty(maps.Clone(in.Properties.Tags))
	case strings.EqualFold(in.Operation, "Delete"):
		for k, v := range in.Properties.Tags {
			maps.DeleteFunc(next, func(name, cur string) bool { return strings.EqualFold(name, k) && (v == "" || cur == v) })
		}
	default:
		return nil, arm.BadRequest(arm.CodeInvalidRequestContent, "The tags operation '%s' is invalid: use Merge, Replace or Delete.", in.Operation).WithTarget("operation")
	}
	return next, nil
}

// untaggable is the 400 of a Tags API call on a scope whose tags mlfleet does not change.
func untaggable(scope, pattern string) error {
	switch pattern {
	case subPath:
		return arm.BadRequest(arm.CodeOperationNotSupported, "Tags on subscriptions are not supported by mlfleet; tag its resource groups and resources instead.")
	case deploymentPath:
		return arm.BadRequest(arm.CodeOperationNotSupported, "The Tags API does not change online deployments in mlfleet: set a deployment's tags in its PUT ('mlfleet ml online-deployment update --set tags.NAME=VALUE').")
	case "":
		return arm.BadRequest("InvalidScope", "The scope '%s' names no resource mlfleet serves: use the id of a resource group or resource (/subscriptions/{id}/resourceGroups/{name}[/providers/{namespace}/{type}/{name}]).", scope)
	}
	return arm.BadRequest(arm.CodeOperationNotSupported, "Tags on '%s' are not supported by mlfleet: it keeps tags on resource groups, workspaces, computes, managed clusters and online endpoints.", scope)
}

func orEmpty(tags map[string]string) map[string]string {
	if tags == nil {
		return map[string]string{}
	}
	return tags
}

// tagName is one tag name of a subscription as GET /subscriptions/{sub}/tagNames lists it,
// with how many resources carry it and each value.
type tagName struct {
	ID       string     `json:"id"`
	TagName  string     `json:"tagName"`
	Count    tagCount   `json:"count"`
	Values   []tagValue `json:"values"`
	valueMap map[string]int
}

type tagValue struct {
	ID       string   `json:"id"`
	TagValue string   `json:"tagValue"`
	Count    tagCount `json:"count"`
}

type tagCount struct {
	Type  string `json:"type"`
	Value int    `json:"value"`
}

// listTagNames serves GET /subscriptions/{sub}/tagNames (az tag list): every tag name on
// the resource groups and resources of the subscription the caller may read, with the
// number of them carrying it and its values, sorted by name.
func (s *Server) listTagNames(w http.ResponseWriter, r *http.Request, p params) {
	ctx := r.Context()
	sub := p["sub"]
	within := readableWithin(ctx)
	names := map[string]*tagName{} // by lower-case name: tag names compare without case
	count := func(tags map[string]string) {
		for k, v := range tags {
			n, ok := names[strings.ToLower(k)]
			if !ok {
				n = &tagName{TagName: k, valueMap: map[string]int{}}
				names[strings.ToLower(k)] = n
			}
			n.Count.Value++
			n.valueMap[v]++
		}
	}
	first := resources.Page{Within: within}
	err := eachPage(first, func(pg resources.Page) ([]*armapi.ResourceGroup, string, error) {
		return s.cfg.Resources.ListGroups(ctx, sub, resources.Filter{}, pg)
	}, func(g *armapi.ResourceGroup) { count(g.Tags) })
	if err == nil {
		err = eachPage(first, func(pg resources.Page) ([]*armapi.GenericResource, string, error) {
			return s.cfg.Resources.ListGeneric(ctx, resources.GenericQuery{Subscription: sub, Types: trackedTypes()}, pg)
		}, func(it *armapi.GenericResource) { count(it.Tags) })
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	out := []*tagName{}
	for _, k := range slices.Sorted(maps.Keys(names)) {
		n := names[k]
		n.ID = arm.SubscriptionPath(sub) + "/tagNames/" + n.TagName
		n.Count.Type = "Total"
		n.Values = []tagValue{}
		for _, v := range slices.Sorted(maps.Keys(n.valueMap)) {
			n.Values = append(n.Values, tagValue{ID: n.ID + "/tagValues/" + v, TagValue: v, Count: tagCount{Type: "Total", Value: n.valueMap[v]}})
		}
		out = append(out, n)
	}
	writeJSON(w, http.StatusOK, listBody{Value: out})
}

// refuseTagNames answers the predefined tag names az tag create/delete --name and
// add-value/remove-value manage: mlfleet keeps no tag names apart from the resources
// that carry them.
func (s *Server) refuseTagNames(w http.ResponseWriter, r *http.Request, _ params) {
	writeError(w, r, arm.BadRequest(arm.CodeOperationNotSupported,
		"Predefined tag names and values are not supported by mlfleet: a tag exists while a resource carries it. Tag a resource instead ('az tag create --resource-id ID --tags NAME=VALUE', 'az group update --tags', 'az resource tag').",
	))
}

// eachPage calls fn with every item of every page list returns, from first until a page
// names no next one.
func eachPage[T any](first resources.Page, list func(resources.Page) ([]T, string, error), fn func(T)) error {
	for pg := first; ; {
		items, next, err := list(pg)
		if err != nil {
			return err
		}
		for _, it := range items {
			fn(it)
		}
		if next == "" {
			return nil
		}
		pg.After = next
	}
}
