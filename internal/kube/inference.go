package kube

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	"k8s.io/utils/ptr"
)

// InferenceDeployment is the apps/v1 Deployment of an online deployment (see
// internal/endpoints for the contract its labels and annotations follow).
type InferenceDeployment struct {
	Name string
	// Labels go on the Deployment and its pods; the Deployment selects its pods by them.
	Labels map[string]string
	// PodAnnotations go on the pod template.
	PodAnnotations map[string]string
	Replicas       int32
	Container      string
	Image          string
	Port           int32
	Env            map[string]string
	// MilliCPU and MemoryMiB are each instance's requests and limits.
	MilliCPU, MemoryMiB int64
	Liveness, Readiness Probe
}

// Probe is an HTTP GET probe on the container's port.
type Probe struct {
	Path                               string
	InitialDelaySeconds, PeriodSeconds int32
	TimeoutSeconds                     int32
	FailureThreshold, SuccessThreshold int32
}

func (p Probe) apply() *corev1ac.ProbeApplyConfiguration {
	return corev1ac.Probe().WithHTTPGet(corev1ac.HTTPGetAction().WithPath(p.Path).WithPort(intstr.FromString("http"))).
		WithInitialDelaySeconds(p.InitialDelaySeconds).WithPeriodSeconds(p.PeriodSeconds).WithTimeoutSeconds(p.TimeoutSeconds).
		WithFailureThreshold(p.FailureThreshold).WithSuccessThreshold(p.SuccessThreshold)
}

// checkNamespace returns a clear error when the components' namespace is missing: the
// compute is not attached (or its components were removed).
func (c *Cluster) checkNamespace(ctx context.Context) error {
	_, err := c.Client.CoreV1().Namespaces().Get(ctx, Namespace, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("namespace %s is missing from the cluster: attach the compute again (mlfleet ml computetarget attach)", Namespace)
	}
	if err != nil {
		return translate(err, "get namespace %s", Namespace)
	}
	return nil
}

// ApplyInferenceDeployment creates or updates the Deployment (server-side apply).
func (c *Cluster) ApplyInferenceDeployment(ctx context.Context, d InferenceDeployment) error {
	if err := c.checkNamespace(ctx); err != nil {
		return err
	}
	labels := with(d.Labels, LabelManagedBy, ManagedBy)
	res := corev1.ResourceList{
		corev1.ResourceCPU:    *resource.NewMilliQuantity(d.MilliCPU, resource.DecimalSI),
		corev1.ResourceMemory: *resource.NewQuantity(d.MemoryMiB<<20, resource.BinarySI),
	}
	var env []*corev1ac.EnvVarApplyConfiguration
	for _, k := range slices.Sorted(maps.Keys(d.Env)) {
		env = append(env, corev1ac.EnvVar().WithName(k).WithValue(d.Env[k]))
	}
	container := corev1ac.Container().WithName(d.Container).WithImage(d.Image).
		WithPorts(corev1ac.ContainerPort().WithName("http").WithContainerPort(d.Port).WithProtocol(corev1.ProtocolTCP)).
		WithEnv(env...).
		WithResources(corev1ac.ResourceRequirements().WithRequests(res).WithLimits(res)).
		WithLivenessProbe(d.Liveness.apply()).WithReadinessProbe(d.Readiness.apply())
	dep := appsv1ac.Deployment(d.Name, Namespace).WithLabels(labels).
		WithSpec(appsv1ac.DeploymentSpec().WithReplicas(d.Replicas).
			WithSelector(metav1ac.LabelSelector().WithMatchLabels(d.Labels)).
			WithTemplate(corev1ac.PodTemplateSpec().
				WithLabels(labels).WithAnnotations(d.PodAnnotations).
				WithSpec(corev1ac.PodSpec().WithContainers(container).WithAutomountServiceAccountToken(false))))
	if err := c.replaceSelector(ctx, d.Name, d.Labels); err != nil {
		return err
	}
	opts := metav1.ApplyOptions{FieldManager: FieldManager, Force: true}
	if _, err := c.Client.AppsV1().Deployments(Namespace).Apply(ctx, dep, opts); err != nil {
		return translate(err, "apply deployment %s/%s", Namespace, d.Name)
	}
	return nil
}

