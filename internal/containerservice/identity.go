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

// withDefaults fills what clusters stored before these fields existed lack.
func withDefaults(mc *armapi.ManagedCluster) {
	if mc.Properties.MaxAgentPools == 0 {
		mc.Properties.MaxAgentPools = MaxAgentPools
	}
	if mc.Properties.ServicePrincipalProfile == nil {
		mc.Properties.ServicePrincipalProfile = &armapi.ServicePrincipalProfile{ClientID: msiClientID}
	}
	// Pools of embedded clusters created before these settings were stored run AKS's
	// defaults; a registered cluster's are whatever it runs, which mlfleet does not know.
	if mc.Properties.Mlfleet.Provider == "embedded" {
		for i := range mc.Properties.AgentPoolProfiles {
			p := &mc.Properties.AgentPoolProfiles[i]
			if p.MaxPods == 0 {
				p.MaxPods = DefaultMaxPods
			}
			if p.OSDiskSizeGB == 0 {
				p.OSDiskSizeGB = DefaultOSDiskSizeGB
			}
		}
	}
}
