package cli

import (
	"context"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// newComputeTargetCommand is `mlfleet ml computetarget`: the inference clusters of a
// workspace (computes of type AKS), as `az ml computetarget` manages them.
func newComputeTargetCommand(streams Streams, g *globals) *cobra.Command {
	return parent("computetarget", "Create, attach, change and detach the inference clusters of a workspace",
		parent("create", "Create a compute target", newComputeTargetCreateAKS(streams, g)),
		parent("attach", "Attach an existing cluster as a compute target", newComputeTargetAttachAKS(streams, g)),
		parent("update", "Change a compute target's settings in place", newComputeTargetUpdateAKS(streams, g)),
		newComputeTargetScale(streams, g),
		newComputeTargetDetach(streams, g),
		newComputeTargetDelete(streams, g),
		newComputeTargetShow(streams, g),
		newComputeTargetList(streams, g),
		newComputeTargetGetCredentials(streams, g),
		newComputeTargetListNodes(streams, g),
		newComputeTargetCheckName(streams, g),
	)
}

// computeRef names one compute: -n, and -g/-w defaulting to `mlfleet configure --defaults`.
// The other things of a workspace (endpoints, deployments, assets) are named the same way;
// what says which one -n names in its help ("" is a compute target).
type computeRef struct{ name, group, workspace, what string }

func (r *computeRef) bind(cmd *cobra.Command) {
	what := r.what
	if what == "" {
		what = "compute target"
	}
	cmd.Flags().StringVarP(&r.name, "name", "n", "", "Name of the "+what)
	r.bindWorkspace(cmd)
}

func (r *computeRef) bindWorkspace(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&r.group, "resource-group", "g", "", "Resource group of the workspace (default: 'mlfleet configure --defaults group=')")
	cmd.Flags().StringVarP(&r.workspace, "workspace-name", "w", "", "Workspace (default: 'mlfleet configure --defaults workspace=')")
}

// resolve checks -n and fills -g and -w from the configured defaults.
func (r *computeRef) resolve() error {
	if err := required(r.name, "--name/-n"); err != nil {
		return err
	}
	return r.resolveWorkspace()
}

func (r *computeRef) resolveWorkspace() error {
	var err error
	if r.group, err = withDefault(r.group, "group", "--resource-group/-g"); err != nil {
		return err
	}
	r.workspace, err = withDefault(r.workspace, "workspace", "--workspace-name/-w")
	return err
}

// computeTable is the table of `computetarget list` and `show`. Location is where the
// cluster runs: computeLocation when the compute has one (its cluster may be in another
// region than the workspace, S10), else the compute's location.
func computeTable(v any) any {
	return rows(v, func(m map[string]any) row {
		loc := dig(m, "properties", "computeLocation")
		if loc == nil || loc == "" {
			loc = m["location"]
		}
		return row{{"Name", m["name"]}, {"ComputeType", dig(m, "properties", "computeType")}, {"Location", loc},
			{"State", dig(m, "properties", "provisioningState")}, {"Purpose", dig(m, "properties", "properties", "clusterPurpose")},
			{"Nodes", dig(m, "properties", "properties", "agentCount")}, {"VMSize", dig(m, "properties", "properties", "agentVmSize")}}
	})
}

// validationTable is the table of a --dry-run (B1): one row per check. A dry run with a
// failed check ends in an error instead (dryRun), so the table is of passed checks.
func validationTable(v any) any {
	return rowsUnder(v, "checks", func(c map[string]any) row {
		result := "Failed"
		if c["passed"] == true {
			result = "Passed"
		}
		return row{{"Check", c["name"]}, {"Result", result}, {"Message", c["message"]}}
	})
}

func nodeTable(v any) any {
	return rows(v, func(m map[string]any) row {
		return row{{"NodeId", m["nodeId"]}, {"PrivateIpAddress", m["privateIpAddress"]}, {"PublicIpAddress", m["publicIpAddress"]}, {"Port", m["port"]}, {"NodeState", m["nodeState"]}}
	})
}

// printWarnings shows the warnings a compute PUT or dry run answered with (a small DevTest
// cluster, a preview Kubernetes version: S5, S9) on stderr, az's way, so that stdout
// keeps only the result.
func printWarnings(streams Streams, warnings []string) {
	for _, w := range warnings {
		fmt.Fprintf(streams.Err, "WARNING: %s\n", w)
	}
}

// workspace returns the workspace ref names, from the SDK.
func (g *globals) workspace(ctx context.Context, streams Streams, ref computeRef) (*mlfleet.Workspace, error) {
	c, err := g.client(streams)
	if err != nil {
		return nil, err
	}
	return c.GetWorkspace(ctx, ref.group, ref.workspace)
}

// aksCompute returns the compute ref names, from the SDK. Like azureml-core it reads the
// compute, so a name that does not exist is an error rather than a silent no-op.
func (g *globals) aksCompute(ctx context.Context, streams Streams, ref computeRef) (*mlfleet.AKSCompute, error) {
	ws, err := g.workspace(ctx, streams, ref)
	if err != nil {
		return nil, err
	}
	return ws.Compute(ctx, ref.name)
}

