package cli

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/mlfleet/mlfleet/internal/provider/embedded/kubeapiserver"
)

// Version is mlfleet's version, stamped by hack/build.sh (-ldflags -X); empty in a plain
// go build, go run or go test, where the build information says what it can.
var Version string

// version returns Version, else the main module's version and VCS revision from the build
// information, else "(devel)".
func version() string {
	if Version != "" {
		return Version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(devel)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	for _, s := range bi.Settings {
		// A build from a checkout has no module version; the revision says which commit.
		if s.Key == "vcs.revision" && len(s.Value) >= 12 && v == "(devel)" {
			v = "(devel) " + s.Value[:12]
		}
	}
	return v
}

// versions is what `mlfleet version` prints: mlfleet's version and the Kubernetes version
// its embedded clusters run, under az version's kind of keys (one per component).
type versions struct {
	Mlfleet    string `json:"mlfleet"`
	Kubernetes string `json:"kubernetes"`
}

// embeddedKubernetes is the Kubernetes version the embedded clusters run (what their GET
// /version answers), or "unknown (why)" when the build does not say.
func embeddedKubernetes() string {
	v, err := kubeapiserver.KubernetesVersion()
	if err != nil {
		return fmt.Sprintf("unknown (%v)", err)
	}
	return v
}

// newVersionCommand prints the versions a line each ("mlfleet V", "kubernetes V"), or, when
// -o is given, as an object in that format (with --query), as az version does.
func newVersionCommand(streams Streams, g *globals) *cobra.Command {
	return leaf("version", "Print mlfleet's version and the Kubernetes version its embedded clusters run", func(cmd *cobra.Command) error {
		v := versions{Mlfleet: version(), Kubernetes: embeddedKubernetes()}
		if cmd.Flags().Changed("output") || cmd.Flags().Changed("query") {
			return g.print(streams, v, nil)
		}
		fmt.Fprintf(streams.Out, "mlfleet %s\nkubernetes %s\n", v.Mlfleet, v.Kubernetes)
		return nil
	})
}
