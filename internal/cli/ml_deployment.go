package cli

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

type deploymentRow struct {
	Name          any
	Endpoint      any
	State         any
	InstanceType  any
	InstanceCount any
	Ready         any
}

func deploymentTable(v any) any {
	return rows(v, func(m map[string]any) any {
		ep := ""
		if id, ok := m["id"].(string); ok {
			parts := splitID(id)
			if len(parts) >= 3 {
				ep = parts[len(parts)-3]
			}
		}
		return deploymentRow{Name: m["name"], Endpoint: ep, State: dig(m, "properties", "provisioningState"), InstanceType: dig(m, "properties", "instanceType"),
			InstanceCount: dig(m, "sku", "capacity"), Ready: dig(m, "properties", "mlfleet", "readyInstances")}
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

// newOnlineDeploymentCommand is `mlfleet ml online-deployment`, az ml's v2 grammar.
func newOnlineDeploymentCommand(streams Streams, g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "online-deployment", Short: "Create, update, inspect and delete the deployments of online endpoints"}
	cmd.AddCommand(newDeploymentPut(streams, g, true), newDeploymentPut(streams, g, false), newDeploymentShow(streams, g),
		newDeploymentList(streams, g), newDeploymentDelete(streams, g), newDeploymentLogs(streams, g))
	return cmd
}

func newDeploymentPut(streams Streams, g *globals, create bool) *cobra.Command {
	var ref deploymentRef
	var file string
	var allTraffic, noWait bool
	var instanceCount optInt
	use, short := "create -n NAME -e ENDPOINT --file deployment.yml [--all-traffic]", "Deploy a model to an endpoint"
	if !create {
		use, short = "update -n NAME -e ENDPOINT [--file deployment.yml] [--instance-count N]", "Change a deployment (e.g. its instance count)"
	}
	cmd := &cobra.Command{
		Use: use, Short: short, Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var spec deploymentSpec
			if file != "" {
				if err := readSpec(file, &spec); err != nil {
					return err
				}
			} else if create {
				return usagef("the following arguments are required: --file/-f")
			}
			ref.name, ref.endpoint = firstNonEmpty(ref.name, spec.Name), firstNonEmpty(ref.endpoint, spec.EndpointName)
			if err := ref.resolve(); err != nil {
				return err
			}
			c, err := g.client(streams)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			a := &assetsClient{c: c, ctx: ctx, group: ref.group, ws: ref.workspace, dir: filepath.Dir(file)}
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
				in.Properties.ScaleSettings = nil
			}
			_, p, err := c.BeginCreateOrUpdateOnlineDeployment(ctx, ref.group, ref.workspace, ref.endpoint, ref.name, in, create)
			if err != nil {
				return err
			}
			if err := wait(cmd, streams, p, noWait); err != nil {
				return err
			}
			if allTraffic {
				tp, err := c.BeginUpdateOnlineEndpointTraffic(ctx, ref.group, ref.workspace, ref.endpoint, map[string]int{ref.name: 100})
				if err != nil {
					return err
				}
				if err := wait(cmd, streams, tp, noWait); err != nil {
					return err
				}
			}
			d, err := c.GetOnlineDeployment(ctx, ref.group, ref.workspace, ref.endpoint, ref.name)
			if err != nil {
				return err
			}
			return g.print(streams, d, deploymentTable)
		},
	}
	ref.bind(cmd)
	cmd.Flags().StringVarP(&file, "file", "f", "", "Deployment YAML (model, code_configuration, environment, instance_type, instance_count, compute)")
	if create {
		cmd.Flags().BoolVar(&allTraffic, "all-traffic", false, "Send all of the endpoint's traffic to this deployment once it is ready")
	} else {
		cmd.Flags().Var(&instanceCount, "instance-count", "Number of instances")
	}
	cmd.Flags().BoolVar(&noWait, "no-wait", false, "Do not wait for the long-running operation to finish")
	return cmd
}

func newDeploymentShow(streams Streams, g *globals) *cobra.Command {
	var ref deploymentRef
	cmd := &cobra.Command{
		Use: "show -n NAME -e ENDPOINT", Short: "Show a deployment", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := ref.resolve(); err != nil {
				return err
			}
			return g.call(streams, deploymentTable, func(c *mlfleet.Client) (any, error) {
				return c.GetOnlineDeployment(cmd.Context(), ref.group, ref.workspace, ref.endpoint, ref.name)
			})
		},
	}
	ref.bind(cmd)
	return cmd
}

func newDeploymentList(streams Streams, g *globals) *cobra.Command {
	var ref deploymentRef
	cmd := &cobra.Command{
		Use: "list -e ENDPOINT", Short: "List an endpoint's deployments", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := ref.resolveWorkspace(); err != nil {
				return err
			}
			if err := required(ref.endpoint, "--endpoint-name/-e"); err != nil {
				return err
			}
			return g.call(streams, deploymentTable, func(c *mlfleet.Client) (any, error) {
				return c.ListOnlineDeployments(cmd.Context(), ref.group, ref.workspace, ref.endpoint)
			})
		},
	}
	ref.bind(cmd)
	return cmd
}

func newDeploymentDelete(streams Streams, g *globals) *cobra.Command {
	var ref deploymentRef
	var yes, noWait bool
	cmd := &cobra.Command{
		Use: "delete -n NAME -e ENDPOINT", Short: "Delete a deployment (route its traffic elsewhere first)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := ref.resolve(); err != nil {
				return err
			}
			if err := confirm(streams, yes, fmt.Sprintf("Are you sure you want to delete deployment '%s' of endpoint '%s'?", ref.name, ref.endpoint)); err != nil {
				return err
			}
			c, err := g.client(streams)
			if err != nil {
				return err
			}
			p, err := c.BeginDeleteOnlineDeployment(cmd.Context(), ref.group, ref.workspace, ref.endpoint, ref.name)
			if err != nil {
				return err
			}
			return wait(cmd, streams, p, noWait)
		},
	}
	ref.bind(cmd)
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "Do not prompt for confirmation")
	cmd.Flags().BoolVar(&noWait, "no-wait", false, "Do not wait for the long-running operation to finish")
	return cmd
}

func newDeploymentLogs(streams Streams, g *globals) *cobra.Command {
	var ref deploymentRef
	var lines optInt
	var container string
	cmd := &cobra.Command{
		Use: "get-logs -n NAME -e ENDPOINT [--lines N]", Short: "Show the inference server's log of a deployment", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := ref.resolve(); err != nil {
				return err
			}
			c, err := g.client(streams)
			if err != nil {
				return err
			}
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
		},
	}
	ref.bind(cmd)
	cmd.Flags().Var(&lines, "lines", "Number of log lines from the end (default: all)")
	cmd.Flags().StringVar(&container, "container", "", "inference-server (default) or storage-initializer")
	return cmd
}
