package clusterruntime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/mlfleet/mlfleet/internal/inference"
	"github.com/mlfleet/mlfleet/internal/sandbox"
)

// maxTerminationMessage is the kubelet's cap on a container's termination message.
const maxTerminationMessage = 4096

// ErrNoProcess means a pod has no local process (it runs no inference runtime, or has
// never been started here).
var ErrNoProcess = errors.New("pod has no local process")

// podProcesses runs the pods that ask for the Python inference runtime (annotation
// inference.AnnotationRuntime) as local processes, one supervisor per pod, with their
// work directories and logs under dir/pods/<pod UID>.
type podProcesses struct {
	python  string
	cluster string
	files   inference.FilesResolver
	sandbox sandbox.Policy
	dir     string
	log     *slog.Logger
	backoff [2]time.Duration // min, max; zero means the supervisor's defaults
	changed func(key string) // queues the pod for a status write

	mu       sync.Mutex
	stopped  bool
	procs    map[types.UID]*inference.Supervisor
	stopping sync.WaitGroup // stops of deleted pods under way
}

func newPodProcesses(o *Options, changed func(string)) *podProcesses {
	if o.DataDir == "" {
		return nil
	}
	return &podProcesses{python: o.Python, cluster: o.ClusterID, files: o.Files, sandbox: o.Sandbox, dir: o.DataDir, log: o.Logger.With("component", "pod-processes"),
		backoff: [2]time.Duration{o.ProcessMinBackoff, o.ProcessMaxBackoff},
		changed: changed, procs: map[types.UID]*inference.Supervisor{}}
}

// runsProcess tells whether pod asks for a local inference process.
func runsProcess(pod *v1.Pod) bool {
	return pod.Annotations[inference.AnnotationRuntime] == inference.RuntimePython
}

// podDir holds a pod's files: its process's work directory (work), which the process may
// write, and what only mlfleet writes: the container logs and the inference server.
func (p *podProcesses) podDir(uid types.UID) string {
	return filepath.Join(p.dir, "pods", string(uid))
}

// logPath is where a container's output goes.
func (p *podProcesses) logPath(uid types.UID, container string) string {
	return filepath.Join(p.podDir(uid), container+".log")
}

// mainContainer is the container the process stands for: the one named
// inference.ContainerName, else the first.
func mainContainer(pod *v1.Pod) *v1.Container {
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == inference.ContainerName {
			return &pod.Spec.Containers[i]
		}
	}
	if len(pod.Spec.Containers) == 0 {
		return nil
	}
	return &pod.Spec.Containers[0]
}

// resolveTimeout bounds how long the files of a pod are looked up and unpacked.
const resolveTimeout = 2 * time.Minute

// ensure returns the supervisor of pod, starting one if there is none, with the files
// p.files finds for it. The port of the pod's local address, if any (from before a
// restart), is kept when it is free.
func (p *podProcesses) ensure(ctx context.Context, pod *v1.Pod) (*inference.Supervisor, error) {
	if s := p.running(pod.UID); s != nil {
		return s, nil
	}
	if p.files == nil {
		return nil, errors.New("this cluster runtime cannot find the files of inference pods")
	}
	// Looked up, and unpacked, before the lock: it may read a model from the database.
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	files, err := p.files(ctx, p.cluster, pod.Namespace, pod.Labels)
	cancel()
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return nil, ErrStopped
	}
	if s := p.procs[pod.UID]; s != nil {
		return s, nil
	}
	c := mainContainer(pod)
	if c == nil {
		return nil, fmt.Errorf("pod %s has no container", podKey(pod))
	}
	var env []string
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			env = append(env, e.Name+"="+e.Value)
		}
	}
	key := podKey(pod)
	restarts := 0
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Name == c.Name {
			restarts = int(cs.RestartCount)
		}
	}
	s, err := inference.StartProcess(inference.ProcessSpec{
		RestartsBefore: restarts,
		Python:         p.python,
		Sandbox:        p.sandbox,
		WorkDir:        filepath.Join(p.podDir(pod.UID), "work"),
		StateDir:       p.podDir(pod.UID),
		ModelDir:       files.ModelDir,
		CodeDir:        files.CodeDir,
		ScoringScript:  files.ScoringScript,
		Env:            env,
		Port:           reusablePort(pod.Annotations[inference.AnnotationLocalAddress]),
		LogFile:        p.logPath(pod.UID, c.Name),
		MinBackoff:     p.backoff[0],
		MaxBackoff:     p.backoff[1],
		OnChange:       func() { p.changed(key) },
		Logger:         p.log.With("pod", key),
	})
	if err != nil {
		return nil, fmt.Errorf("start process of pod %s: %w", key, err)
	}
	p.procs[pod.UID] = s
	p.log.Debug("pod process started", "pod", key, "addr", s.Addr())
	return s, nil
}

