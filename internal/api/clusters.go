package api

import (
	"net/http"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/catalog"
	"github.com/mlfleet/mlfleet/internal/containerservice"
	"github.com/mlfleet/mlfleet/internal/resources"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

const (
	csSubPath = subPath + "/providers/Microsoft.ContainerService"
	mcPath    = rgPath + "/providers/Microsoft.ContainerService/managedClusters/{name}"
)

// clusterRoutes serves Microsoft.ContainerService: managed clusters, their agent pools,
// upgrade profiles and credentials, and the per-location Kubernetes version lists.
func (s *Server) clusterRoutes() {
	rt := &s.router
	rt.handle(http.MethodGet, csSubPath+"/managedClusters", s.listClusters)
	rt.handle(http.MethodGet, rgPath+"/providers/Microsoft.ContainerService/managedClusters", s.listClusters)
	rt.resource(mcPath, resourceHandlers{put: s.putCluster, patch: s.patchCluster, get: s.getCluster, head: s.headCluster, delete: s.deleteCluster})
	rt.handle(http.MethodGet, mcPath+"/agentPools", s.listPools)
	rt.handle(http.MethodGet, mcPath+"/agentPools/{pool}", s.getPool)
	rt.handle(http.MethodPut, mcPath+"/agentPools/{pool}", s.putPool)
	rt.handle(http.MethodDelete, mcPath+"/agentPools/{pool}", s.deletePool)
	rt.handle(http.MethodGet, mcPath+"/agentPools/{pool}/upgradeProfiles/{profile}", s.getPoolUpgradeProfile)
	rt.handle(http.MethodPost, mcPath+"/agentPools/{pool}/upgradeNodeImageVersion", s.upgradeNodeImage)
	rt.handle(http.MethodGet, mcPath+"/upgradeProfiles/{profile}", s.getUpgradeProfile)
	rt.handle(http.MethodPost, mcPath+"/listClusterUserCredential", s.clusterCredentials(false))
	rt.handle(http.MethodPost, mcPath+"/listClusterAdminCredential", s.clusterCredentials(true))
	rt.handle(http.MethodPost, mcPath+"/stop", s.unsupportedClusterAction("stop"))
	rt.handle(http.MethodPost, mcPath+"/start", s.unsupportedClusterAction("start"))
	rt.handle(http.MethodPost, mcPath+"/rotateClusterCertificates", s.unsupportedClusterAction("rotateClusterCertificates"))
	rt.handle(http.MethodPost, mcPath+"/runCommand", s.unsupportedClusterAction("runCommand"))
	rt.handle(http.MethodGet, mcPath+"/commandResults/{command}", s.unsupportedClusterAction("commandResults"))
	rt.handle(http.MethodPost, mcPath+"/listClusterMonitoringUserCredential", s.unsupportedClusterAction("listClusterMonitoringUserCredential"))
	rt.handle(http.MethodGet, mcPath+"/outboundNetworkDependenciesEndpoints", s.outboundEndpoints)
	rt.handle(http.MethodGet, mcPath+"/availableAgentPoolVersions", s.availablePoolVersions)
	rt.handle(http.MethodGet, csSubPath+"/locations/{location}/orchestrators", s.orchestrators)
	rt.handle(http.MethodGet, csSubPath+"/locations/{location}/kubernetesVersions", s.kubernetesVersions)
}

func (s *Server) listClusters(w http.ResponseWriter, r *http.Request, p params) {
	replyPage(s, w, r, func(pg resources.Page) ([]*armapi.ManagedCluster, string, error) {
		return s.cfg.Clusters.List(r.Context(), p["sub"], p["rg"], pg)
	})
}

func (s *Server) putCluster(w http.ResponseWriter, r *http.Request, p params) {
	servePut(s, w, r, containerservice.Namespace, func(in armapi.ClusterInput, pre arm.Preconditions) (written, error) {
		mc, created, op, err := s.cfg.Clusters.Put(r.Context(), p["sub"], p["rg"], p["name"], in, pre)
		if err != nil {
			return written{}, err
		}
		return written{Value: mc, ETag: mc.ETag, Created: created, Operation: op}, nil
	})
}

// clusterPatch is the body of a cluster PATCH: ARM's ManagedClusters_UpdateTags takes
// only tags.
type clusterPatch struct {
	Tags map[string]string `json:"tags"`
}

// patchCluster replaces the tags of an existing cluster (az aks update --tags, the Go
// SDK's BeginUpdateTags) through the cluster update a PUT makes. Tags alone start no
// operation, so the answer is a 200 with the cluster; a client polling an LRO takes a
// 200 without Azure-AsyncOperation as done.
func (s *Server) patchCluster(w http.ResponseWriter, r *http.Request, p params) {
	servePut(s, w, r, containerservice.Namespace, func(patch clusterPatch, pre arm.Preconditions) (written, error) {
		mc, op, err := s.cfg.Clusters.Patch(r.Context(), p["sub"], p["rg"], p["name"], armapi.ClusterInput{Tags: patch.Tags}, pre)
		if err != nil {
			return written{}, err
		}
		return written{Value: mc, ETag: mc.ETag, Operation: op}, nil
	})
}

func (s *Server) headCluster(w http.ResponseWriter, r *http.Request, p params) {
	_, err := s.cfg.Clusters.Get(r.Context(), p["sub"], p["rg"], p["name"])
	replyHead(w, err)
}

// getCluster answers the cluster with its ETag header, which If-Match on a PUT or DELETE
// compares.
func (s *Server) getCluster(w http.ResponseWriter, r *http.Request, p params) {
	mc, err := s.cfg.Clusters.Get(r.Context(), p["sub"], p["rg"], p["name"])
	if err != nil {
		writeError(w, r, err)
		return
	}
	replyTagged(w, r, mc, mc.ETag, nil)
}

func (s *Server) deleteCluster(w http.ResponseWriter, r *http.Request, p params) {
	s.serveDelete(w, r, containerservice.Namespace, func(pre arm.Preconditions) (*store.Operation, error) {
		return s.cfg.Clusters.Delete(r.Context(), p["sub"], p["rg"], p["name"], pre)
	})
}

func (s *Server) listPools(w http.ResponseWriter, r *http.Request, p params) {
	pools, err := s.cfg.Clusters.ListPools(r.Context(), p["sub"], p["rg"], p["name"])
	reply(w, r, http.StatusOK, listBody{Value: pools}, err)
}

func (s *Server) getPool(w http.ResponseWriter, r *http.Request, p params) {
	pool, err := s.cfg.Clusters.GetPool(r.Context(), p["sub"], p["rg"], p["name"], p["pool"])
	reply(w, r, http.StatusOK, pool, err)
}

// putPool changes one agent pool (az aks nodepool scale/update): its count or its
// autoscaler bounds. It runs as an operation of the cluster, like a cluster update, and
// honours If-Match with the pool's eTag (AgentPoolsClientBeginCreateOrUpdateOptions.IfMatch).
func (s *Server) putPool(w http.ResponseWriter, r *http.Request, p params) {
	servePut(s, w, r, containerservice.Namespace, func(in armapi.AgentPoolPut, pre arm.Preconditions) (written, error) {
		pool, op, err := s.cfg.Clusters.ScalePool(r.Context(), p["sub"], p["rg"], p["name"], p["pool"], in, pre)
		if err != nil {
			return written{}, err
		}
		return written{Value: pool, ETag: pool.Properties.ETag, Operation: op}, nil
	})
}

// unsupportedClusterAction serves an AKS action mlfleet does not run (az aks stop, az aks
// start) with a 400 that says so and what to do instead, rather than the 404 of a path no
// API answers, which reads as a missing cluster.
func (s *Server) unsupportedClusterAction(action string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p params) {
		writeError(w, r, s.cfg.Clusters.RefuseAction(r.Context(), p["sub"], p["rg"], p["name"], action))
	}
}

