package containerservice

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// MaxAgentPools is how many agent pools a cluster may have (AKS's limit).
const MaxAgentPools = 100

// Identity types of a cluster.
const (
	IdentitySystemAssigned = "SystemAssigned"
	IdentityUserAssigned   = "UserAssigned"
)

// msiClientID is the client id of the service principal profile of a cluster that runs as
// a managed identity: az reads the profile of every cluster.
const msiClientID = "msi"

var adminUsername = regexp.MustCompile(`^[A-Za-z][-A-Za-z0-9_]*$`)

// setIdentity gives a new cluster its identity: the managed identity the request asks for,
// else the service principal it names, else a system-assigned identity (what az aks create
// asks for by default). A managed identity gets ids of its own and a kubelet identity in
// the node resource group; a service principal's secret is never kept.
func (s *Service) setIdentity(ctx context.Context, sub string, mc *armapi.ManagedCluster, in armapi.ClusterInput, errs *arm.Problems) error {
	p := &mc.Properties
	p.MaxAgentPools = MaxAgentPools
	sp := in.Properties.ServicePrincipalProfile
	if in.Identity == nil && sp != nil && !strings.EqualFold(sp.ClientID, msiClientID) {
		if strings.TrimSpace(sp.ClientID) == "" {
			errs.Add("InvalidParameter", "properties.servicePrincipalProfile.clientId", "The service principal profile needs a clientId (or leave it out for a managed identity).")
		}
		p.ServicePrincipalProfile = &armapi.ServicePrincipalProfile{ClientID: sp.ClientID}
		return nil
	}
	p.ServicePrincipalProfile = &armapi.ServicePrincipalProfile{ClientID: msiClientID}
	id := &armapi.ClusterIdentity{Type: IdentitySystemAssigned}
	if in.Identity != nil {
		switch {
		case strings.EqualFold(in.Identity.Type, IdentitySystemAssigned):
		case strings.EqualFold(in.Identity.Type, IdentityUserAssigned):
			id.Type = IdentityUserAssigned
			if len(in.Identity.UserAssignedIdentities) != 1 {
				errs.Add("InvalidParameter", "identity.userAssignedIdentities", "A UserAssigned identity needs exactly one entry in userAssignedIdentities (the identity's resource id), not %d.", len(in.Identity.UserAssignedIdentities))
			}
			id.UserAssignedIdentities = map[string]*armapi.UserAssignedIdentityRef{}
			for rid := range in.Identity.UserAssignedIdentities {
				if _, err := arm.ParseID(rid); err != nil || !strings.Contains(strings.ToLower(rid), "/providers/microsoft.managedidentity/userassignedidentities/") {
					errs.Add("InvalidParameter", "identity.userAssignedIdentities", "'%s' is not the resource id of a user-assigned identity (/subscriptions/{id}/resourceGroups/{group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}).", rid)
				}
				id.UserAssignedIdentities[rid] = &armapi.UserAssignedIdentityRef{PrincipalID: uuid.NewString(), ClientID: uuid.NewString()}
			}
		default:
			errs.Add("InvalidParameter", "identity.type", "Identity type '%s' is not supported: use SystemAssigned or UserAssigned (or a servicePrincipalProfile).", in.Identity.Type)
		}
	}
	if id.Type == IdentitySystemAssigned {
		subscription, err := s.cfg.Resources.GetSubscription(ctx, sub)
		if err != nil {
			return err
		}
		id.PrincipalID, id.TenantID = uuid.NewString(), subscription.TenantID
	}
	mc.Identity = id
	p.IdentityProfile = map[string]*armapi.UserAssignedIdentity{"kubeletidentity": {
		ResourceID: fmt.Sprintf("/subscriptions/%s/resourcegroups/%s/providers/Microsoft.ManagedIdentity/userAssignedIdentities/%s-agentpool", sub, p.NodeResourceGroup, mc.Name),
		ClientID:   uuid.NewString(),
		ObjectID:   uuid.NewString(),
	}}
	return nil
}

