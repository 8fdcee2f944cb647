package containerservice

import (
	"testing"

	"github.com/mlfleet/mlfleet/internal/record/recordtest"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// exampleCluster sets every field of a managed cluster, so that the goldens show each of
// them.
func exampleCluster() *armapi.ManagedCluster {
	s := func(v string) *string { return &v }
	n := func(v int) *int { return &v }
	b := func(v bool) *bool { return &v }
	id := "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1"
	mi := "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1"
	return &armapi.ManagedCluster{
		ID:         id,
		Name:       "c1",
		Type:       TypeManagedCluster,
		Location:   "westus",
		Tags:       map[string]string{"team": "ml"},
		SystemData: recordtest.SystemData(),
		ETag:       `"4"`,
		SKU:        armapi.SKU{Name: "Base", Tier: "Free"},
		Identity: &armapi.ClusterIdentity{Type: "UserAssigned", PrincipalID: "p1", TenantID: "t1",
			UserAssignedIdentities: map[string]*armapi.UserAssignedIdentityRef{mi: {PrincipalID: "p2", ClientID: "c2"}}},
		Properties: armapi.ClusterProperties{
			ProvisioningState:        armapi.StateSucceeded,
			PowerState:               armapi.PowerState{Code: "Running"},
			KubernetesVersion:        "1.33",
			CurrentKubernetesVersion: "1.33.1",
			DNSPrefix:                "c1-dns",
			FQDN:                     s("c1-dns-1a2b.westus.mlfleet.local"),
			PrivateFQDN:              s("c1-dns-1a2b.private.westus.mlfleet.local"),
			AgentPoolProfiles: []armapi.AgentPoolProfile{{Name: "nodepool1", AgentPoolProperties: armapi.AgentPoolProperties{ETag: `"4"`, Count: 3, VMSize: "Standard_D3_v2", Mode: "System",
				OSType: "Linux", Type: "VirtualMachineScaleSets", OrchestratorVersion: "1.33.1", ProvisioningState: armapi.StateSucceeded,
				CurrentOrchestratorVersion: "1.33.1", PowerState: &armapi.PowerState{Code: "Running"},
				EnableAutoScaling: true, MinCount: n(1), MaxCount: n(5), MaxPods: 50, OSDiskSizeGB: 64,
				NodeLabels: map[string]string{"team": "qa"}, NodeTaints: []string{"sku=gpu:NoSchedule"}, Tags: map[string]string{"owner": "qa"},
				OSSKU: "Ubuntu", OSDiskType: "Managed", EnableNodePublicIP: b(true), EnableEncryptionAtHost: b(true)}}},
			NodeResourceGroup: "MC_rg1_c1_westus",
			EnableRBAC:        true,
			NetworkProfile: armapi.NetworkProfile{NetworkPlugin: "kubenet", LoadBalancerSku: "standard", OutboundType: "loadBalancer",
				ServiceCidr: "10.0.0.0/16", DNSServiceIP: "10.0.0.10", PodCidr: "10.244.0.0/16", DockerBridgeCidr: "172.17.0.1/16",
				SubnetID: "/subscriptions/s1/subnets/a",
				LoadBalancerProfile: &armapi.LoadBalancerProfile{ManagedOutboundIPs: &armapi.ManagedOutboundIPs{Count: n(2), CountIPv6: n(1)},
					OutboundIPs:            &armapi.OutboundIPs{PublicIPs: []armapi.ResourceReference{{ID: "/subscriptions/s1/publicIPAddresses/ip1"}}},
					OutboundIPPrefixes:     &armapi.OutboundIPPrefixes{PublicIPPrefixes: []armapi.ResourceReference{{ID: "/subscriptions/s1/publicIPPrefixes/p1"}}},
					AllocatedOutboundPorts: n(1024), IdleTimeoutInMinutes: n(30), EnableMultipleStandardLoadBalancers: b(true)}},
			APIServerAccessProfile:  &armapi.APIServerAccessProfile{AuthorizedIPRanges: []string{"10.0.0.0/8"}, EnablePrivateCluster: true},
			AutoScalerProfile:       armapi.AutoScalerProfile{"scan-interval": "10s", "daemonset-eviction-for-empty-nodes": true},
			MaxAgentPools:           100,
			ServicePrincipalProfile: &armapi.ServicePrincipalProfile{ClientID: "msi", Secret: "s3cret"},
			IdentityProfile:         map[string]*armapi.UserAssignedIdentity{"kubeletidentity": {ResourceID: mi, ClientID: "c3", ObjectID: "o3"}},
			LinuxProfile:            &armapi.LinuxProfile{AdminUsername: "azureuser", SSH: armapi.SSHConfiguration{PublicKeys: []armapi.SSHPublicKey{{KeyData: "ssh-rsa AAAA"}}}},
			AddonProfiles:           map[string]armapi.AddonProfile{"azurepolicy": {Enabled: true, Config: map[string]string{"version": "v2"}}},
			DisableLocalAccounts:    true,
			Mlfleet: armapi.MlfleetProperties{Provider: "embedded", ClusterID: "c1-1a2b", APIServerURL: "https://127.0.0.1:6443",
				CreatedFor: id + "/computes/aks1", Kubeconfig: "apiVersion: v1", Context: "ctx"},
		},
	}
}

func TestRecord(t *testing.T) {
	recordtest.Run(t, recordtest.Kind[armapi.ManagedCluster]{
		Name: "managedcluster", Schema: clusterRecord.Schema, Example: exampleCluster, Encode: clusterRecord.Encode,
		Before: func(version int, mc *armapi.ManagedCluster) {
			if version < 6 {
				mc.Properties.AgentPoolProfiles[0].ETag = ""
			}
			if version < 5 {
				p := &mc.Properties.AgentPoolProfiles[0]
				p.OSSKU, p.OSDiskType, p.EnableNodePublicIP, p.EnableEncryptionAtHost = "", "", nil, nil
			}
			if version < 4 {
				mc.Properties.NetworkProfile.LoadBalancerProfile = nil
			}
			if version < 3 {
				p := &mc.Properties.AgentPoolProfiles[0]
				p.CurrentOrchestratorVersion, p.PowerState = "", nil
			}
			if version < 2 {
				p := &mc.Properties.AgentPoolProfiles[0]
				p.MaxPods, p.OSDiskSizeGB, p.NodeLabels, p.NodeTaints, p.Tags = 0, 0, nil, nil, nil
			}
		},
		Read: func(body []byte) (*armapi.ManagedCluster, error) { return clusterRecord.Read("c1", body) },
		// What GET serves from a row: the row's etag, never the kubeconfig.
		Served: func(t *testing.T, file string, body []byte) {
			mc, err := decode(&store.Resource{ID: "c1", Version: 9, Body: body})
			if err != nil {
				t.Fatal(err)
			}
			if mc.ETag != `"9"` || mc.Properties.Mlfleet.Kubeconfig != "" || mc.Properties.Mlfleet.CreatedFor == "" {
				t.Errorf("decode %s: etag %s, kubeconfig %q, createdFor %q; want \"9\", none, the compute", file, mc.ETag,
					mc.Properties.Mlfleet.Kubeconfig, mc.Properties.Mlfleet.CreatedFor)
			}
		},
	})
}