// outboundEndpoints serves the endpoints a cluster's nodes must reach
// (outboundNetworkDependenciesEndpoints): none, as mlfleet's nodes are simulated by its
// server and pull nothing; a 404 for a missing cluster.
func (s *Server) outboundEndpoints(w http.ResponseWriter, r *http.Request, p params) {
	if _, err := s.cfg.Clusters.Get(r.Context(), p["sub"], p["rg"], p["name"]); err != nil {
		writeError(w, r, err)
		return
	}
	emptyList(w, r, p)
}

// availablePoolVersions serves the versions an agent pool of the cluster can run.
func (s *Server) availablePoolVersions(w http.ResponseWriter, r *http.Request, p params) {
	v, err := s.cfg.Clusters.AvailablePoolVersions(r.Context(), p["sub"], p["rg"], p["name"])
	reply(w, r, http.StatusOK, v, err)
}

// upgradeNodeImage serves az aks upgrade --node-image-only, which mlfleet does not run,
// with a 400 that says so, as unsupportedClusterAction does.
func (s *Server) upgradeNodeImage(w http.ResponseWriter, r *http.Request, p params) {
	writeError(w, r, s.cfg.Clusters.RefuseNodeImageUpgrade(r.Context(), p["sub"], p["rg"], p["name"], p["pool"]))
}

