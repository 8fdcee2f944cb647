package containerservice

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/provider"
	"github.com/mlfleet/mlfleet/internal/provider/providertest"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// wantBadRequest fails unless err is a 400 of code whose targets (its details', or its
// own) are targets and whose text says text.
func wantBadRequest(t *testing.T, err error, code string, targets []string, text string) {
	t.Helper()
	var ae *arm.Error
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Code != code {
		t.Fatalf("error = %v, want a 400 %s", err, code)
	}
	got := []string{ae.Target}
	msg := ae.Message
	if len(ae.Details) > 0 {
		got = nil
		for _, d := range ae.Details {
			got = append(got, d.Target)
			msg += "\n" + d.Message
		}
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(targets))
	if !slices.Equal(got, want) {
		t.Errorf("targets %q, want %q (%s)", got, want, msg)
	}
	if !strings.Contains(msg, text) {
		t.Errorf("message %q does not say %q", msg, text)
	}
}

// TestPoolSettingsValidate: a create body's pool settings are checked by AKS's and
// Kubernetes' rules, every problem reported together with its target.
func TestPoolSettingsValidate(t *testing.T) {
	s := newService(t, storetest.OpenSQLite(t), `{}`)
	ctx := context.Background()
	pool := `"properties": {"agentPoolProfiles": [{"name": "nodepool1", `
	for _, tc := range []struct {
		name, pool string
		targets    []string // nil: valid
		text       string
	}{
		{name: "every setting", pool: `"nodeLabels": {"team": "qa", "example.com/tier": "gold"}, "nodeTaints": ["sku=gpu:NoSchedule", "dedicated:NoExecute"],
			"maxPods": 250, "osDiskSizeGB": 2048, "tags": {"owner": "qa"}`},
		{name: "bounds", pool: `"maxPods": 10, "osDiskSizeGB": 0`},
		{name: "os disk at AKS's minimum", pool: `"osDiskSizeGB": 30`},
		{name: "maxPods too few", pool: `"maxPods": 9`, targets: []string{".maxPods"}, text: "maxPods 9 is out of range: use 10 to 250"},
		{name: "maxPods too many", pool: `"maxPods": 251`, targets: []string{".maxPods"}, text: "use 10 to 250"},
		{name: "os disk too large", pool: `"osDiskSizeGB": 2049`, targets: []string{".osDiskSizeGB"}, text: "use 30 to 2048, or 0 for the default (128)"},
		{name: "os disk below AKS's minimum", pool: `"osDiskSizeGB": 10`, targets: []string{".osDiskSizeGB"}, text: "osDiskSizeGB 10 is out of range: use 30 to 2048"},
		{name: "os disk negative", pool: `"osDiskSizeGB": -1`, targets: []string{".osDiskSizeGB"}},
		{name: "labels", pool: `"nodeLabels": {"bad key!": "x", "team": "not valid!", "kubernetes.azure.com/mode": "user", "node.kubernetes.io/x": "y", "agentpool": "p"}`,
			targets: []string{".nodeLabels", ".nodeLabels", ".nodeLabels", ".nodeLabels", ".nodeLabels"}, text: "node label key 'kubernetes.azure.com/mode' is reserved"},
		{name: "taints", pool: `"nodeTaints": ["sku=gpu:NoSchedul", "sku=gpu", "bad key=x:NoSchedule", "k=bad value:NoSchedule", "a=1:NoSchedule", "a=2:NoSchedule"]`,
			targets: []string{".nodeTaints", ".nodeTaints", ".nodeTaints", ".nodeTaints", ".nodeTaints"}, text: "effect 'NoSchedul' is not one of NoSchedule, PreferNoSchedule, NoExecute"},
		{name: "tags", pool: `"tags": {"a/b": "x"}`, targets: []string{".tags"}, text: "reserved characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var in armapi.ClusterInput
			if err := json.Unmarshal([]byte(`{`+pool+tc.pool+`}]}}`), &in); err != nil {
				t.Fatal(err)
			}
			_, err := s.Validate(ctx, testSub, testRG, "aks1", in, "")
			if tc.targets == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var targets []string
			for _, x := range tc.targets {
				targets = append(targets, "properties.agentPoolProfiles[0]"+x)
			}
			code := "InvalidParameter"
			if len(tc.targets) == 1 && tc.targets[0] == ".tags" {
				code = "InvalidTagNameCharacters"
			}
			wantBadRequest(t, err, code, targets, tc.text)
		})
	}
}

