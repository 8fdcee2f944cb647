package containerservice

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// validateJSON validates the creation of cluster name in westus from a body whose
// properties are the JSON members properties, as az sends them, and returns its error.
func validateJSON(t *testing.T, s *Service, name, properties string) error {
	t.Helper()
	var in armapi.ClusterInput
	if err := json.Unmarshal([]byte(`{"location": "westus", "properties": {`+properties+`}}`), &in); err != nil {
		t.Fatal(err)
	}
	_, err := s.Validate(context.Background(), testSub, testRG, name, in, "")
	return err
}

// TestUnsupportedPoolSettings: what az aks create --zones, --os-sku, --node-osdisk-type,
// --enable-node-public-ip, --enable-encryption-at-host, --enable-fips-image,
// --enable-ultra-ssd and az aks nodepool add --priority Spot (--spot-max-price,
// --eviction-policy) send is refused, every one named, rather than accepted and dropped; the values that say what mlfleet's nodes are
// (as az sends them when the flags are absent) pass, on a create and on an update.
func TestUnsupportedPoolSettings(t *testing.T) {
	t.Parallel()
	st := storetest.OpenSQLite(t)
	s := newService(t, st, `{}`)
	ctx := context.Background()
	create := func(pool string) error {
		t.Helper()
		return validateJSON(t, s, "pools", `"agentPoolProfiles": [{"name": "nodepool1", "count": 1, `+pool+`}]`)
	}
	// az aks create's body without the flags (az 2.45's, as it sends it), and with AKS's
	// own values spelled out.
	for _, pool := range []string{`"vmSize": "Standard_D3_v2", "osDiskSizeGB": 0, "osType": "Linux", "enableAutoScaling": false, "type": "VirtualMachineScaleSets", "mode": "System", "orchestratorVersion": "", "upgradeSettings": {}, "enableNodePublicIP": false, "scaleSetPriority": "Regular", "scaleSetEvictionPolicy": "Delete", "spotMaxPrice": -1.0, "nodeTaints": [], "enableEncryptionAtHost": false, "enableUltraSSD": false, "enableFIPS": false`,
		`"enableNodePublicIP": false, "enableEncryptionAtHost": false, "osDiskSizeGB": 0, "orchestratorVersion": ""`,
		`"scaleSetPriority": "regular", "scaleSetEvictionPolicy": "delete", "spotMaxPrice": -1`,
		`"availabilityZones": [], "osSKU": "Ubuntu", "osDiskType": "Managed", "enableNodePublicIP": false, "enableEncryptionAtHost": false`,
		`"osSKU": "ubuntu", "osDiskType": "managed"`} {
		if err := create(pool); err != nil {
			t.Errorf("create with %s: %v, want it accepted", pool, err)
		}
	}
	const p = "properties.agentPoolProfiles[0]."
	err := create(`"availabilityZones": ["1", "2", "3"], "osSKU": "CBLMariner", "osDiskType": "Ephemeral", "enableNodePublicIP": true, "enableEncryptionAtHost": true`)
	wantBadRequest(t, err, "InvalidParameter", []string{p + "availabilityZones", p + "osSKU", p + "osDiskType", p + "enableNodePublicIP", p + "enableEncryptionAtHost"},
		"Availability zones (1, 2, 3) are not available for agent pool 'nodepool1'")
	// az aks nodepool add --priority Spot's body: every Spot setting named.
	err = create(`"scaleSetPriority": "Spot", "scaleSetEvictionPolicy": "Deallocate", "spotMaxPrice": 0.1, "enableFIPS": true, "enableUltraSSD": true`)
	wantBadRequest(t, err, "InvalidParameter", []string{p + "enableFIPS", p + "scaleSetPriority", p + "spotMaxPrice", p + "scaleSetEvictionPolicy", p + "enableUltraSSD"},
		"FIPS-enabled node images are not available")
	for _, tc := range []struct{ pool, field, text string }{
		{`"osSKU": "CBLMariner"`, "osSKU", "OS SKU 'CBLMariner' is not available for agent pool 'nodepool1': mlfleet's nodes run Ubuntu. Leave out --os-sku"},
		{`"osDiskType": "Ephemeral"`, "osDiskType", "OS disk type 'Ephemeral' is not available"},
		{`"enableNodePublicIP": true`, "enableNodePublicIP", "Leave out --enable-node-public-ip"},
		{`"enableEncryptionAtHost": true`, "enableEncryptionAtHost", "Leave out --enable-encryption-at-host"},
		{`"enableFIPS": true`, "enableFIPS", "FIPS-enabled node images are not available for agent pool 'nodepool1'"},
		{`"scaleSetPriority": "Spot"`, "scaleSetPriority", "Scale set priority 'Spot' is not available for agent pool 'nodepool1': mlfleet's nodes are simulated by its server and never evicted, so its pools are Regular. Leave out --priority, or use --priority Regular."},
		{`"spotMaxPrice": 0.5`, "spotMaxPrice", "A Spot max price (0.5) is not available for agent pool 'nodepool1'"},
		{`"scaleSetEvictionPolicy": "Deallocate"`, "scaleSetEvictionPolicy", "Eviction policy 'Deallocate' is not available"},
		{`"enableUltraSSD": true`, "enableUltraSSD", "Ultra SSD is not available for agent pool 'nodepool1'"},
	} {
		wantBadRequest(t, create(tc.pool), "InvalidParameter", []string{p + tc.field}, tc.text)
	}

	// An update: az aks nodepool update and az aks update send the pool back as read.
	mustPut(t, s, "pools", clusterInput(1, "Standard_D3_v2"))
	finishOperations(t, st)
	// The pool serves what its nodes are, as AKS does, and takes it back as read.
	ap, err := s.GetPool(ctx, testSub, testRG, "pools", "nodepool1")
	if err != nil {
		t.Fatal(err)
	}
	if pp := ap.Properties; pp.OSSKU != "Ubuntu" || pp.OSDiskType != "Managed" || pp.EnableNodePublicIP == nil || *pp.EnableNodePublicIP ||
		pp.EnableEncryptionAtHost == nil || *pp.EnableEncryptionAtHost {
		t.Errorf("pool served: osSKU %q, osDiskType %q, enableNodePublicIP %v, enableEncryptionAtHost %v; want Ubuntu, Managed, false, false",
			pp.OSSKU, pp.OSDiskType, pp.EnableNodePublicIP, pp.EnableEncryptionAtHost)
	}
	if _, _, err := s.ScalePool(ctx, testSub, testRG, "pools", "nodepool1", asRead[armapi.AgentPoolPut](t, ap), arm.Preconditions{}); err != nil {
		t.Fatalf("agent pool PUT as read: %v", err)
	}
	var put armapi.AgentPoolPut
	put.Properties.Count = intp(1)
	put.Properties.OSSKU, put.Properties.EnableNodePublicIP = "Ubuntu", boolp(false)
	if _, _, err := s.ScalePool(ctx, testSub, testRG, "pools", "nodepool1", put, arm.Preconditions{}); err != nil {
		t.Fatalf("agent pool PUT with AKS's values: %v", err)
	}
	put.Properties.ScaleSetPriority, put.Properties.ScaleSetEvictionPolicy, put.Properties.SpotMaxPrice = "Regular", "Delete", floatp(-1)
	put.Properties.EnableFIPS, put.Properties.EnableUltraSSD = boolp(false), boolp(false)
	if _, _, err := s.ScalePool(ctx, testSub, testRG, "pools", "nodepool1", put, arm.Preconditions{}); err != nil {
		t.Fatalf("agent pool PUT with AKS's scale set values: %v", err)
	}
	put.Properties.AvailabilityZones = []string{"1"}
	_, _, err = s.ScalePool(ctx, testSub, testRG, "pools", "nodepool1", put, arm.Preconditions{})
	wantBadRequest(t, err, "InvalidParameter", []string{"properties.availabilityZones"}, "Leave out --zones")
	put.Properties.AvailabilityZones = nil
	put.Properties.ScaleSetPriority, put.Properties.EnableUltraSSD = "Spot", boolp(true)
	_, _, err = s.ScalePool(ctx, testSub, testRG, "pools", "nodepool1", put, arm.Preconditions{})
	wantBadRequest(t, err, "InvalidParameter", []string{"properties.scaleSetPriority", "properties.enableUltraSSD"}, "Leave out --priority")
	in := clusterInput(1, "Standard_D3_v2")
	in.Properties.AgentPoolProfiles[0].EnableEncryptionAtHost = boolp(true)
	_, _, _, err = s.Put(ctx, testSub, testRG, "pools", in, arm.Preconditions{})
	wantBadRequest(t, err, "InvalidParameter", []string{p + "enableEncryptionAtHost"}, "Encryption at host is not available")
	in = clusterInput(1, "Standard_D3_v2")
	in.Properties.AgentPoolProfiles[0].EnableFIPS = boolp(true)
	_, _, _, err = s.Put(ctx, testSub, testRG, "pools", in, arm.Preconditions{})
	wantBadRequest(t, err, "InvalidParameter", []string{p + "enableFIPS"}, "Leave out --enable-fips-image")
}

