package cli

import (
	"github.com/spf13/cobra"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// computePutBody returns the PUT body that keeps a compute as GET returned it: read-only
// fields are dropped, resourceId is kept only for an attached compute (a created compute
// is updated, not re-attached), and the TLS and network configurations are left unset so
// the server keeps them (GET never returns the TLS key, so sending the configuration
// back would lose it).
func computePutBody(cur *mlfleet.Compute) *mlfleet.Compute {
	b := &mlfleet.Compute{Location: cur.Location, Tags: cur.Tags}
	p := &b.Properties
	p.ComputeType = cur.Properties.ComputeType
	p.ComputeLocation = cur.Properties.ComputeLocation
	p.Description = cur.Properties.Description
	p.DisableLocalAuth = cur.Properties.DisableLocalAuth
	p.IsAttachedCompute = cur.Properties.IsAttachedCompute
	if cur.Properties.IsAttachedCompute {
		p.ResourceID = cur.Properties.ResourceID
	}
	p.Properties = &mlfleet.AKSProperties{}
	if ap := cur.Properties.Properties; ap != nil {
		p.Properties.AgentCount = ap.AgentCount
		p.Properties.AgentVMSize = ap.AgentVMSize
		p.Properties.ClusterPurpose = ap.ClusterPurpose
		p.Properties.LoadBalancerType = ap.LoadBalancerType
		p.Properties.LoadBalancerSubnet = ap.LoadBalancerSubnet
	}
	return b
}

type updateAKSFlags struct {
	ref     computeRef
	purpose string
	lb      lbFlags
	ssl     sslFlags
	noWait  bool
}

func (f *updateAKSFlags) validate() error {
	if err := f.ref.resolve(); err != nil {
		return err
	}
	if f.purpose == "" && f.lb.lbType == "" && f.lb.subnet == "" && !f.ssl.given() {
		return usagef("nothing to update: give --cluster-purpose, --load-balancer-type, --load-balancer-subnet or --ssl-* options")
	}
	var err error
	if f.purpose, err = purposeOf(f.purpose); err != nil {
		return err
	}
	if err := f.lb.normalize(); err != nil {
		return err
	}
	return f.ssl.validate()
}

// apply returns the PUT body that changes cur as the flags say.
func (f *updateAKSFlags) apply(cur *mlfleet.Compute, ssl *mlfleet.SSLConfiguration) (*mlfleet.Compute, error) {
	b := computePutBody(cur)
	p := b.Properties.Properties
	if f.purpose != "" {
		p.ClusterPurpose = optString(f.purpose)
	}
	if f.lb.lbType != "" {
		p.LoadBalancerType = optString(f.lb.lbType)
		if f.lb.lbType == mlfleet.LoadBalancerPublicIP {
			p.LoadBalancerSubnet = nil
		}
	}
	if f.lb.subnet != "" {
		if p.LoadBalancerType == nil || *p.LoadBalancerType != mlfleet.LoadBalancerInternal {
			return nil, usagef("--load-balancer-subnet applies only to an InternalLoadBalancer: add --load-balancer-type InternalLoadBalancer")
		}
		p.LoadBalancerSubnet = optString(f.lb.subnet)
	}
	p.SSLConfiguration = ssl
	return b, nil
}

func newComputeTargetUpdateAKS(streams Streams, g *globals) *cobra.Command {
	f := &updateAKSFlags{}
	cmd := &cobra.Command{
		Use:   "aks -n NAME [-g GROUP] [-w WORKSPACE] [--cluster-purpose P] [--load-balancer-type T] [--ssl-… | --ssl-disable]",
		Short: "Change an AKS compute target's purpose, load balancer or TLS in place (no detach needed)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.validate(); err != nil {
				return err
			}
			ssl, err := f.ssl.config()
			if err != nil {
				return err
			}
			c, err := g.client(streams)
			if err != nil {
				return err
			}
			cur, err := c.GetCompute(cmd.Context(), f.ref.group, f.ref.workspace, f.ref.name)
			if err != nil {
				return err
			}
			body, err := f.apply(cur, ssl)
			if err != nil {
				return err
			}
			accepted, p, err := c.BeginCreateOrUpdateCompute(cmd.Context(), f.ref.group, f.ref.workspace, f.ref.name, body, nil)
			if err != nil {
				return err
			}
			return g.finishCompute(cmd, streams, c, accepted, p, f.ref, f.noWait)
		},
	}
	f.ref.bind(cmd)
	cmd.Flags().StringVar(&f.purpose, "cluster-purpose", "", "FastProd, DenseProd or DevTest")
	f.lb.bind(cmd)
	f.ssl.bind(cmd, true)
	cmd.Flags().BoolVar(&f.noWait, "no-wait", false, "Do not wait for the long-running operation to finish")
	return cmd
}

type scaleFlags struct {
	ref        computeRef
	agentCount optInt
	noWait     bool
}

func (f *scaleFlags) validate() error {
	if err := f.ref.resolve(); err != nil {
		return err
	}
	if !f.agentCount.set {
		return usagef("the following arguments are required: --agent-count/-a")
	}
	if f.agentCount.v <= 0 {
		return usagef("--agent-count must be a positive integer")
	}
	return nil
}

func newComputeTargetScale(streams Streams, g *globals) *cobra.Command {
	f := &scaleFlags{}
	cmd := &cobra.Command{
		Use:   "scale -n NAME --agent-count N [-g GROUP] [-w WORKSPACE]",
		Short: "Change the number of nodes of a compute target's cluster (the VM size cannot change)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.validate(); err != nil {
				return err
			}
			c, err := g.client(streams)
			if err != nil {
				return err
			}
			cur, err := c.GetCompute(cmd.Context(), f.ref.group, f.ref.workspace, f.ref.name)
			if err != nil {
				return err
			}
			body := computePutBody(cur)
			body.Properties.Properties.AgentCount = f.agentCount.ptr()
			accepted, p, err := c.BeginCreateOrUpdateCompute(cmd.Context(), f.ref.group, f.ref.workspace, f.ref.name, body, nil)
			if err != nil {
				return err
			}
			return g.finishCompute(cmd, streams, c, accepted, p, f.ref, f.noWait)
		},
	}
	f.ref.bind(cmd)
	cmd.Flags().VarP(&f.agentCount, "agent-count", "a", "Number of agent nodes")
	cmd.Flags().BoolVar(&f.noWait, "no-wait", false, "Do not wait for the long-running operation to finish")
	return cmd
}
