package mlfleet_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// problemsOf returns the messages of a *ValidationError (nil for nil), failing the test on
// any other error.
func problemsOf(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var ve *mlfleet.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("not a *ValidationError: %T %v", err, err)
	}
	var msgs []string
	for _, p := range ve.Problems {
		if len(p.Fields) == 0 || !strings.Contains(p.Message, p.Fields[0]) {
			t.Errorf("problem %q does not name its first field %v", p.Message, p.Fields)
		}
		msgs = append(msgs, p.Message)
	}
	return msgs
}

const (
	msgSSLTogether = "TLS with your own certificate needs SSL.Cname, SSL.Cert and SSL.Key together (or SSL.LeafDomainLabel alone for a certificate issued by mlfleet)"
	msgSSLNotBoth  = "give either SSL.Cname, SSL.Cert and SSL.Key, or SSL.LeafDomainLabel, not both"
	msgOverwrite   = "SSL.OverwriteExistingDomain applies only with SSL.LeafDomainLabel"
	msgLBSubnet    = "LoadBalancerSubnet applies only with LoadBalancerType InternalLoadBalancer"
	shape          = "/subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.ContainerService/managedClusters/{name}"
	clusterID      = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1"
)

// TestProvisioningConfigValidate: azureml-core's client-side rules of
// AksCompute.provisioning_configuration, one case per rule, every problem reported.
func TestProvisioningConfigValidate(t *testing.T) {
	pem := []byte("PEM")
	vnet := mlfleet.AKSProvisioningConfig{VnetResourceGroup: "netrg", VnetName: "net", SubnetName: "default",
		ServiceCIDR: "10.0.0.0/16", DNSServiceIP: "10.0.0.10", DockerBridgeCIDR: "172.17.0.1/16"}
	cases := []struct {
		name string
		cfg  mlfleet.AKSProvisioningConfig
		want []string
	}{
		{"defaults", mlfleet.AKSProvisioningConfig{}, nil},
		{"every setting", mlfleet.AKSProvisioningConfig{AgentCount: 3, VMSize: "Standard_D3_v2", ClusterPurpose: "DenseProd", Location: "eastus",
			SSL:              mlfleet.SSLOptions{Cname: "www.example.com", CertFile: "c.pem", KeyFile: "k.pem"},
			LoadBalancerType: "InternalLoadBalancer", LoadBalancerSubnet: "s1"}, nil},
		{"inline certificate", mlfleet.AKSProvisioningConfig{SSL: mlfleet.SSLOptions{Cname: "x", Cert: pem, Key: pem}}, nil},
		{"leaf domain label with overwrite", mlfleet.AKSProvisioningConfig{SSL: mlfleet.SSLOptions{LeafDomainLabel: "l", OverwriteExistingDomain: true}}, nil},
		{"values in any case", mlfleet.AKSProvisioningConfig{ClusterPurpose: "devtest", LoadBalancerType: "internalloadbalancer", LoadBalancerSubnet: "s"}, nil},
		{"custom virtual network", vnet, nil},

		{"negative agent count", mlfleet.AKSProvisioningConfig{AgentCount: -1}, []string{"AgentCount must be a positive integer"}},
		{"unknown purpose", mlfleet.AKSProvisioningConfig{ClusterPurpose: "Prod"}, []string{`invalid ClusterPurpose "Prod": allowed values are FastProd, DenseProd, DevTest`}},
		{"unknown load balancer", mlfleet.AKSProvisioningConfig{LoadBalancerType: "Basic"}, []string{`invalid LoadBalancerType "Basic": allowed values are PublicIp, InternalLoadBalancer`}},
		{"subnet without a type", mlfleet.AKSProvisioningConfig{LoadBalancerSubnet: "s"}, []string{msgLBSubnet}},
		{"subnet with PublicIp", mlfleet.AKSProvisioningConfig{LoadBalancerType: "PublicIp", LoadBalancerSubnet: "s"}, []string{msgLBSubnet}},
		{"cname alone", mlfleet.AKSProvisioningConfig{SSL: mlfleet.SSLOptions{Cname: "x"}}, []string{msgSSLTogether}},
		{"certificate without key", mlfleet.AKSProvisioningConfig{SSL: mlfleet.SSLOptions{Cname: "x", CertFile: "c.pem"}}, []string{msgSSLTogether}},
		{"key without certificate", mlfleet.AKSProvisioningConfig{SSL: mlfleet.SSLOptions{Cname: "x", Key: pem}}, []string{msgSSLTogether}},
		{"certificate without cname", mlfleet.AKSProvisioningConfig{SSL: mlfleet.SSLOptions{Cert: pem, Key: pem}}, []string{msgSSLTogether}},
		{"certificate inline and as a file", mlfleet.AKSProvisioningConfig{SSL: mlfleet.SSLOptions{Cname: "x", Cert: pem, CertFile: "c.pem", Key: pem}},
			[]string{"give SSL.Cert or SSL.CertFile, not both"}},
		{"key inline and as a file", mlfleet.AKSProvisioningConfig{SSL: mlfleet.SSLOptions{Cname: "x", Cert: pem, Key: pem, KeyFile: "k.pem"}},
			[]string{"give SSL.Key or SSL.KeyFile, not both"}},
		{"own certificate and leaf label", mlfleet.AKSProvisioningConfig{SSL: mlfleet.SSLOptions{Cname: "x", Cert: pem, Key: pem, LeafDomainLabel: "l"}}, []string{msgSSLNotBoth}},
		{"overwrite without leaf label", mlfleet.AKSProvisioningConfig{SSL: mlfleet.SSLOptions{OverwriteExistingDomain: true}}, []string{msgOverwrite}},
		{"vnet name alone", mlfleet.AKSProvisioningConfig{VnetName: "net"}, []string{
			"a custom virtual network needs VnetName, VnetResourceGroup, SubnetName, ServiceCIDR, DNSServiceIP and DockerBridgeCIDR together " +
				"(missing: VnetResourceGroup, SubnetName, ServiceCIDR, DNSServiceIP and DockerBridgeCIDR)"}},
		{"vnet without docker bridge", func() mlfleet.AKSProvisioningConfig { c := vnet; c.DockerBridgeCIDR = ""; return c }(), []string{
			"a custom virtual network needs VnetName, VnetResourceGroup, SubnetName, ServiceCIDR, DNSServiceIP and DockerBridgeCIDR together (missing: DockerBridgeCIDR)"}},
		{"service CIDR alone", mlfleet.AKSProvisioningConfig{ServiceCIDR: "10.0.0.0/16"}, []string{
			"a custom virtual network needs VnetName, VnetResourceGroup, SubnetName, ServiceCIDR, DNSServiceIP and DockerBridgeCIDR together " +
				"(missing: VnetName, VnetResourceGroup, SubnetName, DNSServiceIP and DockerBridgeCIDR)"}},
		{"every problem at once", mlfleet.AKSProvisioningConfig{AgentCount: -3, ClusterPurpose: "x", SSL: mlfleet.SSLOptions{Cname: "c", OverwriteExistingDomain: true},
			LoadBalancerType: "PublicIp", LoadBalancerSubnet: "s"}, []string{
			"AgentCount must be a positive integer", `invalid ClusterPurpose "x": allowed values are FastProd, DenseProd, DevTest`,
			msgSSLTogether, msgOverwrite, msgLBSubnet}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if got := problemsOf(t, err); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("problems\n got %q\nwant %q", got, tc.want)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "invalid AKS provisioning configuration") {
				t.Errorf("Error() = %q", err)
			}
		})
	}
}

