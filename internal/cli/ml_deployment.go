package cli

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// deploymentTable is the table of the online-deployment commands, read from az ml's
// shape (azmlDeployments). Ready is mlfleet's own count of instances whose pods are Ready.
func deploymentTable(v any) any {
	return rows(v, func(m map[string]any) row {
		return row{{"Name", m["name"]}, {"Endpoint", m["endpoint_name"]}, {"State", m["provisioning_state"]}, {"InstanceType", m["instance_type"]},
			{"InstanceCount", m["instance_count"]}, {"Ready", dig(m, "mlfleet", "readyInstances")}}
	})
}

// deploymentRef names a deployment: -n and -e, with -g/-w.
type deploymentRef struct {
	computeRef
	endpoint string
}

func (r *deploymentRef) bind(cmd *cobra.Command) {
	r.computeRef.bind(cmd)
	cmd.Flags().StringVarP(&r.endpoint, "endpoint-name", "e", "", "Name of the online endpoint")
}

func (r *deploymentRef) resolve() error {
	if err := r.computeRef.resolve(); err != nil {
		return err
	}
	return required(r.endpoint, "--endpoint-name/-e")
}

// resolveEndpoint checks -e and fills -g and -w, for a list of an endpoint's deployments.
func (r *deploymentRef) resolveEndpoint() error {
	if err := r.resolveWorkspace(); err != nil {
		return err
	}
	return required(r.endpoint, "--endpoint-name/-e")
}

// newOnlineDeploymentCommand is `mlfleet ml online-deployment`, az ml's v2 grammar.
func newOnlineDeploymentCommand(streams Streams, g *globals) *cobra.Command {
	return parent("online-deployment", "Create, update, inspect and delete the deployments of online endpoints",
		newDeploymentPut(streams, g, true), newDeploymentPut(streams, g, false), newDeploymentShow(streams, g),
		newDeploymentList(streams, g), newDeploymentDelete(streams, g), newDeploymentLogs(streams, g))
}

// trafficNotSet is the advice of a create whose --all-traffic did not set the endpoint's
// traffic: the command that sets it.
func trafficNotSet(ref deploymentRef) string {
	return fmt.Sprintf("The endpoint's traffic was not set. Once the deployment has succeeded, send it all of the traffic with: "+
		"mlfleet ml online-endpoint update -n %s -g %s -w %s --traffic \"%s=100\"", ref.endpoint, ref.group, ref.workspace, ref.name)
}

// newDeploymentPut is `online-deployment create` (create) or `update`. create sends
// If-None-Match: * so that an existing deployment is refused rather than replaced; update
// reads the deployment first, so a missing one is a 404 rather than a create.
func newDeploymentPut(streams Streams, g *globals, create bool) *cobra.Command {
	ref := deploymentRef{computeRef: computeRef{what: "deployment"}}
	var spec deploymentSpec
	var file string
	var allTraffic, noWait bool
	var instanceCount optInt
	// -n and -e may come from the file's name and endpoint_name.
	fromFile := func() error {
		if file == "" && create {
			return usagef("the following arguments are required: --file/-f")
		}
		if err := readSpec(file, &spec); err != nil {
			return err
		}
		ref.name, ref.endpoint = firstNonEmpty(ref.name, spec.Name), firstNonEmpty(ref.endpoint, spec.EndpointName)
		return ref.resolve()
	}
	use, short := "create -n NAME -e ENDPOINT --file deployment.yml [--all-traffic]", "Deploy a model to an endpoint"
	if !create {
		use, short = "update -n NAME -e ENDPOINT [--file deployment.yml] [--instance-count N]", "Change a deployment (e.g. its instance count)"
	}
	cmd := command(use, short, resolveBy{ref.bind, fromFile}, func(cmd *cobra.Command) error {
		c, err := g.client(streams)
		if err != nil {
			return err
		}
		ctx := cmd.Context()
		a := &assetsClient{c: c, ctx: ctx, group: ref.group, ws: ref.workspace, dir: filepath.Dir(file)}
		// With --file the file is the whole new deployment, on update too: what it leaves
		// out is not kept from the current one. Models and code it names by path are
		// uploaded here.
		var in *mlfleet.OnlineDeployment
		if file != "" {
			if in, err = a.deployment(&spec); err != nil {
				return err
			}
		}
		if !create {
			cur, err := c.GetOnlineDeployment(ctx, ref.group, ref.workspace, ref.endpoint, ref.name)
			if err != nil {
				return err
			}
			if in == nil {
				in = cur
			}
		}
		if instanceCount.set {
			n := instanceCount.v
			in.Sku = &mlfleet.DeploymentSku{Name: "Default", Capacity: &n}
			// A deployment stored by an older server carries the old count in
			// scaleSettings too; the count is sku.capacity alone.
			in.Properties.ScaleSettings = nil
		}
		_, p, err := c.BeginCreateOrUpdateOnlineDeployment(ctx, ref.group, ref.workspace, ref.endpoint, ref.name, in, create)
		if err != nil {
			return err
		}
		if err := wait(cmd, streams, p, noWait); err != nil {
			// A deployment that failed gets no traffic; one still going on may succeed,
			// and then the user sets the traffic this command did not.
			if allTraffic && isLost(err) {
				return advise(err, trafficNotSet(ref))
			}
			return err
		}
		// Traffic moves only once the deployment's operation succeeded (wait returns its
		// error otherwise), so --all-traffic does not route to a deployment that failed.
		// With --no-wait nothing is waited for and the traffic change is sent at once.
		if allTraffic {
			tp, err := c.BeginUpdateOnlineEndpointTraffic(ctx, ref.group, ref.workspace, ref.endpoint, map[string]int{ref.name: 100})
			if err != nil {
				return advise(err, trafficNotSet(ref))
			}
			if err := wait(cmd, streams, tp, noWait); err != nil {
				return err
			}
		}
		d, err := c.GetOnlineDeployment(ctx, ref.group, ref.workspace, ref.endpoint, ref.name)
		if err != nil {
			return err
		}
		return g.printAs(streams, d, azmlDeployments, deploymentTable)
	})
	cmd.Flags().StringVarP(&file, "file", "f", "", "Deployment YAML (model, code_configuration, environment, instance_type, instance_count, compute)")
	if create {
		cmd.Flags().BoolVar(&allTraffic, "all-traffic", false, "Send all of the endpoint's traffic to this deployment once it is ready")
	} else {
		cmd.Flags().Var(&instanceCount, "instance-count", "Number of instances")
	}
	noWaitFlag(cmd, &noWait)
	return cmd
}

