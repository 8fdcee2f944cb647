package server

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/mlfleet/mlfleet/internal/clientconfig"
)

// writeBanner prints where the server listens, which store it uses (store.Describe: no
// password), where its token and CA are, and the first commands of the CLI and of az. The
// CLI finds the server through its home: when that is not the default one (~/.mlfleet), the
// commands work only with MLFLEET_HOME set, so the export comes first.
func writeBanner(out io.Writer, url, home, store string, ccfg *clientconfig.Config) {
	fmt.Fprintf(out, "mlfleet is serving at %s\n", url)
	fmt.Fprintf(out, "  home:         %s\n", home)
	fmt.Fprintf(out, "  store:        %s\n", store)
	fmt.Fprintf(out, "  admin token:  %s\n", filepath.Join(home, adminTokenFile))
	fmt.Fprintf(out, "  CA:           %s\n", ccfg.CAFile)
	fmt.Fprintf(out, "  subscription: %s\n", ccfg.Subscription)
	fmt.Fprintf(out, "  tenant:       %s\n", ccfg.Tenant)
	if def, err := clientconfig.DefaultHome(); err != nil || filepath.Clean(def) != filepath.Clean(home) {
		fmt.Fprintf(out, "The CLI is configured in this home, which is not the default (~/.mlfleet): in each shell, first run\n")
		fmt.Fprintf(out, "  export MLFLEET_HOME=%s\n", shellQuote(home))
		fmt.Fprintf(out, "then try 'mlfleet group create -n rg1 -l westus'.\n")
	} else {
		fmt.Fprintf(out, "The CLI is configured: try 'mlfleet group create -n rg1 -l westus'.\n")
	}
	fmt.Fprintf(out, "For the Azure CLI, create a service principal and sign in with it:\n")
	fmt.Fprintf(out, "  mlfleet ad sp create-for-rbac -n me --role Owner --scopes /subscriptions/%s\n", ccfg.Subscription)
	// az fetches the cloud's endpoints over TLS at register: the CA must be trusted first.
	// The variable replaces Python's CAs in that shell, which real Azure then fails.
	fmt.Fprintf(out, "  export REQUESTS_CA_BUNDLE=%s   # replaces the CAs az trusts in this shell: unset it for real Azure\n", shellQuote(ccfg.CAFile))
	fmt.Fprintf(out, "  az cloud register -n mlfleet --endpoint-resource-manager %s/ && az cloud set -n mlfleet\n", url)
	fmt.Fprintf(out, "  az login --service-principal -u <appId> -p <password> --tenant %s\n", ccfg.Tenant)
}

// shellQuote returns s as one word of a POSIX shell: unchanged when it holds only
// characters the shell leaves alone, else in single quotes.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+=:,@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
