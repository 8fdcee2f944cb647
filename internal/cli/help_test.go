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
