// Command apiload drives a running mlfleet server at a fixed request rate and prints the
// latency percentiles of what it sent and the server's CPU time per request.
//
// It GETs one compute and lists the computes of its workspace (-kind get, list or both),
// over HTTP/1.1 or HTTP/2 (-h2), open-loop: requests leave on schedule whether or not the
// earlier ones have answered, and a latency counts from the scheduled departure, so a
// server that falls behind shows it. The server's CPU is read from /proc/PID/stat (-pid)
// or, without it, from the server's process_cpu_seconds_total metric.
//
//	go run ./bench/apiload -home "$MLFLEET_HOME" -setup -rate 1000 -duration 10s -h2
//
// See bench/README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mlfleet/mlfleet/internal/clientconfig"
	"github.com/mlfleet/mlfleet/internal/loadgen"
	"github.com/mlfleet/mlfleet/internal/procstat"
	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "apiload:", err)
		os.Exit(1)
	}
}

type options struct {
	home, url, token, ca   string
	group, workspace, name string
	kind                   string
	rate                   int
	duration, warmup       time.Duration
	h2, setup              bool
	pid                    int
	inflight               int
	conns                  int
}

func run() error {
	var o options
	flag.StringVar(&o.home, "home", os.Getenv("MLFLEET_HOME"), "mlfleet home whose client configuration gives the server, CA and admin token")
	flag.StringVar(&o.url, "url", "", "server URL (default: the home's)")
	flag.StringVar(&o.token, "token", "", "bearer token (default: the home's)")
	flag.StringVar(&o.ca, "ca", "", "CA certificate file (default: the home's)")
	flag.StringVar(&o.group, "group", "apiload", "resource group of the workspace")
	flag.StringVar(&o.workspace, "workspace", "apiloadws", "workspace of the compute")
	flag.StringVar(&o.name, "compute", "apiload", "compute to GET")
	flag.StringVar(&o.kind, "kind", "both", "requests to send: get, list or both (one after the other)")
	flag.IntVar(&o.rate, "rate", 1000, "requests per second")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "how long to send at the rate")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "how long to send first without measuring")
	flag.BoolVar(&o.h2, "h2", false, "use HTTP/2 (default HTTP/1.1)")
	flag.BoolVar(&o.setup, "setup", false, "create the group, workspace and a DevTest compute of one node first, when missing")
	flag.IntVar(&o.pid, "pid", 0, "the server's process id, to read its CPU time from /proc (default: its metrics)")
	flag.IntVar(&o.inflight, "max-inflight", 4000, "requests outstanding at most; beyond, a departure counts as an error")
	flag.IntVar(&o.conns, "conns", 64, "HTTP/1.1 connections at most (requests beyond wait for one, and their wait counts); HTTP/2 multiplexes on one")
	flag.Parse()

	cfg, err := o.resolve()
	if err != nil {
		return err
	}
	hc, err := loadgen.HTTPClient(cfg.CAFile, o.h2, o.conns)
	if err != nil {
		return err
	}
	if o.setup {
		if err := setup(o, cfg, hc); err != nil {
			return err
		}
	}
	base := strings.TrimSuffix(cfg.Server, "/") + "/subscriptions/" + cfg.Subscription + "/resourceGroups/" + o.group +
		"/providers/Microsoft.MachineLearningServices/workspaces/" + o.workspace + "/computes"
	targets := map[string]string{
		"get":  base + "/" + o.name + "?api-version=" + mlfleet.MachineLearningAPIVersion,
		"list": base + "?api-version=" + mlfleet.MachineLearningAPIVersion,
	}
	kinds := []string{o.kind}
	if o.kind == "both" {
		kinds = []string{"get", "list"}
	}
	proto := "HTTP/1.1"
	if o.h2 {
		proto = "HTTP/2"
	}
	fmt.Printf("%-5s %-8s %6s %7s %6s %8s %8s %8s %8s %12s\n", "kind", "proto", "rate", "sent", "errors", "p50", "p90", "p99", "max", "server-cpu/req")
	for _, k := range kinds {
		l := &loadgen.Loader{Client: hc, URL: targets[k], Token: cfg.Token, MaxInflight: int64(o.inflight)}
		if err := l.Once(); err != nil {
			return fmt.Errorf("%s %s: %w", k, l.URL, err)
		}
		l.Drive(o.rate, o.warmup)
		cpu0, err := serverCPU(o.pid, hc, cfg)
		if err != nil {
			return err
		}
		r := l.Drive(o.rate, o.duration)
		cpu1, err := serverCPU(o.pid, hc, cfg)
		if err != nil {
			return err
		}
		perReq := time.Duration(0)
		if r.OK > 0 {
			perReq = (cpu1 - cpu0) / time.Duration(r.OK+r.Failed)
		}
		fmt.Printf("%-5s %-8s %6d %7d %6d %8s %8s %8s %8s %12s\n", k, proto, o.rate, r.Sent, r.Failed+r.Dropped,
			ms(r.Percentile(50)), ms(r.Percentile(90)), ms(r.Percentile(99)), ms(r.Percentile(100)), ms(perReq))
		if r.FirstErr != nil {
			fmt.Printf("      first error: %v\n", r.FirstErr)
		}
	}
	return nil
}

