// Command mlfleet is the mlfleet control plane (`mlfleet serve`) and its CLI.
package main

import (
	"os"

	"github.com/mlfleet/mlfleet/internal/cli"
	"github.com/mlfleet/mlfleet/internal/sandbox"
)

func main() {
	// First: started as a scoring script's sandbox stub, this binary does only that.
	sandbox.Init()
	os.Exit(cli.Main())
}