// replaceSelector deletes the Deployment name, and waits until it and its pods are gone,
// when mlfleet made it with another selector than selector: a Deployment's selector cannot
// change, so an apply would be refused as invalid forever, and the only way to the new
// selector is a new Deployment (what kubectl replace --force does). Deployments made by
// older servers, which labelled them with a request's spelling of the names, get there.
// A Deployment of that name that mlfleet did not make is refused with ErrInvalid, never
// deleted. No Deployment, or the same selector, is nothing to do.
func (c *Cluster) replaceSelector(ctx context.Context, name string, selector map[string]string) error {
	cur, found, err := getIfExists(ctx, c.Client.AppsV1().Deployments(Namespace).Get, name, "get deployment %s/%s", Namespace, name)
	if err != nil || !found || cur.Spec.Selector == nil || maps.Equal(cur.Spec.Selector.MatchLabels, selector) {
		return err
	}
	if cur.Labels[LabelManagedBy] != ManagedBy {
		return fmt.Errorf("deployment %s/%s exists and was not made by mlfleet: %w", Namespace, name, ErrInvalid)
	}
	return c.DeleteInferenceDeployment(ctx, name)
}

// DeleteInferenceDeployment deletes the Deployment with foreground propagation and waits
// until it is gone, which is after its pods are: when it returns, no instance runs.
// Idempotent.
func (c *Cluster) DeleteInferenceDeployment(ctx context.Context, name string) error {
	deps := c.Client.AppsV1().Deployments(Namespace)
	err := deps.Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationForeground)})
	if err != nil && !apierrors.IsNotFound(err) {
		return translate(err, "delete deployment %s/%s", Namespace, name)
	}
	err = wait.PollUntilContextTimeout(ctx, pollEvery, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := deps.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		if err != nil {
			return false, translate(err, "wait for deployment %s/%s to go", Namespace, name)
		}
		return false, nil
	})
	if wait.Interrupted(err) {
		return fmt.Errorf("wait for deployment %s/%s and its pods to go: %w", Namespace, name, err)
	}
	return err
}

// ApplySecret creates or updates an Opaque Secret in the components' namespace.
func (c *Cluster) ApplySecret(ctx context.Context, name string, labels map[string]string, data map[string][]byte) error {
	if err := c.checkNamespace(ctx); err != nil {
		return err
	}
	s := corev1ac.Secret(name, Namespace).WithLabels(with(labels, LabelManagedBy, ManagedBy)).
		WithType(corev1.SecretTypeOpaque).WithData(data)
	if _, err := c.Client.CoreV1().Secrets(Namespace).Apply(ctx, s, metav1.ApplyOptions{FieldManager: FieldManager, Force: true}); err != nil {
		return translate(err, "apply secret %s/%s", Namespace, name)
	}
	return nil
}

// DeleteSecret deletes a Secret of the components' namespace. Idempotent.
func (c *Cluster) DeleteSecret(ctx context.Context, name string) error {
	err := c.Client.CoreV1().Secrets(Namespace).Delete(ctx, name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return translate(err, "delete secret %s/%s", Namespace, name)
	}
	return nil
}

