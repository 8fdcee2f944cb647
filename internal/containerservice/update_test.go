package containerservice

import (
	"context"
	"errors"
	"testing"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
)

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
	if _, _, _, err := s.Put(ctx, testSub, testRG, "prefixed", in, arm.Preconditions{}); err != nil {
		t.Fatal(err)
	}
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
