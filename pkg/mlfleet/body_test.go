package mlfleet

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// The request bodies the configurations make, and the progress printer, without a server.

// marshal returns v as generic JSON, the way the server reads it.
func marshal(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// set returns the keys of an object whose value is not null.
func set(m any) map[string]any {
	out := map[string]any{}
	mm, _ := m.(map[string]any)
	for k, v := range mm {
		if v != nil {
			out[k] = v
		}
	}
	return out
}

func sameJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	if string(gb) != string(wb) {
		t.Errorf("%s\n got %s\nwant %s", what, gb, wb)
	}
}

func TestCreateBody(t *testing.T) {
	t.Run("defaults: only location and type", func(t *testing.T) {
		m := marshal(t, AKSProvisioningConfig{}.compute("sub1", "westus"))
		if m["location"] != "westus" {
			t.Errorf("location = %v, want the workspace's", m["location"])
		}
		props := m["properties"].(map[string]any)
		if props["computeType"] != "AKS" {
			t.Errorf("computeType = %v", props["computeType"])
		}
		if _, ok := props["computeLocation"]; ok {
			t.Errorf("computeLocation sent without Location: %v", props)
		}
		if got := set(props["properties"]); len(got) != 0 {
			t.Errorf("AKS settings sent that the user did not give: %v", got)
		}
		if props["resourceId"] != nil || props["description"] != nil {
			t.Errorf("a create sends no resourceId nor description: %v", props)
		}
	})
	t.Run("every setting, values made canonical", func(t *testing.T) {
		cfg := AKSProvisioningConfig{AgentCount: 2, VMSize: "Standard_D2_v2", ClusterPurpose: "devtest", Location: "eastus", Description: "d",
			LoadBalancerType: "internalloadbalancer", LoadBalancerSubnet: "s1", SSL: SSLOptions{LeafDomainLabel: "leaf"},
			VnetName: "net", VnetResourceGroup: "netrg", SubnetName: "default", ServiceCIDR: "10.0.0.0/16", DNSServiceIP: "10.0.0.10", DockerBridgeCIDR: "172.17.0.1/16"}
		m := marshal(t, cfg.compute("sub1", "westus"))
		props := m["properties"].(map[string]any)
		if props["computeLocation"] != "eastus" || props["description"] != "d" {
			t.Errorf("properties: %v", props)
		}
		sameJSON(t, "AKS properties", set(props["properties"]), map[string]any{
			"agentCount": 2, "agentVmSize": "Standard_D2_v2", "clusterPurpose": "DevTest",
			"loadBalancerType": "InternalLoadBalancer", "loadBalancerSubnet": "s1",
			"sslConfiguration": map[string]any{"status": "Auto", "leafDomainLabel": "leaf"},
			"aksNetworkingConfiguration": map[string]any{
				"subnetId":    "/subscriptions/sub1/resourceGroups/netrg/providers/Microsoft.Network/virtualNetworks/net/subnets/default",
				"serviceCidr": "10.0.0.0/16", "dnsServiceIP": "10.0.0.10", "dockerBridgeCidr": "172.17.0.1/16"},
		})
	})
	t.Run("own certificate", func(t *testing.T) {
		cfg := AKSProvisioningConfig{SSL: SSLOptions{Cname: "www.example.com", Cert: []byte("CERT"), Key: []byte("KEY")}}
		got := cfg.compute("s", "westus").Properties.Properties.SSLConfiguration
		if want := (SSLConfiguration{Status: SSLEnabled, Cert: "CERT", Key: "KEY", Cname: "www.example.com"}); got == nil || *got != want {
			t.Errorf("sslConfiguration %+v, want %+v", got, want)
		}
	})
}

func TestAttachBody(t *testing.T) {
	const id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c"
	cases := map[string]AKSAttachConfig{
		"by resource id":           {ResourceID: id, ClusterPurpose: "DevTest"},
		"by group and clustername": {ResourceGroup: "rg", ClusterName: "c", ClusterPurpose: "devtest"},
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			m := marshal(t, cfg.compute("s", "westus"))
			props := m["properties"].(map[string]any)
			if m["location"] != "westus" || props["computeType"] != "AKS" || props["resourceId"] != id {
				t.Errorf("attach body: %v", m)
			}
			sameJSON(t, "AKS settings", set(props["properties"]), map[string]any{"clusterPurpose": "DevTest"})
		})
	}
	if o := (AKSAttachConfig{}).options(); o == nil || o.Force || !o.IfNoneMatch || o.IfMatch != "" {
		t.Errorf("attach options without Force: %+v, want create only (IfNoneMatch)", o)
	}
	if o := (AKSAttachConfig{Force: true}).options(); o == nil || !o.Force || !o.IfNoneMatch {
		t.Errorf("attach options with Force: %+v, want Force and create only", o)
	}
}