// running returns the supervisor of the pod with uid, nil if there is none.
func (p *podProcesses) running(uid types.UID) *inference.Supervisor {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.procs[uid]
}

// reusablePort returns the port of addr if it is free on 127.0.0.1, else 0.
func reusablePort(addr string) int {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return 0
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		return 0
	}
	l.Close()
	n, _ := strconv.Atoi(port)
	return n
}

// stop stops the process of a pod and waits until it is gone; removeFiles also removes its
// work directory and logs (the pod is gone for good).
func (p *podProcesses) stop(ctx context.Context, uid types.UID, removeFiles bool) error {
	p.mu.Lock()
	s := p.procs[uid]
	delete(p.procs, uid)
	p.mu.Unlock()
	if s != nil {
		if err := s.Stop(ctx); err != nil {
			return err
		}
	}
	if removeFiles {
		if err := os.RemoveAll(p.podDir(uid)); err != nil {
			return fmt.Errorf("remove files of pod %s: %w", uid, err)
		}
	}
	return nil
}

// stopDeleted stops the process of a pod that is gone, in the background, and removes its
// files; stopAll waits for it.
func (p *podProcesses) stopDeleted(uid types.UID) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.procs[uid] == nil {
		return
	}
	p.stopping.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := p.stop(ctx, uid, true); err != nil {
			p.log.Warn("process of deleted pod not stopped", "uid", uid, "error", err)
		}
	})
}

// stopAll stops every process, keeping their files, and refuses new ones.
func (p *podProcesses) stopAll(ctx context.Context) {
	p.mu.Lock()
	p.stopped = true
	procs := p.procs
	p.procs = map[types.UID]*inference.Supervisor{}
	p.mu.Unlock()
	defer p.stopping.Wait()
	var wg sync.WaitGroup
	for uid, s := range procs {
		wg.Go(func() {
			if err := s.Stop(ctx); err != nil {
				p.log.Warn("pod process not stopped", "uid", uid, "error", err)
			}
		})
	}
	wg.Wait()
}

// startProcessPod is start for a pod that runs as a local process: the process is
// started if it is not running, the pod gets its local address as an annotation, and its
// status follows the process (Ready after GET /ready, restarts, the last exit).
func (s *podSimulator) startProcessPod(ctx context.Context, pod *v1.Pod) error {
	if s.procs == nil || s.procs.python == "" {
		return s.writeProcessStatus(ctx, pod, nil, "this mlfleet runs no Python interpreter for inference pods (see mlfleet serve --python)")
	}
	proc, err := s.procs.ensure(ctx, pod)
	if errors.Is(err, ErrStopped) {
		return nil
	}
	if err != nil {
		// Written for the user, and tried again with back-off: the files may be
		// unreachable for a moment (the database) or come later.
		if werr := s.writeProcessStatus(ctx, pod, nil, err.Error()); werr != nil {
			return werr
		}
		return fmt.Errorf("start process of pod %s: %w", podKey(pod), err)
	}
	if pod.Annotations[inference.AnnotationLocalAddress] != proc.Addr() {
		patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{
			"annotations": map[string]string{inference.AnnotationLocalAddress: proc.Addr()}}})
		pod, err = s.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.MergePatchType, patch, metav1.PatchOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("annotate pod %s with its address: %w", podKey(pod), err)
		}
	}
	return s.writeProcessStatus(ctx, pod, proc, "")
}

