// Command bench measures a real mlfleet server against the goals of its performance
// figures and prints them in one table: min / median / max over the samples, the goal,
// and whether the median meets it, with the machine's core count.
//
//	go run ./hack/bench               # 20 clusters, 5 samples a figure, a few minutes
//	go run ./hack/bench --quick       # a smoke run: 4 clusters, 2 samples
//	go run ./hack/bench --clusters 10 --json
//
// It builds ./cmd/mlfleet (or runs --bin), starts `mlfleet serve` in a temporary home
// with SQLite, and then, in order: reads the idle server; creates the clusters through
// the SDK and the CLI (create time, the CLI's own time); reads the idle server again
// (memory, goroutines and CPU per cluster); attaches a compute to some clusters, loads
// the API at a fixed rate (latency and server CPU per request), detaches them; deletes
// the clusters beyond 10; kills the server with SIGKILL and starts it again, then stops
// it with SIGTERM, several times (restart and graceful stop with 10 clusters).
// Nothing is asserted: the figures are printed, and a shared machine's figures measure
// its neighbours too. See bench/README.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	// bin is the mlfleet binary to run; "" builds ./cmd/mlfleet.
	bin string
	// home is the server's data directory; "" makes a temporary one, removed at the end.
	home string
	// clusters is how many clusters the server holds for the per-cluster figures.
	clusters int
	// samples is the number of samples of each figure that is sampled, but the graceful
	// stop, which takes a start more each: it follows every other restart and the last.
	samples int
	// restartClusters is how many clusters the restart and stop figures are taken with.
	restartClusters int
	// rate is the API load, in requests a second; load is how long each sample of it lasts.
	rate int
	load time.Duration
	// window is how long each idle reading lasts; settle is how long the server is left
	// alone before the idle readings.
	window, settle time.Duration
	quick, json    bool
}

func parse(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.bin, "bin", "", "mlfleet binary to benchmark (default: go build ./cmd/mlfleet)")
	fs.StringVar(&o.home, "home", "", "server home, kept afterwards (default: a temporary directory, removed)")
	fs.IntVar(&o.clusters, "clusters", 20, "clusters for the per-cluster figures (memory, goroutines, idle CPU)")
	fs.IntVar(&o.samples, "samples", 5, "samples of each figure")
	fs.IntVar(&o.rate, "rate", 1000, "API load in requests a second")
	fs.BoolVar(&o.quick, "quick", false, "a smoke run: 4 clusters, 2 samples, short readings (flags given win)")
	fs.BoolVar(&o.json, "json", false, "print JSON instead of the table")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	o.load, o.window, o.settle = 2*time.Second, 3*time.Second, 10*time.Second
	if o.quick {
		o.load, o.window, o.settle = time.Second, time.Second, 2*time.Second
		if !set["clusters"] {
			o.clusters = 4
		}
		if !set["samples"] {
			o.samples = 2
		}
	}
	// The first clusters are the create samples: through the SDK, then the CLI.
	if o.samples < 1 || o.clusters < 2*o.samples || o.rate < 1 {
		return nil, fmt.Errorf("want --samples 1 or more, --clusters at least twice --samples (%d), --rate 1 or more", 2*o.samples)
	}
	o.restartClusters = min(10, o.clusters)
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parse(args, stderr)
	if err != nil {
		return err
	}
	began := time.Now()
	logf := func(format string, a ...any) {
		fmt.Fprintf(stderr, "%6.1fs  %s\n", time.Since(began).Seconds(), fmt.Sprintf(format, a...))
	}
	if o.home == "" {
		dir, err := os.MkdirTemp("", "mlfleet-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		o.home = dir
	} else if err := os.MkdirAll(o.home, 0o700); err != nil {
		return err
	}
	if o.bin == "" {
		o.bin = filepath.Join(o.home, "mlfleet")
		logf("building ./cmd/mlfleet")
		build := exec.CommandContext(ctx, "go", "build", "-o", o.bin, "github.com/mlfleet/mlfleet/cmd/mlfleet")
		build.Stdout, build.Stderr = stderr, stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build mlfleet: %w", err)
		}
	}
	b := &bench{o: o, logf: logf}
	f := newFigures(o)
	runErr := b.run(ctx, f)
	b.kill()
	// After a failure, the figures taken so far.
	r := &report{Figures: f.list(), Machine: machine{
		Date: began.UTC().Format("2006-01-02 15:04 UTC"), Cores: runtime.NumCPU(), LoadAverage: loadAverage(),
		Clusters: o.clusters, Samples: o.samples, Quick: o.quick, Took: time.Since(began).Seconds(),
	}}
	write := r.writeTable
	if o.json {
		write = r.writeJSON
	}
	if err := write(stdout); err != nil {
		return err
	}
	return runErr
}

// loadAverage returns the 1, 5 and 15 minute load averages, "" where there is no /proc.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