// checkProfiles validates what a PUT says of the nodes' account, the add-ons and local
// accounts, and sets it on p. cur is the stored cluster's properties on an update (nil on
// a create): its administrator cannot change, nor can a profile be added later.
func checkProfiles(in armapi.ClusterInput, p *armapi.ClusterProperties, cur *armapi.ClusterProperties, errs *arm.Problems) {
	if lp := in.Properties.LinuxProfile; lp != nil {
		switch {
		case cur != nil && cur.LinuxProfile == nil:
			errs.Add("InvalidParameter", "properties.linuxProfile", "Cluster has no Linux profile; one cannot be added after creation.")
		case cur != nil && cur.LinuxProfile.AdminUsername != lp.AdminUsername:
			errs.Add("InvalidParameter", "properties.linuxProfile.adminUsername", "The nodes' administrator is '%s' and cannot be changed.", cur.LinuxProfile.AdminUsername)
		case !adminUsername.MatchString(lp.AdminUsername):
			errs.Add("InvalidParameter", "properties.linuxProfile.adminUsername", "Administrator name '%s' is invalid: start with a letter, then letters, digits, '-' or '_'.", lp.AdminUsername)
		}
		keys := lp.SSH.PublicKeys
		if len(keys) == 0 || slices.ContainsFunc(keys, func(k armapi.SSHPublicKey) bool { return strings.TrimSpace(k.KeyData) == "" }) {
			errs.Add("InvalidParameter", "properties.linuxProfile.ssh.publicKeys", "The Linux profile needs at least one SSH public key, each with keyData.")
		}
		p.LinuxProfile = &armapi.LinuxProfile{AdminUsername: lp.AdminUsername, SSH: armapi.SSHConfiguration{PublicKeys: slices.Clone(keys)}}
	}
	if in.Properties.AddonProfiles != nil {
		for _, name := range slices.Sorted(maps.Keys(in.Properties.AddonProfiles)) {
			if in.Properties.AddonProfiles[name].Enabled {
				errs.Add("InvalidParameter", "properties.addonProfiles."+name, "Add-on '%s' is not available: mlfleet clusters run no add-ons; leave it disabled.", name)
			}
		}
		p.AddonProfiles = in.Properties.AddonProfiles
	}
	if d := in.Properties.DisableLocalAccounts; d != nil && *d {
		errs.Add("InvalidParameter", "properties.disableLocalAccounts", "Local accounts cannot be disabled: mlfleet clusters have no Microsoft Entra integration, so their kubeconfigs are local accounts.")
	}
	checkUnsupportedSettings(in, errs)
	checkClusterShape(in, p, errs)
}

// checkUnsupportedSettings refuses the cluster settings mlfleet cannot honour rather than
// accept and drop them: Microsoft Entra integration, automatic upgrades, load balancer
// outbound settings and a paid tier.
// The values that describe what mlfleet does anyway (no aadProfile, upgrade channel none,
// the Free tier) pass, so that az's read-modify-write PUTs of a cluster keep working.
func checkUnsupportedSettings(in armapi.ClusterInput, errs *arm.Problems) {
	if a := in.Properties.AADProfile; a != nil && (a.Managed || a.EnableAzureRBAC || len(a.AdminGroupObjectIDs) > 0 ||
		a.ClientAppID != "" || a.ServerAppID != "" || a.TenantID != "") {
		errs.Add("InvalidParameter", "properties.aadProfile", "Microsoft Entra integration (aadProfile) is not supported by mlfleet: its clusters authenticate with the client certificates of the kubeconfigs 'az aks get-credentials' writes, and authorize with Kubernetes RBAC. Leave out --enable-aad and --enable-azure-rbac.")
	}
	if u := in.Properties.AutoUpgradeProfile; u != nil {
		if c := u.UpgradeChannel; c != "" && !strings.EqualFold(c, "none") {
			errs.Add("InvalidParameter", "properties.autoUpgradeProfile.upgradeChannel", "Automatic upgrades (upgrade channel '%s') are not supported by mlfleet: a cluster runs the Kubernetes version it was created with. Use --auto-upgrade-channel none, or leave it out.", c)
		}
		if c := u.NodeOSUpgradeChannel; c != "" && !strings.EqualFold(c, "none") {
			errs.Add("InvalidParameter", "properties.autoUpgradeProfile.nodeOSUpgradeChannel", "Node OS upgrades (channel '%s') are not supported by mlfleet: it does not manage its nodes' OS image. Use --node-os-upgrade-channel None, or leave it out.", c)
		}
	}
	if np := in.Properties.NetworkProfile; np != nil {
		checkLoadBalancerProfile(np.LoadBalancerProfile, errs)
	}
	if sku := in.SKU; sku != nil {
		if sku.Tier != "" && !strings.EqualFold(sku.Tier, SKUTierFree) {
			errs.Add("InvalidParameter", "sku.tier", "Pricing tier '%s' is not available: mlfleet clusters have the %s tier only, with no uptime SLA. Leave out --uptime-sla and --tier, or use --tier free.", sku.Tier, SKUTierFree)
		}
		if sku.Name != "" && !strings.EqualFold(sku.Name, SKUName) && !strings.EqualFold(sku.Name, "Basic") {
			errs.Add("InvalidParameter", "sku.name", "SKU '%s' is not available: mlfleet clusters are of SKU %s.", sku.Name, SKUName)
		}
	}
}

