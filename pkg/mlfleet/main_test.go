package mlfleet_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/sandbox"
	"github.com/mlfleet/mlfleet/pkg/mlfleet"
	"github.com/mlfleet/mlfleet/test/testserver"
)

// server is the mlfleet server the examples and tests of this package talk to: `mlfleet
// serve` in-process, with MLFLEET_HOME pointing at its home so that mlfleet.NewClient()
// finds it as a program on that machine would.
var server *testserver.Server

// The fixtures the examples start from, as the seed's snippets assume them: a workspace,
// an existing cluster to attach (3 × Standard_D3_v2, enough for production) and a dev/test
// compute created from the workspace.
const (
	fixtureGroup      = "myresourcegroup"
	fixtureWorkspace  = "myworkspace"
	fixtureCluster    = "myexistingcluster"
	fixtureDevCompute = "mydevaks"
)

func TestMain(m *testing.M) {
	// First: this binary is the sandbox stub of the scoring processes its servers start.
	sandbox.Init()
	os.Exit(testserver.Main(func() int {
		if err := setup(); err != nil {
			fmt.Fprintln(os.Stderr, "set up the fixtures:", err)
			return 1
		}
		return m.Run()
	}, func(s *testserver.Server) { server = s }))
}

func setup() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, err := mlfleet.NewClient()
	if err != nil {
		return err
	}
	if _, err := c.CreateResourceGroup(ctx, fixtureGroup, "westus", nil); err != nil {
		return err
	}
	ws, err := c.CreateWorkspace(ctx, fixtureGroup, fixtureWorkspace, "")
	if err != nil {
		return err
	}
	in := &mlfleet.ClusterInput{Location: "westus"}
	count := 3
	in.Properties.AgentPoolProfiles = []mlfleet.AgentPoolInput{{Name: "nodepool1", Count: &count, VMSize: "Standard_D3_v2", Mode: "System"}}
	_, p, err := c.BeginCreateManagedCluster(ctx, fixtureGroup, fixtureCluster, in)
	if err != nil {
		return fmt.Errorf("create cluster %s: %w", fixtureCluster, err)
	}
	if p != nil {
		if _, err := p.Wait(ctx, nil); err != nil {
			return fmt.Errorf("create cluster %s: %w", fixtureCluster, err)
		}
	}
	aks, err := ws.CreateAKS(ctx, fixtureDevCompute, mlfleet.AKSProvisioningConfig{ClusterPurpose: mlfleet.PurposeDevTest, AgentCount: 1, VMSize: "Standard_D2_v2"})
	if err != nil {
		return fmt.Errorf("create compute %s: %w", fixtureDevCompute, err)
	}
	return aks.WaitForCompletion(ctx, nil)
}
