package compute

import (
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/record/recordtest"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// exampleCompute sets every field of a compute, so that the goldens show each of them.
func exampleCompute() *armapi.Compute {
	at := recordtest.Time()
	later := at.Add(time.Hour)
	s := func(v string) *string { return &v }
	n := func(v int) *int { return &v }
	detail := armapi.ErrorDetail{Code: "ClusterUnreachable", Message: "the API server did not answer", Target: "properties.resourceId"}
	return &armapi.Compute{
		ID:         "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/ws1/computes/aks1",
		Name:       "aks1",
		Type:       TypeCompute,
		Location:   "westus",
		Tags:       map[string]string{"team": "ml"},
		SystemData: recordtest.SystemData(),
		ETag:       `"7"`,
		Properties: armapi.ComputeProperties{
			ComputeType:        "AKS",
			ComputeLocation:    "westus",
			ProvisioningState:  armapi.StateSucceeded,
			Description:        s("inference"),
			CreatedOn:          &at,
			ModifiedOn:         &later,
			ResourceID:         s("/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1"),
			ProvisioningErrors: []armapi.ProvisioningError{{Error: armapi.ErrorDetail{Code: "UserError", Message: "checks failed", Target: "compute", Details: []armapi.ErrorDetail{detail}}}},
			IsAttachedCompute:  true,
			DisableLocalAuth:   true,
			Properties: &armapi.AKSProperties{
				ClusterFqdn:    s("c1-dns.westus.mlfleet.local"),
				SystemServices: []armapi.SystemService{{SystemServiceType: "AzureMLFrontEnd", PublicIPAddress: s("10.0.0.4"), Version: "1.0.0"}},
				AgentCount:     n(3),
				AgentVMSize:    s("Standard_D3_v2"),
				ClusterPurpose: s("FastProd"),
				SSLConfiguration: &armapi.SSLConfiguration{Status: "Enabled", Cert: "CERT", Key: "KEY", Cname: "ml.example.com",
					LeafDomainLabel: "leaf", OverwriteExistingDomain: true, Renew: true},
				AKSNetworkingConfiguration: &armapi.AKSNetworkingConfiguration{SubnetID: "/subscriptions/s1/subnets/a", ServiceCidr: "10.1.0.0/16",
					DNSServiceIP: "10.1.0.10", DockerBridgeCidr: "172.17.0.1/16"},
				LoadBalancerType:   s("InternalLoadBalancer"),
				LoadBalancerSubnet: s("subnet1"),
			},
			Mlfleet: &armapi.ComputeMlfleet{
				Conditions: []armapi.Condition{{Type: armapi.ConditionReachable, Status: "True", Reason: "Answered", Message: "GET /version answered",
					LastTransitionTime: at}},
				Warnings:          []string{"DevTest clusters are small"},
				ClusterUID:        "0b5c7c9e-uid",
				CreatedCluster:    true,
				KubernetesVersion: "1.33.1",
				ComponentsVersion: "1.0.0",
				Attached:          true,
				AttachmentID:      "att-1",
				FrontEndFqdn:      "leaf.westus.inference.mlfleet.local",
				Autoscale:         &armapi.ComputeAutoscale{MinCount: 1, MaxCount: 5},
			},
		},
	}
}

func TestRecord(t *testing.T) {
	recordtest.Run(t, recordtest.Kind[armapi.Compute]{
		Name: "compute", Schema: computeRecord.Schema, Example: exampleCompute, Encode: computeRecord.Encode,
		Read: func(body []byte) (*armapi.Compute, error) { return computeRecord.Read("aks1", body) },
		// What GET serves from a row: the row's etag, never the TLS key.
		Served: func(t *testing.T, file string, body []byte) {
			c, err := decode(&store.Resource{ID: "aks1", Version: 9, Body: body})
			if err != nil {
				t.Fatal(err)
			}
			if c.ETag != `"9"` || c.Properties.Properties.SSLConfiguration.Key != "" || c.Properties.Mlfleet.AttachmentID != "att-1" {
				t.Errorf("decode %s: etag %s, key %q, attachment %q; want \"9\", no key, att-1", file, c.ETag,
					c.Properties.Properties.SSLConfiguration.Key, c.Properties.Mlfleet.AttachmentID)
			}
		},
	})
}
