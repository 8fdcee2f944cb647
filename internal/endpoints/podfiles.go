package endpoints

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/inference"
	"github.com/mlfleet/mlfleet/internal/mlassets"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// errNotAnInstance means a pod names no online deployment of its own cluster.
var errNotAnInstance = errors.New("the pod is not an instance of an online deployment on this cluster")

// PodFiles is the embedded clusters' inference.FilesResolver: the model and code of the
// online deployment a pod of cluster clusterID is an instance of, unpacked on this host
// (the replica hosting the cluster unpacks them from the blob store when the deployment's
// operation ran on another one), and its scoring script.
//
// The pod is trusted for nothing but its namespace and the two names in its labels: the
// deployment must be one whose compute's cluster is clusterID, so that a user who can
// write pods in one cluster runs nothing but that cluster's own deployments.
func (s *Service) PodFiles(ctx context.Context, clusterID, namespace string, labels map[string]string) (inference.PodFiles, error) {
	epName, depName := labels[inference.LabelEndpoint], labels[inference.LabelDeployment]
	if namespace != inference.Namespace || epName == "" || depName == "" {
		return inference.PodFiles{}, errNotAnInstance
	}
	d, err := s.deploymentOnCluster(ctx, clusterID, epName, depName)
	if err != nil {
		return inference.PodFiles{}, err
	}
	var files inference.PodFiles
	if d.Properties.Model != "" {
		if files.ModelDir, err = s.assetDir(ctx, mlassets.Models, d.Properties.Model); err != nil {
			return inference.PodFiles{}, err
		}
	}
	if c := d.Properties.CodeConfiguration; c != nil {
		files.ScoringScript = c.ScoringScript
		if c.CodeID != "" {
			if files.CodeDir, err = s.assetDir(ctx, mlassets.Codes, c.CodeID); err != nil {
				return inference.PodFiles{}, err
			}
		}
	}
	return files, nil
}

// deploymentOnCluster finds the deployment depName of the endpoint epName whose compute's
// cluster is clusterID. One cluster is attached to one compute at most, and names are
// unique in a workspace, so there is at most one.
func (s *Service) deploymentOnCluster(ctx context.Context, clusterID, epName, depName string) (*armapi.OnlineDeployment, error) {
	rows, err := s.cfg.Store.ListResources(ctx, store.ListOptions{Type: TypeDeployment, Name: depName})
	if err != nil {
		return nil, fmt.Errorf("list deployments: %w", err)
	}
	for _, r := range rows {
		d, err := decodeRow[armapi.OnlineDeployment](r)
		if err != nil || !strings.EqualFold(endpointNameOf(d.ID), epName) {
			continue
		}
		mc, err := s.clusterOf(ctx, d.Properties.Compute)
		if err != nil {
			continue // a compute gone or detached: not this cluster's deployment
		}
		if mc.Properties.Mlfleet.ClusterID == clusterID {
			return d, nil
		}
	}
	return nil, fmt.Errorf("%w: no deployment %q of endpoint %q runs on it", errNotAnInstance, depName, epName)
}

// clusterOf returns the managed cluster of a compute.
func (s *Service) clusterOf(ctx context.Context, computeID string) (*armapi.ManagedCluster, error) {
	id, err := arm.ParseID(computeID)
	if err != nil {
		return nil, fmt.Errorf("parse compute id %s: %w", computeID, err)
	}
	if len(id.Names) < 2 {
		return nil, fmt.Errorf("%s is not the id of a compute", computeID)
	}
	c, err := s.cfg.Computes.Get(ctx, id.SubscriptionID, id.ResourceGroup, id.Names[0], id.Name())
	if err != nil {
		return nil, err
	}
	if c.Properties.ResourceID == nil {
		return nil, arm.Conflict("Compute '%s' has no cluster.", c.Name)
	}
	return s.cfg.Clusters.GetByID(ctx, *c.Properties.ResourceID)
}

// filesDigest names what the instances of d run (model, code, scoring script): the pod
// template carries it, so that a change of any of them rolls the instances out, while the
// files themselves are found with PodFiles.
func filesDigest(d *armapi.OnlineDeployment) string {
	parts := []string{d.Properties.Model, "", ""}
	if c := d.Properties.CodeConfiguration; c != nil {
		parts[1], parts[2] = c.CodeID, c.ScoringScript
	}
	sum := sha256.Sum256([]byte(strings.Join(parts, "\n")))
	return hex.EncodeToString(sum[:8])
}
