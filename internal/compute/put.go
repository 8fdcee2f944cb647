package compute

import (
	"context"
	"fmt"

	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

type createInput struct {
	ID string `json:"id"`
}

type attachInput struct {
	ID      string         `json:"id"`
	Replace *replaceTarget `json:"replace,omitempty"`
}

type updateInput struct {
	ID string `json:"id"`
	// Scale is the new node count, when it changes.
	Scale *int `json:"scale,omitempty"`
}

type deleteInput struct {
	ID     string `json:"id"`
	Action string `json:"action"`
}

func defaults() settings {
	return settings{AgentCount: DefaultAgentCount, VMSize: DefaultVMSize, Purpose: DefaultPurpose, LB: DefaultLoadBalancer, SSL: sslSettings{Status: "Disabled"}}
}

// newCompute builds the stored body of a new compute.
func (s *Service) newCompute(id, name, location string, in armapi.Compute, st settings) *armapi.Compute {
	now := s.now().UTC()
	c := &armapi.Compute{ID: id, Name: name, Type: TypeCompute, Location: location, Tags: in.Tags}
	if c.Tags == nil {
		c.Tags = map[string]string{}
	}
	c.SystemData = nil
	c.Properties = armapi.ComputeProperties{
		ComputeType: "AKS", ComputeLocation: location, ProvisioningState: armapi.StateCreating, Description: in.Properties.Description,
		CreatedOn: &now, ModifiedOn: &now, ProvisioningErrors: nil, DisableLocalAuth: in.Properties.DisableLocalAuth,
		Mlfleet: &armapi.ComputeMlfleet{Conditions: []armapi.Condition{}, AttachmentID: attachmentID(id)},
	}
	s.render(c, st)
	return c
}

// render writes settings into a compute's AKS properties (the TLS key never: it is sealed
// apart).
func (s *Service) render(c *armapi.Compute, st settings) {
	p := c.Properties.Properties
	if p == nil {
		p = &armapi.AKSProperties{SystemServices: []armapi.SystemService{}}
		c.Properties.Properties = p
	}
	p.AgentCount = ptr(st.AgentCount)
	p.AgentVMSize = nonEmpty(st.VMSize)
	p.ClusterPurpose = ptr(st.Purpose)
	p.LoadBalancerType = ptr(st.LB)
	p.LoadBalancerSubnet = nonEmpty(st.Subnet)
	p.SSLConfiguration = &armapi.SSLConfiguration{Status: st.SSL.Status, Cert: st.SSL.Cert, Cname: st.SSL.CName, LeafDomainLabel: st.SSL.Leaf, OverwriteExistingDomain: st.SSL.Overwrite}
	p.AKSNetworkingConfiguration = st.Network
	if p.SystemServices == nil {
		p.SystemServices = []armapi.SystemService{}
	}
}

// settingsOf reads the settings of a stored compute, with its sealed TLS key.
func (s *Service) settingsOf(ctx context.Context, c *armapi.Compute) (settings, error) {
	p := c.Properties.Properties
	st := settings{AgentCount: derefInt(p.AgentCount), VMSize: deref(p.AgentVMSize), Purpose: deref(p.ClusterPurpose),
		LB: deref(p.LoadBalancerType), Subnet: deref(p.LoadBalancerSubnet), Network: p.AKSNetworkingConfiguration, SSL: sslSettings{Status: "Disabled"}}
	if ssl := p.SSLConfiguration; ssl != nil && ssl.Status != "" {
		st.SSL = sslSettings{Status: ssl.Status, Cert: ssl.Cert, CName: ssl.Cname, Leaf: ssl.LeafDomainLabel, Overwrite: ssl.OverwriteExistingDomain}
	}
	if st.SSL.Status == "Enabled" {
		sec, err := s.loadTLS(ctx, s.cfg.Store, c.ID)
		if err != nil {
			return st, err
		}
		st.SSL.Key = sec.Key
	}
	return st, nil
}

func derefInt(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// redact returns the compute as GET serves it.
func redact(c *armapi.Compute) *armapi.Compute {
	cp := *c
	if ssl := c.Properties.Properties.SSLConfiguration; ssl != nil {
		s := *ssl
		s.Key = ""
		props := *c.Properties.Properties
		props.SSLConfiguration = &s
		cp.Properties.Properties = &props
	}
	return &cp
}

func (s *Service) getByID(ctx context.Context, id string) (*armapi.Compute, error) {
	r, err := s.cfg.Store.GetResource(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("get compute %s: %w", id, err)
	}
	return decode(r)
}
