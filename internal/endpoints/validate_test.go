package endpoints

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/inference"
	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// errTargets lists the targets of a validation error's details.
func errTargets(err error) []string {
	if err == nil {
		return nil
	}
	var out []string
	for _, d := range err.(*arm.Error).Details {
		if !slices.Contains(out, d.Target) {
			out = append(out, d.Target)
		}
	}
	slices.Sort(out)
	return out
}

func TestValidateEndpoint(t *testing.T) {
	for _, tc := range []struct {
		name        string
		epName      string
		props       armapi.OnlineEndpointProperties
		deployments []string
		want        []string
	}{
		{"defaults", "ep1", armapi.OnlineEndpointProperties{}, nil, nil},
		{"traffic split", "ep1", armapi.OnlineEndpointProperties{Traffic: map[string]int{"blue": 90, "green": 10}}, []string{"blue", "green"}, nil},
		{"no traffic", "ep1", armapi.OnlineEndpointProperties{Traffic: map[string]int{"blue": 0}}, []string{"blue"}, nil},
		{"bad name", "1ep", armapi.OnlineEndpointProperties{}, nil, []string{"name"}},
		{"short name", "ep", armapi.OnlineEndpointProperties{}, nil, []string{"name"}},
		{"auth mode", "ep1", armapi.OnlineEndpointProperties{AuthMode: "AADToken"}, nil, []string{"properties.authMode"}},
		{"unknown deployment", "ep1", armapi.OnlineEndpointProperties{Traffic: map[string]int{"blue": 100}}, nil, []string{"properties.traffic"}},
		{"sum not 100", "ep1", armapi.OnlineEndpointProperties{Traffic: map[string]int{"blue": 50, "green": 40}}, []string{"blue", "green"}, []string{"properties.traffic"}},
		{"negative", "ep1", armapi.OnlineEndpointProperties{Traffic: map[string]int{"blue": 110, "green": -10}}, []string{"blue", "green"}, []string{"properties.traffic"}},
		{"mirror too much", "ep1", armapi.OnlineEndpointProperties{Traffic: map[string]int{"blue": 100}, MirrorTraffic: map[string]int{"green": 60}}, []string{"blue", "green"}, []string{"properties.mirrorTraffic"}},
		{"mirror and live", "ep1", armapi.OnlineEndpointProperties{Traffic: map[string]int{"blue": 100}, MirrorTraffic: map[string]int{"blue": 10}}, []string{"blue"}, []string{"properties.mirrorTraffic"}},
		{"mirror and live, another case", "ep1", armapi.OnlineEndpointProperties{Traffic: map[string]int{"Blue": 100}, MirrorTraffic: map[string]int{"blue": 10}}, []string{"blue"}, []string{"properties.mirrorTraffic"}},
		{"short keys", "ep1", armapi.OnlineEndpointProperties{Keys: &armapi.EndpointKeys{PrimaryKey: "x"}}, nil, []string{"properties.keys"}},
		{"every problem", "-", armapi.OnlineEndpointProperties{AuthMode: "x", Traffic: map[string]int{"a": 5}}, nil, []string{"name", "properties.authMode", "properties.traffic"}},
		{"one deployment named twice", "ep1", armapi.OnlineEndpointProperties{Traffic: map[string]int{"blue": 50, "BLUE": 50}}, []string{"blue"}, []string{"properties.traffic"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.props
			err := validateEndpoint(tc.epName, &p, tc.deployments)
			if got := errTargets(err); !slices.Equal(got, tc.want) {
				t.Fatalf("targets %v, want %v (%v)", got, tc.want, err)
			}
			if err == nil && (p.AuthMode == "" || p.Traffic == nil) {
				t.Errorf("defaults not filled: %+v", p)
			}
		})
	}
}

// TestTrafficKeyedByDeploymentName: traffic that names a deployment in another case is
// stored under the deployment's own name, so that it reads back as the deployment shows.
func TestTrafficKeyedByDeploymentName(t *testing.T) {
	p := armapi.OnlineEndpointProperties{Traffic: map[string]int{"BLUE": 90, "Green": 10}, MirrorTraffic: map[string]int{"RED": 5}}
	if err := validateEndpoint("ep1", &p, []string{"blue", "green", "red"}); err != nil {
		t.Fatal(err)
	}
	if want := map[string]int{"blue": 90, "green": 10}; !maps.Equal(p.Traffic, want) {
		t.Errorf("traffic %v, want %v", p.Traffic, want)
	}
	if want := map[string]int{"red": 5}; !maps.Equal(p.MirrorTraffic, want) {
		t.Errorf("mirrorTraffic %v, want %v", p.MirrorTraffic, want)
	}
}