// TestAttachConfigValidate: azureml-core's rules of AksCompute.attach_configuration: the
// cluster named exactly one way, the resource id's shape, and the shared settings.
func TestAttachConfigValidate(t *testing.T) {
	badShape := func(id string) []string { return []string{`invalid ResourceID "` + id + `": expected ` + shape} }
	cases := []struct {
		name string
		cfg  mlfleet.AKSAttachConfig
		want []string
	}{
		{"group and name", mlfleet.AKSAttachConfig{ResourceGroup: "rg", ClusterName: "c1"}, nil},
		{"resource id", mlfleet.AKSAttachConfig{ResourceID: clusterID}, nil},
		{"resource id as az prints it", mlfleet.AKSAttachConfig{ResourceID: strings.Replace(clusterID, "resourceGroups", "resourcegroups", 1)}, nil},
		{"every setting", mlfleet.AKSAttachConfig{ResourceID: clusterID, ClusterPurpose: "DevTest", LoadBalancerType: "InternalLoadBalancer",
			LoadBalancerSubnet: "s", SSL: mlfleet.SSLOptions{LeafDomainLabel: "l"}, Force: true}, nil},

		{"nothing", mlfleet.AKSAttachConfig{}, []string{"name the cluster with ResourceGroup and ClusterName, or with ResourceID"}},
		{"group alone", mlfleet.AKSAttachConfig{ResourceGroup: "rg"}, []string{"name the cluster with ResourceGroup and ClusterName, or with ResourceID"}},
		{"name alone", mlfleet.AKSAttachConfig{ClusterName: "c1"}, []string{"name the cluster with ResourceGroup and ClusterName, or with ResourceID"}},
		{"both ways", mlfleet.AKSAttachConfig{ResourceGroup: "rg", ClusterName: "c1", ResourceID: clusterID},
			[]string{"give either ResourceGroup and ClusterName, or ResourceID, not both"}},
		{"id and group", mlfleet.AKSAttachConfig{ResourceGroup: "rg", ResourceID: clusterID},
			[]string{"give either ResourceGroup and ClusterName, or ResourceID, not both"}},
		{"id too short", mlfleet.AKSAttachConfig{ResourceID: "/subscriptions/s1/resourceGroups/rg"}, badShape("/subscriptions/s1/resourceGroups/rg")},
		{"id without leading slash", mlfleet.AKSAttachConfig{ResourceID: clusterID[1:]}, badShape(clusterID[1:])},
		{"id with a trailing slash", mlfleet.AKSAttachConfig{ResourceID: clusterID + "/"}, badShape(clusterID + "/")},
		{"id with an empty part", mlfleet.AKSAttachConfig{ResourceID: strings.Replace(clusterID, "/rg/", "//", 1)}, badShape(strings.Replace(clusterID, "/rg/", "//", 1))},
		{"id of a child resource", mlfleet.AKSAttachConfig{ResourceID: clusterID + "/agentPools/p"}, badShape(clusterID + "/agentPools/p")},
		{"id of another type", mlfleet.AKSAttachConfig{ResourceID: strings.Replace(clusterID, "managedClusters", "containerServices", 1)},
			badShape(strings.Replace(clusterID, "managedClusters", "containerServices", 1))},
		{"id of another provider", mlfleet.AKSAttachConfig{ResourceID: strings.Replace(clusterID, "Microsoft.ContainerService", "Microsoft.Compute", 1)}, []string{
			`invalid ResourceID "` + strings.Replace(clusterID, "Microsoft.ContainerService", "Microsoft.Compute", 1) +
				`": provider Microsoft.Compute is not Microsoft.ContainerService; attach takes the id of a managed cluster (` + shape + ")"}},
		{"unknown purpose", mlfleet.AKSAttachConfig{ResourceID: clusterID, ClusterPurpose: "Prod"}, []string{`invalid ClusterPurpose "Prod": allowed values are FastProd, DenseProd, DevTest`}},
		{"unknown load balancer", mlfleet.AKSAttachConfig{ResourceID: clusterID, LoadBalancerType: "Basic"}, []string{`invalid LoadBalancerType "Basic": allowed values are PublicIp, InternalLoadBalancer`}},
		{"subnet without internal load balancer", mlfleet.AKSAttachConfig{ResourceID: clusterID, LoadBalancerSubnet: "s"}, []string{msgLBSubnet}},
		{"cname alone", mlfleet.AKSAttachConfig{ResourceID: clusterID, SSL: mlfleet.SSLOptions{Cname: "x"}}, []string{msgSSLTogether}},
		{"overwrite without leaf label", mlfleet.AKSAttachConfig{ResourceID: clusterID, SSL: mlfleet.SSLOptions{OverwriteExistingDomain: true}}, []string{msgOverwrite}},
		{"every problem at once", mlfleet.AKSAttachConfig{ResourceID: "x", ClusterPurpose: "y", LoadBalancerSubnet: "s"},
			[]string{badShape("x")[0], `invalid ClusterPurpose "y": allowed values are FastProd, DenseProd, DevTest`, msgLBSubnet}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := problemsOf(t, tc.cfg.Validate()); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("problems\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestUpdateConfigValidate: the rules of an in-place update.
func TestUpdateConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		cfg  mlfleet.AKSUpdateConfig
		want []string
	}{
		{"purpose", mlfleet.AKSUpdateConfig{ClusterPurpose: "DevTest"}, nil},
		{"subnet alone (checked against the compute)", mlfleet.AKSUpdateConfig{LoadBalancerSubnet: "s"}, nil},
		{"internal load balancer with subnet", mlfleet.AKSUpdateConfig{LoadBalancerType: "InternalLoadBalancer", LoadBalancerSubnet: "s"}, nil},
		{"TLS off", mlfleet.AKSUpdateConfig{DisableSSL: true}, nil},
		{"TLS issued by mlfleet", mlfleet.AKSUpdateConfig{SSL: mlfleet.SSLOptions{LeafDomainLabel: "l"}}, nil},

		{"nothing", mlfleet.AKSUpdateConfig{}, []string{"nothing to update: set ClusterPurpose, LoadBalancerType, LoadBalancerSubnet, SSL or DisableSSL"}},
		{"subnet with PublicIp", mlfleet.AKSUpdateConfig{LoadBalancerType: "PublicIp", LoadBalancerSubnet: "s"}, []string{msgLBSubnet}},
		{"unknown purpose", mlfleet.AKSUpdateConfig{ClusterPurpose: "Prod"}, []string{`invalid ClusterPurpose "Prod": allowed values are FastProd, DenseProd, DevTest`}},
		{"TLS off and on", mlfleet.AKSUpdateConfig{DisableSSL: true, SSL: mlfleet.SSLOptions{LeafDomainLabel: "l"}}, []string{"DisableSSL cannot be combined with SSL"}},
		{"cname alone", mlfleet.AKSUpdateConfig{SSL: mlfleet.SSLOptions{Cname: "x"}}, []string{msgSSLTogether}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := problemsOf(t, tc.cfg.Validate()); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("problems\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestValidateAgentCount(t *testing.T) {
	for n, want := range map[int][]string{1: nil, 100: nil, 0: {"AgentCount must be a positive integer"}, -2: {"AgentCount must be a positive integer"}} {
		if got := problemsOf(t, mlfleet.ValidateAgentCount(n)); !reflect.DeepEqual(got, want) {
			t.Errorf("ValidateAgentCount(%d): %q, want %q", n, got, want)
		}
	}
}

// TestProblemDescribe: a problem renders with other names for its fields (the CLI's
// flags), and Fields lists every field it is about.
func TestProblemDescribe(t *testing.T) {
	err := mlfleet.AKSProvisioningConfig{SSL: mlfleet.SSLOptions{Cname: "x"}}.Validate()
	var ve *mlfleet.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 {
		t.Fatalf("%v", err)
	}
	p := ve.Problems[0]
	if want := []string{"SSL.Cname", "SSL.Cert", "SSL.Key", "SSL.LeafDomainLabel"}; !reflect.DeepEqual(p.Fields, want) {
		t.Errorf("Fields = %q, want %q", p.Fields, want)
	}
	got := p.Describe(func(f string) string { return "--" + strings.ToLower(strings.TrimPrefix(f, "SSL.")) })
	if want := "TLS with your own certificate needs --cname, --cert and --key together (or --leafdomainlabel alone for a certificate issued by mlfleet)"; got != want {
		t.Errorf("Describe:\n got %q\nwant %q", got, want)
	}
	if p.Describe(nil) != p.Message {
		t.Errorf("Describe(nil) = %q, want the message", p.Describe(nil))
	}
}

func TestSSLOptionsReadFiles(t *testing.T) {
	dir := t.TempDir()
	cert := filepath.Join(dir, "c.pem")
	if err := os.WriteFile(cert, []byte("CERT"), 0o600); err != nil {
		t.Fatal(err)
	}
	o := mlfleet.SSLOptions{Cname: "x", CertFile: cert, KeyFile: filepath.Join(dir, "missing.pem")}
	got := problemsOf(t, o.ReadFiles())
	if len(got) != 1 || !strings.HasPrefix(got[0], "read SSL.KeyFile: open ") || !strings.Contains(got[0], "missing.pem") {
		t.Errorf("problems: %q", got)
	}
	if string(o.Cert) != "CERT" || o.CertFile != "" || o.KeyFile == "" {
		t.Errorf("after ReadFiles: %+v", o)
	}
	if err := (&mlfleet.SSLOptions{LeafDomainLabel: "l"}).ReadFiles(); err != nil {
		t.Errorf("no files: %v", err)
	}
}

func TestFailedPreconditions(t *testing.T) {
	a, b := &mlfleet.Error{Code: "InsufficientCapacity"}, &mlfleet.Error{Code: "UnsupportedKubernetesVersion"}
	withDetails := &mlfleet.Error{Code: "UserError", Details: []*mlfleet.Error{a, b}}
	plain := &mlfleet.Error{Code: "Conflict"}
	for name, tc := range map[string]struct {
		err  error
		want []*mlfleet.Error
	}{
		"details":         {withDetails, []*mlfleet.Error{a, b}},
		"wrapped":         {errors.Join(errors.New("attach"), withDetails), []*mlfleet.Error{a, b}},
		"no details":      {plain, []*mlfleet.Error{plain}},
		"not from ARM":    {errors.New("x"), nil},
		"no error at all": {nil, nil},
	} {
		if got := mlfleet.FailedPreconditions(tc.err); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, want %v", name, got, tc.want)
		}
	}
}

// TestComputeNameChecked: CreateAKS, AttachAKS and their dry runs check the compute name
// by the server's rule (S4) before anything is sent, and report it with every problem of
// the configuration, first, as the field Name; an empty name says which name is empty.
func TestComputeNameChecked(t *testing.T) {
	ctx := context.Background()
	_, ws := myWorkspace(ctx)
	const invalid = `compute name (Name) "Bad_Name!" is invalid: use 3 to 24 letters, digits or '-', starting with a letter and ending with a letter or digit`
	bad := mlfleet.AKSProvisioningConfig{ClusterPurpose: "Banana", AgentCount: -2, LoadBalancerType: "x"}
	for _, tc := range []struct {
		name string
		call func() error
		want []string // the problems' messages; nil: the first only is checked
	}{
		{"CreateAKS", func() error { _, err := ws.CreateAKS(ctx, "Bad_Name!", bad); return err }, []string{invalid,
			"AgentCount must be a positive integer",
			`invalid ClusterPurpose "Banana": allowed values are FastProd, DenseProd, DevTest`,
			`invalid LoadBalancerType "x": allowed values are PublicIp, InternalLoadBalancer`}},
		{"ValidateCreateAKS", func() error { _, err := ws.ValidateCreateAKS(ctx, "Bad_Name!", bad); return err }, nil},
		{"CreateAKS with a good configuration", func() error {
			_, err := ws.CreateAKS(ctx, "Bad_Name!", mlfleet.AKSProvisioningConfig{})
			return err
		}, []string{invalid}},
		{"AttachAKS", func() error {
			_, err := ws.AttachAKS(ctx, "Bad_Name!", mlfleet.AKSAttachConfig{ClusterName: "c1"})
			return err
		}, []string{invalid, "name the cluster with ResourceGroup and ClusterName, or with ResourceID"}},
		{"ValidateAttachAKS", func() error {
			_, err := ws.ValidateAttachAKS(ctx, "Bad_Name!", mlfleet.AKSAttachConfig{ResourceGroup: fixtureGroup, ClusterName: fixtureCluster})
			return err
		}, []string{invalid}},
		{"reserved", func() error { _, err := ws.CreateAKS(ctx, "Local", mlfleet.AKSProvisioningConfig{}); return err },
			[]string{`compute name (Name) "Local" is reserved; choose another name`}},
		{"empty", func() error { _, err := ws.CreateAKS(ctx, "", mlfleet.AKSProvisioningConfig{}); return err },
			[]string{"the compute name (Name) is empty: give 3 to 24 letters, digits or '-', starting with a letter and ending with a letter or digit"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := problemsOf(t, tc.call())
			switch {
			case len(got) == 0:
				t.Fatalf("no problem reported, want %q first", invalid)
			case tc.want == nil && got[0] != invalid:
				t.Errorf("first problem %q, want %q", got[0], invalid)
			case tc.want != nil && !reflect.DeepEqual(got, tc.want):
				t.Errorf("problems\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
	if err := mlfleet.ValidateComputeName("myaks"); err != nil {
		t.Errorf("ValidateComputeName(myaks) = %v, want nil", err)
	}
}
