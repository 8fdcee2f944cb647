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
// the CLI took the address from: MLFLEET_SERVER, or the home's configuration. The
// original error is kept as it was.
func adviseUnreachable(err error) error {
	var ue *url.Error
	if !errors.Is(err, syscall.ECONNREFUSED) || !errors.As(err, &ue) {
		return err
	}
	server := ue.URL
	if u, perr := url.Parse(ue.URL); perr == nil && u.Host != "" {
		server = u.Scheme + "://" + u.Host
	}
	from := "MLFLEET_SERVER"
	if os.Getenv("MLFLEET_SERVER") == "" {
		home, herr := clientconfig.Home()
		if herr != nil {
			home = "~/.mlfleet"
		}
		from = "MLFLEET_HOME=" + home
	}
	return advise(err, fmt.Sprintf("Is 'mlfleet serve' running at %s? (%s) Start it, or point the CLI at the home of the server you mean with MLFLEET_HOME.", server, from))
}
