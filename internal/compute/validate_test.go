package compute

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/catalog"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

func TestValidateName(t *testing.T) {
	for name, ok := range map[string]bool{
		"myaks": true, "a-1-b": true, "abc": true, "A23456789012345678901234": true,
		"ab": false, "1aks": false, "-aks": false, "my_aks": false, "a234567890123456789012345": false,
		"local": false, "AmlCompute": false, "containerinstance": false, "": false,
	} {
		if got := ValidateName(name) == nil; got != ok {
			t.Errorf("ValidateName(%q) ok=%v, want %v", name, got, ok)
		}
	}
}

func TestCapacity(t *testing.T) {
	cases := []struct {
		purpose      string
		nodes, cores int
		fails, warns int
	}{
		{"FastProd", 3, 12, 0, 0},
		{"FastProd", 2, 16, 1, 0}, // enough vCPUs, too few nodes
		{"FastProd", 2, 8, 2, 0},
		{"DenseProd", 1, 16, 0, 0},
		{"DenseProd", 3, 6, 1, 0},
		{"DevTest", 1, 4, 0, 0},
		{"DevTest", 1, 1, 0, 1},
	}
	for _, tc := range cases {
		fails, warns := capacity(tc.purpose, tc.nodes, tc.cores, "cluster 'x'")
		if len(fails) != tc.fails || len(warns) != tc.warns {
			t.Errorf("%s %d nodes %d cores: %d fails %d warnings, want %d %d (%v %v)", tc.purpose, tc.nodes, tc.cores, len(fails), len(warns), tc.fails, tc.warns, fails, warns)
		}
	}
}

func TestCheckNetwork(t *testing.T) {
	const subnet = "/subscriptions/s/resourceGroups/vg/providers/Microsoft.Network/virtualNetworks/vn/subnets/default"
	cases := []struct {
		name string
		in   armapi.AKSNetworkingConfiguration
		want []string // substrings, one per expected problem
	}{
		{"valid", nc(subnet, "10.0.0.0/16", "10.0.0.10", "172.17.0.1/16"), nil},
		{"missing", armapi.AKSNetworkingConfiguration{ServiceCidr: "10.0.0.0/16"}, []string{"missing: subnetId, dnsServiceIP, dockerBridgeCidr"}},
		{"bad subnet id", nc("/subscriptions/s/resourceGroups/vg", "10.0.0.0/16", "10.0.0.10", "172.17.0.1/16"), []string{"Subnet id"}},
		{"bad cidr", nc(subnet, "10.0.0.0/33", "10.0.0.10", "172.17.0.1/16"), []string{"serviceCidr '10.0.0.0/33'"}},
		{"overlap", nc(subnet, "10.0.0.0/16", "10.0.0.10", "10.0.5.0/24"), []string{"overlaps"}},
		{"dns outside", nc(subnet, "10.0.0.0/16", "10.2.0.10", "172.17.0.1/16"), []string{"outside the service CIDR"}},
		{"dns first", nc(subnet, "10.0.0.0/16", "10.0.0.0", "172.17.0.1/16"), []string{"first address"}},
		{"dns not ipv4", nc(subnet, "10.0.0.0/16", "fd00::10", "172.17.0.1/16"), []string{"not an IPv4 address"}},
		{"all at once", nc("x", "10.0.0.0/16", "10.0.0.0", "10.0.0.0/8"), []string{"Subnet id", "overlaps", "first address"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var errs arm.Problems
			checkNetwork(&tc.in, &errs)
			if len(errs) != len(tc.want) {
				t.Fatalf("%d arm.Problems, want %d: %v", len(errs), len(tc.want), errs)
			}
			for i, w := range tc.want {
				if !strings.Contains(errs[i].Message, w) {
					t.Errorf("problem %d %q lacks %q", i, errs[i].Message, w)
				}
			}
		})
	}
}

func pemPair(t *testing.T, host string, notAfter time.Time) (string, string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: notAfter.Add(-48 * time.Hour), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalPKCS8PrivateKey(key)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}))
}

