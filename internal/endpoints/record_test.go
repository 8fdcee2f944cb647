package endpoints

import (
	"testing"

	"github.com/mlfleet/mlfleet/internal/record/recordtest"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// The examples set every field, so that the goldens show each of them.

const exampleCompute = "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/ws1/computes/aks1"

func exampleEndpoint() *armapi.OnlineEndpoint {
	return &armapi.OnlineEndpoint{
		ID:       "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/ws1/onlineEndpoints/ep1",
		Name:     "ep1",
		Type:     TypeEndpoint,
		Location: "westus",
		Tags:     map[string]string{"team": "ml"},
		Kind:     "K8S",
		Identity: &armapi.EndpointIdentity{Type: "SystemAssigned"},
		Properties: armapi.OnlineEndpointProperties{AuthMode: AuthKey, Description: "scoring", Properties: map[string]string{"a": "b"},
			Compute: exampleCompute, Traffic: map[string]int{"blue": 100}, MirrorTraffic: map[string]int{"green": 10},
			PublicNetworkAccess: "Enabled", ScoringURI: "https://10.0.0.4/api/v1/endpoint/ep1/score",
			SwaggerURI: "https://10.0.0.4/api/v1/endpoint/ep1/swagger.json", ProvisioningState: armapi.StateSucceeded,
			Keys:    &armapi.EndpointKeys{PrimaryKey: "k1", SecondaryKey: "k2"},
			Mlfleet: &armapi.OnlineEndpointMlfleet{Message: "no router yet", SecretComputes: []string{exampleCompute}}},
		SystemData: recordtest.SystemData(),
	}
}

func exampleDeployment() *armapi.OnlineDeployment {
	n := 2
	probe := &armapi.ProbeSettings{FailureThreshold: 30, SuccessThreshold: 1, InitialDelay: "PT10S", Period: "PT10S", Timeout: "PT2S"}
	return &armapi.OnlineDeployment{
		ID:       "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/ws1/onlineEndpoints/ep1/deployments/blue",
		Name:     "blue",
		Type:     TypeDeployment,
		Location: "westus",
		Tags:     map[string]string{"team": "ml"},
		Kind:     "Kubernetes",
		Sku:      &armapi.DeploymentSku{Name: "Default", Tier: "Standard", Capacity: &n},
		Properties: armapi.OnlineDeploymentProperties{EndpointComputeType: "Kubernetes", Compute: exampleCompute, Model: "azureml:m1:1",
			CodeConfiguration: &armapi.CodeConfiguration{CodeID: "azureml:c1:1", ScoringScript: "score.py"},
			EnvironmentID:     "azureml:env1:1", EnvironmentVariables: map[string]string{"X": "1"}, Description: "blue",
			Properties: map[string]string{"a": "b"}, InstanceType: "defaultinstancetype",
			ScaleSettings:   &armapi.ScaleSettings{ScaleType: "Default", InstanceCount: &n},
			RequestSettings: &armapi.RequestSettings{RequestTimeout: "PT5S", MaxConcurrentRequestsPerInstance: 1, MaxQueueWait: "PT0.5S"},
			LivenessProbe:   probe, ReadinessProbe: probe, AppInsightsEnabled: true, EgressPublicNetwork: "Enabled",
			ModelMountPath:     "/var/azureml-app/model",
			ContainerResources: map[string]any{"containerResourceRequests": map[string]any{"cpu": "1"}},
			ProvisioningState:  armapi.StateSucceeded,
			Mlfleet: &armapi.OnlineDeploymentMlfleet{InstanceCount: 2, ReadyInstances: 1, Message: "1 pending", ModelDir: "/m", CodeDir: "/c",
				FormerComputes: []string{exampleCompute + "-old"}}},
		SystemData: recordtest.SystemData(),
	}
}

func TestRecord(t *testing.T) {
	recordtest.Run(t, recordtest.Kind[armapi.OnlineEndpoint]{
		Name: "onlineendpoint", Schema: endpointRecord.Schema, Example: exampleEndpoint, Encode: encode[armapi.OnlineEndpoint], Read: read[armapi.OnlineEndpoint]})
	recordtest.Run(t, recordtest.Kind[armapi.OnlineDeployment]{
		Name: "onlinedeployment", Schema: deploymentRecord.Schema, Example: exampleDeployment, Encode: encode[armapi.OnlineDeployment], Read: read[armapi.OnlineDeployment],
		Before: func(version int, d *armapi.OnlineDeployment) { d.Properties.Mlfleet.FormerComputes = nil }})
}

// read reads a row body into a new T.
func read[T row](body []byte) (*T, error) {
	v := new(T)
	return v, decode(&store.Resource{ID: "row", Body: body}, v)
}
