package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// clusterInput is az's default cluster: three Standard_DS2_v2 nodes.
func clusterInput() *mlfleet.ClusterInput {
	count := 3
	in := &mlfleet.ClusterInput{Location: location}
	in.Properties.AgentPoolProfiles = []mlfleet.AgentPoolInput{{Name: "nodepool1", Count: &count, VMSize: "Standard_DS2_v2", Mode: "System"}}
	return in
}

// createCluster creates a cluster through the SDK and returns the time from the PUT to
// the operation seen Succeeded.
func (b *bench) createCluster(ctx context.Context, name string) (time.Duration, error) {
	began := time.Now()
	_, p, err := b.c.BeginCreateManagedCluster(ctx, group, name, clusterInput())
	if err == nil && p != nil {
		_, err = p.Wait(ctx, nil)
	}
	if err != nil {
		return 0, fmt.Errorf("create cluster %s: %w", name, err)
	}
	return time.Since(began), nil
}

// createClusterCLI runs `mlfleet aks create` and returns its wall time less the server's
// time: from the PUT's answer (the activity log's Accepted event) to the operation's end
// (its Succeeded event).
func (b *bench) createClusterCLI(ctx context.Context, name string) (time.Duration, error) {
	cmd := exec.CommandContext(ctx, b.o.bin, "aks", "create", "-g", group, "-n", name)
	cmd.Env = append(os.Environ(), "MLFLEET_HOME="+b.o.home)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	began := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("mlfleet aks create %s: %w: %s", name, err, stderr.String())
	}
	wall := time.Since(began)
	mc, err := b.c.GetManagedCluster(ctx, group, name)
	if err != nil {
		return 0, err
	}
	events, err := b.c.ListActivityLog(ctx, mlfleet.ActivityLogFilter{ResourceID: mc.ID})
	if err != nil {
		return 0, fmt.Errorf("list the activity of %s: %w", name, err)
	}
	var accepted, succeeded time.Time
	for _, e := range events {
		switch e.Status.Value {
		case "Accepted":
			accepted = e.EventTimestamp
		case "Succeeded":
			succeeded = e.EventTimestamp
		}
	}
	if accepted.IsZero() || succeeded.IsZero() {
		return 0, fmt.Errorf("the activity log of %s has no Accepted and Succeeded events (%d events)", name, len(events))
	}
	return wall - succeeded.Sub(accepted), nil
}

// attach attaches a compute to a cluster and returns the time from the PUT to Succeeded.
func (b *bench) attach(ctx context.Context, compute, cluster string) (time.Duration, error) {
	mc, err := b.c.GetManagedCluster(ctx, group, cluster)
	if err != nil {
		return 0, err
	}
	// DevTest: az's default cluster has fewer vCPUs than a production compute needs.
	purpose := "DevTest"
	began := time.Now()
	in := &mlfleet.Compute{Properties: mlfleet.ComputeProperties{ComputeType: "AKS", ResourceID: &mc.ID,
		Properties: &mlfleet.AKSProperties{ClusterPurpose: &purpose}}}
	_, p, err := b.c.BeginCreateOrUpdateCompute(ctx, group, workspace, compute, in, nil)
	if err == nil && p != nil {
		_, err = p.Wait(ctx, nil)
	}
	if err != nil {
		return 0, fmt.Errorf("attach %s to %s: %w", compute, cluster, err)
	}
	return time.Since(began), nil
}

// detach detaches a compute and returns the time from the DELETE to Succeeded.
func (b *bench) detach(ctx context.Context, compute string) (time.Duration, error) {
	began := time.Now()
	p, err := b.c.BeginDeleteCompute(ctx, group, workspace, compute, mlfleet.ActionDetach)
	if err == nil && p != nil {
		_, err = p.Wait(ctx, nil)
	}
	if err != nil {
		return 0, fmt.Errorf("detach %s: %w", compute, err)
	}
	return time.Since(began), nil
}

// createClusters creates clusters, two at a time, untimed.
func (b *bench) createClusters(ctx context.Context, names []string) error {
	for chunk := range slices.Chunk(names, 2) {
		var pollers []*mlfleet.Poller
		for _, name := range chunk {
			_, p, err := b.c.BeginCreateManagedCluster(ctx, group, name, clusterInput())
			if err != nil {
				return fmt.Errorf("create cluster %s: %w", name, err)
			}
			pollers = append(pollers, p)
		}
		for i, p := range pollers {
			if p == nil {
				continue
			}
			if _, err := p.Wait(ctx, nil); err != nil {
				return fmt.Errorf("create cluster %s: %w", chunk[i], err)
			}
		}
		b.logf("created %s", strings.Join(chunk, ", "))
	}
	return nil
}

// deleteClusters deletes clusters, all at once, and waits until they are gone.
func (b *bench) deleteClusters(ctx context.Context, names []string) error {
	if len(names) == 0 {
		return nil
	}
	b.logf("deleting %d clusters", len(names))
	var pollers []*mlfleet.Poller
	for _, name := range names {
		p, err := b.c.BeginDeleteManagedCluster(ctx, group, name)
		if err != nil {
			return fmt.Errorf("delete cluster %s: %w", name, err)
		}
		if p != nil {
			pollers = append(pollers, p)
		}
	}
	for _, p := range pollers {
		if _, err := p.Wait(ctx, nil); err != nil {
			return fmt.Errorf("delete clusters: %w", err)
		}
	}
	return nil
}
