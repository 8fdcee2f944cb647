package cli

import (
	"github.com/spf13/cobra"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// updateAKSFlags are the flags of `ml computetarget update aks`: the settings S12 lets a
// PUT change in place (purpose, load balancer, TLS), as azureml-core's
// AksUpdateConfiguration. Flags not given keep the compute's current values.
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
	err := checked(cfg.Validate, &cfg.SSL) // reads the TLS files into cfg first
	return cfg, err
}

func newComputeTargetUpdateAKS(streams Streams, g *globals) *cobra.Command {
	f := &updateAKSFlags{}
	use := "aks -n NAME [-g GROUP] [-w WORKSPACE] [--cluster-purpose P] [--load-balancer-type T] [--ssl-… | --ssl-disable]"
	cmd := leaf(use, "Change an AKS compute target's purpose, load balancer or TLS in place (no detach needed)", func(cmd *cobra.Command) error {
		cfg, err := f.validate()
		if err != nil {
			return err
		}
		return g.changeCompute(cmd, streams, f.ref, f.noWait, func(aks *mlfleet.AKSCompute) error {
			// A subnet given alone is checked against the compute's load balancer here.
			return flagErrors(aks.Update(cmd.Context(), cfg))
		})
	})
	f.ref.bind(cmd)
	cmd.Flags().StringVar(&f.purpose, "cluster-purpose", "", "FastProd, DenseProd or DevTest")
	f.lb.bind(cmd)
	f.ssl.bind(cmd, true)
	noWaitFlag(cmd, &f.noWait)
	return cmd
}

// scaleFlags are the flags of `ml computetarget scale` (S20): a node count only, since
// the VM size of a cluster cannot change.
type scaleFlags struct {
	ref        computeRef
	agentCount optInt
	noWait     bool
}

// validate resolves the compute's flags and checks --agent-count, which scale requires:
// unlike create, there is no server default to fall back to.
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
	short := "Change the number of nodes of a compute target's cluster (the VM size cannot change)"
	cmd := command("scale -n NAME --agent-count N [-g GROUP] [-w WORKSPACE]", short, resolveBy{f.ref.bind, f.validate}, func(cmd *cobra.Command) error {
		return g.changeCompute(cmd, streams, f.ref, f.noWait, func(aks *mlfleet.AKSCompute) error {
			return aks.Scale(cmd.Context(), f.agentCount.v)
		})
	})
	cmd.Flags().VarP(&f.agentCount, "agent-count", "a", "Number of agent nodes")
	noWaitFlag(cmd, &f.noWait)
	return cmd
}

// changeCompute reads the compute ref names, makes change to it and follows the change
// (unless noWait).
func (g *globals) changeCompute(cmd *cobra.Command, streams Streams, ref computeRef, noWait bool, change func(aks *mlfleet.AKSCompute) error) error {
	aks, err := g.aksCompute(cmd.Context(), streams, ref)
	if err != nil {
		return err
	}
	if err := change(aks); err != nil {
		return err
	}
	return g.finishCompute(cmd, streams, aks, noWait)
}
