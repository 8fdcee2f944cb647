package cli

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"syscall"

	"github.com/mlfleet/mlfleet/internal/clientconfig"
)

// adviseUnreachable adds, to the error of a request that nothing answered at the server's
// address (connection refused), the question whether `mlfleet serve` runs there, and where
// the CLI took the address from: MLFLEET_SERVER, or the home's configuration, with the
// advice that fits it (check or unset MLFLEET_SERVER, or set MLFLEET_HOME). The original
// error is kept as it was.
func adviseUnreachable(err error) error {
	var ue *url.Error
	if !errors.Is(err, syscall.ECONNREFUSED) || !errors.As(err, &ue) {
		return err
	}
	server := ue.URL
	if u, perr := url.Parse(ue.URL); perr == nil && u.Host != "" {
		server = u.Scheme + "://" + u.Host
	}
	home, herr := clientconfig.Home()
	if herr != nil {
		home = "~/.mlfleet"
	}
	// The advice names the setting the address came from: MLFLEET_SERVER overrides the
	// home's server, so pointing the CLI at another home changes nothing while it is set.
	if os.Getenv("MLFLEET_SERVER") != "" {
		return advise(err, fmt.Sprintf("Is 'mlfleet serve' running at %s? (MLFLEET_SERVER) Start it, or check MLFLEET_SERVER: set it to the address of the server you mean, or unset it to use the server of the home (MLFLEET_HOME=%s).", server, home))
	}
	return advise(err, fmt.Sprintf("Is 'mlfleet serve' running at %s? (MLFLEET_HOME=%s) Start it, or point the CLI at the home of the server you mean with MLFLEET_HOME.", server, home))
}
