package cli

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"
)

// The fuzz targets below feed the CLI's parsers of flag values and files arbitrary input.
// The rule they check: bad input never panics and is refused with a usage error that says
// what to write instead; what is accepted is within the parser's stated bounds.
// Run one with: go test -run='^$' -fuzz='^FuzzParseByteSize$' -fuzztime=60s ./internal/cli

// wantUsage fails unless err is a *UsageError whose message holds hint.
func wantUsage(t *testing.T, what string, err error, hint string) {
	t.Helper()
	var ue *UsageError
	if !errors.As(err, &ue) {
		t.Fatalf("%s: error %v (%T) is not a usage error", what, err, err)
	}
	if !strings.Contains(err.Error(), hint) {
		t.Fatalf("%s: error %q does not say %q", what, err, hint)
	}
}

func FuzzParseByteSize(f *testing.F) {
	for _, s := range []string{"1048576", "512MiB", "2GiB", "64KiB", "10B", " 3 MiB ", "0", "-1GiB",
		"1MB", "4611686018427387904", "4294967296GiB", "GiB", "", "1e6", "+5KiB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseByteSize(s)
		if err != nil {
			if !strings.Contains(err.Error(), "KiB, MiB or GiB") {
				t.Fatalf("parseByteSize(%q) error %q does not say what to write", s, err)
			}
			return
		}
		if n <= 0 || n > 1<<62 {
			t.Fatalf("parseByteSize(%q) = %d, outside (0, 2^62]", s, n)
		}
	})
}

func FuzzParseTraffic(f *testing.F) {
	for _, s := range []string{"blue=90 green=10", "blue=100", "blue=90,green=10", "", " , ", "blue", "=5", "blue=",
		"blue=x", "blue=-5", "blue=1=2", "blue=99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseTraffic(s)
		if err != nil {
			wantUsage(t, "--traffic "+strconv.Quote(s), err, "deployment=percent")
			return
		}
		// Every pair is name=integer, and nothing else in s was taken as one.
		for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' }) {
			name, pct, _ := strings.Cut(part, "=")
			if _, err := strconv.Atoi(pct); name == "" || err != nil {
				t.Fatalf("--traffic %q: pair %q accepted, which is not deployment=percent", s, part)
			}
			if _, ok := got[name]; !ok {
				t.Fatalf("--traffic %q: %q missing from %v", s, name, got)
			}
		}
	})
}

func FuzzParseOffset(f *testing.F) {
	for _, s := range []string{"6h", "1d", "1d12h", "1d12h30m", "30m", "", "h", "1h1d", "-1h", "99999999999999999999d",
		"9223372036854775807m", "106751d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseOffset(s)
		if err != nil {
			wantUsage(t, "--offset "+strconv.Quote(s), err, "--offset")
			return
		}
		if d < 0 {
			t.Fatalf("--offset %q = %v, a negative offset", s, d)
		}
	})
}

func FuzzParseTags(f *testing.F) {
	f.Add("a=b c=d", "")
	f.Add("a=b,c=d", "e")
	f.Add("=x", "k==v")
	f.Add("", "  ")
	f.Fuzz(func(t *testing.T, a, b string) {
		tags, err := parseTags([]string{a, b})
		if err != nil {
			wantUsage(t, "--tags", err, "key[=value]")
			return
		}
		for k := range tags {
			if strings.TrimFunc(k, unicode.IsSpace) == "" {
				t.Fatalf("--tags %q %q: key %q accepted", a, b, k)
			}
		}
	})
}

// FuzzParseSpec feeds the YAML files of `ml online-endpoint/online-deployment create -f`
// to both spec types, and resolves the references of what parses the ways that need no
// server.
func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{
		"$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json\nname: ep\nauth_mode: key\ntraffic: {blue: 100}\n",
		"name: blue\nendpoint_name: ep\nmodel: azureml:m:1\nenvironment: {image: nginx}\ninstance_count: 2\n" +
			"code_configuration: {code: ./src, scoring_script: score.py}\nrequest_settings: {request_timeout_ms: 1500}\n" +
			"liveness_probe: {period: 10, initial_delay: -1}\n",
		`{"name": "ep", "tags": {"a": "b"}}`,
		"nmae: typo\n", "- a\n- b\n", "null\n", "", "name: [1, 2]\n", "instance_count: 1e99\n", "traffic: {blue: x}\n",
		"a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\n" +
			"d: &d [*c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e]\n",
	} {
		f.Add([]byte(s))
	}
	a := offlineAssets(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		var ep endpointSpec
		if err := parseSpec("ep.yml", b, &ep); err != nil {
			wantUsage(t, "endpoint spec", err, "ep.yml")
		}
		var d deploymentSpec
		if err := parseSpec("blue.yml", b, &d); err != nil {
			wantUsage(t, "deployment spec", err, "blue.yml")
			return
		}
		d.LivenessProbe.settings()
		d.ReadinessProbe.settings()
		a.computeID(d.Compute)
		for _, ref := range []any{d.Model, d.Environment} {
			s, _ := ref.(string)
			if id, ok := armRef(s); ok && !strings.HasPrefix(s, "azureml:"+id) {
				t.Fatalf("armRef(%q) = %q, not the id it holds", s, id)
			}
			if _, _, ok := assetRef(s); ok != strings.HasPrefix(s, "azureml:") {
				t.Fatalf("assetRef(%q): ok %v", s, ok)
			}
		}
	})
}

