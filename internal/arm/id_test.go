package arm_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/arm"
)

const (
	testSub = "00000000-0000-0000-0000-000000000001"
	mlNS    = "Microsoft.MachineLearningServices"
)

func TestParseID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want arm.ID
		// wantString is the canonical form; empty means the input itself.
		wantString string
		wantType   string
		wantName   string
	}{
		{
			name:     "subscription",
			in:       "/subscriptions/" + testSub,
			want:     arm.ID{SubscriptionID: testSub},
			wantType: arm.TypeSubscription,
			wantName: testSub,
		},
		{
			name:     "resource group keeps the name's case",
			in:       "/subscriptions/" + testSub + "/resourceGroups/My-RG",
			want:     arm.ID{SubscriptionID: testSub, ResourceGroup: "My-RG"},
			wantType: arm.TypeResourceGroup,
			wantName: "My-RG",
		},
		{
			name: "provider resource",
			in:   "/subscriptions/" + testSub + "/resourceGroups/rg1/providers/" + mlNS + "/workspaces/ws1",
			want: arm.ID{SubscriptionID: testSub, ResourceGroup: "rg1", Namespace: mlNS,
				Types: []string{"workspaces"}, Names: []string{"ws1"}},
			wantType: arm.TypeWorkspace,
			wantName: "ws1",
		},
		{
			name: "nested resource",
			in:   "/subscriptions/" + testSub + "/resourceGroups/rg1/providers/" + mlNS + "/workspaces/ws1/computes/aks1",
			want: arm.ID{SubscriptionID: testSub, ResourceGroup: "rg1", Namespace: mlNS,
				Types: []string{"workspaces", "computes"}, Names: []string{"ws1", "aks1"}},
			wantType: mlNS + "/workspaces/computes",
			wantName: "aks1",
		},
		{
			name: "literal segments match in any case",
			in:   "/SUBSCRIPTIONS/" + testSub + "/resourcegroups/RG1/Providers/Microsoft.ContainerService/managedClusters/Aks1",
			want: arm.ID{SubscriptionID: testSub, ResourceGroup: "RG1", Namespace: "Microsoft.ContainerService",
				Types: []string{"managedClusters"}, Names: []string{"Aks1"}},
			wantString: "/subscriptions/" + testSub + "/resourceGroups/RG1/providers/Microsoft.ContainerService/managedClusters/Aks1",
			wantType:   "Microsoft.ContainerService/managedClusters",
			wantName:   "Aks1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := arm.ParseID(tt.in)
			if err != nil {
				t.Fatalf("ParseID(%q): %v", tt.in, err)
			}
			if !equalID(got, tt.want) {
				t.Errorf("ParseID(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			wantString := tt.wantString
			if wantString == "" {
				wantString = tt.in
			}
			if s := got.String(); s != wantString {
				t.Errorf("String() = %q, want %q", s, wantString)
			}
			if typ := got.Type(); typ != tt.wantType {
				t.Errorf("Type() = %q, want %q", typ, tt.wantType)
			}
			if name := got.Name(); name != tt.wantName {
				t.Errorf("Name() = %q, want %q", name, tt.wantName)
			}
			// The canonical string parses back to the same id.
			again, err := arm.ParseID(got.String())
			if err != nil {
				t.Fatalf("ParseID(String()) = %v", err)
			}
			if !equalID(again, got) {
				t.Errorf("round trip: ParseID(%q) = %+v, want %+v", got.String(), again, got)
			}
		})
	}
}

func TestParseIDErrors(t *testing.T) {
	t.Parallel()
	rg := "/subscriptions/" + testSub + "/resourceGroups/rg1"
	tests := []struct {
		name string
		in   string
	}{
		{name: "empty", in: ""},
		{name: "root", in: "/"},
		{name: "no leading slash", in: "subscriptions/" + testSub},
		{name: "not a subscription", in: "/tenants/t1"},
		{name: "missing subscription id", in: "/subscriptions"},
		{name: "missing subscription id with slash", in: "/subscriptions/"},
		{name: "empty subscription id", in: "/subscriptions//resourceGroups/rg1"},
		{name: "unknown segment after subscription", in: "/subscriptions/" + testSub + "/groups/rg1"},
		{name: "missing group name", in: "/subscriptions/" + testSub + "/resourceGroups"},
		{name: "empty group name", in: "/subscriptions/" + testSub + "/resourceGroups//providers/" + mlNS + "/workspaces/ws1"},
		{name: "unknown segment after group", in: rg + "/provider/" + mlNS + "/workspaces/ws1"},
		{name: "providers without namespace", in: rg + "/providers"},
		{name: "namespace without type", in: rg + "/providers/" + mlNS},
		{name: "type without name", in: rg + "/providers/" + mlNS + "/workspaces"},
		{name: "odd type/name pairs", in: rg + "/providers/" + mlNS + "/workspaces/ws1/computes"},
		{name: "empty type", in: rg + "/providers/" + mlNS + "//ws1"},
		{name: "empty name between pairs", in: rg + "/providers/" + mlNS + "/workspaces//computes/aks1"},
		{name: "empty namespace", in: rg + "/providers//workspaces/ws1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := arm.ParseID(tt.in)
			if err == nil {
				t.Fatalf("ParseID(%q) = %+v (String %q), want an error", tt.in, got, got.String())
			}
			if !strings.Contains(err.Error(), tt.in) {
				t.Errorf("error %q does not name the id %q", err, tt.in)
			}
		})
	}
}

