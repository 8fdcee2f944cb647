package endpoints

import (
	"context"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/inference"
	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/internal/mlassets"
)

// podLogReader is provider.PodLogReader: a provider that reads a pod's container log
// itself (the embedded provider, whose pods are local processes).
type podLogReader interface {
	PodLogs(ctx context.Context, clusterID, namespace, pod, container string, tailLines int) (string, error)
}

// LogsRequest is the body of POST …/deployments/{d}/getLogs.
type LogsRequest struct {
	// ContainerType is InferenceServer (default) or StorageInitializer.
	ContainerType string `json:"containerType"`
	// Tail is the number of lines from the end; 0 means all.
	Tail *int `json:"tail"`
}

// Logs is the answer of getLogs.
type Logs struct {
	Content string `json:"content"`
}

// GetLogs returns the inference server's log of a deployment's instances, each under an
// "==> instance <pod> <==" header when there are several (as tail prints several files).
func (s *Service) GetLogs(ctx context.Context, sub, rg, ws, endpoint, name string, in LogsRequest) (*Logs, error) {
	_, d, err := s.deploymentRow(ctx, sub, rg, ws, endpoint, name)
	if err != nil {
		return nil, err
	}
	var problems mlassets.Problems
	switch strings.ToLower(in.ContainerType) {
	case "", "inferenceserver":
	case "storageinitializer":
		// The model and code are materialized on the host by the deployment's operation;
		// there is no initializer container, so its log is empty.
		return &Logs{Content: ""}, nil
	default:
		problems = append(problems, arm.BadRequest(arm.CodeUserError, "containerType '%s' is not InferenceServer or StorageInitializer.", in.ContainerType).WithTarget("containerType"))
	}
	tail := 0
	if in.Tail != nil {
		tail = *in.Tail
		if tail < 0 || tail > 10000 {
			problems = append(problems, arm.BadRequest(arm.CodeUserError, "tail is %d; ask for 0 (all) to 10000 lines.", tail).WithTarget("tail"))
		}
	}
	if err := problems.Err("getLogs"); err != nil {
		return nil, err
	}
	kc, mc, err := s.cluster(ctx, d.Properties.Compute)
	if err != nil {
		return nil, err
	}
	// The objects carry the stored names, not this request's spelling of them.
	epName := endpointNameOf(d.ID)
	st, err := kc.InferenceDeploymentStatus(ctx, DeploymentName(epName, d.Name), InstanceLabels(epName, d.Name))
	if err != nil {
		return nil, err
	}
	if len(st.Pods) == 0 {
		return nil, arm.Errorf(409, arm.CodeConflict, "Deployment '%s' has no instances yet, so there are no logs; retry once it has started.", d.Name)
	}
	// The embedded provider's pods are local processes with no kubelet to serve their
	// logs, so its own reader is asked first; any other cluster's logs come through the
	// Kubernetes API.
	read := func(pod string) (string, error) {
		if r, ok := s.cfg.Providers[mc.Properties.Mlfleet.Provider].(podLogReader); ok {
			return r.PodLogs(ctx, mc.Properties.Mlfleet.ClusterID, kube.Namespace, pod, inference.ContainerName, tail)
		}
		return kc.PodLogs(ctx, pod, inference.ContainerName, tail)
	}
	var b strings.Builder
	for i, pod := range st.Pods {
		out, err := read(pod)
		// One unreadable instance fails the call rather than giving a log with a gap
		// that looks complete.
		if err != nil {
			return nil, arm.Errorf(409, arm.CodeConflict, "The log of instance %s could not be read: %v", pod, err)
		}
		if len(st.Pods) > 1 {
			if i > 0 {
				b.WriteString("\n")
			}
			b.WriteString("==> instance " + pod + " <==\n")
		}
		b.WriteString(out)
	}
	return &Logs{Content: b.String()}, nil
}