func TestReadSSL(t *testing.T) {
	cert, key := pemPair(t, "score.example.com", time.Now().Add(24*time.Hour))
	old, oldKey := pemPair(t, "score.example.com", time.Now().Add(-time.Hour))
	_, otherKey := pemPair(t, "score.example.com", time.Now().Add(24*time.Hour))
	cases := []struct {
		name   string
		in     armapi.SSLConfiguration
		status string
		want   []string
	}{
		{"disabled", armapi.SSLConfiguration{Status: "Disabled"}, "Disabled", nil},
		{"empty", armapi.SSLConfiguration{}, "Disabled", nil},
		{"enabled", armapi.SSLConfiguration{Status: "Enabled", Cert: cert, Key: key, Cname: "score.example.com"}, "Enabled", nil},
		{"status implied", armapi.SSLConfiguration{Cert: cert, Key: key, Cname: "score.example.com"}, "Enabled", nil},
		{"missing key and cname", armapi.SSLConfiguration{Status: "Enabled", Cert: cert}, "Enabled", []string{"missing: cname, key"}},
		{"expired", armapi.SSLConfiguration{Status: "Enabled", Cert: old, Key: oldKey, Cname: "score.example.com"}, "Enabled", []string{"expired"}},
		{"not a pair", armapi.SSLConfiguration{Status: "Enabled", Cert: cert, Key: otherKey, Cname: "score.example.com"}, "Enabled", []string{"do not form a pair"}},
		{"wrong cname", armapi.SSLConfiguration{Status: "Enabled", Cert: cert, Key: key, Cname: "other.example.com"}, "Enabled", []string{"does not cover cname"}},
		{"not pem", armapi.SSLConfiguration{Status: "Enabled", Cert: "hello", Key: "world", Cname: "a.b"}, "Enabled", []string{"not a PEM certificate"}},
		{"auto", armapi.SSLConfiguration{Status: "Auto", LeafDomainLabel: "myscore", OverwriteExistingDomain: true}, "Auto", nil},
		{"auto without leaf", armapi.SSLConfiguration{Status: "auto"}, "Auto", []string{"needs a leafDomainLabel"}},
		{"auto with cert", armapi.SSLConfiguration{Status: "Auto", LeafDomainLabel: "x", Cname: "a.b"}, "Auto", []string{"leafDomainLabel only"}},
		{"bad leaf", armapi.SSLConfiguration{Status: "Auto", LeafDomainLabel: "my_score"}, "Auto", []string{"is invalid"}},
		{"overwrite with own cert", armapi.SSLConfiguration{Status: "Enabled", Cert: cert, Key: key, Cname: "score.example.com", OverwriteExistingDomain: true}, "Enabled", []string{"belong to status Auto"}},
		{"bad status", armapi.SSLConfiguration{Status: "On"}, "", []string{"Disabled, Enabled or Auto"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var errs arm.Problems
			got := readSSL(&tc.in, sslSettings{}, &errs)
			if got.Status != tc.status {
				t.Errorf("status %q, want %q", got.Status, tc.status)
			}
			if len(errs) != len(tc.want) {
				t.Fatalf("%d arm.Problems, want %d: %v", len(errs), len(tc.want), errs)
			}
			for i, w := range tc.want {
				if !strings.Contains(errs[i].Message, w) {
					t.Errorf("problem %q lacks %q", errs[i].Message, w)
				}
			}
		})
	}
	// An update that leaves the key out keeps the stored one for the same certificate.
	var errs arm.Problems
	got := readSSL(&armapi.SSLConfiguration{Status: "Enabled", Cert: cert, Cname: "score.example.com"}, sslSettings{Status: "Enabled", Cert: cert, Key: key}, &errs)
	if len(errs) != 0 || got.Key != key {
		t.Fatalf("key not kept: %v", errs)
	}
}