func TestValidateDeployment(t *testing.T) {
	three, two := 3, 2
	for _, tc := range []struct {
		name string
		d    armapi.OnlineDeployment
		want []string
	}{
		{"minimal", armapi.OnlineDeployment{Properties: armapi.OnlineDeploymentProperties{Model: "m"}}, nil},
		{"full", armapi.OnlineDeployment{Sku: &armapi.DeploymentSku{Capacity: &three}, Properties: armapi.OnlineDeploymentProperties{
			EndpointComputeType: "kubernetes", Model: "m", InstanceType: "largeinstancetype",
			CodeConfiguration:    &armapi.CodeConfiguration{CodeID: "c", ScoringScript: "src/score.py"},
			RequestSettings:      &armapi.RequestSettings{RequestTimeout: "PT1M", MaxConcurrentRequestsPerInstance: 4},
			EnvironmentVariables: map[string]string{"WORKERS": "2"},
			LivenessProbe:        &armapi.ProbeSettings{InitialDelay: "PT1S", Period: "PT5S"},
		}}, nil},
		{"nothing to serve", armapi.OnlineDeployment{}, []string{"properties.model"}},
		{"managed", armapi.OnlineDeployment{Properties: armapi.OnlineDeploymentProperties{Model: "m", EndpointComputeType: "Managed"}}, []string{"properties.endpointComputeType"}},
		{"instance type", armapi.OnlineDeployment{Properties: armapi.OnlineDeploymentProperties{Model: "m", InstanceType: "Standard_F2s_v2"}}, []string{"properties.instanceType"}},
		{"count", armapi.OnlineDeployment{Sku: &armapi.DeploymentSku{Capacity: new(int)}, Properties: armapi.OnlineDeploymentProperties{Model: "m"}}, []string{"sku.capacity"}},
		{"counts disagree", armapi.OnlineDeployment{Sku: &armapi.DeploymentSku{Capacity: &three}, Properties: armapi.OnlineDeploymentProperties{Model: "m", ScaleSettings: &armapi.ScaleSettings{InstanceCount: &two}}}, []string{"sku.capacity"}},
		{"target utilization", armapi.OnlineDeployment{Properties: armapi.OnlineDeploymentProperties{Model: "m", ScaleSettings: &armapi.ScaleSettings{ScaleType: "TargetUtilization"}}}, []string{"properties.scaleSettings.scaleType"}},
		{"timeout", armapi.OnlineDeployment{Properties: armapi.OnlineDeploymentProperties{Model: "m", RequestSettings: &armapi.RequestSettings{RequestTimeout: "5s"}}}, []string{"properties.requestSettings.requestTimeout"}},
		{"timeout too long", armapi.OnlineDeployment{Properties: armapi.OnlineDeploymentProperties{Model: "m", RequestSettings: &armapi.RequestSettings{RequestTimeout: "PT1H"}}}, []string{"properties.requestSettings.requestTimeout"}},
		{"script escapes", armapi.OnlineDeployment{Properties: armapi.OnlineDeploymentProperties{CodeConfiguration: &armapi.CodeConfiguration{CodeID: "c", ScoringScript: "../score.py"}}}, []string{"properties.codeConfiguration.scoringScript"}},
		{"script not python", armapi.OnlineDeployment{Properties: armapi.OnlineDeploymentProperties{CodeConfiguration: &armapi.CodeConfiguration{CodeID: "c", ScoringScript: "score.sh"}}}, []string{"properties.codeConfiguration.scoringScript"}},
		{"no code id", armapi.OnlineDeployment{Properties: armapi.OnlineDeploymentProperties{CodeConfiguration: &armapi.CodeConfiguration{ScoringScript: "score.py"}}}, []string{"properties.codeConfiguration.codeId"}},
		{"env vars", armapi.OnlineDeployment{Properties: armapi.OnlineDeploymentProperties{Model: "m", EnvironmentVariables: map[string]string{"1X": "", "AZUREML_MODEL_DIR": "/"}}}, []string{"properties.environmentVariables"}},
		{"probe", armapi.OnlineDeployment{Properties: armapi.OnlineDeploymentProperties{Model: "m", ReadinessProbe: &armapi.ProbeSettings{Period: "PT0S", FailureThreshold: -1}}}, []string{"properties.readinessProbe", "properties.readinessProbe.period"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.d
			n, err := validateDeployment("blue", &d)
			if got := errTargets(err); !slices.Equal(got, tc.want) {
				t.Fatalf("targets %v, want %v (%v)", got, tc.want, err)
			}
			if err != nil {
				return
			}
			// The count is sku.capacity alone, as in Azure's DefaultScaleSettings (QA9 #4).
			if n.InstanceCount < 1 || *d.Sku.Capacity != n.InstanceCount || d.Properties.ScaleSettings.InstanceCount != nil {
				t.Errorf("instance count not normalized: %+v %+v", n, d.Sku)
			}
			if n.RequestTimeout <= 0 || n.MaxConcurrent < 1 || d.Properties.EndpointComputeType != "Kubernetes" {
				t.Errorf("defaults: %+v", n)
			}
		})
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"PT5S": 5 * time.Second, "PT0.5S": 500 * time.Millisecond, "PT1M30S": 90 * time.Second, "P1D": 24 * time.Hour, "PT2H": 2 * time.Hour,
	} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%s) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "P", "PT", "5s", "PT-1S", "T5S"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) accepted", bad)
		}
	}
}

