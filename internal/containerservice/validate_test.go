package containerservice

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// TestValidate runs create bodies through Validate: every problem of a body is reported in
// one 400, each with its target, and a valid body gets az aks create's defaults.
func TestValidate(t *testing.T) {
	s := newService(t, storetest.OpenSQLite(t), `{}`)
	ctx := context.Background()
	for _, tc := range []struct {
		name, clusterName, body string
		wantCode                string   // "" = valid
		wantTargets             []string // every target of the details (or of the one error)
		wantText                string   // in the message of the error or of one of its details
	}{
		{name: "defaults", body: `{"location": "westus"}`},
		{name: "location from the group", body: `{}`},
		{name: "invalid name", clusterName: "-bad-", body: `{}`, wantCode: arm.CodeInvalidResourceName, wantTargets: []string{"resourceName"}},
		{name: "dns prefix of one character", body: `{"properties": {"dnsPrefix": "a"}}`},
		{name: "dns prefix of 54 characters", body: `{"properties": {"dnsPrefix": "` + strings.Repeat("a-", 26) + `b9"}}`},
		{name: "dns prefix with bad characters", body: `{"properties": {"dnsPrefix": "-bad_prefix!"}}`, wantCode: "InvalidParameter", wantTargets: []string{"properties.dnsPrefix"},
			wantText: "use 1 to 54 letters, digits and '-', starting and ending with a letter or digit"},
		{name: "dns prefix ending in a hyphen", body: `{"properties": {"dnsPrefix": "prefix-"}}`, wantCode: "InvalidParameter", wantTargets: []string{"properties.dnsPrefix"}},
		{name: "dns prefix of 55 characters", body: `{"properties": {"dnsPrefix": "` + strings.Repeat("a", 55) + `"}}`, wantCode: "InvalidParameter", wantTargets: []string{"properties.dnsPrefix"}},
		{name: "dns prefix with a dot", body: `{"properties": {"dnsPrefix": "my.cluster"}}`, wantCode: "InvalidParameter", wantTargets: []string{"properties.dnsPrefix"}},
		{name: "unknown provider", body: `{"properties": {"mlfleet": {"provider": "gke"}}}`, wantCode: "InvalidParameter", wantTargets: []string{"properties.mlfleet.provider"}},
		{name: "every pool problem together", body: `{"properties": {"kubernetesVersion": "1.2.3", "agentPoolProfiles": [
			{"name": "Pool_1", "count": 0, "vmSize": "Standard_Nope"}, {"name": "p2", "mode": "Spot"}, {"name": "p2"}]}}`,
			wantCode: "InvalidParameter", wantTargets: []string{"properties.kubernetesVersion",
				"properties.agentPoolProfiles[0].name", "properties.agentPoolProfiles[0].count", "properties.agentPoolProfiles[0].vmSize",
				"properties.agentPoolProfiles[1].mode", "properties.agentPoolProfiles[2].name"}},
		{name: "network", body: `{"properties": {"networkProfile": {"loadBalancerSku": "premium", "outboundType": "nat",
			"serviceCidr": "10.1.0.0/16", "dnsServiceIP": "10.2.0.10", "podCidr": "nope"}}}`,
			wantCode: "InvalidParameter", wantTargets: []string{"properties.networkProfile.loadBalancerSku", "properties.networkProfile.outboundType",
				"properties.networkProfile.dnsServiceIP", "properties.networkProfile.podCidr"}},
		{name: "dns service ip is the network address", body: `{"properties": {"networkProfile": {"serviceCidr": "10.1.0.0/16", "dnsServiceIP": "10.1.0.0"}}}`,
			wantCode: "InvalidParameter", wantTargets: []string{"properties.networkProfile.dnsServiceIP"}},
		{name: "authorized ranges need a standard load balancer", body: `{"properties": {"networkProfile": {"loadBalancerSku": "basic"},
			"apiServerAccessProfile": {"authorizedIPRanges": ["10.0.0.0/8", "not-an-ip"]}}}`,
			wantCode: "InvalidParameter", wantTargets: []string{"properties.apiServerAccessProfile.authorizedIPRanges", "properties.apiServerAccessProfile.authorizedIPRanges"}},
		{name: "private cluster with authorized ranges", body: `{"properties": {"apiServerAccessProfile": {"enablePrivateCluster": true, "authorizedIPRanges": ["1.2.3.4"]}}}`,
			wantCode: "InvalidParameter", wantTargets: []string{"properties.apiServerAccessProfile"}},
		{name: "autoscaler bounds and profile", body: `{"properties": {"agentPoolProfiles": [{"name": "p1", "enableAutoScaling": true, "minCount": 5, "maxCount": 2}],
			"autoScalerProfile": {"scan-interval": "soon"}}}`,
			wantCode: "InvalidParameter", wantTargets: []string{"properties.agentPoolProfiles[0].minCount", "properties.autoScalerProfile.scan-interval"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var in armapi.ClusterInput
			if err := json.Unmarshal([]byte(tc.body), &in); err != nil {
				t.Fatal(err)
			}
			name := tc.clusterName
			if name == "" {
				name = "aks1"
			}
			nc, err := s.Validate(ctx, testSub, testRG, name, in, "")
			if tc.wantCode == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				p := nc.cluster.Properties
				if nc.cluster.Location != "westus" || len(p.AgentPoolProfiles) != 1 || p.AgentPoolProfiles[0].Count != DefaultNodeCount ||
					p.AgentPoolProfiles[0].VMSize != DefaultVMSize || p.NetworkProfile.ServiceCidr != DefaultService || p.ProvisioningState != armapi.StateCreating {
					t.Errorf("defaults not applied: %+v", nc.cluster)
				}
				return
			}
			var ae *arm.Error
			if !errors.As(err, &ae) || ae.Status != 400 || ae.Code != tc.wantCode {
				t.Fatalf("Validate = %v, want a 400 %s", err, tc.wantCode)
			}
			var targets []string
			for _, d := range ae.Details {
				targets = append(targets, d.Target)
			}
			if len(ae.Details) == 0 {
				targets = []string{ae.Target}
			}
			slices.Sort(targets)
			want := slices.Clone(tc.wantTargets)
			slices.Sort(want)
			if !slices.Equal(targets, want) {
				t.Errorf("targets %q, want %q (%s)", targets, want, ae.Message)
			}
			text := ae.Message
			for _, d := range ae.Details {
				text += "\n" + d.Message
			}
			if !strings.Contains(text, tc.wantText) {
				t.Errorf("message %q does not say %q", text, tc.wantText)
			}
		})
	}
}