func TestReadSettings(t *testing.T) {
	sizes := catalog.DefaultVMSizes()
	n := func(i int) *int { return &i }
	s := func(v string) *string { return &v }
	cases := []struct {
		name string
		in   *armapi.AKSProperties
		want settings
		errs int
	}{
		{"defaults", nil, defaults(), 0},
		{"set", &armapi.AKSProperties{AgentCount: n(5), AgentVMSize: s("standard_nc6"), ClusterPurpose: s("devtest"), LoadBalancerType: s("internalloadbalancer")},
			settings{AgentCount: 5, VMSize: "Standard_NC6", Purpose: "DevTest", LB: "InternalLoadBalancer", Subnet: "aks-subnet", SSL: sslSettings{Status: "Disabled"}}, 0},
		{"internal with subnet", &armapi.AKSProperties{LoadBalancerType: s("InternalLoadBalancer"), LoadBalancerSubnet: s("sn")},
			settings{AgentCount: 3, VMSize: DefaultVMSize, Purpose: "FastProd", LB: "InternalLoadBalancer", Subnet: "sn", SSL: sslSettings{Status: "Disabled"}}, 0},
		{"subnet with Azure's characters", &armapi.AKSProperties{LoadBalancerType: s("InternalLoadBalancer"), LoadBalancerSubnet: s("aks.subnet-1_")},
			settings{AgentCount: 3, VMSize: DefaultVMSize, Purpose: "FastProd", LB: "InternalLoadBalancer", Subnet: "aks.subnet-1_", SSL: sslSettings{Status: "Disabled"}}, 0},
		{"path for a subnet", &armapi.AKSProperties{LoadBalancerType: s("InternalLoadBalancer"), LoadBalancerSubnet: s("../../etc")}, defaults(), 1},
		{"subnet with a space", &armapi.AKSProperties{LoadBalancerType: s("InternalLoadBalancer"), LoadBalancerSubnet: s("bad subnet")}, defaults(), 1},
		{"subnet ending with a period", &armapi.AKSProperties{LoadBalancerType: s("InternalLoadBalancer"), LoadBalancerSubnet: s("sn.")}, defaults(), 1},
		{"all wrong", &armapi.AKSProperties{AgentCount: n(-1), AgentVMSize: s("Standard_Nope"), ClusterPurpose: s("Prod"), LoadBalancerType: s("Public"), LoadBalancerSubnet: s("sn")}, defaults(), 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var errs arm.Problems
			got := readSettings(tc.in, defaults(), sizes, true, &errs)
			if len(errs) != tc.errs {
				t.Fatalf("%d arm.Problems, want %d: %v", len(errs), tc.errs, errs)
			}
			if tc.errs == 0 && got != tc.want {
				t.Fatalf("settings %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestDerivedState(t *testing.T) {
	cond := func(typ, status string) armapi.Condition { return armapi.Condition{Type: typ, Status: status} }
	cases := []struct {
		conds []armapi.Condition
		want  string
	}{
		{[]armapi.Condition{cond(armapi.ConditionReachable, "True"), cond(armapi.ConditionComponentsReady, "True")}, armapi.StateSucceeded},
		{[]armapi.Condition{cond(armapi.ConditionReachable, "True"), cond(armapi.ConditionCapacitySufficient, "False")}, armapi.StateFailed},
		{[]armapi.Condition{cond(armapi.ConditionReachable, "False"), cond(armapi.ConditionComponentsReady, "Unknown")}, armapi.StateUnknown},
		// A version out of support is a warning: AKS keeps such a cluster running.
		{[]armapi.Condition{cond(armapi.ConditionReachable, "True"), cond(armapi.ConditionVersionSupported, "False"), cond(armapi.ConditionComponentsReady, "True")}, armapi.StateSucceeded},
		{[]armapi.Condition{cond(armapi.ConditionVersionSupported, "False"), cond(armapi.ConditionCapacitySufficient, "False")}, armapi.StateFailed},
	}
	for _, tc := range cases {
		if got := derivedState(tc.conds); got != tc.want {
			t.Errorf("derivedState(%v) = %s, want %s", tc.conds, got, tc.want)
		}
	}
	// A condition keeps its transition time while its status stays.
	var conds []armapi.Condition
	t0 := time.Unix(100, 0)
	setCondition(&conds, cond(armapi.ConditionReachable, "True"), t0)
	setCondition(&conds, armapi.Condition{Type: armapi.ConditionReachable, Status: "True", Message: "again"}, t0.Add(time.Minute))
	if !conds[0].LastTransitionTime.Equal(t0) || conds[0].Message != "again" {
		t.Fatalf("unchanged status moved the transition time: %+v", conds[0])
	}
	setCondition(&conds, cond(armapi.ConditionReachable, "False"), t0.Add(2*time.Minute))
	if !conds[0].LastTransitionTime.Equal(t0.Add(2 * time.Minute)) {
		t.Fatalf("status change kept the old transition time: %+v", conds[0])
	}
}

func nc(subnet, serviceCIDR, dnsIP, bridge string) armapi.AKSNetworkingConfiguration {
	return armapi.AKSNetworkingConfiguration{SubnetID: subnet, ServiceCidr: serviceCIDR, DNSServiceIP: dnsIP, DockerBridgeCidr: bridge}
}
