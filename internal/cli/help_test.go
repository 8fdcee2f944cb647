package cli

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestHelpShowsOnlyMlfleetFlags: no command shows or accepts a flag that a linked
// Kubernetes library registered process-wide (component-base's --version, klog's). The
// asset commands' own --version (az ml model create --version 1) is not that flag.
func TestHelpShowsOnlyMlfleetFlags(t *testing.T) {
	var paths [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		paths = append(paths, path)
		for _, sub := range c.Commands() {
			if !sub.Hidden && sub.Name() != "help" && sub.Name() != "completion" {
				walk(sub, append(append([]string(nil), path...), sub.Name()))
			}
		}
	}
	walk(NewRootCommand(Streams{}), nil)
	if len(paths) < 40 {
		t.Fatalf("only %d commands", len(paths))
	}
	for _, path := range paths {
		var out, errb bytes.Buffer
		if err := Run(context.Background(), Streams{In: strings.NewReader(""), Out: &out, Err: &errb}, append(path, "--help")); err != nil {
			t.Errorf("mlfleet %s --help: %v", strings.Join(path, " "), err)
			continue
		}
		for _, leaked := range []*regexp.Regexp{regexp.MustCompile(`--version version\[`), regexp.MustCompile(`prints version information and quits`), regexp.MustCompile(`--vmodule\b`),
			regexp.MustCompile(`--log-flush-frequency\b`), regexp.MustCompile(`--v\b`), regexp.MustCompile(`--logtostderr\b`)} {
			if leaked.MatchString(out.String()) {
				t.Errorf("mlfleet %s --help shows %s:\n%s", strings.Join(path, " "), leaked, out.String())
			}
		}
	}
	var out, errb bytes.Buffer
	err := Run(context.Background(), Streams{In: strings.NewReader(""), Out: &out, Err: &errb}, []string{"--version=v9.9.9", "version"})
	if err == nil || !strings.Contains(errb.String(), "unknown flag: --version") {
		t.Errorf("--version=v9.9.9 version: %v, %s", err, errb.String())
	}
}

// TestNameFlagSaysWhatItNames: -n of every `ml` command says what it names (an endpoint's
// invoke names the endpoint, not a compute target), in the help a user reads.
func TestNameFlagSaysWhatItNames(t *testing.T) {
	want := map[string]string{
		"computetarget":     "Name of the compute target",
		"online-endpoint":   "Name of the online endpoint",
		"online-deployment": "Name of the deployment",
		"model":             "Name of the model",
		"code":              "Name of the code asset",
		"environment":       "Name of the environment",
	}
	seen := map[string]int{}
	var walk func(c *cobra.Command, group string)
	walk = func(c *cobra.Command, group string) {
		if f := c.Flags().Lookup("name"); f != nil && want[group] != "" {
			seen[group]++
			if f.Usage != want[group] {
				t.Errorf("%s: -n says %q, want %q", c.CommandPath(), f.Usage, want[group])
			}
		}
		for _, sub := range c.Commands() {
			g := group
			if c.Name() == "ml" {
				g = sub.Name()
			}
			walk(sub, g)
		}
	}
	walk(NewRootCommand(Streams{}), "")
	for group := range want {
		if seen[group] == 0 {
			t.Errorf("no command of ml %s has -n", group)
		}
	}
	for _, tc := range []struct {
		path []string
		text string
	}{
		{[]string{"ml", "online-deployment", "create", "--help"}, "Name of the deployment"},
		{[]string{"ml", "online-endpoint", "invoke", "--help"}, "Name of the online endpoint"},
	} {
		var out, errb bytes.Buffer
		if err := Run(context.Background(), Streams{In: strings.NewReader(""), Out: &out, Err: &errb}, tc.path); err != nil {
			t.Fatalf("mlfleet %s: %v", strings.Join(tc.path, " "), err)
		}
		if !strings.Contains(out.String(), tc.text) || strings.Contains(out.String(), "compute target") {
			t.Errorf("mlfleet %s does not say %q, or speaks of a compute target:\n%s", strings.Join(tc.path, " "), tc.text, out.String())
		}
	}
}

// TestUnknownSubcommand: a word after a command group that is none of its commands is a
// usage error (exit 2) that names it and lists the group's commands, whatever flags
// follow it, and says so when it is an az command mlfleet does not support; the group
// alone prints its help (exit 0), as az prints a group's.
func TestUnknownSubcommand(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr []string
	}{
		{name: "unknown word", args: []string{"aks", "frob"}, code: 2,
			stderr: []string{"ERROR: 'frob' is not a command of 'mlfleet aks'.\n", "The commands of 'mlfleet aks' are: create, delete, ", "nodepool, scale, show, update."}},
		{name: "nodepool add", args: []string{"aks", "nodepool", "add"}, code: 2,
			stderr: []string{"ERROR: 'add' is not a command of 'mlfleet aks nodepool'. Adding node pools is not supported by mlfleet", "are: list, scale, show, update."}},
		{name: "nodepool add with az's flags", args: []string{"aks", "nodepool", "add", "--cluster-name", "aks1", "-g", "rg1", "-n", "pool2", "--node-count", "1"}, code: 2,
			stderr: []string{"ERROR: 'add' is not a command of 'mlfleet aks nodepool'. Adding node pools is not supported by mlfleet"}},
		{name: "nodepool delete", args: []string{"aks", "nodepool", "delete", "--cluster-name", "aks1", "-g", "rg1", "-n", "pool2"}, code: 2,
			stderr: []string{"ERROR: 'delete' is not a command of 'mlfleet aks nodepool'. Removing node pools is not supported by mlfleet"}},
		{name: "model update", args: []string{"ml", "model", "update", "-n", "m1", "--version", "1"}, code: 2,
			stderr: []string{"ERROR: 'update' is not a command of 'mlfleet ml model'.\n", "are: archive, create, delete, list, restore, show."}},
		{name: "group alone", args: []string{"aks", "nodepool"}, stdout: "Usage:\n  mlfleet aks nodepool [command]\n\nAvailable Commands:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runCLI(t, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.stdout) {
				t.Errorf("exit %d, stdout %q; want exit %d and %q", code, out, tc.code, tc.stdout)
			}
			for _, want := range tc.stderr {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr %q, want %q", errOut, want)
				}
			}
			if len(tc.stderr) == 0 && errOut != "" {
				t.Errorf("stderr %q, want nothing", errOut)
			}
		})
	}
}