// InferenceStatus is the live state of an inference Deployment.
type InferenceStatus struct {
	// Found is false when the Deployment does not exist.
	Found bool
	// Replicas wanted; Ready and Updated counts of the current template.
	Replicas, Ready, Updated int32
	// Current is true when the controller has seen the latest spec and made the
	// ReplicaSet of its pod template.
	Current bool
	// Crashing names a container of the current template's pods that keeps failing, with
	// its last termination message; the pods of older templates, still running during a
	// rollout, are not judged.
	Crashing string
	// Pending says why the current template's pods are not running (unschedulable, image
	// pull), when they are not.
	Pending string
	// ScaleUpFailed says why the cluster autoscaler could not add the nodes a pod of the
	// current template waits for (its FailedScaleUp event: a quota, say); "" when it has
	// not failed. Pending then ends with it too.
	ScaleUpFailed string
	// NotReady says why the oldest pod that is not Ready is not: Pending's reason, a
	// container's waiting reason, or its phase. "" when every pod is Ready.
	NotReady string
	// Pods are the names of the Deployment's pods, of every template, oldest first.
	Pods []string
}

// NodesServing returns the nodes that run a pod of a model deployment: a Running pod of
// mlfleet's namespace other than the front-end's.
func (c *Cluster) NodesServing(ctx context.Context) (map[string]bool, error) {
	pods, err := c.Client.CoreV1().Pods(Namespace).List(ctx, metav1.ListOptions{FieldSelector: "status.phase=Running"})
	if err != nil {
		return nil, translate(err, "list pods of %s", Namespace)
	}
	serving := map[string]bool{}
	for _, p := range pods.Items {
		if p.Status.Phase == corev1.PodRunning && p.Spec.NodeName != "" && p.DeletionTimestamp == nil && p.Labels["app"] != FrontEndName {
			serving[p.Spec.NodeName] = true
		}
	}
	return serving, nil
}

// InferenceDeploymentStatus reads a Deployment and its pods (selected by labels).
func (c *Cluster) InferenceDeploymentStatus(ctx context.Context, name string, labels map[string]string) (*InferenceStatus, error) {
	dep, found, err := getIfExists(ctx, c.Client.AppsV1().Deployments(Namespace).Get, name, "get deployment %s/%s", Namespace, name)
	if err != nil {
		return nil, err
	}
	if !found {
		return &InferenceStatus{}, nil
	}
	st := &InferenceStatus{Found: true, Replicas: ptr.Deref(dep.Spec.Replicas, 1), Ready: dep.Status.ReadyReplicas,
		Updated: dep.Status.UpdatedReplicas, Current: dep.Status.ObservedGeneration >= dep.Generation}
	if dep.Status.Replicas > dep.Status.UpdatedReplicas {
		st.Current = false
	}
	hash, err := c.templateHash(ctx, dep)
	if err != nil {
		return nil, err
	}
	if hash == "" {
		st.Current = false
	}
	pods, err := c.Client.CoreV1().Pods(Namespace).List(ctx, metav1.ListOptions{LabelSelector: selector(labels)})
	if err != nil {
		return nil, translate(err, "list pods of %s/%s", Namespace, name)
	}
	sort.Slice(pods.Items, func(i, j int) bool {
		return pods.Items[i].CreationTimestamp.Before(&pods.Items[j].CreationTimestamp)
	})
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil {
			continue
		}
		st.Pods = append(st.Pods, p.Name)
		if st.NotReady == "" && !PodReady(&p) {
			st.NotReady = notReady(&p)
		}
		// During a rollout the old ReplicaSet's pods run until the new ones are Ready: a
		// crash or a pending reason of theirs says nothing about the template being
		// rolled out, which is what Crashing and Pending report on.
		if hash == "" || p.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != hash {
			continue
		}
		for _, cs := range p.Status.ContainerStatuses {
			crash := cs.State.Waiting != nil && cs.State.Waiting.Reason == "CrashLoopBackOff" || cs.RestartCount >= 2
			if crash && st.Crashing == "" {
				msg := "no message"
				if t := cs.LastTerminationState.Terminated; t != nil {
					msg = fmt.Sprintf("exit code %d (%s)", t.ExitCode, t.Reason)
					if m := strings.TrimSpace(t.Message); m != "" {
						msg += ": " + m
					}
				}
				restarts := fmt.Sprintf("restarted %d times", cs.RestartCount)
				if cs.RestartCount == 1 {
					restarts = "restarted once"
				}
				// The kubelet's back-off message says how long until the next attempt.
				if w := cs.State.Waiting; w != nil && w.Reason == "CrashLoopBackOff" && strings.TrimSpace(w.Message) != "" {
					restarts += "; " + strings.TrimSpace(w.Message)
				}
				st.Crashing = fmt.Sprintf("container %s of pod %s keeps failing (%s): %s", cs.Name, p.Name, restarts, msg)
			}
			if w := cs.State.Waiting; w != nil && st.Pending == "" && (strings.Contains(w.Reason, "Image") || w.Reason == "CreateContainerConfigError") {
				st.Pending = fmt.Sprintf("pod %s: %s: %s", p.Name, w.Reason, w.Message)
			}
		}
		for _, cond := range p.Status.Conditions {
			if cond.Type == corev1.PodScheduled && cond.Status == corev1.ConditionFalse && st.Pending == "" {
				st.Pending = fmt.Sprintf("pod %s is Pending: %s", p.Name, cond.Message)
				if st.ScaleUpFailed, err = c.failedScaleUp(ctx, &p); err != nil {
					return nil, err
				}
				if st.ScaleUpFailed != "" {
					st.Pending = strings.TrimSuffix(st.Pending, ".") + "; " + st.ScaleUpFailed
				}
			}
		}
	}
	return st, nil
}

