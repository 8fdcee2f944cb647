package endpoints

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/compute"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// TestTrafficToFailedDeployment: live or mirrored traffic for a deployment whose
// provisioning state is Failed (its init() raised: no instance answers) is refused with a
// 400 that names it, its state and its message, and says what to do (QA9 #10); taking
// traffic away from it (0, or no more than it had) is always accepted. The endpoint
// service runs over a real SQLite store.
func TestTrafficToFailedDeployment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newMonitorFixture(t, "00000000-0000-0000-0000-0000000000f9")
	ep, err := f.st.GetResource(ctx, EndpointID(f.sub, f.rg, f.ws, "ep"))
	if err != nil {
		t.Fatal(err)
	}
	epID := EndpointID(f.sub, f.rg, f.ws, "xep")
	f.create(t, &store.Resource{ID: epID, ParentID: ep.ParentID, Type: TypeEndpoint, Name: "xep", Body: encode(&armapi.OnlineEndpoint{ID: epID, Name: "xep",
		Type: TypeEndpoint, Location: "westus", Properties: armapi.OnlineEndpointProperties{ProvisioningState: armapi.StateSucceeded, AuthMode: AuthKey}})})
	for _, d := range []struct{ name, state, msg string }{
		{"xaa", armapi.StateSucceeded, ""}, {"bad1", armapi.StateFailed, "init() raised ValueError: no model"},
	} {
		id := DeploymentID(f.sub, f.rg, f.ws, "xep", d.name)
		f.create(t, &store.Resource{ID: id, ParentID: epID, Type: TypeDeployment, Name: d.name, Body: encode(&armapi.OnlineDeployment{
			ID: id, Name: d.name, Type: TypeDeployment, Location: "westus", Properties: armapi.OnlineDeploymentProperties{
				Compute: compute.ID(f.sub, f.rg, f.ws, "infa"), ProvisioningState: d.state, Mlfleet: &armapi.OnlineDeploymentMlfleet{InstanceCount: 1, Message: d.msg}}})})
	}
	put := func(traffic, mirror map[string]int) error {
		_, err := f.eps.PutEndpoint(ctx, f.sub, f.rg, f.ws, "xep", armapi.OnlineEndpoint{Location: "westus",
			Properties: armapi.OnlineEndpointProperties{AuthMode: AuthKey, Traffic: traffic, MirrorTraffic: mirror}}, Options{})
		return err
	}
	refused := []string{"deployment 'bad1'", "provisioning state is Failed", "init() raised ValueError: no model", "update it", "send the traffic to another deployment"}
	for _, tc := range []struct {
		name            string
		traffic, mirror map[string]int
		target          string // the refusal's target; "" means accepted
	}{
		{name: "live", traffic: map[string]int{"xaa": 50, "bad1": 50}, target: "properties.traffic"},
		{name: "live, another case", traffic: map[string]int{"xaa": 50, "BAD1": 50}, target: "properties.traffic"},
		{name: "mirrored", traffic: map[string]int{"xaa": 100}, mirror: map[string]int{"bad1": 20}, target: "properties.mirrorTraffic"},
		{name: "zero", traffic: map[string]int{"xaa": 100, "bad1": 0}, mirror: map[string]int{"bad1": 0}},
	} {
		err := put(tc.traffic, tc.mirror)
		if tc.target == "" {
			if err != nil {
				t.Errorf("%s: refused: %v", tc.name, err)
			}
			continue
		}
		var ae *arm.Error
		if !errors.As(err, &ae) || ae.Status != 400 {
			t.Fatalf("%s: got %v; want a 400", tc.name, err)
		}
		msg, targets := ae.Message, []string{ae.Target}
		for _, d := range ae.Details {
			msg += " " + d.Message
			targets = append(targets, d.Target)
		}
		for _, part := range refused {
			if !strings.Contains(msg, part) {
				t.Errorf("%s: %q; want it to hold %q", tc.name, msg, part)
			}
		}
		if !strings.Contains(strings.Join(targets, " "), tc.target) {
			t.Errorf("%s: targets %v; want %s", tc.name, targets, tc.target)
		}
	}
}

// TestCheckFailedTargetsTakingAway: traffic a failed deployment already had may be kept
// or lowered (an unrelated change of the endpoint, taking traffic away); only more is
// refused.
func TestCheckFailedTargetsTakingAway(t *testing.T) {
	ds := []*armapi.OnlineDeployment{{Name: "bad1", Properties: armapi.OnlineDeploymentProperties{ProvisioningState: armapi.StateFailed}}}
	prev := &armapi.OnlineEndpoint{Properties: armapi.OnlineEndpointProperties{Traffic: map[string]int{"bad1": 50, "xaa": 50}}}
	for _, tc := range []struct {
		name    string
		traffic map[string]int
		refused bool
	}{
		{name: "kept", traffic: map[string]int{"bad1": 50, "xaa": 50}},
		{name: "lowered", traffic: map[string]int{"BAD1": 20, "xaa": 80}},
		{name: "raised", traffic: map[string]int{"bad1": 60, "xaa": 40}, refused: true},
	} {
		ep := &armapi.OnlineEndpoint{Name: "xep", Properties: armapi.OnlineEndpointProperties{Traffic: tc.traffic}}
		if err := checkFailedTargets(ep, prev, ds); (err != nil) != tc.refused {
			t.Errorf("%s: %v; want refused %v", tc.name, err, tc.refused)
		}
	}
}