// finishCompute waits for a create, attach, update or scale (unless noWait), printing
// its progress the way azureml-core does (S21, the SDK's WaitForCompletion), and prints
// the compute as it then is.
func (g *globals) finishCompute(cmd *cobra.Command, streams Streams, aks *mlfleet.AKSCompute, noWait bool) error {
	printWarnings(streams, aks.Warnings())
	if noWait {
		return nil
	}
	if err := aks.WaitForCompletion(cmd.Context(), streams.Out); err != nil {
		return err
	}
	return g.print(streams, aks.Compute(), computeTable)
}

func newComputeTargetShow(streams Streams, g *globals) *cobra.Command {
	ref := &computeRef{}
	return callCommand(streams, g, "show -n NAME [-g GROUP] [-w WORKSPACE]", "Show a compute target", ref, nil, computeTable, func(ctx context.Context, c *mlfleet.Client) (any, error) {
		return c.GetCompute(ctx, ref.group, ref.workspace, ref.name)
	})
}

func newComputeTargetList(streams Streams, g *globals) *cobra.Command {
	ref := &computeRef{}
	return callCommand(streams, g, "list [-g GROUP] [-w WORKSPACE]", "List the compute targets of a workspace", resolveBy{ref.bindWorkspace, ref.resolveWorkspace}, nil, computeTable, func(ctx context.Context, c *mlfleet.Client) (any, error) {
		return c.ListComputes(ctx, ref.group, ref.workspace)
	})
}

func newComputeTargetListNodes(streams Streams, g *globals) *cobra.Command {
	ref := &computeRef{}
	return callCommand(streams, g, "list-nodes -n NAME [-g GROUP] [-w WORKSPACE]", "List the nodes of a compute target's cluster", ref, nil, nodeTable, func(ctx context.Context, c *mlfleet.Client) (any, error) {
		nodes, err := c.ComputeNodes(ctx, ref.group, ref.workspace, ref.name)
		if err != nil {
			return nil, err
		}
		// A nil slice marshals to null, which prints nothing; no nodes print as [].
		if nodes == nil {
			nodes = []mlfleet.ComputeNode{}
		}
		return nodes, nil
	})
}

// newComputeTargetCheckName is the name check of S4 on the command line: it says whether
// a name follows the rules and is free in the workspace and in the region, before a
// create is tried.
func newComputeTargetCheckName(streams Streams, g *globals) *cobra.Command {
	ref := &computeRef{}
	short := "Say whether a name can be used for a new compute target (naming rules, workspace and region uniqueness)"
	return callCommand(streams, g, "check-name -n NAME [-g GROUP] [-w WORKSPACE]", short, ref, nil, nil, func(ctx context.Context, c *mlfleet.Client) (any, error) {
		return c.CheckComputeName(ctx, ref.group, ref.workspace, ref.name)
	})
}

// newComputeTargetDetach is `mlfleet ml computetarget detach` (S3). Unlike delete it asks
// for no confirmation: a detach keeps the cluster and its workloads, and the cluster can be
// attached again.
func newComputeTargetDetach(streams Streams, g *globals) *cobra.Command {
	ref := &computeRef{}
	var noWait bool
	short := "Detach a compute target: remove what mlfleet installed in the cluster, keep the cluster"
	cmd := command("detach -n NAME [-g GROUP] [-w WORKSPACE]", short, ref, func(cmd *cobra.Command) error {
		return g.removeCompute(cmd, streams, *ref, mlfleet.ActionDetach, noWait)
	})
	noWaitFlag(cmd, &noWait)
	return cmd
}

func newComputeTargetDelete(streams Streams, g *globals) *cobra.Command {
	ref := &computeRef{}
	var del deletion
	short := "Delete a compute target and the cluster it created (an attached cluster is refused: detach it)"
	cmd := command("delete -n NAME [-g GROUP] [-w WORKSPACE] [--yes]", short, ref, func(cmd *cobra.Command) error {
		if err := confirm(streams, del.yes, fmt.Sprintf("Are you sure you want to delete compute target '%s' and its cluster?", ref.name)); err != nil {
			return err
		}
		return g.removeCompute(cmd, streams, *ref, mlfleet.ActionDelete, del.noWait)
	})
	del.bind(cmd)
	return cmd
}

// removeCompute detaches or deletes a compute.
func (g *globals) removeCompute(cmd *cobra.Command, streams Streams, ref computeRef, action string, noWait bool) error {
	aks, err := g.aksCompute(cmd.Context(), streams, ref)
	if err != nil {
		return err
	}
	if action == mlfleet.ActionDelete {
		err = aks.Delete(cmd.Context())
	} else {
		err = aks.Detach(cmd.Context())
	}
	if err != nil || noWait {
		return err
	}
	return aks.WaitForCompletion(cmd.Context(), streams.Out)
}

// optInt is an int flag that remembers whether it was given, so that only the settings a
// user gave go into a request: azureml-core sends only the keys the user set and lets the
// server apply its defaults (S1), and 0 must stay distinguishable from "not given".
type optInt struct {
	v   int
	set bool
}

func (o *optInt) String() string {
	if !o.set {
		return ""
	}
	return strconv.Itoa(o.v)
}

func (o *optInt) Set(s string) error {
	v, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("%q is not an integer", s)
	}
	o.v, o.set = v, true
	return nil
}

func (o *optInt) Type() string { return "int" }