// TestPoolSettingsStored: what az aks create --nodepool-labels --nodepool-tags
// --node-taints --max-pods --node-osdisk-size sends is stored, served by GET (cluster and
// agent pool) and handed to the provider; a pool without them gets AKS's defaults.
func TestPoolSettingsStored(t *testing.T) {
	t.Parallel()
	st := storetest.OpenSQLite(t)
	s := newService(t, st, `{}`)
	ctx := context.Background()
	var in armapi.ClusterInput
	body := `{"location": "westus", "properties": {"agentPoolProfiles": [{"name": "nodepool1", "count": 2,
		"nodeLabels": {"team": "qa", "tier": "gold"}, "nodeTaints": ["sku=gpu:NoSchedule"], "maxPods": 50, "osDiskSizeGB": 64, "tags": {"owner": "qa"}}]}}`
	if err := json.Unmarshal([]byte(body), &in); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, "labelled", in)
	finishOperations(t, st)
	want := armapi.AgentPoolProperties{MaxPods: 50, OSDiskSizeGB: 64, NodeLabels: map[string]string{"team": "qa", "tier": "gold"},
		NodeTaints: []string{"sku=gpu:NoSchedule"}, Tags: map[string]string{"owner": "qa"}}
	check := func(what string, got armapi.AgentPoolProperties, want armapi.AgentPoolProperties) {
		t.Helper()
		if got.MaxPods != want.MaxPods || got.OSDiskSizeGB != want.OSDiskSizeGB || !maps.Equal(got.NodeLabels, want.NodeLabels) ||
			!slices.Equal(got.NodeTaints, want.NodeTaints) || !maps.Equal(got.Tags, want.Tags) {
			t.Errorf("%s: maxPods %d, osDiskSizeGB %d, nodeLabels %v, nodeTaints %v, tags %v; want %d, %d, %v, %v, %v", what,
				got.MaxPods, got.OSDiskSizeGB, got.NodeLabels, got.NodeTaints, got.Tags,
				want.MaxPods, want.OSDiskSizeGB, want.NodeLabels, want.NodeTaints, want.Tags)
		}
	}
	mc, err := s.Get(ctx, testSub, testRG, "labelled")
	if err != nil {
		t.Fatal(err)
	}
	check("GET cluster", mc.Properties.AgentPoolProfiles[0].AgentPoolProperties, want)
	ap, err := s.GetPool(ctx, testSub, testRG, "labelled", "nodepool1")
	if err != nil {
		t.Fatal(err)
	}
	check("GET agent pool", ap.Properties, want)
	l, err := s.load(ctx, mc.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := l.spec.Pools[0]
	if got.MaxPods != 50 || !maps.Equal(got.Labels, want.NodeLabels) || !slices.Equal(got.Taints, []provider.Taint{{Key: "sku", Value: "gpu", Effect: "NoSchedule"}}) {
		t.Errorf("the provider is given %+v, want the labels, the taint and maxPods 50", got)
	}

	mustPut(t, s, "plain", clusterInput(1, "Standard_D3_v2"))
	ap, err = s.GetPool(ctx, testSub, testRG, "plain", "nodepool1")
	if err != nil {
		t.Fatal(err)
	}
	check("GET agent pool without settings", ap.Properties, armapi.AgentPoolProperties{MaxPods: 110, OSDiskSizeGB: 128})
}