func TestIDParent(t *testing.T) {
	t.Parallel()
	sub := "/subscriptions/" + testSub
	rg := sub + "/resourceGroups/rg1"
	ws := rg + "/providers/" + mlNS + "/workspaces/ws1"
	compute := ws + "/computes/aks1"
	tests := []struct {
		name string
		in   string
		// want is the chain of parents up to and including "".
		want []string
	}{
		{name: "subscription", in: sub, want: []string{""}},
		{name: "resource group", in: rg, want: []string{sub, ""}},
		{name: "workspace", in: ws, want: []string{rg, sub, ""}},
		{name: "compute", in: compute, want: []string{ws, rg, sub, ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var chain []string
			cur := tt.in
			for cur != "" && len(chain) <= len(tt.want) {
				id, err := arm.ParseID(cur)
				if err != nil {
					t.Fatalf("ParseID(%q): %v", cur, err)
				}
				cur = id.Parent()
				chain = append(chain, cur)
			}
			if !slices.Equal(chain, tt.want) {
				t.Errorf("parents of %q = %q, want %q", tt.in, chain, tt.want)
			}
		})
	}
}

func TestIDParentDoesNotChangeID(t *testing.T) {
	t.Parallel()
	in := "/subscriptions/" + testSub + "/resourceGroups/rg1/providers/" + mlNS + "/workspaces/ws1/computes/aks1"
	id, err := arm.ParseID(in)
	if err != nil {
		t.Fatal(err)
	}
	_ = id.Parent()
	if got := id.String(); got != in {
		t.Errorf("after Parent(), String() = %q, want %q", got, in)
	}
}

func TestPaths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		got  string
		want string
	}{
		{name: "subscription", got: arm.SubscriptionPath("s1"), want: "/subscriptions/s1"},
		{name: "resource group", got: arm.ResourceGroupPath("s1", "rg1"), want: "/subscriptions/s1/resourceGroups/rg1"},
		{
			name: "nested resource",
			got:  arm.ResourcePath("s1", "rg1", mlNS, "workspaces", "ws1", "computes", "aks1"),
			want: "/subscriptions/s1/resourceGroups/rg1/providers/" + mlNS + "/workspaces/ws1/computes/aks1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
			if _, err := arm.ParseID(tt.got); err != nil {
				t.Errorf("ParseID(%q): %v", tt.got, err)
			}
		})
	}
}

func equalID(a, b arm.ID) bool {
	return a.SubscriptionID == b.SubscriptionID && a.ResourceGroup == b.ResourceGroup &&
		a.Namespace == b.Namespace && slices.Equal(a.Types, b.Types) && slices.Equal(a.Names, b.Names)
}

// TestChildID: a child's id is its parent's stored id, whose case it keeps, followed by its
// own type and name; GroupOf reads the group segment as an id spells it.
func TestChildID(t *testing.T) {
	t.Parallel()
	ws := "/subscriptions/" + testSub + "/resourceGroups/rg1/providers/" + mlNS + "/workspaces/ws1"
	for _, tc := range []struct{ name, parent, want string }{
		{"compute", ws, ws + "/computes/MixCase"},
		{"parent with a trailing slash", ws + "/", ws + "/computes/MixCase"},
	} {
		if got := arm.ChildID(tc.parent, "computes", "MixCase"); got != tc.want {
			t.Errorf("%s: ChildID = %s, want %s", tc.name, got, tc.want)
		}
	}
	if got, want := arm.ChildID(ws, "models", "m1", "versions", "2"), ws+"/models/m1/versions/2"; got != want {
		t.Errorf("ChildID of two levels = %s, want %s", got, want)
	}
	for in, want := range map[string]string{ws: "rg1", "/subscriptions/" + testSub + "/resourceGroups/RG1": "RG1", "/subscriptions/" + testSub: "", "nonsense": ""} {
		if got := arm.GroupOf(in); got != want {
			t.Errorf("GroupOf(%s) = %q, want %q", in, got, want)
		}
	}
}
