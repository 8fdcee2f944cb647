package containerservice

import (
	"errors"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/record"
	"github.com/mlfleet/mlfleet/internal/record/recordtest"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// exampleCluster sets every field of a managed cluster, so that the goldens show each of
// them.
func exampleCluster() *ManagedCluster {
	at := time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)
	s := func(v string) *string { return &v }
	n := func(v int) *int { return &v }
	id := "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1"
	mi := "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1"
	return &ManagedCluster{
		ID:       id,
		Name:     "c1",
		Type:     TypeManagedCluster,
		Location: "westus",
		Tags:     map[string]string{"team": "ml"},
		SystemData: &armapi.SystemData{CreatedAt: at, CreatedBy: "alice", CreatedByType: "User",
			LastModifiedAt: at.Add(time.Hour), LastModifiedBy: "bob", LastModifiedByType: "User"},
		ETag: `"4"`,
		SKU:  SKU{Name: "Base", Tier: "Free"},
		Identity: &ClusterIdentity{Type: "UserAssigned", PrincipalID: "p1", TenantID: "t1",
			UserAssignedIdentities: map[string]*UserAssignedIdentityRef{mi: {PrincipalID: "p2", ClientID: "c2"}}},
		Properties: ClusterProperties{
			ProvisioningState:        StateSucceeded,
			PowerState:               PowerState{Code: "Running"},
			KubernetesVersion:        "1.33",
			CurrentKubernetesVersion: "1.33.1",
			DNSPrefix:                "c1-dns",
			FQDN:                     s("c1-dns-1a2b.westus.mlfleet.local"),
			PrivateFQDN:              s("c1-dns-1a2b.private.westus.mlfleet.local"),
			AgentPoolProfiles: []AgentPoolProfile{{Name: "nodepool1", Count: 3, VMSize: "Standard_D3_v2", Mode: "System", OSType: "Linux",
				Type: "VirtualMachineScaleSets", OrchestratorVersion: "1.33.1", ProvisioningState: StateSucceeded,
				EnableAutoScaling: true, MinCount: n(1), MaxCount: n(5)}},
			NodeResourceGroup: "MC_rg1_c1_westus",
			EnableRBAC:        true,
			NetworkProfile: NetworkProfile{NetworkPlugin: "kubenet", LoadBalancerSku: "standard", OutboundType: "loadBalancer",
				ServiceCidr: "10.0.0.0/16", DNSServiceIP: "10.0.0.10", PodCidr: "10.244.0.0/16", DockerBridgeCidr: "172.17.0.1/16",
				SubnetID: "/subscriptions/s1/subnets/a"},
			APIServerAccessProfile:  &APIServerAccessProfile{AuthorizedIPRanges: []string{"10.0.0.0/8"}, EnablePrivateCluster: true},
			AutoScalerProfile:       AutoScalerProfile{"scan-interval": "10s", "daemonset-eviction-for-empty-nodes": true},
			MaxAgentPools:           100,
			ServicePrincipalProfile: &ServicePrincipalProfile{ClientID: "msi", Secret: "s3cret"},
			IdentityProfile:         map[string]*UserAssignedIdentity{"kubeletidentity": {ResourceID: mi, ClientID: "c3", ObjectID: "o3"}},
			LinuxProfile:            &LinuxProfile{AdminUsername: "azureuser", SSH: SSHConfiguration{PublicKeys: []SSHPublicKey{{KeyData: "ssh-rsa AAAA"}}}},
			AddonProfiles:           map[string]AddonProfile{"azurepolicy": {Enabled: true, Config: map[string]string{"version": "v2"}}},
			DisableLocalAccounts:    true,
			Mlfleet: MlfleetProperties{Provider: "embedded", ClusterID: "c1-1a2b", APIServerURL: "https://127.0.0.1:6443",
				CreatedFor: id + "/computes/aks1", Kubeconfig: "apiVersion: v1", Context: "ctx"},
		},
	}
}

// TestRecordGolden pins what a cluster's row holds, so that a change of the wire type
// cannot change the database's format unnoticed.
func TestRecordGolden(t *testing.T) {
	mc := exampleCluster()
	recordtest.AllSet(t, mc)
	recordtest.Golden(t, "testdata/record/managedcluster.v1.json", encode(mc))
}

// TestRecordReadsEveryVersion reads rows of every format a server wrote: v0 is what servers
// before record versions wrote (the wire body alone).
func TestRecordReadsEveryVersion(t *testing.T) {
	for _, file := range []string{"managedcluster.v0.json", "managedcluster.v1.json"} {
		t.Run(file, func(t *testing.T) {
			body, err := os.ReadFile("testdata/record/" + file)
			if err != nil {
				t.Fatal(err)
			}
			got, err := readRecord("c1", body)
			if err != nil {
				t.Fatal(err)
			}
			if want := exampleCluster(); !reflect.DeepEqual(got, want) {
				t.Errorf("read %s:\n got %+v\nwant %+v", file, got, want)
			}
			// What GET serves from it: the row's etag, never the kubeconfig.
			mc, err := decode(&store.Resource{ID: "c1", Version: 9, Body: body})
			if err != nil {
				t.Fatal(err)
			}
			if mc.ETag != `"9"` || mc.Properties.Mlfleet.Kubeconfig != "" || mc.Properties.Mlfleet.CreatedFor == "" {
				t.Errorf("decode %s: etag %s, kubeconfig %q, createdFor %q; want \"9\", none, the compute", file, mc.ETag,
					mc.Properties.Mlfleet.Kubeconfig, mc.Properties.Mlfleet.CreatedFor)
			}
		})
	}
}

func TestRecordNewerVersionRefused(t *testing.T) {
	_, err := readRecord("c1", []byte(`{"schemaVersion":2,"name":"c1"}`))
	if !errors.Is(err, record.ErrNewerSchema) {
		t.Errorf("read a version 2 row: %v; want ErrNewerSchema", err)
	}
}