// deletePool serves az aks nodepool delete, which mlfleet does not run, with a 400 that
// says so, as unsupportedClusterAction does.
func (s *Server) deletePool(w http.ResponseWriter, r *http.Request, p params) {
	writeError(w, r, s.cfg.Clusters.RefusePoolDelete(r.Context(), p["sub"], p["rg"], p["name"], p["pool"]))
}

// getPoolUpgradeProfile serves az aks nodepool get-upgrades: the pool's version, no upgrades.
func (s *Server) getPoolUpgradeProfile(w http.ResponseWriter, r *http.Request, p params) {
	profile, err := s.cfg.Clusters.PoolUpgradeProfile(r.Context(), p["sub"], p["rg"], p["name"], p["pool"], p["profile"])
	reply(w, r, http.StatusOK, profile, err)
}

func (s *Server) getUpgradeProfile(w http.ResponseWriter, r *http.Request, p params) {
	profile, err := s.cfg.Clusters.UpgradeProfile(r.Context(), p["sub"], p["rg"], p["name"], p["profile"])
	reply(w, r, http.StatusOK, profile, err)
}

// clusterCredentials serves listClusterUserCredential (admin false) and
// listClusterAdminCredential: the kubeconfigs az aks get-credentials writes.
func (s *Server) clusterCredentials(admin bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p params) {
		creds, err := s.cfg.Clusters.Credentials(r.Context(), p["sub"], p["rg"], p["name"], admin)
		reply(w, r, http.StatusOK, creds, err)
	}
}

// subscriptionLocation checks the {location} and {sub} path segments of a per-location
// catalog (versions, VM sizes, usages) of typ, a location type of namespace (e.g.
// "locations/orchestrators" of Microsoft.ContainerService), and returns the location's
// canonical name. A location that is no Azure region is ARM's 400
// NoRegisteredProviderFound naming the regions there are. The catalogs are the same in
// every subscription, but one that does not exist is still a 404, as for anything under it.
func (s *Server) subscriptionLocation(r *http.Request, p params, namespace, typ string) (string, error) {
	loc, ok := arm.NormalizeLocation(p["location"])
	if !ok {
		return "", noProviderAt(r, p["location"], namespace, typ, arm.Regions())
	}
	if _, err := s.cfg.Resources.GetSubscription(r.Context(), p["sub"]); err != nil {
		return "", err
	}
	return loc, nil
}

// versionsLocation is subscriptionLocation for the Kubernetes version lists of typ: a
// region for which the server's version catalog lists no versions (a --versions-file
// without it and without "*") is the same 400 NoRegisteredProviderFound, naming the
// locations the catalog has, rather than an empty list: AKS answers so where it is not
// offered, and az aks get-versions then says why instead of printing nothing.
func (s *Server) versionsLocation(r *http.Request, p params, typ string) (string, *catalog.Versions, error) {
	loc, err := s.subscriptionLocation(r, p, containerservice.Namespace, typ)
	if err != nil {
		return "", nil, err
	}
	versions := s.cfg.Clusters.Versions()
	if len(versions.For(loc)) > 0 {
		return loc, versions, nil
	}
	var offered []string
	for _, l := range versions.Locations() {
		if l != "*" {
			offered = append(offered, l)
		}
	}
	return "", nil, noProviderAt(r, loc, containerservice.Namespace, typ, offered)
}