// templateHash returns the pod-template-hash of the ReplicaSet that runs dep's current
// pod template, "" while the deployment controller has not made it yet. The ReplicaSet is
// found the way the controller finds it: owned by dep, with dep's template once the hash
// label it adds is left out.
func (c *Cluster) templateHash(ctx context.Context, dep *appsv1.Deployment) (string, error) {
	sel, err := metav1.LabelSelectorAsSelector(dep.Spec.Selector)
	if err != nil {
		return "", fmt.Errorf("selector of deployment %s/%s: %w", Namespace, dep.Name, err)
	}
	rss, err := c.Client.AppsV1().ReplicaSets(Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return "", translate(err, "list replica sets of %s/%s", Namespace, dep.Name)
	}
	for _, rs := range rss.Items {
		if !metav1.IsControlledBy(&rs, dep) {
			continue
		}
		hash := rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey]
		tpl := rs.Spec.Template.DeepCopy()
		delete(tpl.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
		if hash != "" && apiequality.Semantic.DeepEqual(*tpl, dep.Spec.Template) {
			return hash, nil
		}
	}
	return "", nil
}

// notReady says why a pod is not Ready, the way kubectl describe would point at it: an
// unscheduled pod by the scheduler's message, a waiting container by its reason, else the
// pod's phase.
func notReady(p *corev1.Pod) string {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
			return fmt.Sprintf("pod %s is Pending: %s", p.Name, c.Message)
		}
	}
	for _, cs := range p.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil {
			why := fmt.Sprintf("pod %s is %s: container %s is waiting: %s", p.Name, p.Status.Phase, cs.Name, w.Reason)
			if m := strings.TrimSpace(w.Message); m != "" {
				why += ": " + m
			}
			return why
		}
	}
	switch p.Status.Phase {
	case corev1.PodRunning:
		return fmt.Sprintf("pod %s is Running but not Ready (its readiness probe fails)", p.Name)
	case "":
		return fmt.Sprintf("pod %s has no status yet", p.Name)
	}
	return fmt.Sprintf("pod %s is %s", p.Name, p.Status.Phase)
}

func selector(labels map[string]string) string {
	keys := slices.Sorted(maps.Keys(labels))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + labels[k]
	}
	return strings.Join(parts, ",")
}

// PodLogs returns the last tail lines (0 = all) of a container's log.
func (c *Cluster) PodLogs(ctx context.Context, pod, container string, tail int) (string, error) {
	opts := &corev1.PodLogOptions{Container: container}
	if tail > 0 {
		opts.TailLines = ptr.To(int64(tail))
	}
	b, err := c.Client.CoreV1().Pods(Namespace).GetLogs(pod, opts).DoRaw(ctx)
	if err != nil {
		return "", translate(err, "get logs of pod %s/%s", Namespace, pod)
	}
	return string(b), nil
}