// TestValidateRegistration: a cluster registered from its kubeconfig (a provider that
// cannot create) has the kubeconfig read on the request, so that one that is not a
// kubeconfig, or lacks the context named, is a 400 at properties.mlfleet.kubeconfig rather
// than an operation that fails later. No cluster is contacted.
func TestValidateRegistration(t *testing.T) {
	s := newService(t, storetest.OpenSQLite(t), `{}`)
	const kubeconfig = `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: ctx1, context: {cluster: c, user: u}}]
current-context: ctx1
`
	for _, tc := range []struct {
		name, kubeconfig, context string
		wantText                  string // "" = valid
	}{
		{name: "valid", kubeconfig: kubeconfig},
		{name: "valid, context named", kubeconfig: kubeconfig, context: "ctx1"},
		{name: "missing", wantText: "needs properties.mlfleet.kubeconfig"},
		{name: "not a kubeconfig", kubeconfig: "!!!", wantText: "The kubeconfig cannot be used"},
		{name: "context it lacks", kubeconfig: kubeconfig, context: "other", wantText: `no context "other" (it has: ctx1)`},
		{name: "no server", kubeconfig: "apiVersion: v1\nkind: Config\n", wantText: "The kubeconfig cannot be used"},
		{name: "exec plugin", kubeconfig: strings.Replace(kubeconfig, "{token: t}", "{exec: {apiVersion: client.authentication.k8s.io/v1, command: touch, interactiveMode: Never}}", 1),
			wantText: "--allow-kubeconfig-exec"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var in armapi.ClusterInput
			in.Location = "westus"
			in.Properties.Mlfleet = &armapi.MlfleetProperties{Provider: "external", Kubeconfig: tc.kubeconfig, Context: tc.context}
			_, err := s.Validate(context.Background(), testSub, testRG, "reg1", in, "")
			if tc.wantText == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var ae *arm.Error
			if !errors.As(err, &ae) || ae.Status != 400 || ae.Target != "properties.mlfleet.kubeconfig" || !strings.Contains(ae.Message, tc.wantText) {
				t.Fatalf("Validate = %v (target %q), want a 400 at properties.mlfleet.kubeconfig saying %q", err, targetOf(err), tc.wantText)
			}
		})
	}
}

// targetOf is the target of err when it is an ARM error.
func targetOf(err error) string {
	var ae *arm.Error
	if errors.As(err, &ae) {
		return ae.Target
	}
	return ""
}

// TestDefaultDNSPrefix: the DNS prefix mlfleet derives when a request has none passes the
// rule a request's own prefix must pass, whatever the cluster and group names ARM allows.
func TestDefaultDNSPrefix(t *testing.T) {
	for _, tc := range []struct{ name, cluster, group string }{
		{"short names", "a", "r"},
		{"underscores", "a_b_c", "rg_1"},
		{"hyphens where the name is cut", "a---------b", "g---------------x"},
		{"group of punctuation only", "aks1", "(._-)"},
		{"longest names", strings.Repeat("x", 63), strings.Repeat("y", 90)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := dnsPrefix(tc.cluster, tc.group, testSub)
			if !dnsPrefixPattern.MatchString(p) {
				t.Errorf("dnsPrefix(%q, %q) = %q, which the dnsPrefix rule refuses", tc.cluster, tc.group, p)
			}
		})
	}
}

// TestUpdateKeepsDNSPrefix: the DNS prefix names the API server in every kubeconfig handed
// out, so a PUT with another prefix is refused, naming the field, and changes nothing; a PUT
// that repeats it, in any case, as az aks update does, passes.
func TestUpdateKeepsDNSPrefix(t *testing.T) {
	t.Parallel()
	st := storetest.OpenSQLite(t)
	s := newService(t, st, `{}`)
	ctx := context.Background()
	in := clusterInput(1, "Standard_D3_v2")
	in.Properties.DNSPrefix = "first"
	mustPut(t, s, "prefixed", in)
	finishOperations(t, st)

	in.Properties.DNSPrefix = "second"
	_, _, _, err := s.Put(ctx, testSub, testRG, "prefixed", in, arm.Preconditions{})
	var ae *arm.Error
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Code != "PropertyChangeNotAllowed" || ae.Target != "properties.dnsPrefix" {
		t.Fatalf("a change of prefix: %v, want a 400 PropertyChangeNotAllowed on properties.dnsPrefix", err)
	}
	mc, err := s.Get(ctx, testSub, testRG, "prefixed")
	if err != nil || mc.Properties.DNSPrefix != "first" {
		t.Fatalf("after the refusal the prefix is %q (%v), want first", mc.Properties.DNSPrefix, err)
	}

	in.Properties.DNSPrefix = "FIRST"
	if _, _, _, err := s.Put(ctx, testSub, testRG, "prefixed", in, arm.Preconditions{}); err != nil {
		t.Fatalf("a PUT repeating the prefix: %v", err)
	}
}