// writeProcessStatus writes the status of a process pod: Running on its node, its main
// container after the process's state (or waiting with failure when there is no
// process), the other containers running.
func (s *podSimulator) writeProcessStatus(ctx context.Context, pod *v1.Pod, proc *inference.Supervisor, failure string) error {
	updated := pod.DeepCopy()
	if ok, err := s.setNetworkStatus(updated); !ok || err != nil {
		return err
	}
	now := metav1.NewTime(s.clock.Now().Truncate(time.Second))
	st := &updated.Status
	st.Phase = v1.PodRunning
	st.ObservedGeneration = pod.Generation
	if st.StartTime == nil {
		st.StartTime = &now
	}
	main := mainContainer(pod)
	var state inference.ProcessState
	if proc != nil {
		state = proc.State()
	}
	ready := proc != nil && state.Ready
	for _, t := range []v1.PodConditionType{v1.PodReadyToStartContainers, v1.PodInitialized, v1.PodScheduled, v1.PodReady, v1.ContainersReady} {
		status := v1.ConditionTrue
		if (t == v1.PodReady || t == v1.ContainersReady) && !ready {
			status = v1.ConditionFalse
		}
		setPodCondition(st, v1.PodCondition{Type: t, Status: status, LastTransitionTime: now, ObservedGeneration: pod.Generation})
	}
	old := map[string]v1.ContainerStatus{}
	for _, cs := range pod.Status.ContainerStatuses {
		old[cs.Name] = cs
	}
	st.ContainerStatuses = nil
	for _, c := range pod.Spec.Containers {
		cs, had := old[c.Name]
		if !had {
			cs = containerStatus(pod, c, now)
		}
		switch {
		case main != nil && c.Name == main.Name:
			cs = processContainerStatus(cs, state, proc != nil, failure)
		case cs.State.Running == nil:
			cs = containerStatus(pod, c, now) // a sidecar: simulated, running
		}
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
	}
	if equality.Semantic.DeepEqual(pod.Status, updated.Status) {
		return nil
	}
	if _, err := s.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil {
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return nil // the next event brings the current pod
		}
		return fmt.Errorf("write status of pod %s: %w", podKey(pod), err)
	}
	return nil
}

// processContainerStatus is cs (the container's status as written before) after the
// process's state.
func processContainerStatus(cs v1.ContainerStatus, state inference.ProcessState, running bool, failure string) v1.ContainerStatus {
	cs.Ready = running && state.Ready
	cs.Started = ptr.To(running && state.Running)
	cs.RestartCount = int32(state.Restarts)
	switch {
	case !running:
		cs.State = v1.ContainerState{Waiting: &v1.ContainerStateWaiting{Reason: "CreateContainerError", Message: failure}}
	case state.Running:
		cs.State = v1.ContainerState{Running: &v1.ContainerStateRunning{StartedAt: metav1.NewTime(state.StartedAt.Truncate(time.Second))}}
	case state.Waiting == inference.WaitingBackOff:
		// The kubelet's words, and when the next attempt is due, so that a status read
		// between two writes still says it.
		cs.State = v1.ContainerState{Waiting: &v1.ContainerStateWaiting{Reason: inference.WaitingBackOff,
			Message: fmt.Sprintf("back-off %s restarting failed container=%s; next attempt at %s",
				state.Backoff, cs.Name, state.NextStart.UTC().Truncate(time.Second).Format(time.RFC3339))}}
	default:
		cs.State = v1.ContainerState{Waiting: &v1.ContainerStateWaiting{Reason: inference.WaitingStarting}}
	}
	if e := state.LastExit; e != nil {
		msg := e.Output
		if len(msg) > maxTerminationMessage {
			msg = msg[len(msg)-maxTerminationMessage:]
		}
		cs.LastTerminationState = v1.ContainerState{Terminated: &v1.ContainerStateTerminated{
			ExitCode: int32(e.ExitCode), Signal: 0, Reason: inference.ExitReasonError, Message: msg,
			StartedAt: metav1.NewTime(e.StartedAt.Truncate(time.Second)), FinishedAt: metav1.NewTime(e.FinishedAt.Truncate(time.Second)),
			ContainerID: cs.ContainerID,
		}}
	}
	return cs
}

// PodLogs returns the last tailLines lines (all up to 1 MiB when tailLines <= 0) of the
// output of a container of a pod that runs as a local process (container "" means its
// main container). It returns an error wrapping ErrNoProcess for a pod that runs none here
// and a Kubernetes NotFound error when the pod does not exist.
func (r *Runtime) PodLogs(namespace, name, container string, tailLines int) (string, error) {
	pod, err := r.pods.pods.Pods(namespace).Get(name)
	if err != nil {
		return "", fmt.Errorf("logs of pod %s/%s: %w", namespace, name, err)
	}
	if r.pods.procs == nil || !runsProcess(pod) {
		return "", fmt.Errorf("logs of pod %s/%s: %w", namespace, name, ErrNoProcess)
	}
	if container == "" {
		if c := mainContainer(pod); c != nil {
			container = c.Name
		}
	}
	if tailLines <= 0 {
		tailLines = 1 << 20
	}
	out, err := inference.TailLog(r.pods.procs.logPath(pod.UID, container), tailLines)
	if err != nil {
		return "", fmt.Errorf("logs of pod %s/%s: %w", namespace, name, err)
	}
	return out, nil
}