// FuzzKubeconfig feeds the kubeconfig handling of get-credentials arbitrary kubeconfigs,
// as the server's answer (kc) and as the file being merged into (file).
func FuzzKubeconfig(f *testing.F) {
	valid := "apiVersion: v1\nkind: Config\nclusters:\n- name: c1\n  cluster: {server: 'https://127.0.0.1:6443'}\n" +
		"users:\n- name: clusterAdmin_rg_c1\n  user: {token: t}\ncontexts:\n- name: c1\n  context: {cluster: c1, user: clusterAdmin_rg_c1}\n" +
		"current-context: c1\n"
	f.Add([]byte(valid), []byte(valid), "ctx")
	f.Add([]byte(valid), []byte(""), "")
	f.Add([]byte("contexts:\n- name: x\n"), []byte("current-context: missing\n"), "x")
	f.Add([]byte("{}"), []byte("clusters: [{name: c1}]\ncontexts: [{name: c1, context: {cluster: zz}}]\n"), "c1")
	f.Add([]byte("apiVersion: v2\nkind: Nonsense\n"), []byte("- a\n"), "-")
	f.Fuzz(func(t *testing.T, kc, file []byte, name string) {
		if out, err := adminContext(kc); err == nil {
			if _, err := clientcmd.Load(out); err != nil {
				t.Fatalf("adminContext wrote a kubeconfig that does not load: %v", err)
			}
		}
		if out, err := renameContext(kc, name); err == nil && name != "" {
			cfg, err := clientcmd.Load(out)
			if err != nil {
				t.Fatalf("renameContext wrote a kubeconfig that does not load: %v", err)
			}
			if cfg.CurrentContext != name {
				t.Fatalf("renameContext(%q): current context %q", name, cfg.CurrentContext)
			}
		}
		path := filepath.Join(t.TempDir(), "config")
		if err := os.WriteFile(path, file, 0o600); err != nil {
			t.Fatal(err)
		}
		_ = checkKubeconfigConflicts(path, kc) // any answer but a panic will do
		want, err := mergeKubeconfig(path, kc)
		if err != nil {
			return
		}
		cfg, err := clientcmd.LoadFromFile(path)
		if err != nil {
			t.Fatalf("merge wrote a kubeconfig that does not load: %v", err)
		}
		if cfg.CurrentContext != want {
			t.Fatalf("merge: current context %q, want %q", cfg.CurrentContext, want)
		}
	})
}

// FuzzNodeFlags feeds aks nodepool update's --labels (given twice) and --node-taints
// arbitrary values.
func FuzzNodeFlags(f *testing.F) {
	f.Add("a=1 b=2", "c=", "key=value:NoSchedule, k2=v2:NoExecute")
	f.Add("", "", "")
	f.Add("=x", "a==b", " , ")
	f.Add("a", "a=b=c", ",")
	f.Fuzz(func(t *testing.T, l1, l2, taints string) {
		var n nodeFlags
		cmd := &cobra.Command{}
		n.bind(cmd.Flags())
		for _, l := range []string{l1, l2} {
			if err := cmd.Flags().Set("labels", l); err != nil {
				t.Fatalf("--labels %q: %v", l, err)
			}
		}
		if err := cmd.Flags().Set("node-taints", taints); err != nil {
			t.Fatalf("--node-taints %q: %v", taints, err)
		}
		labels, ts, err := n.settings(cmd)
		if err != nil {
			wantUsage(t, "--labels", err, "key=value")
			return
		}
		for k, v := range labels {
			if k == "" || strings.ContainsFunc(k, unicode.IsSpace) || strings.Contains(v, "=") {
				t.Fatalf("--labels %q %q: label %q=%q accepted", l1, l2, k, v)
			}
		}
		for _, taint := range ts {
			if taint != strings.TrimSpace(taint) {
				t.Fatalf("--node-taints %q: taint %q not trimmed", taints, taint)
			}
		}
	})
}

// FuzzAutoscalerProfile feeds --cluster-autoscaler-profile arbitrary values.
func FuzzAutoscalerProfile(f *testing.F) {
	f.Add("scan-interval=20s scale_down_delay_after_add=5m")
	f.Add("=x")
	f.Add("a")
	f.Add("a=b=c")
	f.Fuzz(func(t *testing.T, s string) {
		a := autoscaleFlags{profile: []string{s}}
		p, err := a.profileMap()
		if err != nil {
			wantUsage(t, "--cluster-autoscaler-profile", err, "key=value")
			return
		}
		for k := range p {
			if k == "" || strings.Contains(k, "_") || strings.ContainsFunc(k, unicode.IsSpace) {
				t.Fatalf("--cluster-autoscaler-profile %q: key %q accepted", s, k)
			}
		}
	})
}