// TestPoolSettingsUpdate: az aks nodepool update --labels/--node-taints/--tags (a PUT of
// the agent pool with its whole body, as GET served it) and az aks update (a PUT of the
// cluster) change the pool's labels, taints and tags; the labels and taints run as an
// update of the nodes; maxPods and osDiskSizeGB cannot change; a registered cluster's
// nodes are set where they run.
func TestPoolSettingsUpdate(t *testing.T) {
	t.Parallel()
	st := storetest.OpenSQLite(t)
	s := newService(t, st, `{}`)
	s.cfg.Providers["external"] = providertest.InfoOnly{I: provider.Info{Name: "external"}}
	ctx := context.Background()
	for _, name := range []string{"c1", "ext"} {
		mustPut(t, s, name, clusterInput(1, "Standard_D3_v2"))
	}
	finishOperations(t, st)
	// A registered cluster's row, with the pool record() read from its nodes.
	if _, err := store.Modify(ctx, st, ID(testSub, testRG, "ext"), func(r *store.Resource) error {
		mc, err := clusterRecord.Read(r.ID, r.Body)
		if err != nil {
			return err
		}
		mc.Properties.Mlfleet.Provider = "external"
		r.Body = clusterRecord.Encode(mc)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// nodepoolUpdate PUTs the pool as GET serves it, changed by change, as az does.
	nodepoolUpdate := func(cluster string, change func(*armapi.AgentPoolPut)) (*armapi.AgentPool, *store.Operation, error) {
		t.Helper()
		ap, err := s.GetPool(ctx, testSub, testRG, cluster, "nodepool1")
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(ap)
		var in armapi.AgentPoolPut
		if err := json.Unmarshal(raw, &in); err != nil {
			t.Fatal(err)
		}
		change(&in)
		return s.ScalePool(ctx, testSub, testRG, cluster, "nodepool1", in, arm.Preconditions{})
	}

	ap, op, err := nodepoolUpdate("c1", func(in *armapi.AgentPoolPut) {
		in.Properties.NodeLabels = map[string]string{"a": "b"}
		in.Properties.NodeTaints = []string{"sku=gpu:NoSchedule"}
	})
	if err != nil {
		t.Fatal(err)
	}
	if op == nil || op.Kind != KindUpdate || ap.Properties.ProvisioningState != armapi.StateUpdating {
		t.Fatalf("a change of labels and taints: operation %+v, state %s; want an update running", op, ap.Properties.ProvisioningState)
	}
	var upd updateOp
	if err := json.Unmarshal(op.Input, &upd); err != nil || !upd.Nodes {
		t.Errorf("update operation %s (%v): want nodes to apply", op.Input, err)
	}
	finishOperations(t, st)
	ap, err = s.GetPool(ctx, testSub, testRG, "c1", "nodepool1")
	if err != nil || !maps.Equal(ap.Properties.NodeLabels, map[string]string{"a": "b"}) || !slices.Equal(ap.Properties.NodeTaints, []string{"sku=gpu:NoSchedule"}) {
		t.Fatalf("after the update: %+v (%v), want label a=b and taint sku=gpu:NoSchedule", ap, err)
	}

	// Tags alone change no node: stored at once, no operation.
	ap, op, err = nodepoolUpdate("c1", func(in *armapi.AgentPoolPut) { in.Properties.Tags = map[string]string{"owner": "qa"} })
	if err != nil || op != nil || !maps.Equal(ap.Properties.Tags, map[string]string{"owner": "qa"}) || ap.Properties.NodeLabels["a"] != "b" {
		t.Fatalf("a change of tags: %+v, operation %v, %v; want the tags stored, labels kept, no operation", ap, op, err)
	}

	// The cluster's PUT changes them too; an empty map clears the labels.
	var in armapi.ClusterInput
	in.Properties.AgentPoolProfiles = []armapi.AgentPoolInput{{Name: "nodepool1", AgentPoolSettings: armapi.AgentPoolSettings{NodeLabels: map[string]string{}}}}
	got, _, op, err := s.Put(ctx, testSub, testRG, "c1", in, arm.Preconditions{})
	if err != nil || op == nil || got.Properties.AgentPoolProfiles[0].NodeLabels != nil || len(got.Properties.AgentPoolProfiles[0].NodeTaints) != 1 {
		t.Fatalf("clear the labels: %+v, operation %v, %v; want no labels, the taint kept, an update", got.Properties.AgentPoolProfiles, op, err)
	}
	finishOperations(t, st)

	_, _, err = nodepoolUpdate("c1", func(in *armapi.AgentPoolPut) { in.Properties.MaxPods = intp(30) })
	wantBadRequest(t, err, "PropertyChangeNotAllowed", []string{"properties.maxPods"}, "maxPods cannot be changed after the pool is created")
	_, _, err = nodepoolUpdate("c1", func(in *armapi.AgentPoolPut) { in.Properties.OSDiskSizeGB = intp(256) })
	wantBadRequest(t, err, "PropertyChangeNotAllowed", []string{"properties.osDiskSizeGB"}, "is 128 GB and cannot be changed")
	_, _, err = nodepoolUpdate("c1", func(in *armapi.AgentPoolPut) { in.Properties.NodeTaints = []string{"sku=gpu:Sometimes"} })
	wantBadRequest(t, err, "InvalidParameter", []string{"properties.nodeTaints"}, "effect 'Sometimes' is not one of")
	if ap, err := s.GetPool(ctx, testSub, testRG, "c1", "nodepool1"); err != nil || ap.Properties.MaxPods != 110 || ap.Properties.OSDiskSizeGB != 128 || len(ap.Properties.NodeTaints) != 1 {
		t.Fatalf("after the refusals: %+v (%v), want the pool unchanged", ap, err)
	}

	// A registered cluster: labels, taints and maxPods are set where it runs; tags are ours.
	for field, change := range map[string]func(*armapi.AgentPoolPut){
		"nodeLabels": func(in *armapi.AgentPoolPut) { in.Properties.NodeLabels = map[string]string{"a": "b"} },
		"nodeTaints": func(in *armapi.AgentPoolPut) { in.Properties.NodeTaints = []string{"sku=gpu:NoSchedule"} },
		"maxPods":    func(in *armapi.AgentPoolPut) { in.Properties.MaxPods = intp(30) },
	} {
		_, _, err = nodepoolUpdate("ext", change)
		wantBadRequest(t, err, "InvalidParameter", []string{"properties." + field}, "Clusters of the external provider are set where they run")
	}
	if ap, op, err := nodepoolUpdate("ext", func(in *armapi.AgentPoolPut) { in.Properties.Tags = map[string]string{"owner": "qa"} }); err != nil || op != nil || ap.Properties.Tags["owner"] != "qa" {
		t.Fatalf("tags of a registered cluster's pool: %+v, operation %v, %v; want them stored", ap, op, err)
	}
}