// RouterAddress is where the router behind the azureml-fe Service listens: the local
// address an embedded cluster's runtime annotates, else the load balancer's ingress.
type RouterAddress struct {
	// Scheme is https or http; Host is host:port. Empty Host means no address yet.
	Scheme, Host string
	// Local is true for an address on this host (embedded clusters).
	Local bool
	// Placeholder is true when azureml-fe runs the placeholder image (FrontEndImage): no
	// router answers behind the address.
	Placeholder bool
}

// FrontEndAddress reads the azureml-fe Service; localAddress and localScheme are the
// annotations the embedded runtime sets. It returns a zero RouterAddress when the
// Service has no address yet.
func (c *Cluster) FrontEndAddress(ctx context.Context, localAddress, localScheme string) (RouterAddress, error) {
	svc, found, err := getIfExists(ctx, c.Client.CoreV1().Services(Namespace).Get, FrontEndName, "get service %s/%s", Namespace, FrontEndName)
	if !found {
		return RouterAddress{}, err
	}
	if a := svc.Annotations[localAddress]; a != "" {
		scheme := svc.Annotations[localScheme]
		if scheme == "" {
			scheme = "http"
		}
		return RouterAddress{Scheme: scheme, Host: a, Local: true}, nil
	}
	placeholder := false
	if dep, err := c.Client.AppsV1().Deployments(Namespace).Get(ctx, FrontEndName, metav1.GetOptions{}); err == nil {
		for _, ct := range dep.Spec.Template.Spec.Containers {
			placeholder = placeholder || ct.Image == FrontEndImage
		}
	}
	for _, in := range svc.Status.LoadBalancer.Ingress {
		host := in.IP
		if host == "" {
			host = in.Hostname
		}
		if host == "" {
			continue
		}
		for _, p := range svc.Spec.Ports {
			if p.Name == "https" || p.Port == 443 {
				return RouterAddress{Scheme: "https", Host: fmt.Sprintf("%s:%d", host, p.Port), Placeholder: placeholder}, nil
			}
		}
		return RouterAddress{Scheme: "http", Host: host, Placeholder: placeholder}, nil
	}
	return RouterAddress{}, nil
}

// NodeRoom is what a node can still take: allocatable minus the requests of its pods.
type NodeRoom struct {
	Name                string
	MilliCPU, MemoryMiB int64
}

// Room returns every schedulable, Ready node's free CPU and memory, counting the requests
// of its running and pending pods except those matching except (a Deployment being
// replaced).
func (c *Cluster) Room(ctx context.Context, except map[string]string) ([]NodeRoom, error) {
	nodes, err := c.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, translate(err, "list nodes")
	}
	pods, err := c.Client.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, translate(err, "list pods")
	}
	used := map[string][2]int64{}
	for _, p := range pods.Items {
		if p.Spec.NodeName == "" || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed || matches(p.Labels, except) {
			continue
		}
		u := used[p.Spec.NodeName]
		for _, ct := range p.Spec.Containers {
			u[0] += ct.Resources.Requests.Cpu().MilliValue()
			u[1] += ct.Resources.Requests.Memory().Value() >> 20
		}
		used[p.Spec.NodeName] = u
	}
	var out []NodeRoom
	for _, n := range nodes.Items {
		if Unschedulable(&n) != "" || !NodeReady(&n) {
			continue
		}
		u := used[n.Name]
		out = append(out, NodeRoom{Name: n.Name,
			MilliCPU:  n.Status.Allocatable.Cpu().MilliValue() - u[0],
			MemoryMiB: n.Status.Allocatable.Memory().Value()>>20 - u[1]})
	}
	return out, nil
}

func matches(labels, sel map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}
