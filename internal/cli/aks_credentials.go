package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"
)

// newAKSGetCredentials is `mlfleet aks get-credentials`: the kubeconfig from
// listClusterUserCredential or listClusterAdminCredential, merged into ~/.kube/config.
// As in az, an entry of the file with the same name but other content (a cluster made
// again under its old name) is replaced only with --overwrite-existing, and --context
// names the context.
func newAKSGetCredentials(streams Streams, g *globals) *cobra.Command {
	f := &clusterFlags{}
	var admin, overwrite bool
	var file, contextName string
	cmd := command("get-credentials -n NAME -g GROUP [--admin] [--file FILE]", "Write the cluster's kubeconfig into a file (merged; default ~/.kube/config; '-' prints it)", f, func(cmd *cobra.Command) error {
		c, err := g.client(streams)
		if err != nil {
			return err
		}
		kc, err := c.ClusterCredentials(cmd.Context(), f.group, f.name, admin)
		if err != nil {
			return err
		}
		// '-' prints the kubeconfig as the server sent it; the admin context is renamed
		// only for a merge, where it would otherwise replace the user's.
		if file == "-" {
			_, err := streams.Out.Write(kc)
			return err
		}
		if file, err = kubeconfigFile(file); err != nil {
			return err
		}
		if kc, err = adminContext(kc); err != nil {
			return err
		}
		if kc, err = renameContext(kc, contextName); err != nil {
			return err
		}
		if !overwrite {
			if err := checkKubeconfigConflicts(file, kc); err != nil {
				return err
			}
		}
		return mergeInto(streams, file, kc)
	})
	cmd.Flags().BoolVarP(&admin, "admin", "a", false, "Get cluster-admin credentials")
	cmd.Flags().StringVarP(&file, "file", "f", "", "Kubeconfig file to update (default ~/.kube/config; '-' prints to stdout)")
	cmd.Flags().BoolVar(&overwrite, "overwrite-existing", false, "Replace entries of the same name that differ in the file")
	cmd.Flags().StringVar(&contextName, "context", "", "Name of the context to write (default: the cluster's name, with -admin for --admin)")
	return cmd
}

// adminContext renames the context of a clusterAdmin user to the cluster's name with
// "-admin", as az aks get-credentials does: the server names both the user's and the
// admin's context after the cluster, as AKS does, and the admin's must not replace the
// user's. The names are collected before renaming: a key added to a map while ranging
// over it may be visited by the same loop, and would be renamed twice.
func adminContext(kc []byte) ([]byte, error) {
	cfg, err := clientcmd.Load(kc)
	if err != nil {
		return nil, fmt.Errorf("parse kubeconfig from the server: %w", err)
	}
	var admins []string
	for name, c := range cfg.Contexts {
		if strings.HasPrefix(c.AuthInfo, "clusterAdmin") {
			admins = append(admins, name)
		}
	}
	for _, name := range admins {
		cfg.Contexts[name+"-admin"] = cfg.Contexts[name]
		delete(cfg.Contexts, name)
		if cfg.CurrentContext == name {
			cfg.CurrentContext = name + "-admin"
		}
	}
	return clientcmd.Write(*cfg)
}

// kubeconfigFile returns file, or ~/.kube/config when it is "".
func kubeconfigFile(file string) (string, error) {
	if file != "" {
		return file, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".kube", "config"), nil
}

// mergeInto merges kc into the kubeconfig file and says so on stderr, as az does.
func mergeInto(streams Streams, file string, kc []byte) error {
	ctxName, err := mergeKubeconfig(file, kc)
	if err != nil {
		return err
	}
	fmt.Fprintf(streams.Err, "Merged \"%s\" as current context in %s\n", ctxName, file)
	return nil
}

// mergeKubeconfig merges kc into the kubeconfig file at path (created if missing) and makes
// its context current. Entries of kc replace those of the same name; the others in the
// file are kept. A missing directory is created 0700: the file holds credentials.
func mergeKubeconfig(path string, kc []byte) (string, error) {
	add, err := clientcmd.Load(kc)
	if err != nil {
		return "", fmt.Errorf("parse kubeconfig from the server: %w", err)
	}
	cfg, err := clientcmd.LoadFromFile(path)
	if os.IsNotExist(err) {
		cfg, err = clientcmd.Load(nil)
	}
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	for k, v := range add.Clusters {
		cfg.Clusters[k] = v
	}
	for k, v := range add.AuthInfos {
		cfg.AuthInfos[k] = v
	}
	for k, v := range add.Contexts {
		cfg.Contexts[k] = v
	}
	cfg.CurrentContext = add.CurrentContext
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return add.CurrentContext, nil
}
