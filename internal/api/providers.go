package api

import (
	"net/http"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/compute"
	"github.com/mlfleet/mlfleet/internal/containerservice"
	"github.com/mlfleet/mlfleet/internal/resources"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// resourceType is one resource type a provider namespace serves.
type resourceType struct {
	// name is the type within the namespace, e.g. "managedClusters/agentPools".
	name string
	// apiVersions, when set, are the type's own versions; nil means its namespace's.
	apiVersions []string
	// tracked types have a location and are what the generic resource list shows.
	tracked bool
}

// providerNamespace is a resource provider as GET …/providers lists it.
type providerNamespace struct {
	namespace string
	// apiVersions are the versions clients are known to send, newest first (az resource
	// show uses the first stable one); mlfleet serves one shape for every version.
	apiVersions []string
	types       []resourceType
}

// API versions clients send: the Go SDKs (armcontainerservice v6: 2025-02-01), az 2.45
// (managedClusters 2022-11-01, resources 2021-04-01, role assignments 2022-04-01), the
// reference specs and azureml-core / the npm client for Machine Learning.
var (
	containerServiceVersions = []string{"2025-02-01", "2024-05-01", "2023-01-01", "2022-11-01"}
	orchestratorVersions     = []string{"2019-08-01", "2019-04-01"}
	machineLearningVersions  = []string{"2024-04-01", "2023-04-01", "2022-10-01", "2021-07-01"}
	resourcesVersions        = []string{"2022-09-01", "2021-04-01"}
	computeVersions          = []string{"2024-07-01", "2023-03-01"}
	roleVersions             = []string{"2022-04-01", "2015-07-01"}
	policyVersions           = []string{"2022-06-01", "2021-06-01"}
	insightsVersions         = []string{"2015-04-01"}
	featuresVersions         = []string{"2021-07-01"}
)

// providers are the namespaces and resource types mlfleet serves (TestProvidersCoverRoutes
// checks them against the routes).
var providers = []providerNamespace{
	{namespace: containerservice.Namespace, apiVersions: containerServiceVersions, types: []resourceType{
		{name: "managedClusters", tracked: true},
		{name: "managedClusters/agentPools"},
		{name: "managedClusters/upgradeProfiles"},
		{name: "managedClusters/agentPools/upgradeProfiles"},
		{name: "managedClusters/availableAgentPoolVersions"},
		// Served so that they say what mlfleet does instead: no command results (run
		// command is refused), no outbound dependencies (an empty list).
		{name: "managedClusters/commandResults"},
		{name: "managedClusters/outboundNetworkDependenciesEndpoints"},
		{name: "locations"},
		{name: "locations/orchestrators", apiVersions: orchestratorVersions},
		{name: "locations/kubernetesVersions"},
		{name: "operationStatuses"},
		{name: "operationResults"},
	}},
	{namespace: compute.Namespace, apiVersions: machineLearningVersions, types: []resourceType{
		{name: "workspaces", tracked: true},
		{name: "workspaces/computes", tracked: true},
		{name: "workspaces/blobs"},
		{name: "workspaces/models"},
		{name: "workspaces/models/versions"},
		{name: "workspaces/codes"},
		{name: "workspaces/codes/versions"},
		{name: "workspaces/environments"},
		{name: "workspaces/environments/versions"},
		{name: "workspaces/onlineEndpoints", tracked: true},
		{name: "workspaces/onlineEndpoints/deployments", tracked: true},
		{name: "workspaces/onlineEndpoints/deployments/skus"},
		// Kinds mlfleet never has: always an empty list.
		{name: "workspaces/features"},
		{name: "workspaces/batchEndpoints"},
		{name: "workspaces/jobs"},
		{name: "workspaces/datastores"},
		// Microsoft.Compute's VM sizes and usages, in Machine Learning's shape.
		{name: "locations"},
		{name: "locations/vmSizes"},
		{name: "locations/usages"},
		{name: "locations/quotas"},
		{name: "operationStatuses"},
		{name: "operationResults"},
	}},
	{namespace: "Microsoft.Resources", apiVersions: resourcesVersions, types: []resourceType{
		{name: "subscriptions"},
		{name: "resourceGroups"},
		{name: "subscriptions/resourceGroups"},
		{name: "subscriptions/resources"},
		{name: "subscriptions/resourceGroups/resources"},
		{name: "subscriptions/providers"},
		{name: "subscriptions/locations"},
		{name: "tenants"},
		// tags at any scope, and the subscription's tag names (az tag).
		{name: "tags"},
		{name: "subscriptions/tagNames"},
		{name: "subscriptions/tagNames/tagValues"},
		// Template deployments: always an empty list (mlfleet runs none, and refuses one).
		{name: "deployments"},
		{name: "operationStatuses"},
		{name: "operationResults"},
	}},
	{namespace: "Microsoft.Compute", apiVersions: computeVersions, types: []resourceType{
		{name: "locations"},
		{name: "locations/vmSizes"},
		{name: "locations/usages"},
	}},
	// Preview features: an empty list (az feature list); mlfleet has none to register.
	{namespace: "Microsoft.Features", apiVersions: featuresVersions, types: []resourceType{
		{name: "features"},
	}},
	{namespace: "Microsoft.Insights", apiVersions: insightsVersions, types: []resourceType{
		{name: "eventtypes"},
		{name: "eventtypes/values"},
	}},
	{namespace: "Microsoft.Authorization", apiVersions: roleVersions, types: []resourceType{
		{name: "roleAssignments"},
		{name: "roleDefinitions"},
		{name: "policyAssignments", apiVersions: policyVersions},
	}},
}

// trackedTypes are the full ARM types the generic resource list shows: what users create.
// The store also holds rows mlfleet keeps for itself (name and attachment claims, sealed
// secrets, leaf domain claims), which are never listed.
func trackedTypes() []string {
	var out []string
	for _, p := range providers {
		for _, t := range p.types {
			if t.tracked {
				out = append(out, p.namespace+"/"+t.name)
			}
		}
	}
	return out
}

// apiVersionsOf returns the API versions of typ in namespace, as GET …/providers lists them.
func apiVersionsOf(namespace, typ string) []string {
	for _, p := range providers {
		if !strings.EqualFold(p.namespace, namespace) {
			continue
		}
		for _, t := range p.types {
			if strings.EqualFold(t.name, typ) && t.apiVersions != nil {
				return t.apiVersions
			}
		}
		return p.apiVersions
	}
	return nil
}

// providerRoutes serve the resource provider list (az provider list/show/register) and
// ARM's generic resource list (az resource list).
func (s *Server) providerRoutes() {
	rt := &s.router
	rt.handle(http.MethodGet, subPath+"/providers", s.listProviders)
	rt.handle(http.MethodGet, subPath+"/providers/{namespace}", s.getProvider)
	rt.handle(http.MethodPost, subPath+"/providers/{namespace}/register", s.getProvider)
	rt.handle(http.MethodGet, subPath+"/resources", s.listResources)
	rt.handle(http.MethodGet, rgPath+"/resources", s.listResources)
}

// providerOf is a namespace as GET …/providers shows it: always Registered, as every
// namespace mlfleet serves is usable in every subscription. A tracked type lists every
// region mlfleet accepts; the others, like ARM's global types, list none.
func providerOf(sub string, p providerNamespace) armapi.Provider {
	b := armapi.Provider{ID: arm.SubscriptionPath(sub) + "/providers/" + p.namespace, Namespace: p.namespace,
		RegistrationState: "Registered", RegistrationPolicy: "RegistrationRequired"}
	for _, t := range p.types {
		locations := []string{}
		if t.tracked {
			locations = arm.Regions()
		}
		versions := apiVersionsOf(p.namespace, t.name)
		b.ResourceTypes = append(b.ResourceTypes, armapi.ProviderResourceType{ResourceType: t.name, Locations: locations, APIVersions: versions})
	}
	return b
}

// listProviders lists the namespaces mlfleet serves, all registered: there is nothing to
// register.
func (s *Server) listProviders(w http.ResponseWriter, r *http.Request, p params) {
	if _, err := s.cfg.Resources.GetSubscription(r.Context(), p["sub"]); err != nil {
		writeError(w, r, err)
		return
	}
	out := make([]armapi.Provider, 0, len(providers))
	for _, ns := range providers {
		out = append(out, providerOf(p["sub"], ns))
	}
	writeJSON(w, http.StatusOK, listBody{Value: out})
}

// getProvider serves one namespace; registering one (POST …/register) answers the same,
// as every namespace mlfleet serves is registered in every subscription.
func (s *Server) getProvider(w http.ResponseWriter, r *http.Request, p params) {
	if _, err := s.cfg.Resources.GetSubscription(r.Context(), p["sub"]); err != nil {
		writeError(w, r, err)
		return
	}
	for _, ns := range providers {
		if strings.EqualFold(ns.namespace, p["namespace"]) {
			writeJSON(w, http.StatusOK, providerOf(p["sub"], ns))
			return
		}
	}
	names := make([]string, len(providers))
	for i, ns := range providers {
		names[i] = ns.namespace
	}
	writeError(w, r, arm.NotFound("InvalidResourceNamespace", "The resource namespace '%s' is invalid: mlfleet serves %s.", p["namespace"], strings.Join(names, ", ")))
}

// listResources is ARM's generic resource list of a subscription or a resource group:
// every tracked resource the caller may read, with $filter, $expand, $top and paging by
// $skiptoken.
func (s *Server) listResources(w http.ResponseWriter, r *http.Request, p params) {
	pg, err := s.page(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	// The generic list continues by $skiptoken only, as ARM's does: ARM documents no $skip
	// for it, so one in the URL is ignored.
	pg.Skip = 0
	q := r.URL.Query()
	filter, err := resources.ParseFilter(q.Get("$filter"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	// $expand may name createdTime, changedTime or provisioningState (az resource list
	// --expand); naming any of them adds all three.
	expand := strings.ToLower(q.Get("$expand"))
	query := resources.GenericQuery{Subscription: p["sub"], ResourceGroup: p["rg"], Types: trackedTypes(), Filter: filter,
		Expand: strings.Contains(expand, "createdtime") || strings.Contains(expand, "changedtime") || strings.Contains(expand, "provisioningstate")}
	items, next, err := s.cfg.Resources.ListGeneric(r.Context(), query, pg)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writePage(w, r, items, next)
}
