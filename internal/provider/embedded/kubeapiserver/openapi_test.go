package kubeapiserver

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// TestOpenAPIDocuments checks what clients read from /openapi/v2 and /openapi/v3, whose
// core part every server of the process shares (openapi.go): the built-in types are there
// on every server, a CRD only on the cluster that has it, and kubectl apply and explain,
// which read them, work.
func TestOpenAPIDocuments(t *testing.T) {
	a, b := sharedServers(t)
	ctx := context.Background()
	clientA, clientB := clientFor(t, a.AdminKubeconfig()), clientFor(t, b.AdminKubeconfig())

	for name, client := range map[string]kubernetes.Interface{"a": clientA, "b": clientB} {
		for _, tc := range []struct{ path, want string }{
			{"/openapi/v2", `"io.k8s.api.apps.v1.Deployment"`},
			{"/openapi/v3", `"apis/apps/v1"`},
			{"/openapi/v3/apis/apps/v1", `"io.k8s.api.apps.v1.Deployment"`},
			{"/openapi/v3/api/v1", `"io.k8s.api.core.v1.Service"`},
			{"/openapi/v3/apis/apiextensions.k8s.io/v1", `"io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition"`},
			{"/openapi/v3/apis/apiregistration.k8s.io/v1", `"io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIService"`},
		} {
			body, err := rawGet(ctx, client, tc.path)
			if err != nil {
				t.Errorf("%s: GET %s: %v", name, tc.path, err)
				continue
			}
			if !strings.Contains(body, tc.want) {
				t.Errorf("%s: GET %s: no %s in %d bytes", name, tc.path, tc.want, len(body))
			}
		}
	}

	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("no kubectl on PATH")
	}
	dir := t.TempDir()
	run := func(s *Server, stdin string, args ...string) (string, error) {
		kubeconfig := filepath.Join(dir, s.id+".kubeconfig")
		if err := os.WriteFile(kubeconfig, s.AdminKubeconfig(), 0o600); err != nil {
			t.Fatal(err)
		}
		cmdCtx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		cmd := exec.CommandContext(cmdCtx, kubectl, append([]string{"--kubeconfig", kubeconfig}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	// Client-side apply twice: the second computes a strategic merge patch from the
	// OpenAPI documents.
	for _, replicas := range []string{"1", "2"} {
		if out, err := run(a, deploymentManifest(replicas), "apply", "-f", "-"); err != nil {
			t.Fatalf("kubectl apply (replicas %s): %v\n%s", replicas, err, out)
		}
	}
	t.Cleanup(func() { run(a, "", "delete", "deployment", "openapi-check", "--wait=false") })
	if out, err := run(a, "", "get", "deployment", "openapi-check", "-o", "jsonpath={.spec.replicas}"); err != nil || out != "2" {
		t.Errorf("replicas after the second apply = %q, %v; want 2", out, err)
	}
	if out, err := run(a, "", "explain", "deployment.spec.replicas"); err != nil || !strings.Contains(out, "replicas") {
		t.Errorf("kubectl explain deployment.spec.replicas: %v\n%s", err, out)
	}

	// Server-side apply on B, whose models come from the definitions A's servers built
	// (sharedDefinitions): the apiserver merges the second apply by the Deployment's schema.
	for _, replicas := range []string{"1", "3"} {
		if out, err := run(b, deploymentManifest(replicas), "apply", "--server-side", "--field-manager", "check", "-f", "-"); err != nil {
			t.Fatalf("kubectl apply --server-side on B (replicas %s): %v\n%s", replicas, err, out)
		}
	}
	t.Cleanup(func() { run(b, "", "delete", "deployment", "openapi-check", "--wait=false") })
	if out, err := run(b, "", "get", "deployment", "openapi-check", "-o", "jsonpath={.spec.replicas} {.metadata.managedFields[0].manager}"); err != nil || out != "3 check" {
		t.Errorf("B's deployment after two server-side applies = %q, %v; want replicas 3 managed by check", out, err)
	}

	// A CRD in A shows in A's documents only.
	if out, err := run(a, widgetCRD, "apply", "-f", "-"); err != nil {
		t.Fatalf("kubectl apply CRD: %v\n%s", err, out)
	}
	t.Cleanup(func() { run(a, "", "delete", "crd", "widgets.openapi.mlfleet.test", "--wait=false") })
	if out, err := run(a, "", "wait", "--for=condition=Established", "crd/widgets.openapi.mlfleet.test"); err != nil {
		t.Fatalf("kubectl wait for the CRD: %v\n%s", err, out)
	}
	// The aggregator picks up the CRD's documents within a few seconds.
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := run(a, "", "explain", "widgets.spec.size")
		if err == nil && strings.Contains(out, "size") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("kubectl explain widgets.spec.size in A: %v\n%s", err, out)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if body, err := rawGet(ctx, clientA, "/openapi/v2"); err != nil || !strings.Contains(body, "test.mlfleet.openapi.v1.Widget") {
		t.Errorf("A's /openapi/v2 has no Widget (err %v)", err)
	}
	if body, err := rawGet(ctx, clientB, "/openapi/v2"); err != nil || strings.Contains(body, "test.mlfleet.openapi.v1.Widget") {
		t.Errorf("B's /openapi/v2 has A's Widget, or failed (err %v)", err)
	}
	if out, err := run(b, "", "explain", "widgets"); err == nil {
		t.Errorf("kubectl explain widgets in B succeeded:\n%s", out)
	}
}

// rawGet reads path from the apiserver of client.
func rawGet(ctx context.Context, client kubernetes.Interface, path string) (string, error) {
	body, err := client.Discovery().RESTClient().Get().AbsPath(path).DoRaw(ctx)
	return string(body), err
}

func deploymentManifest(replicas string) string {
	return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: openapi-check
  namespace: default
spec:
  replicas: ` + replicas + `
  selector:
    matchLabels: {app: openapi-check}
  template:
    metadata:
      labels: {app: openapi-check}
    spec:
      containers:
      - name: main
        image: registry.invalid/openapi-check:1
`
}

const widgetCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.openapi.mlfleet.test
spec:
  group: openapi.mlfleet.test
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size:
                type: integer
                description: size of the widget
`

// TestSharedDefinitionsAreBuiltOnceAndCopiedAtTheTop checks the memo of sharedDefinitions:
// one build per reference spelling, and each caller's top-level extensions its own, since
// the OpenAPI builders write there.
func TestSharedDefinitionsAreBuiltOnceAndCopiedAtTheTop(t *testing.T) {
	builds := 0
	get := func(ref common.ReferenceCallback) map[string]common.OpenAPIDefinition {
		builds++
		part := ref("example.test/v1.Part")
		return map[string]common.OpenAPIDefinition{
			"example.test/v1.Thing": {Schema: spec.Schema{
				VendorExtensible: spec.VendorExtensible{Extensions: spec.Extensions{"x-original": true}},
				SchemaProps:      spec.SchemaProps{Description: part.String()},
			}},
		}
	}
	v2 := func(name string) spec.Ref { return spec.MustCreateRef("#/definitions/" + name) }
	v3 := func(name string) spec.Ref { return spec.MustCreateRef("#/components/schemas/" + name) }
	shared := sharedDefinitions(get)

	first := shared(v3)
	first["example.test/v1.Thing"].Schema.Extensions["x-gvk"] = "written by a builder"
	delete(first["example.test/v1.Thing"].Schema.Extensions, "x-original")
	second := shared(v3)
	if builds != 1 {
		t.Errorf("definitions built %d times for one spelling, want 1", builds)
	}
	if ext := second["example.test/v1.Thing"].Schema.Extensions; len(ext) != 1 || ext["x-original"] != true {
		t.Errorf("second caller's extensions = %v, want only the original one", ext)
	}

	if got := shared(v2)["example.test/v1.Thing"].Schema.Description; got != "#/definitions/example.test/v1.Part" {
		t.Errorf("v2 spelling got description %q, want a v2 reference", got)
	}
	if builds != 2 {
		t.Errorf("definitions built %d times for two spellings, want 2", builds)
	}
}
