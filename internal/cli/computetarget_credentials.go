package cli

import (
	"fmt"
	"os"
	"reflect"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

type computeCredentialsFlags struct {
	ref               computeRef
	admin, overwrite  bool
	file, contextName string
}

// newComputeTargetGetCredentials writes the kubeconfig of a compute's cluster, read from
// the compute's listKeys (azureml-core's AksCompute.get_credentials), whose entries are
// named as AKS names them. As `aks get-credentials`, it refuses to replace a different
// entry of the same name without --overwrite-existing.
func newComputeTargetGetCredentials(streams Streams, g *globals) *cobra.Command {
	f := &computeCredentialsFlags{}
	use := "get-credentials -n NAME [-g GROUP] [-w WORKSPACE] [--admin] [--file FILE]"
	short := "Write the kubeconfig of a compute target's cluster into a file (merged; default ~/.kube/config; '-' prints it)"
	cmd := command(use, short, &f.ref, func(cmd *cobra.Command) error {
		c, err := g.client(streams)
		if err != nil {
			return err
		}
		keys, err := c.ComputeKeys(cmd.Context(), f.ref.group, f.ref.workspace, f.ref.name)
		if err != nil {
			return err
		}
		kc := []byte(keys.UserKubeConfig)
		if f.admin {
			kc = []byte(keys.AdminKubeConfig)
		}
		// An empty kubeconfig would merge as nothing, unset the file's current context and
		// still report success.
		if len(kc) == 0 {
			return fmt.Errorf("the server returned no kubeconfig for compute target '%s'", f.ref.name)
		}
		// Renamed before the conflict check, so that a context renamed with --context is
		// checked under its new name, as the conflict message suggests.
		if kc, err = renameContext(kc, f.contextName); err != nil {
			return err
		}
		if f.file == "-" {
			_, err := streams.Out.Write(kc)
			return err
		}
		// As aks get-credentials: the admin context is NAME-admin in a merge, where it
		// would otherwise replace the user's of the same cluster.
		if f.admin && f.contextName == "" {
			if kc, err = adminContext(kc); err != nil {
				return err
			}
		}
		file, err := kubeconfigFile(f.file)
		if err != nil {
			return err
		}
		if !f.overwrite {
			if err := checkKubeconfigConflicts(file, kc); err != nil {
				return err
			}
		}
		return mergeInto(streams, file, kc)
	})
	fl := cmd.Flags()
	fl.BoolVarP(&f.admin, "admin", "a", false, "Get cluster-admin credentials")
	fl.StringVarP(&f.file, "file", "f", "", "Kubeconfig file to update (default ~/.kube/config; '-' prints to stdout)")
	fl.BoolVar(&f.overwrite, "overwrite-existing", false, "Replace entries of the same name that differ in the file")
	fl.StringVar(&f.contextName, "context", "", "Name of the context to write (default: the cluster's name, with -admin for --admin)")
	return cmd
}

// renameContext renames the current context of kubeconfig kc to name ("" keeps it).
func renameContext(kc []byte, name string) ([]byte, error) {
	if name == "" {
		return kc, nil
	}
	// YAML is UTF-8: the name would be written as U+FFFD and the context not be found
	// under the name the user gave.
	if !utf8.ValidString(name) {
		return nil, usagef("--context %q is not valid UTF-8", name)
	}
	cfg, err := clientcmd.Load(kc)
	if err != nil {
		return nil, fmt.Errorf("parse kubeconfig from the server: %w", err)
	}
	ctx, ok := cfg.Contexts[cfg.CurrentContext]
	if !ok {
		return nil, fmt.Errorf("the kubeconfig from the server has no current context")
	}
	delete(cfg.Contexts, cfg.CurrentContext)
	cfg.Contexts[name] = ctx
	cfg.CurrentContext = name
	return clientcmd.Write(*cfg)
}

// checkKubeconfigConflicts refuses to replace a cluster, user or context of the file at
// path that has the same name as one in kc but different content, as az does without
// --overwrite-existing. A missing file has no conflicts.
func checkKubeconfigConflicts(path string, kc []byte) error {
	add, err := clientcmd.Load(kc)
	if err != nil {
		return fmt.Errorf("parse kubeconfig from the server: %w", err)
	}
	cur, err := clientcmd.LoadFromFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	conflict := func(kind, name string) error {
		return usagef("a different %s named '%s' already exists in %s; pass --overwrite-existing to replace it, or --context to use another name", kind, name, path)
	}
	for name, v := range add.Clusters {
		if old, ok := cur.Clusters[name]; ok && !sameKubeEntry(old, v) {
			return conflict("cluster", name)
		}
	}
	for name, v := range add.AuthInfos {
		if old, ok := cur.AuthInfos[name]; ok && !sameKubeEntry(old, v) {
			return conflict("user", name)
		}
	}
	for name, v := range add.Contexts {
		if old, ok := cur.Contexts[name]; ok && !sameKubeEntry(old, v) {
			return conflict("context", name)
		}
	}
	return nil
}

// sameKubeEntry compares two kubeconfig entries by what they say, not by which file they
// were read from: clientcmd records the file in LocationOfOrigin, which differs between
// the file on disk and the server's kubeconfig even when the entries are the same, so
// getting the same credentials twice is no conflict.
func sameKubeEntry[T clientcmdapi.Cluster | clientcmdapi.AuthInfo | clientcmdapi.Context](a, b *T) bool {
	x, y := *a, *b
	clearOrigin(&x)
	clearOrigin(&y)
	return reflect.DeepEqual(x, y)
}

// clearOrigin empties the LocationOfOrigin of a kubeconfig entry. It switches on the type
// because the three entry types share the field but no interface.
func clearOrigin(v any) {
	switch e := v.(type) {
	case *clientcmdapi.Cluster:
		e.LocationOfOrigin = ""
	case *clientcmdapi.AuthInfo:
		e.LocationOfOrigin = ""
	case *clientcmdapi.Context:
		e.LocationOfOrigin = ""
	}
}
