package cli

import (
	"github.com/spf13/cobra"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

type updateAKSFlags struct {
	ref     computeRef
	purpose string
	lb      lbFlags
	ssl     sslFlags
	noWait  bool
}

// config returns the SDK's update configuration the flags give.
func (f *updateAKSFlags) config() mlfleet.AKSUpdateConfig {
	return mlfleet.AKSUpdateConfig{ClusterPurpose: f.purpose, LoadBalancerType: f.lb.lbType, LoadBalancerSubnet: f.lb.subnet,
		SSL: f.ssl.options(), DisableSSL: f.ssl.disable}
}

// validate makes the client-side checks and returns the configuration to send, its TLS
// files read.
func (f *updateAKSFlags) validate() (mlfleet.AKSUpdateConfig, error) {
	cfg := f.config()
	if err := f.ref.resolve(); err != nil {
		return cfg, err
	}
	if err := checked(cfg.Validate, &cfg.SSL); err != nil {
		return cfg, err
	}
	return cfg, nil
}

func newComputeTargetUpdateAKS(streams Streams, g *globals) *cobra.Command {
	f := &updateAKSFlags{}
	cmd := &cobra.Command{
		Use:   "aks -n NAME [-g GROUP] [-w WORKSPACE] [--cluster-purpose P] [--load-balancer-type T] [--ssl-… | --ssl-disable]",
		Short: "Change an AKS compute target's purpose, load balancer or TLS in place (no detach needed)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := f.validate()
			if err != nil {
				return err
			}
			aks, err := g.aksCompute(cmd.Context(), streams, f.ref)
			if err != nil {
				return err
			}
			// A subnet given alone is checked against the compute's load balancer here.
			if err := aks.Update(cmd.Context(), cfg); err != nil {
				return flagErrors(err)
			}
			return g.finishCompute(cmd, streams, aks, f.noWait)
		},
	}
	f.ref.bind(cmd)
	cmd.Flags().StringVar(&f.purpose, "cluster-purpose", "", "FastProd, DenseProd or DevTest")
	f.lb.bind(cmd)
	f.ssl.bind(cmd, true)
	noWaitFlag(cmd, &f.noWait)
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
	return flagErrors(mlfleet.ValidateAgentCount(f.agentCount.v))
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
			aks, err := g.aksCompute(cmd.Context(), streams, f.ref)
			if err != nil {
				return err
			}
			if err := aks.Scale(cmd.Context(), f.agentCount.v); err != nil {
				return err
			}
			return g.finishCompute(cmd, streams, aks, f.noWait)
		},
	}
	f.ref.bind(cmd)
	cmd.Flags().VarP(&f.agentCount, "agent-count", "a", "Number of agent nodes")
	noWaitFlag(cmd, &f.noWait)
	return cmd
}
