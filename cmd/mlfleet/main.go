// Command mlfleet is the mlfleet control plane (`mlfleet serve`) and its CLI.
package main

import (
	"os"

	"github.com/mlfleet/mlfleet/internal/cli"
)

func main() { os.Exit(cli.Main()) }
