package cli

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
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

func newVersionCommand(streams Streams) *cobra.Command {
	return leaf("version", "Print mlfleet's version", func(cmd *cobra.Command) error {
		fmt.Fprintf(streams.Out, "mlfleet %s\n", version())
		return nil
	})
}