func TestObjectNames(t *testing.T) {
	if got := DeploymentName("My-Endpoint", "Blue"); got != "my-endpoint-blue" {
		t.Errorf("DeploymentName = %s", got)
	}
	long := DeploymentName("e2345678901234567890123456789012", "d2345678901234567890123456789012")
	if len(long) != 63 || long == DeploymentName("e2345678901234567890123456789012", "d2345678901234567890123456789013") {
		t.Errorf("long name %s (%d)", long, len(long))
	}
	if SecretName("ep1") != "azureml-endpoint-ep1" {
		t.Errorf("SecretName = %s", SecretName("ep1"))
	}
}

func TestFit(t *testing.T) {
	it := InstanceType{Name: "t", MilliCPU: 500, MemoryMiB: 1024}
	rooms := []kube.NodeRoom{{Name: "a", MilliCPU: 1200, MemoryMiB: 4096}, {Name: "b", MilliCPU: 600, MemoryMiB: 800}}
	if got := fit(rooms, it, 5); got != 2 {
		t.Errorf("fit = %d, want 2 (two on a, none on b for memory)", got)
	}
	if rooms[0].MilliCPU != 1200 {
		t.Error("fit changed its input")
	}
}

// TestIsDeploymentID: the type segments tell a deployment from an endpoint, whatever the
// group, workspace or endpoint is named.
func TestIsDeploymentID(t *testing.T) {
	for id, want := range map[string]bool{
		DeploymentID("s1", "rg", "ws", "ep", "blue"):                 true,
		EndpointID("s1", "rg", "ws", "ep"):                           false,
		EndpointID("s1", "deployments", "deployments", "ep"):         false,
		EndpointID("s1", "rg", "ws", "deployments"):                  false,
		DeploymentID("s1", "rg", "ws", "deployments", "deployments"): true,
	} {
		if got := isDeploymentID(id); got != want {
			t.Errorf("isDeploymentID(%s) = %v, want %v", id, got, want)
		}
	}
}