// noProviderAt is ARM's 400 NoRegisteredProviderFound for a location where typ of namespace
// is not offered, in ARM's words ("No registered resource provider found for location 'x'
// and API version 'v' for type 't'. The supported api-versions are '…'. The supported
// locations are '…'."), which az prints as it is: the locations to use instead are in it.
func noProviderAt(r *http.Request, loc, namespace, typ string, supported []string) *arm.Error {
	return arm.BadRequest(arm.CodeNoRegisteredProviderFound,
		"No registered resource provider found for location '%s' and API version '%s' for type '%s'. The supported api-versions are '%s'. The supported locations are '%s'.",
		loc, r.URL.Query().Get("api-version"), typ, strings.Join(apiVersionsOf(namespace, typ), ", "), strings.Join(supported, ", "))
}

// orchestrators serves the old-generation versions list (what `az aks get-versions` read
// when the seed was written). No version lists upgrades: mlfleet does not upgrade clusters
// (every cluster's upgrade profile lists none and az aks upgrade is refused), and az prints
// a version without upgrades as "None available".
func (s *Server) orchestrators(w http.ResponseWriter, r *http.Request, p params) {
	loc, versions, err := s.versionsLocation(r, p, "locations/orchestrators")
	if err != nil {
		writeError(w, r, err)
		return
	}
	list := versions.For(loc)
	out := armapi.Orchestrators{
		ID:   arm.SubscriptionPath(p["sub"]) + "/providers/Microsoft.ContainerService/locations/" + loc + "/orchestrators",
		Name: "default",
		Type: "Microsoft.ContainerService/locations/orchestrators",
	}
	for i := len(list) - 1; i >= 0; i-- { // newest first, as ARM lists them
		v := list[i]
		out.Properties.Orchestrators = append(out.Properties.Orchestrators,
			armapi.Orchestrator{OrchestratorType: "Kubernetes", OrchestratorVersion: v.Version, Default: boolOrNil(v.Default), IsPreview: boolOrNil(v.Preview)})
	}
	writeJSON(w, http.StatusOK, out)
}

// kubernetesVersions serves the new-generation versions list, grouped by minor version:
// one entry per major.minor with its patch versions, newest first. A minor is the default
// if any of its patches is, and preview only if all of them are. Every patch's upgrades
// are an empty list, as the orchestrators list says (see there).
func (s *Server) kubernetesVersions(w http.ResponseWriter, r *http.Request, p params) {
	loc, versions, err := s.versionsLocation(r, p, "locations/kubernetesVersions")
	if err != nil {
		writeError(w, r, err)
		return
	}
	type patch struct {
		Upgrades []string `json:"upgrades"`
	}
	type minor struct {
		Version       string           `json:"version"`
		IsDefault     bool             `json:"isDefault,omitempty"`
		IsPreview     bool             `json:"isPreview,omitempty"`
		Capabilities  map[string]any   `json:"capabilities"`
		PatchVersions map[string]patch `json:"patchVersions"`
	}
	var out []*minor
	byMinor := map[string]*minor{}
	list := versions.For(loc)
	for i := len(list) - 1; i >= 0; i-- {
		v := list[i]
		key := strings.Join(strings.Split(v.Version, ".")[:2], ".")
		m, ok := byMinor[key]
		if !ok {
			m = &minor{Version: key, IsPreview: v.Preview, PatchVersions: map[string]patch{},
				Capabilities: map[string]any{"supportPlan": []string{"KubernetesOfficial"}}}
			byMinor[key] = m
			out = append(out, m)
		}
		m.IsDefault = m.IsDefault || v.Default
		m.IsPreview = m.IsPreview && v.Preview
		// An empty list, never null: a client that loops over a patch's upgrades must not
		// meet null.
		m.PatchVersions[v.Version] = patch{Upgrades: []string{}}
	}
	writeJSON(w, http.StatusOK, map[string]any{"values": out})
}

// boolOrNil is ARM's spelling of the orchestrators' flags: true, or null (never false).
func boolOrNil(b bool) *bool {
	if !b {
		return nil
	}
	return &b
}