func newDeploymentShow(streams Streams, g *globals) *cobra.Command {
	ref := deploymentRef{computeRef: computeRef{what: "deployment"}}
	return callCommand(streams, g, "show -n NAME -e ENDPOINT", "Show a deployment", &ref, azmlDeployments, deploymentTable, func(ctx context.Context, c *mlfleet.Client) (any, error) {
		return c.GetOnlineDeployment(ctx, ref.group, ref.workspace, ref.endpoint, ref.name)
	})
}

func newDeploymentList(streams Streams, g *globals) *cobra.Command {
	ref := deploymentRef{computeRef: computeRef{what: "deployment"}}
	return callCommand(streams, g, "list -e ENDPOINT", "List an endpoint's deployments", resolveBy{ref.bind, ref.resolveEndpoint}, azmlDeployments, deploymentTable, func(ctx context.Context, c *mlfleet.Client) (any, error) {
		return c.ListOnlineDeployments(ctx, ref.group, ref.workspace, ref.endpoint)
	})
}

func newDeploymentDelete(streams Streams, g *globals) *cobra.Command {
	ref := deploymentRef{computeRef: computeRef{what: "deployment"}}
	return deleteCommand(streams, g, "delete -n NAME -e ENDPOINT", "Delete a deployment (route its traffic elsewhere first)", &ref,
		func() string {
			return fmt.Sprintf("Are you sure you want to delete deployment '%s' of endpoint '%s'?", ref.name, ref.endpoint)
		},
		func(ctx context.Context, c *mlfleet.Client) (*mlfleet.Poller, error) {
			return c.BeginDeleteOnlineDeployment(ctx, ref.group, ref.workspace, ref.endpoint, ref.name)
		})
}

func newDeploymentLogs(streams Streams, g *globals) *cobra.Command {
	ref := deploymentRef{computeRef: computeRef{what: "deployment"}}
	var lines optInt
	var container string
	cmd := command("get-logs -n NAME -e ENDPOINT [--lines N]", "Show the inference server's log of a deployment", &ref, func(cmd *cobra.Command) error {
		if lines.set && lines.v < 0 {
			return usagef("--lines is %d; ask for 0 (all) to 10000 lines", lines.v)
		}
		c, err := g.client(streams)
		if err != nil {
			return err
		}
		// --container takes az ml's spelling; the getLogs body takes ARM's.
		in := &mlfleet.DeploymentLogsRequest{}
		switch container {
		case "", "inference-server":
			in.ContainerType = "InferenceServer"
		case "storage-initializer":
			in.ContainerType = "StorageInitializer"
		default:
			return usagef("--container is inference-server or storage-initializer, not %q", container)
		}
		if lines.set {
			n := lines.v
			in.Tail = &n
		}
		logs, err := c.OnlineDeploymentLogs(cmd.Context(), ref.group, ref.workspace, ref.endpoint, ref.name, in)
		if err != nil {
			return err
		}
		fmt.Fprint(streams.Out, logs.Content)
		return nil
	})
	cmd.Flags().Var(&lines, "lines", "Number of log lines from the end (default: all)")
	cmd.Flags().StringVar(&container, "container", "", "inference-server (default) or storage-initializer")
	return cmd
}