// TestRoutingOf: the router gets the deployment's request settings, maxQueueWait
// included, with Azure's defaults for a row without them.
func TestRoutingOf(t *testing.T) {
	for _, tc := range []struct {
		name string
		rs   *armapi.RequestSettings
		want inference.DeploymentRouting
	}{
		{"no settings", nil, inference.DeploymentRouting{RequestTimeoutMS: 5000, MaxConcurrentRequestsPerInstance: 1, MaxQueueWaitMS: new(500)}},
		{"defaults written by validation", &armapi.RequestSettings{RequestTimeout: "PT5S", MaxConcurrentRequestsPerInstance: 1, MaxQueueWait: "PT0.5S"},
			inference.DeploymentRouting{RequestTimeoutMS: 5000, MaxConcurrentRequestsPerInstance: 1, MaxQueueWaitMS: new(500)}},
		{"set", &armapi.RequestSettings{RequestTimeout: "PT1.5S", MaxConcurrentRequestsPerInstance: 4, MaxQueueWait: "PT2S"},
			inference.DeploymentRouting{RequestTimeoutMS: 1500, MaxConcurrentRequestsPerInstance: 4, MaxQueueWaitMS: new(2000)}},
		{"no waiting", &armapi.RequestSettings{MaxQueueWait: "PT0S"},
			inference.DeploymentRouting{RequestTimeoutMS: 5000, MaxConcurrentRequestsPerInstance: 1, MaxQueueWaitMS: new(0)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &armapi.OnlineDeployment{Properties: armapi.OnlineDeploymentProperties{RequestSettings: tc.rs}}
			if got := routingOf(d); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("routingOf = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestCheckOneRouter: a router reaches only its own cluster's instances, so traffic the
// scoring URI's router cannot serve is refused (QA9 #3): live traffic split across
// computes, and mirrored traffic to a deployment on another compute than the serving one.
// All traffic on another compute is allowed: that is how an endpoint moves.
func TestCheckOneRouter(t *testing.T) {
	const a, b = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w/computes/cmpa",
		"/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w/computes/CMPY"
	ds := []*armapi.OnlineDeployment{
		{Name: "xaa", Properties: armapi.OnlineDeploymentProperties{Compute: a}},
		{Name: "xbb", Properties: armapi.OnlineDeploymentProperties{Compute: b}},
		{Name: "xcc", Properties: armapi.OnlineDeploymentProperties{Compute: strings.ToLower(b)}},
	}
	for _, tc := range []struct {
		name            string
		traffic, mirror map[string]int
		want            string // a part of the refusal; "" means accepted
	}{
		{name: "one compute", traffic: map[string]int{"xbb": 50, "xcc": 50}},
		{name: "moved to the other compute", traffic: map[string]int{"xbb": 100}, mirror: map[string]int{"xcc": 20}},
		{name: "a deployment on another compute without traffic", traffic: map[string]int{"xaa": 100, "xbb": 0}},
		{name: "split", traffic: map[string]int{"xaa": 50, "xbb": 25, "xcc": 25}, want: "split across computes 'cmpa' (xaa) and 'CMPY' (xbb, xcc)"},
		{name: "mirror elsewhere", traffic: map[string]int{"xaa": 100}, mirror: map[string]int{"xbb": 10}, want: "served from compute 'cmpa'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ep := &armapi.OnlineEndpoint{Name: "xep", Properties: armapi.OnlineEndpointProperties{Traffic: tc.traffic, MirrorTraffic: tc.mirror}}
			err := checkOneRouter(ep, ds)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || err.Status != 400 || !strings.Contains(err.Message, tc.want)):
				t.Fatalf("got %v, want a 400 with %q", err, tc.want)
			}
		})
	}
}

// TestPreferChangedCount: a client that reads a deployment stored by an older server
// (sku.capacity and scaleSettings.instanceCount both 1), changes one of them and PUTs it
// back (az resource update --set sku.capacity=2, Terraform, SDK get-then-update) gets the
// count it changed, not a 400 that the two disagree (QA9 #4). Both changed, or a create,
// still disagree.
func TestPreferChangedCount(t *testing.T) {
	for _, tc := range []struct {
		name            string
		stored          int
		sku, scale      int
		want            int
		wantDisagreeing bool
	}{
		{name: "sku changed", stored: 1, sku: 2, scale: 1, want: 2},
		{name: "scaleSettings changed", stored: 2, sku: 2, scale: 1, want: 1},
		{name: "both changed", stored: 1, sku: 2, scale: 3, wantDisagreeing: true},
		{name: "create", stored: 0, sku: 2, scale: 1, wantDisagreeing: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sku, scale := tc.sku, tc.scale
			in := armapi.OnlineDeployment{Sku: &armapi.DeploymentSku{Name: "Default", Capacity: &sku},
				Properties: armapi.OnlineDeploymentProperties{Model: "m", ScaleSettings: &armapi.ScaleSettings{ScaleType: "Default", InstanceCount: &scale}}}
			d := in
			preferChangedCount(&d, tc.stored)
			n, err := validateDeployment("blue", &d)
			if tc.wantDisagreeing {
				if got := errTargets(err); !slices.Equal(got, []string{"sku.capacity"}) {
					t.Fatalf("targets %v, want sku.capacity (%v)", got, err)
				}
				return
			}
			if err != nil || n.InstanceCount != tc.want || *d.Sku.Capacity != tc.want {
				t.Fatalf("count %d, sku %v, error %v; want %d", n.InstanceCount, *d.Sku.Capacity, err, tc.want)
			}
			if *in.Sku.Capacity != tc.sku || *in.Properties.ScaleSettings.InstanceCount != tc.scale {
				t.Errorf("the request's body was written through: sku %d, scale %d", *in.Sku.Capacity, *in.Properties.ScaleSettings.InstanceCount)
			}
		})
	}
}
