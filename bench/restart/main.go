// Command restart measures how long an mlfleet server with embedded clusters takes to
// have every cluster answering again after kill -9 and a restart, and how long a graceful
// stop (SIGTERM) takes. It runs the server binary itself, in a home of its own.
//
//	go build -o /tmp/mlfleet ./cmd/mlfleet
//	go run ./bench/restart -bin /tmp/mlfleet -home /tmp/restart-home -clusters 10 -runs 3
//
// The first run creates the clusters (one node each; -attached of them get a DevTest
// compute, so that they count as attached). See bench/README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/mlfleet/mlfleet/internal/serveproc"
	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "restart:", err)
		os.Exit(1)
	}
}

const group = "restartbench"

func run() error {
	bin := flag.String("bin", "mlfleet", "the mlfleet binary to run")
	home := flag.String("home", "", "the server's home (kept between runs; required)")
	n := flag.Int("clusters", 3, "clusters to have")
	attached := flag.Int("attached", 1, "of which with a compute (created through a workspace)")
	runs := flag.Int("runs", 3, "kill -9 and restart this many times")
	flag.Parse()
	if *home == "" {
		return errors.New("give -home, a directory for the server's data")
	}
	if err := os.MkdirAll(*home, 0o700); err != nil {
		return err
	}
	p, err := serveproc.Start(*bin, *home)
	if err != nil {
		return err
	}
	c, err := mlfleet.NewClient(mlfleet.WithHome(*home), mlfleet.WithPollInterval(200*time.Millisecond))
	if err != nil {
		return err
	}
	if err := ensureClusters(c, *n, *attached); err != nil {
		p.Kill()
		return err
	}
	names, err := clusterNames(c)
	if err != nil {
		p.Kill()
		return err
	}
	fmt.Printf("%d clusters, %d attached\n", len(names), *attached)
	var up, first, stops []time.Duration
	for i := range *runs {
		p.Kill()
		began := time.Now()
		if p, err = serveproc.Start(*bin, *home); err != nil {
			return err
		}
		// The restarted server listens on another port; its client configuration says which.
		if c, err = mlfleet.NewClient(mlfleet.WithHome(*home)); err != nil {
			p.Kill()
			return err
		}
		at, err := serveproc.AllAnswer(c, group, names, 5*time.Minute)
		if err != nil {
			p.Kill()
			return err
		}
		// The computes' clusters are rc0 … rc<attached-1>.
		var att time.Duration
		for j, name := range names {
			if isAttached(name, *attached) {
				att = max(att, at[j].Sub(began))
			}
		}
		first = append(first, att)
		up = append(up, slices.MaxFunc(at, func(a, b time.Time) int { return a.Compare(b) }).Sub(began))
		fmt.Printf("run %d: attached clusters answering after %.2fs, all %d after %.2fs\n", i+1, att.Seconds(), len(names), up[i].Seconds())
	}
	began := time.Now()
	if err := p.Stop(2 * time.Minute); err != nil {
		return err
	}
	stops = append(stops, time.Since(began))
	fmt.Printf("graceful stop (SIGTERM to exit) with %d clusters: %.2fs\n", len(names), stops[0].Seconds())
	fmt.Printf("restart to the attached clusters answering: %s\n", minMedMax(first))
	fmt.Printf("restart to all answering: %s\n", minMedMax(up))
	return nil
}

// ensureClusters creates what is missing: attached computes first (each with its
// cluster), then plain clusters, one node each.
func ensureClusters(c *mlfleet.Client, n, attached int) error {
	ctx := context.Background()
	if _, err := c.CreateResourceGroup(ctx, group, "westus", nil); err != nil {
		return err
	}
	if _, err := c.CreateWorkspace(ctx, group, "restartws", "westus"); err != nil {
		return err
	}
	have, err := clusterNames(c)
	if err != nil {
		return err
	}
	one, purpose := 1, "DevTest"
	var pollers []*mlfleet.Poller
	for i := range n {
		name := fmt.Sprintf("rc%d", i)
		if slices.Contains(have, name) {
			continue
		}
		var p *mlfleet.Poller
		if i < attached {
			in := &mlfleet.Compute{Location: "westus", Properties: mlfleet.ComputeProperties{ComputeType: "AKS",
				Properties: &mlfleet.AKSProperties{AgentCount: &one, ClusterPurpose: &purpose}}}
			_, p, err = c.BeginCreateOrUpdateCompute(ctx, group, "restartws", name, in, nil)
		} else {
			in := &mlfleet.ClusterInput{Location: "westus"}
			in.Properties.AgentPoolProfiles = []mlfleet.AgentPoolInput{{Name: "nodepool1", Count: &one, VMSize: "Standard_D3_v2"}}
			_, p, err = c.BeginCreateManagedCluster(ctx, group, name, in)
		}
		if err != nil {
			return fmt.Errorf("create %s: %w", name, err)
		}
		pollers = append(pollers, p)
		if len(pollers) == 2 { // two at a time on a small machine
			for _, p := range pollers {
				if _, err := p.Wait(ctx, nil); err != nil {
					return err
				}
			}
			pollers = nil
		}
	}
	for _, p := range pollers {
		if _, err := p.Wait(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

func clusterNames(c *mlfleet.Client) ([]string, error) {
	list, err := c.ListManagedClusters(context.Background(), group)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, mc := range list {
		names = append(names, mc.Name)
	}
	return names, nil
}

// isAttached says whether a cluster is one of the first n, which ensureClusters made
// through computes.
func isAttached(name string, n int) bool {
	for i := range n {
		if name == fmt.Sprintf("rc%d", i) {
			return true
		}
	}
	return false
}

func minMedMax(ds []time.Duration) string {
	s := slices.Clone(ds)
	slices.Sort(s)
	return fmt.Sprintf("min %.2fs / median %.2fs / max %.2fs (%d runs)", s[0].Seconds(), s[len(s)/2].Seconds(), s[len(s)-1].Seconds(), len(s))
}
