package kubeapiserver

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"sync"

	restful "github.com/emicklei/go-restful/v3"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/mux"
	"k8s.io/apiserver/pkg/server/routes"
	"k8s.io/kube-openapi/pkg/common"
)

// The OpenAPI v2 and v3 documents of the built-in Kubernetes APIs are the largest thing an
// apiserver builds at start: kube-apiserver builds them for its core APIs in PrepareRun
// (about 0.3 s of CPU and tens of MiB of garbage), serialises the v3 ones on the first
// /openapi/v3 request (another 0.2 s), and keeps all of it for as long as it runs. Yet
// they are the same for every server of the process: the same compiled types and the same
// routes. So the core APIs of every server serve one set of documents per process, built
// on the first request that needs them (v3 when the aggregator first lists the v3
// documents, v2 when a client first asks for /openapi/v2).
//
// Only the core APIs are shared. CustomResourceDefinitions and aggregated APIs live in the
// apiextensions server and the aggregator of each cluster, which build and merge their own
// documents as kube-apiserver always does; the aggregator of each cluster still answers
// /openapi/v2 and /openapi/v3 with its cluster's merged documents.

// openAPIDocs are the lazily built OpenAPI handlers of one set of routes.
type openAPIDocs struct {
	v2Once, v3Once sync.Once
	v2, v3         http.Handler
}

// coreOpenAPI holds the shared documents by routesKey. Process-wide on purpose (see above);
// a process compiles one Kubernetes version, so it holds one entry in practice.
var coreOpenAPI = struct {
	sync.Mutex
	docs map[string]*openAPIDocs
}{docs: map[string]*openAPIDocs{}}

// installSharedOpenAPI makes core, whose config set SkipOpenAPIInstallation, serve
// /openapi/v2 and /openapi/v3 from the documents shared by every server with the same
// routes and OpenAPI settings. The first request to either path builds that version's
// documents from core's routes, exactly as GenericAPIServer.PrepareRun would have.
func installSharedOpenAPI(core *genericapiserver.GenericAPIServer, v2 *common.Config, v3 *common.OpenAPIV3Config) {
	container := core.Handler.GoRestfulContainer
	key := routesKey(container.RegisteredWebServices(), v2, v3)
	coreOpenAPI.Lock()
	docs, ok := coreOpenAPI.docs[key]
	if !ok {
		docs = &openAPIDocs{}
		coreOpenAPI.docs[key] = docs
	}
	coreOpenAPI.Unlock()

	// The closures hold this server's container and configs, not docs: a stopped server
	// is not kept alive by the shared documents.
	serveV2 := installedOnce(&docs.v2Once, &docs.v2, "shared-openapi-v2", func(m *mux.PathRecorderMux) {
		routes.OpenAPI{Config: v2}.InstallV2(container, m)
	})
	serveV3 := installedOnce(&docs.v3Once, &docs.v3, "shared-openapi-v3", func(m *mux.PathRecorderMux) {
		routes.OpenAPI{V3Config: v3}.InstallV3(container, m)
	})
	if v2 != nil {
		core.Handler.NonGoRestfulMux.Handle("/openapi/v2", serveV2)
	}
	if v3 != nil {
		core.Handler.NonGoRestfulMux.Handle("/openapi/v3", serveV3)
		core.Handler.NonGoRestfulMux.HandlePrefix("/openapi/v3/", serveV3)
	}
}

// installedOnce serves the mux named name that install fills, installing it on the first
// request (once) and keeping it in *h.
func installedOnce(once *sync.Once, h *http.Handler, name string, install func(*mux.PathRecorderMux)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() {
			m := mux.NewPathRecorderMux(name)
			install(m)
			*h = m
		})
		(*h).ServeHTTP(w, r)
	})
}

// routesKey identifies what the OpenAPI documents of a server are built from besides the
// compiled types: its routes and the titles and versions of its OpenAPI settings.
func routesKey(services []*restful.WebService, v2 *common.Config, v3 *common.OpenAPIV3Config) string {
	h := sha256.New()
	if v2 != nil && v2.Info != nil {
		fmt.Fprintf(h, "v2 %s %s\n", v2.Info.Title, v2.Info.Version)
	}
	if v3 != nil && v3.Info != nil {
		fmt.Fprintf(h, "v3 %s %s\n", v3.Info.Title, v3.Info.Version)
	}
	for _, ws := range services {
		for _, r := range ws.Routes() {
			fmt.Fprintf(h, "%s %s\n", r.Method, r.Path)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Every API group a server installs builds OpenAPI models for its resources, for
// server-side apply's type converter (GenericAPIServer.getOpenAPIModels), and each build
// asks the OpenAPI config for all the definitions of the compiled types: a fresh map of
// some 12 MiB, parts of which the models keep for as long as the server runs. The
// definitions depend only on the compiled types and on how references are spelled
// ("#/definitions/…" for v2, "#/components/schemas/…" for v3), so every server of the
// process can share one set per spelling.
var coreDefinitions = struct {
	sync.Mutex
	byRef map[string]map[string]common.OpenAPIDefinition
}{byRef: map[string]map[string]common.OpenAPIDefinition{}}

// definitionsProbe is a type whose reference shows how a ReferenceCallback spells them.
const definitionsProbe = "k8s.io/api/core/v1.Pod"

// sharedDefinitions returns get memoised for the process by reference spelling. Each call
// returns a map of its own whose definitions share everything with the memoised ones but
// their top-level extensions: the OpenAPI builders add and delete keys there (the group
// version kind, the embedded v2 schema), and nothing deeper; deeper levels they copy
// before changing.
func sharedDefinitions(get common.GetOpenAPIDefinitions) common.GetOpenAPIDefinitions {
	return func(ref common.ReferenceCallback) map[string]common.OpenAPIDefinition {
		probe := ref(definitionsProbe)
		key := probe.String()
		coreDefinitions.Lock()
		defs, ok := coreDefinitions.byRef[key]
		if !ok {
			defs = get(ref)
			coreDefinitions.byRef[key] = defs
		}
		coreDefinitions.Unlock()

		out := make(map[string]common.OpenAPIDefinition, len(defs))
		for name, d := range defs {
			d.Schema.Extensions = maps.Clone(d.Schema.Extensions)
			out[name] = d
		}
		return out
	}
}

// shareOpenAPI makes the core APIs of generic serve the process's shared documents (see
// installSharedOpenAPI) and every API group of the server build its models from the
// process's shared definitions. The apiextensions server and the aggregator share
// generic's OpenAPI configs (their configs are copies of generic's with the same
// pointers), so their models do too.
func shareOpenAPI(generic *genericapiserver.Config) {
	generic.SkipOpenAPIInstallation = true
	if generic.OpenAPIConfig != nil {
		generic.OpenAPIConfig.GetDefinitions = sharedDefinitions(generic.OpenAPIConfig.GetDefinitions)
	}
	if v3 := generic.OpenAPIV3Config; v3 != nil {
		v3.GetDefinitions = sharedDefinitions(v3.GetDefinitions)
		// DefaultOpenAPIV3Config built this server's own set as well, which the v3
		// builder would use before GetDefinitions; without it, the shared set is used
		// and the server's own is garbage.
		v3.Definitions = nil
	}
}