func TestUpdateBody(t *testing.T) {
	str := func(s string) *string { return &s }
	three := 3
	current := func(attached bool) *Compute {
		c := &Compute{ID: "/x", Name: "c1", Type: "Microsoft.MachineLearningServices/workspaces/computes", Location: "westus"}
		c.Properties.ComputeType = "AKS"
		c.Properties.ProvisioningState = "Succeeded"
		c.Properties.IsAttachedCompute = attached
		c.Properties.ResourceID = str("/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1")
		c.Properties.Mlfleet = &ComputeMlfleet{ClusterUID: "u"}
		c.Properties.Properties = &AKSProperties{ClusterFqdn: str("c1.example"), AgentCount: &three, AgentVMSize: str("Standard_D3_v2"),
			ClusterPurpose: str("FastProd"), LoadBalancerType: str("InternalLoadBalancer"), LoadBalancerSubnet: str("aks-subnet"),
			SystemServices:   []SystemService{{SystemServiceType: "ScoringFrontEnd"}},
			SSLConfiguration: &SSLConfiguration{Status: "Enabled", Cert: "CERT", Cname: "x"}}
		return c
	}
	t.Run("created compute: no resourceId, no read-only fields, TLS kept by the server", func(t *testing.T) {
		b, err := AKSUpdateConfig{ClusterPurpose: "devtest"}.apply(current(false))
		if err != nil {
			t.Fatal(err)
		}
		m := marshal(t, b)
		props := m["properties"].(map[string]any)
		for _, k := range []string{"id", "name", "type", "systemData"} {
			if m[k] != nil {
				t.Errorf("read-only %s sent: %v", k, m[k])
			}
		}
		if props["resourceId"] != nil || props["provisioningState"] != nil || props["mlfleet"] != nil {
			t.Errorf("properties: %v", props)
		}
		aks := set(props["properties"])
		if aks["clusterPurpose"] != "DevTest" || aks["agentCount"] != 3.0 || aks["sslConfiguration"] != nil || aks["systemServices"] != nil || aks["clusterFqdn"] != nil {
			t.Errorf("AKS properties: %v", aks)
		}
	})
	t.Run("attached compute keeps resourceId", func(t *testing.T) {
		b, err := AKSUpdateConfig{DisableSSL: true}.apply(current(true))
		if err != nil {
			t.Fatal(err)
		}
		if b.Properties.ResourceID == nil || b.Properties.Properties.SSLConfiguration.Status != "Disabled" {
			t.Errorf("body: %+v", b.Properties)
		}
	})
	t.Run("switch to PublicIp drops the subnet", func(t *testing.T) {
		b, _ := AKSUpdateConfig{LoadBalancerType: "publicip"}.apply(current(false))
		if *b.Properties.Properties.LoadBalancerType != "PublicIp" || b.Properties.Properties.LoadBalancerSubnet != nil {
			t.Errorf("lb: %+v", b.Properties.Properties)
		}
	})
	t.Run("subnet on an internal load balancer", func(t *testing.T) {
		b, err := AKSUpdateConfig{LoadBalancerSubnet: "s2"}.apply(current(false))
		if err != nil || *b.Properties.Properties.LoadBalancerSubnet != "s2" {
			t.Errorf("subnet: %v %+v", err, b)
		}
	})
	t.Run("subnet on a public load balancer is refused", func(t *testing.T) {
		cur := current(false)
		cur.Properties.Properties.LoadBalancerType = str("PublicIp")
		_, err := AKSUpdateConfig{LoadBalancerSubnet: "s2"}.apply(cur)
		var ve *ValidationError
		want := "LoadBalancerSubnet applies only to an InternalLoadBalancer, and the compute's load balancer is PublicIp: set LoadBalancerType InternalLoadBalancer too"
		if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Message != want {
			t.Errorf("got %v, want a validation error %q", err, want)
		}
	})
	t.Run("scale keeps everything else", func(t *testing.T) {
		b := putBody(current(true))
		sameJSON(t, "AKS settings", set(marshal(t, b)["properties"].(map[string]any)["properties"]), map[string]any{
			"agentCount": 3, "agentVmSize": "Standard_D3_v2", "clusterPurpose": "FastProd",
			"loadBalancerType": "InternalLoadBalancer", "loadBalancerSubnet": "aks-subnet"})
	})
}

// TestProgress: the lines azureml-core's wait_for_completion(show_output=True) prints.
func TestProgress(t *testing.T) {
	failure := &Error{Code: "ClusterCreateFailed", Message: "no room", Details: []*Error{{Code: "InsufficientCapacity", Message: "too small"}}}
	cases := []struct {
		name   string
		states []string
		status string
		err    error
		want   string
	}{
		{"create", []string{"Creating", "Creating", "Creating", "Succeeded"}, "Succeeded", nil, "Creating...\nSucceeded\nProvisioning operation finished, operation \"Succeeded\"\n"},
		{"done at first poll", []string{"Succeeded"}, "Succeeded", nil, "Succeeded\nProvisioning operation finished, operation \"Succeeded\"\n"},
		{"failed", []string{"Creating", "Failed"}, "Failed", failure,
			"Creating.\nFailed\nProvisioning operation finished, operation \"Failed\"\nProvisioning operation error:\n(ClusterCreateFailed) no room\n  - (InsufficientCapacity) too small\n"},
		{"two changes", []string{"Updating", "Updating", "Deleting", "Succeeded"}, "Succeeded", nil, "Updating..\nDeleting.\nSucceeded\nProvisioning operation finished, operation \"Succeeded\"\n"},
		{"poll error", []string{"Creating"}, "", errors.New("connection refused"), "Creating\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			p := &progress{w: &b}
			for _, s := range tc.states {
				p.update(s)
			}
			p.finish(tc.status, tc.err)
			if b.String() != tc.want {
				t.Errorf("got\n%q\nwant\n%q", b.String(), tc.want)
			}
		})
	}
	p := &progress{}
	p.update("Creating")
	p.finish("Succeeded", nil)
	if p.shown != "Creating" {
		t.Errorf("a nil writer still tracks the state: %q", p.shown)
	}
}
