package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// endpointTable reads az ml's shape of endpoints (azmlEndpoints).
func endpointTable(v any) any {
	return rows(v, func(m map[string]any) row {
		return row{{"Name", m["name"]}, {"AuthMode", m["auth_mode"]}, {"State", m["provisioning_state"]},
			{"ScoringUri", m["scoring_uri"]}, {"Traffic", m["traffic"]}}
	})
}

// newOnlineEndpointCommand is `mlfleet ml online-endpoint`, az ml's v2 grammar.
func newOnlineEndpointCommand(streams Streams, g *globals) *cobra.Command {
	return parent("online-endpoint", "Create, update, invoke and delete online endpoints",
		newEndpointPut(streams, g, true), newEndpointPut(streams, g, false), newEndpointShow(streams, g), newEndpointList(streams, g),
		newEndpointDelete(streams, g), newEndpointCredentials(streams, g), newEndpointRegenerateKeys(streams, g), newEndpointInvoke(streams, g))
}

// newEndpointPut is `create` (create only) or `update` (traffic, description, tags).
// create sends If-None-Match: * so an existing endpoint is refused, not changed. update
// reads the endpoint and sends it back with the changes, so what the flags and the file
// leave out is kept (unlike a deployment's update, where the file is the whole body).
func newEndpointPut(streams Streams, g *globals, create bool) *cobra.Command {
	ref := computeRef{what: "online endpoint"}
	var spec endpointSpec
	var file, authMode, traffic, mirror, compute string
	var noWait bool
	// -n may come from the file's name.
	fromFile := func() error {
		if err := readSpec(file, &spec); err != nil {
			return err
		}
		ref.name = firstNonEmpty(ref.name, spec.Name)
		return ref.resolve()
	}
	use, short := "create -n NAME [--file endpoint.yml] [--auth-mode key|aml_token]", "Create an online endpoint"
	if !create {
		use, short = "update -n NAME [--traffic \"blue=90 green=10\"] [--mirror-traffic \"green=20\"] [--file endpoint.yml]", "Change an endpoint's traffic, mirrored traffic, description or tags"
	}
	cmd := command(use, short, resolveBy{ref.bind, fromFile}, func(cmd *cobra.Command) error {
		c, err := g.client(streams)
		if err != nil {
			return err
		}
		ctx := cmd.Context()
		a := &assetsClient{c: c, ctx: ctx, group: ref.group, ws: ref.workspace}
		in := &mlfleet.OnlineEndpoint{}
		if !create {
			cur, err := c.GetOnlineEndpoint(ctx, ref.group, ref.workspace, ref.name)
			if err != nil {
				return err
			}
			in = cur
		}
		if spec.Description != "" {
			in.Properties.Description = spec.Description
		}
		if spec.Tags != nil {
			in.Tags = spec.Tags
		}
		if m := firstNonEmpty(authMode, spec.AuthMode); m != "" {
			if in.Properties.AuthMode, err = authModeOf(m); err != nil {
				return err
			}
		}
		if ref := firstNonEmpty(compute, spec.Compute); ref != "" {
			in.Properties.Compute = a.computeID(ref)
		}
		// --traffic is applied after the file, so that the flag wins over the file's
		// traffic, as a flag given on the command line should.
		if spec.Traffic != nil {
			in.Properties.Traffic = spec.Traffic
		}
		// A flag given empty ("") is a split of nothing: no traffic, or no mirroring.
		if cmd.Flags().Changed("traffic") {
			if in.Properties.Traffic, err = parseTraffic(traffic); err != nil {
				return err
			}
		}
		if spec.MirrorTraffic != nil {
			in.Properties.MirrorTraffic = spec.MirrorTraffic
		}
		if cmd.Flags().Changed("mirror-traffic") {
			if in.Properties.MirrorTraffic, err = parsePercents("--mirror-traffic", mirror); err != nil {
				return err
			}
		}
		ep, p, err := c.BeginCreateOrUpdateOnlineEndpoint(ctx, ref.group, ref.workspace, ref.name, in, create)
		if err != nil {
			return err
		}
		if err := wait(cmd, streams, p, noWait); err != nil {
			return err
		}
		// After the wait the endpoint is read again: the PUT answered with the endpoint as
		// accepted, while its operation ran. With --no-wait that answer is printed.
		if !noWait {
			if ep, err = c.GetOnlineEndpoint(ctx, ref.group, ref.workspace, ref.name); err != nil {
				return err
			}
		}
		return g.printAs(streams, ep, azmlEndpoints, endpointTable)
	})
	cmd.Flags().StringVarP(&file, "file", "f", "", "Endpoint YAML (name, auth_mode, compute, description, tags, traffic, mirror_traffic)")
	cmd.Flags().StringVar(&traffic, "traffic", "", "Traffic split, e.g. \"blue=90 green=10\" (adds up to 100, or 0; \"\" sends none)")
	if !create {
		cmd.Flags().StringVar(&mirror, "mirror-traffic", "", "Requests copied to deployments, whose answers are dropped, e.g. \"green=20\" (at most 50 in all; \"\" stops mirroring)")
	}
	if create {
		cmd.Flags().StringVar(&authMode, "auth-mode", "", "key (default) or aml_token")
		cmd.Flags().StringVar(&compute, "compute", "", "Default compute of the deployments: azureml:<compute name>")
	}
	noWaitFlag(cmd, &noWait)
	return cmd
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// authModeOf maps az ml's YAML spelling (key, aml_token) to ARM's (Key, AMLToken), and
// refuses other values in the user's spelling (ARM's is taken too).
func authModeOf(s string) (string, error) {
	switch strings.ToLower(strings.ReplaceAll(s, "_", "")) {
	case "key":
		return "Key", nil
	case "amltoken":
		return "AMLToken", nil
	case "aadtoken":
		return "", usagef("auth_mode aad_token is not supported by mlfleet; use key or aml_token")
	}
	return "", usagef("auth_mode '%s' is not one of key, aml_token", s)
}

func newEndpointShow(streams Streams, g *globals) *cobra.Command {
	ref := computeRef{what: "online endpoint"}
	return callCommand(streams, g, "show -n NAME", "Show an online endpoint", &ref, azmlEndpoints, endpointTable, func(ctx context.Context, c *mlfleet.Client) (any, error) {
		return c.GetOnlineEndpoint(ctx, ref.group, ref.workspace, ref.name)
	})
}

func newEndpointList(streams Streams, g *globals) *cobra.Command {
	ref := computeRef{what: "online endpoint"}
	return callCommand(streams, g, "list", "List a workspace's online endpoints", resolveBy{ref.bindWorkspace, ref.resolveWorkspace}, azmlEndpoints, endpointTable, func(ctx context.Context, c *mlfleet.Client) (any, error) {
		return c.ListOnlineEndpoints(ctx, ref.group, ref.workspace)
	})
}

func newEndpointDelete(streams Streams, g *globals) *cobra.Command {
	ref := computeRef{what: "online endpoint"}
	return deleteCommand(streams, g, "delete -n NAME", "Delete an online endpoint with its deployments", &ref,
		func() string {
			return fmt.Sprintf("Are you sure you want to delete endpoint '%s' and its deployments?", ref.name)
		},
		func(ctx context.Context, c *mlfleet.Client) (*mlfleet.Poller, error) {
			return c.BeginDeleteOnlineEndpoint(ctx, ref.group, ref.workspace, ref.name)
		})
}

// credential returns the key (authMode Key) or a token (AMLToken) of an endpoint: what
// invoke sends as the bearer credential, so that the user never handles it.
func credential(ctx context.Context, c *mlfleet.Client, ref computeRef, ep *mlfleet.OnlineEndpoint) (string, error) {
	if ep.Properties.AuthMode == "AMLToken" {
		t, err := c.OnlineEndpointToken(ctx, ref.group, ref.workspace, ref.name)
		if err != nil {
			return "", err
		}
		return t.AccessToken, nil
	}
	k, err := c.OnlineEndpointKeys(ctx, ref.group, ref.workspace, ref.name)
	if err != nil {
		return "", err
	}
	return k.PrimaryKey, nil
}

func newEndpointCredentials(streams Streams, g *globals) *cobra.Command {
	ref := computeRef{what: "online endpoint"}
	return callCommand(streams, g, "get-credentials -n NAME", "Show an endpoint's keys (authMode key) or a token (aml_token)", &ref, nil, nil, func(ctx context.Context, c *mlfleet.Client) (any, error) {
		ep, err := c.GetOnlineEndpoint(ctx, ref.group, ref.workspace, ref.name)
		if err != nil {
			return nil, err
		}
		if ep.Properties.AuthMode == "AMLToken" {
			return c.OnlineEndpointToken(ctx, ref.group, ref.workspace, ref.name)
		}
		return c.OnlineEndpointKeys(ctx, ref.group, ref.workspace, ref.name)
	})
}

func newEndpointRegenerateKeys(streams Streams, g *globals) *cobra.Command {
	ref := computeRef{what: "online endpoint"}
	var keyType, value string
	var noWait bool
	cmd := command("regenerate-keys -n NAME [--key-type primary|secondary]", "Replace an endpoint's primary or secondary key", &ref, func(cmd *cobra.Command) error {
		return g.start(cmd, streams, noWait, func(c *mlfleet.Client) (*mlfleet.Poller, error) {
			var kt string
			switch strings.ToLower(keyType) {
			case "primary":
				kt = "Primary"
			case "secondary":
				kt = "Secondary"
			default:
				return nil, usagef("--key-type is primary or secondary, not %q", keyType)
			}
			return c.BeginRegenerateOnlineEndpointKeys(cmd.Context(), ref.group, ref.workspace, ref.name, kt, value)
		})
	})
	cmd.Flags().StringVar(&keyType, "key-type", "primary", "primary or secondary")
	cmd.Flags().StringVar(&value, "key-value", "", "The new key (default: a random one)")
	noWaitFlag(cmd, &noWait)
	return cmd
}

// scoringAnswer is an endpoint's answer as invoke prints it: the JSON value the endpoint
// answered, so that --query and -o apply to it as to any result (az ml prints the answer
// through its output formats too), or the answer as a string when it is not JSON.
func scoringAnswer(body []byte) any {
	if json.Valid(body) {
		return json.RawMessage(body)
	}
	return strings.TrimSpace(string(body))
}

// newEndpointInvoke is `mlfleet ml online-endpoint invoke`: a scoring request sent to the
// endpoint's scoring URI with the endpoint's own key or token, as an outside client would
// send it. --deployment-name bypasses the traffic split (header azureml-model-deployment).
func newEndpointInvoke(streams Streams, g *globals) *cobra.Command {
	ref := computeRef{what: "online endpoint"}
	var requestFile, deployment string
	cmd := command("invoke -n NAME --request-file sample.json [--deployment-name D]", "Send a scoring request to an endpoint", &ref, func(cmd *cobra.Command) error {
		if err := required(requestFile, "--request-file"); err != nil {
			return err
		}
		body, err := os.ReadFile(filepath.Clean(requestFile))
		if err != nil {
			return usagef("read --request-file: %v", err)
		}
		c, err := g.client(streams)
		if err != nil {
			return err
		}
		ctx := cmd.Context()
		ep, err := c.GetOnlineEndpoint(ctx, ref.group, ref.workspace, ref.name)
		if err != nil {
			return err
		}
		cred, err := credential(ctx, c, ref, ep)
		if err != nil {
			return err
		}
		res, err := c.InvokeOnlineEndpoint(ctx, ep.Properties.ScoringURI, cred, deployment, body)
		if err != nil {
			return err
		}
		// The SDK returns a non-2xx answer as a result, not an error: here it is the
		// command's failure (exit 1), with the body the endpoint answered.
		if res.StatusCode >= 300 {
			return fmt.Errorf("the endpoint answered %d: %s", res.StatusCode, strings.TrimSpace(string(res.Body)))
		}
		return g.print(streams, scoringAnswer(res.Body), nil)
	})
	cmd.Flags().StringVarP(&requestFile, "request-file", "r", "", "JSON file to send")
	cmd.Flags().StringVar(&deployment, "deployment-name", "", "Send to this deployment whatever the traffic split")
	return cmd
}
