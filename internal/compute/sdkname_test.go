package compute_test

import (
	"testing"

	"github.com/mlfleet/mlfleet/internal/compute"
	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// TestSDKComputeNameRule: the SDK repeats the server's compute naming rule (S4) so that
// CreateAKS and AttachAKS report a bad name with the other problems of the call, before
// anything is sent; both must take and refuse the same names.
func TestSDKComputeNameRule(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"aks", true},
		{"myaks", true},
		{"My-Aks-1", true},
		{"a23456789012345678901234", true},
		{"a-", false},
		{"trail-", false},
		{"a2345678901234567890123-", false},
		{"a-1", true},
		{"ab-c", true},
		{"", false},
		{"ab", false},
		{"a234567890123456789012345", false},
		{"1aks", false},
		{"-aks", false},
		{"Bad_Name!", false},
		{"my.aks", false},
		{"my aks", false},
		{"aks-é", false},
		{"local", false},
		{"LOCAL", false},
		{"amlcompute", false},
		{"ContainerInstance", false},
		{"locals", true},
	} {
		serverOK := compute.ValidateName(tc.name) == nil
		sdkOK := mlfleet.ValidateComputeName(tc.name) == nil
		if serverOK != tc.ok || sdkOK != tc.ok {
			t.Errorf("compute name %q: server accepts %v, SDK accepts %v; want %v", tc.name, serverOK, sdkOK, tc.ok)
		}
	}
}
