package kube

import (
	"context"
	"sync"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// access is one thing to ask the API server about.
type access struct {
	verb, group, resource, namespace string // namespace "" = cluster-wide
}

func (a access) String() string {
	r := a.resource
	if a.group != "" {
		r += "." + a.group
	}
	if a.namespace == "" {
		return a.verb + " " + r + " (cluster-wide)"
	}
	return a.verb + " " + r + " in namespace " + a.namespace
}

// required lists what Apply, Remove, ClaimMarker, Marker, UID and Nodes do. Server-side
// apply is the verb patch; get comes before it where an object may be missing.
func required() []access {
	var out []access
	add := func(group, resource, namespace string, verbs ...string) {
		for _, v := range verbs {
			out = append(out, access{v, group, resource, namespace})
		}
	}
	add("", "namespaces", "", "get", "create", "patch", "delete")
	add("", "nodes", "", "list")
	add(rbacv1.GroupName, "clusterroles", "", "get", "list", "create", "patch", "delete")
	add(rbacv1.GroupName, "clusterrolebindings", "", "get", "list", "create", "patch", "delete")
	// In azureml: what Apply writes, what Remove deletes and what it looks at to tell
	// whether the namespace holds someone else's objects.
	for _, r := range []struct{ group, resource string }{{"", "serviceaccounts"}, {"", "secrets"}, {"", "services"}, {"apps", "deployments"}} {
		add(r.group, r.resource, Namespace, "get", "list", "create", "patch", "delete")
	}
	add("", "configmaps", Namespace, "list", "delete")
	add("apps", "replicasets", Namespace, "list", "delete")
	add("", "pods", Namespace, "list", "delete")
	for _, gvr := range foreignKinds {
		add(gvr.Group, gvr.Resource, Namespace, "list")
	}
	// The marker.
	add("", "configmaps", kubeSystem, "get", "list", "create", "delete")
	return dedupe(out)
}

// dedupe drops repeated accesses, keeping the first, so that each is reviewed and
// reported once.
func dedupe(in []access) []access {
	seen := map[access]bool{}
	out := in[:0]
	for _, a := range in {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

// grantedToFrontEnd is what the front-end's ClusterRole grants. Kubernetes lets a user
// create a ClusterRole, or bind one, only with every permission it grants, or with the
// verbs escalate (on clusterroles) and bind.
func grantedToFrontEnd() []access {
	var out []access
	for _, r := range frontEndRules() {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					out = append(out, access{v, g, res, ""})
				}
			}
		}
	}
	return out
}

// MissingPermissions asks the API server, with SelfSubjectAccessReviews, whether the
// credentials may do what Apply, Remove and ClaimMarker do, and returns what they may
// not, in words ("create clusterrolebindings.rbac.authorization.k8s.io (cluster-wide)").
// It returns an empty list when everything is allowed. It changes nothing in the cluster.
func (c *Cluster) MissingPermissions(ctx context.Context) ([]string, error) {
	// One review answers for cluster-admin credentials, the usual case; anything less is
	// reviewed action by action (about 60 reviews, rate-limited by the client).
	if all, err := c.can(ctx, access{"*", "*", "*", ""}); err != nil {
		return nil, err
	} else if all {
		return []string{}, nil
	}
	needed := required()
	granted := grantedToFrontEnd()
	escalate := access{"escalate", rbacv1.GroupName, "clusterroles", ""}
	bind := access{"bind", rbacv1.GroupName, "clusterroles", ""}
	all := append(append(append([]access{}, needed...), granted...), escalate, bind)

	allowed := make([]bool, len(all))
	errs := make([]error, len(all))
	// Eight at a time: in parallel so that the reviews of a limited identity do not make
	// attach's checks slow (B3), bounded so that they do not queue behind the client's own
	// rate limiter all at once.
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, a := range all {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			allowed[i], errs[i] = c.can(ctx, a)
		})
	}
	wg.Wait()
	is := map[access]bool{}
	for i, a := range all {
		if errs[i] != nil {
			return nil, errs[i]
		}
		is[a] = allowed[i]
	}

	missing := []string{}
	reported := map[access]bool{}
	report := func(list []access) {
		for _, a := range list {
			if !is[a] && !reported[a] {
				reported[a] = true
				missing = append(missing, a.String())
			}
		}
	}
	report(needed)
	// Holding what the ClusterRole grants is needed only without escalate and bind.
	if !is[escalate] || !is[bind] {
		report(granted)
	}
	return missing, nil
}

// can asks whether the credentials may do a. A review asks about the caller itself and
// needs no permission of its own, so it works for credentials that may do nothing else.
func (c *Cluster) can(ctx context.Context, a access) (bool, error) {
	review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: a.verb, Group: a.group, Resource: a.resource, Namespace: a.namespace},
	}}
	got, err := c.Client.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
	if err != nil {
		return false, translate(err, "ask whether the credentials may %s", a)
	}
	return got.Status.Allowed, nil
}