// TestLoadBalancerProfile: a cluster with a standard load balancer serves AKS's default
// load balancer profile (one managed outbound IP), rows stored before it included, so that
// az aks update --load-balancer-managed-outbound-ip-count, which changes the profile it
// read, sends it; any outbound setting but AKS's defaults is then refused, on an update
// and on a create, rather than dropped. A basic load balancer has no profile.
func TestLoadBalancerProfile(t *testing.T) {
	t.Parallel()
	s, st := serviceWithCluster(t, "lb", 1)
	ctx := context.Background()
	// A row written before the profile was served.
	if _, err := store.Modify(ctx, st, ID(testSub, testRG, "lb"), func(r *store.Resource) error {
		mc, err := clusterRecord.Read(r.ID, r.Body)
		if err != nil {
			return err
		}
		mc.Properties.NetworkProfile.LoadBalancerProfile = nil
		r.Body = clusterRecord.Encode(mc)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	mc, err := s.Get(ctx, testSub, testRG, "lb")
	if err != nil {
		t.Fatal(err)
	}
	lb := mc.Properties.NetworkProfile.LoadBalancerProfile
	if lb == nil || lb.ManagedOutboundIPs == nil || lb.ManagedOutboundIPs.Count == nil || *lb.ManagedOutboundIPs.Count != 1 {
		t.Fatalf("load balancer profile served = %+v, want one managed outbound IP", lb)
	}

	// az aks update: the cluster as read, its profile changed as the flags say.
	update := func(change func(*armapi.LoadBalancerProfile)) error {
		t.Helper()
		mc, err := s.Get(ctx, testSub, testRG, "lb")
		if err != nil {
			t.Fatal(err)
		}
		in := asRead[armapi.ClusterInput](t, mc)
		change(in.Properties.NetworkProfile.LoadBalancerProfile)
		_, _, _, err = s.Put(ctx, testSub, testRG, "lb", in, arm.Preconditions{})
		return err
	}
	if err := update(func(*armapi.LoadBalancerProfile) {}); err != nil {
		t.Fatalf("the cluster PUT back as read: %v", err)
	}
	if err := update(func(lb *armapi.LoadBalancerProfile) {
		lb.AllocatedOutboundPorts, lb.IdleTimeoutInMinutes, lb.ManagedOutboundIPs.CountIPv6 = intp(0), intp(30), intp(0)
	}); err != nil {
		t.Fatalf("AKS's defaults spelled out: %v", err)
	}
	const target = "properties.networkProfile.loadBalancerProfile"
	err = update(func(lb *armapi.LoadBalancerProfile) { lb.ManagedOutboundIPs.Count = intp(2) })
	wantBadRequest(t, err, "InvalidParameter", []string{target}, "Load balancer outbound settings are not available: managedOutboundIPs.count 2 (--load-balancer-managed-outbound-ip-count)")
	err = update(func(lb *armapi.LoadBalancerProfile) {
		lb.ManagedOutboundIPs = nil
		lb.OutboundIPs = &armapi.OutboundIPs{PublicIPs: []armapi.ResourceReference{{ID: "/subscriptions/s/publicIPAddresses/ip"}}}
		lb.AllocatedOutboundPorts, lb.IdleTimeoutInMinutes = intp(1024), intp(4)
	})
	wantBadRequest(t, err, "InvalidParameter", []string{target}, "outboundIPs (--load-balancer-outbound-ips); allocatedOutboundPorts 1024 (--load-balancer-outbound-ports); idleTimeoutInMinutes 4")
	if mc, err := s.Get(ctx, testSub, testRG, "lb"); err != nil || *mc.Properties.NetworkProfile.LoadBalancerProfile.ManagedOutboundIPs.Count != 1 {
		t.Fatalf("after the refusals: %+v (%v), want one managed outbound IP", mc.Properties.NetworkProfile.LoadBalancerProfile, err)
	}

	// az aks create --load-balancer-managed-outbound-ip-count 2 (az fills in the defaults).
	var in armapi.ClusterInput
	if err := json.Unmarshal([]byte(`{"location": "westus", "properties": {"networkProfile": {"loadBalancerSku": "standard",
		"loadBalancerProfile": {"managedOutboundIPs": {"count": 2, "countIPv6": 0}, "allocatedOutboundPorts": 0, "idleTimeoutInMinutes": 30}}}}`), &in); err != nil {
		t.Fatal(err)
	}
	_, err = s.Validate(ctx, testSub, testRG, "lb2", in, "")
	wantBadRequest(t, err, "InvalidParameter", []string{target}, "managedOutboundIPs.count 2")
	in.Properties.NetworkProfile.LoadBalancerProfile.ManagedOutboundIPs.Count = intp(1)
	if _, err := s.Validate(ctx, testSub, testRG, "lb2", in, ""); err != nil {
		t.Fatalf("create with AKS's default profile: %v", err)
	}
	in.Properties.NetworkProfile = &armapi.NetworkProfileInput{NetworkProfile: armapi.NetworkProfile{LoadBalancerSku: "basic"}}
	nc, err := s.Validate(ctx, testSub, testRG, "lb2", in, "")
	if err != nil || nc.cluster.Properties.NetworkProfile.LoadBalancerProfile != nil {
		t.Fatalf("a basic load balancer: %v, profile %+v; want none", err, nc)
	}
}

// TestUnsupportedClusterShape: what az aks create --disable-rbac, --enable-oidc-issuer,
// --network-policy, --network-plugin azure, --node-resource-group, --vm-set-type
// AvailabilitySet and --ppg send, and what az aks nodepool update --max-surge and
// --scale-down-mode Deallocate send, is refused with the property named (QA finding 6),
// rather than answered Succeeded without it; az's own values without the flags, and the
// cluster and pool PUT back as read, pass.
func TestUnsupportedClusterShape(t *testing.T) {
	t.Parallel()
	st := storetest.OpenSQLite(t)
	s := newService(t, st, `{}`)
	ctx := context.Background()
	create := func(body string) error {
		t.Helper()
		return validateJSON(t, s, "shape", body)
	}
	// az aks create (2.45) without the flags, and AKS's own values spelled out.
	for _, body := range []string{
		`"enableRBAC": true, "networkProfile": {"networkPlugin": "kubenet", "loadBalancerSku": "standard", "outboundType": "loadBalancer"},
		 "agentPoolProfiles": [{"name": "nodepool1", "count": 1, "type": "VirtualMachineScaleSets", "upgradeSettings": {}}]`,
		`"oidcIssuerProfile": {"enabled": false}, "nodeResourceGroup": "MC_rg_shape_westus", "networkProfile": {"networkPolicy": "none"},
		 "agentPoolProfiles": [{"name": "nodepool1", "type": "virtualmachinescalesets", "scaleDownMode": "Delete"}]`,
		`"nodeResourceGroup": "mc_RG_shape_westus"`,
	} {
		if err := create(body); err != nil {
			t.Errorf("create with %s: %v, want it accepted", body, err)
		}
	}
	const pool = "properties.agentPoolProfiles[0]."
	err := create(`"enableRBAC": false, "oidcIssuerProfile": {"enabled": true}, "nodeResourceGroup": "myNodeRG",
		"networkProfile": {"networkPlugin": "azure", "networkPolicy": "calico"},
		"agentPoolProfiles": [{"name": "nodepool1", "type": "AvailabilitySet", "proximityPlacementGroupID": "/subscriptions/x/resourceGroups/y/providers/Microsoft.Compute/proximityPlacementGroups/z",
			"scaleDownMode": "Deallocate", "upgradeSettings": {"maxSurge": "33%"}}]`)
	wantBadRequest(t, err, "InvalidParameter", []string{pool + "type", pool + "proximityPlacementGroupID", pool + "scaleDownMode", pool + "upgradeSettings.maxSurge",
		"properties.enableRBAC", "properties.oidcIssuerProfile.enabled", "properties.nodeResourceGroup", "properties.networkProfile.networkPolicy", "properties.networkProfile.networkPlugin"},
		"Clusters without Kubernetes RBAC are not available")
	for _, tc := range []struct{ body, target, text string }{
		{`"enableRBAC": false`, "properties.enableRBAC", "Leave out --disable-rbac."},
		{`"oidcIssuerProfile": {"enabled": true}`, "properties.oidcIssuerProfile.enabled", "An OIDC issuer is not available"},
		{`"nodeResourceGroup": "myNodeRG"`, "properties.nodeResourceGroup", "Node resource group 'myNodeRG' is not available: mlfleet's nodes are simulated by its server and have no Azure resources; the cluster's node resource group is named MC_rg_shape_westus."},
		{`"networkProfile": {"networkPolicy": "cilium"}`, "properties.networkProfile.networkPolicy", "Network policy 'cilium' is not available"},
		{`"networkProfile": {"networkPlugin": "azure"}`, "properties.networkProfile.networkPlugin", "Network plugin 'azure' is not available: mlfleet's pods get their addresses from the cluster's podCidr"},
		{`"agentPoolProfiles": [{"name": "nodepool1", "type": "AvailabilitySet"}]`, pool + "type", "VM set type 'AvailabilitySet' is not available for agent pool 'nodepool1'"},
		{`"agentPoolProfiles": [{"name": "nodepool1", "proximityPlacementGroupId": "/x"}]`, pool + "proximityPlacementGroupID", "Leave out --ppg."},
		{`"agentPoolProfiles": [{"name": "nodepool1", "upgradeSettings": {"drainTimeoutInMinutes": 5}}]`, pool + "upgradeSettings", "Upgrade drain timeout"},
	} {
		wantBadRequest(t, create(tc.body), "InvalidParameter", []string{tc.target}, tc.text)
	}

	// Updates: az aks update and az aks nodepool update PUT back what they read.
	mustPut(t, s, "shape", clusterInput(1, "Standard_D3_v2"))
	finishOperations(t, st)
	mc, err := s.Get(ctx, testSub, testRG, "shape")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := s.Put(ctx, testSub, testRG, "shape", asRead[armapi.ClusterInput](t, mc), arm.Preconditions{}); err != nil {
		t.Fatalf("the cluster PUT back as read: %v", err)
	}
	in := asRead[armapi.ClusterInput](t, mc)
	in.Properties.OIDCIssuerProfile = &armapi.OIDCIssuerProfile{Enabled: boolp(true)}
	in.Properties.NetworkProfile.NetworkPolicy = "azure"
	_, _, _, err = s.Put(ctx, testSub, testRG, "shape", in, arm.Preconditions{})
	wantBadRequest(t, err, "InvalidParameter", []string{"properties.oidcIssuerProfile.enabled", "properties.networkProfile.networkPolicy"}, "Leave out --enable-oidc-issuer.")

	ap, err := s.GetPool(ctx, testSub, testRG, "shape", "nodepool1")
	if err != nil {
		t.Fatal(err)
	}
	put := asRead[armapi.AgentPoolPut](t, ap)
	put.Properties.ScaleDownMode, put.Properties.UpgradeSettings = "Delete", &armapi.AgentPoolUpgradeSettings{}
	if _, _, err := s.ScalePool(ctx, testSub, testRG, "shape", "nodepool1", put, arm.Preconditions{}); err != nil {
		t.Fatalf("agent pool PUT as read, with AKS's defaults: %v", err)
	}
	put.Properties.ScaleDownMode, put.Properties.UpgradeSettings = "Deallocate", &armapi.AgentPoolUpgradeSettings{MaxSurge: "33%"}
	_, _, err = s.ScalePool(ctx, testSub, testRG, "shape", "nodepool1", put, arm.Preconditions{})
	wantBadRequest(t, err, "InvalidParameter", []string{"properties.scaleDownMode", "properties.upgradeSettings.maxSurge"},
		"Scale-down mode 'Deallocate' is not available for agent pool 'nodepool1'")

	// count is optional on an update, as in AKS: a PUT without it keeps the count, and one
	// carrying only a setting mlfleet refuses gets that refusal.
	var bare armapi.AgentPoolPut
	got, _, err := s.ScalePool(ctx, testSub, testRG, "shape", "nodepool1", bare, arm.Preconditions{})
	if err != nil || got.Properties.Count != ap.Properties.Count {
		t.Fatalf("agent pool PUT without a count = %+v, %v; want the pool with its count %d", got, err, ap.Properties.Count)
	}
	bare.Properties.EnableFIPS = boolp(true)
	_, _, err = s.ScalePool(ctx, testSub, testRG, "shape", "nodepool1", bare, arm.Preconditions{})
	wantBadRequest(t, err, "InvalidParameter", []string{"properties.enableFIPS"}, "FIPS")
}

// asRead returns v, as served, read back into a PUT body of type T: what az's read-modify-
// write updates send when they change nothing.
func asRead[T any](t *testing.T, v any) T {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var in T
	if err := json.Unmarshal(raw, &in); err != nil {
		t.Fatal(err)
	}
	return in
}