// resolve fills the server, CA and token from the flags and the home's configuration.
func (o options) resolve() (*clientconfig.Config, error) {
	cfg := &clientconfig.Config{}
	if o.home != "" {
		c, err := clientconfig.Load(o.home)
		if err != nil {
			return nil, err
		}
		cfg = c
		if cfg.Token, err = c.ReadToken(); err != nil {
			return nil, err
		}
	}
	if o.url != "" {
		cfg.Server = o.url
	}
	if o.token != "" {
		cfg.Token = o.token
	}
	if o.ca != "" {
		cfg.CAFile = o.ca
	}
	if cfg.Server == "" || cfg.Token == "" || cfg.Subscription == "" {
		return nil, errors.New("no server, token or subscription: give -home (the server's MLFLEET_HOME), or -url and -token with a home for the subscription")
	}
	return cfg, nil
}

// setup creates what the requests read, unless it exists.
func setup(o options, cfg *clientconfig.Config, hc *http.Client) error {
	ctx := context.Background()
	c, err := mlfleet.NewClient(mlfleet.WithServer(cfg.Server), mlfleet.WithToken(cfg.Token), mlfleet.WithSubscription(cfg.Subscription),
		mlfleet.WithHTTPClient(hc), mlfleet.WithPollInterval(200*time.Millisecond))
	if err != nil {
		return err
	}
	if _, err := c.GetCompute(ctx, o.group, o.workspace, o.name); err == nil {
		return nil
	}
	if _, err := c.CreateResourceGroup(ctx, o.group, "westus", nil); err != nil {
		return fmt.Errorf("create group: %w", err)
	}
	if _, err := c.CreateWorkspace(ctx, o.group, o.workspace, "westus"); err != nil {
		return fmt.Errorf("create workspace: %w", err)
	}
	n, purpose := 1, "DevTest"
	in := &mlfleet.Compute{Location: "westus", Properties: mlfleet.ComputeProperties{ComputeType: "AKS",
		Properties: &mlfleet.AKSProperties{AgentCount: &n, ClusterPurpose: &purpose}}}
	_, p, err := c.BeginCreateOrUpdateCompute(ctx, o.group, o.workspace, o.name, in, nil)
	if err == nil {
		_, err = p.Wait(ctx, nil)
	}
	if err != nil {
		return fmt.Errorf("create compute: %w", err)
	}
	return nil
}

// serverCPU returns the server's CPU time so far (user and system).
func serverCPU(pid int, hc *http.Client, cfg *clientconfig.Config) (time.Duration, error) {
	if pid > 0 {
		return procstat.ProcessCPU(pid)
	}
	f, err := procstat.ServerMetric(hc, cfg.Server, "process_cpu_seconds_total")
	var nm *procstat.NoMetricError
	if errors.As(err, &nm) {
		return 0, fmt.Errorf("%w: give -pid", err)
	}
	return time.Duration(f * float64(time.Second)), err
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 3, 64) + "ms"
}
