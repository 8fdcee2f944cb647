package server

import (
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/mlfleet/mlfleet/internal/catalog"
)

// warnCatalog warns, in the log and on out, when the version catalog (file, "" for the
// built-in one) leaves out every version the embedded provider runs (runs) in some
// location. It warns rather than refuses to start: a catalog of newer versions only is
// legitimate for a server of registered clusters ('mlfleet aks import' of clusters that
// run them), and a catalog moves on as AKS's does, while the embedded clusters on a version
// it dropped must keep running (out of support, as on AKS); refusing to start would stop
// them all for a file that only makes new embedded clusters impossible.
func warnCatalog(out io.Writer, log *slog.Logger, versions *catalog.Versions, file string, runs []string) {
	msg := catalogWarning(versions, runs)
	if msg == "" {
		return
	}
	if file != "" {
		msg = "the version catalog " + file + " " + msg
	} else {
		msg = "the built-in version catalog " + msg
	}
	log.Warn(msg)
	fmt.Fprintf(out, "WARNING: %s\n", msg)
}

// catalogWarning says in which locations the catalog lists none of the versions runs,
// and what follows; "" when it lists one of them everywhere.
func catalogWarning(versions *catalog.Versions, runs []string) string {
	var missing []string
	for _, loc := range versions.Locations() {
		if !slices.ContainsFunc(runs, func(r string) bool { v, ok := versions.Find(loc, r); return ok && v.Version == r }) {
			if loc == "*" {
				loc = "'*' (every location without a list of its own)"
			}
			missing = append(missing, loc)
		}
	}
	if len(missing) == 0 {
		return ""
	}
	list := strings.Join(runs, ", ")
	return fmt.Sprintf("lists none of the Kubernetes versions the embedded provider runs (%s) in %s: no embedded cluster can be created there "+
		"('aks create' and 'ml computetarget create aks' answer 400 UnsupportedKubernetesVersion), and the computes of clusters running %s there "+
		"show VersionSupported False (OutOfSupport) while they keep running. Add %s to the versions file (serve --versions-file), "+
		"or use clusters of the listed versions registered from their kubeconfig ('mlfleet aks import').",
		list, strings.Join(missing, ", "), list, list)
}