// checkPowerState refuses a pool power state other than Running (az aks nodepool stop):
// mlfleet's pools always run.
func checkPowerState(target string, ps *armapi.PowerState, pool string, errs *arm.Problems) {
	if ps == nil || ps.Code == "" || strings.EqualFold(ps.Code, PowerRunning) {
		return
	}
	errs.Add(CodeOperationNotSupported, target+".powerState.code", "Stopping agent pool '%s' (power state '%s') is not supported by mlfleet: its pools run until the cluster is deleted. To use fewer nodes, scale the pool down ('az aks nodepool scale', to 1 node at least); to free everything, delete the cluster ('az aks delete').", pool, ps.Code)
}

// checkIdentityUnchanged refuses an update that changes the kind of identity of a cluster.
func checkIdentityUnchanged(in armapi.ClusterInput, mc *armapi.ManagedCluster, errs *arm.Problems) {
	if in.Identity == nil {
		return
	}
	cur, as := "None", "a service principal"
	if mc.Identity != nil {
		cur, as = mc.Identity.Type, "a "+mc.Identity.Type+" identity"
	}
	if !strings.EqualFold(in.Identity.Type, cur) {
		errs.Add("InvalidParameter", "identity.type", "Cluster '%s' runs as %s; its identity type cannot be changed to '%s'.", mc.Name, as, in.Identity.Type)
	}
}

// withDefaults fills what clusters stored before these fields existed lack, and what every
// pool is: running, the cluster's Kubernetes version on its nodes.
func withDefaults(mc *armapi.ManagedCluster) {
	for i := range mc.Properties.AgentPoolProfiles {
		p := &mc.Properties.AgentPoolProfiles[i]
		p.PowerState = &armapi.PowerState{Code: PowerRunning}
		p.CurrentOrchestratorVersion = orDefault(mc.Properties.CurrentKubernetesVersion, p.OrchestratorVersion)
	}
	if mc.Properties.MaxAgentPools == 0 {
		mc.Properties.MaxAgentPools = MaxAgentPools
	}
	if mc.Properties.ServicePrincipalProfile == nil {
		mc.Properties.ServicePrincipalProfile = &armapi.ServicePrincipalProfile{ClientID: msiClientID}
	}
	// Pools of embedded clusters created before these settings were stored run AKS's
	// defaults; a registered cluster's are whatever it runs, which mlfleet does not know.
	if mc.Properties.Mlfleet.Provider == "embedded" {
		if mc.Properties.NetworkProfile.LoadBalancerProfile == nil {
			mc.Properties.NetworkProfile.LoadBalancerProfile = defaultLoadBalancerProfile(mc.Properties.NetworkProfile)
		}
		for i := range mc.Properties.AgentPoolProfiles {
			p := &mc.Properties.AgentPoolProfiles[i]
			if p.MaxPods == 0 {
				p.MaxPods = DefaultMaxPods
			}
			if p.OSDiskSizeGB == 0 {
				p.OSDiskSizeGB = DefaultOSDiskSizeGB
			}
			setNodeFacts(p)
		}
	}
}
