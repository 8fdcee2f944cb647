package kube

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/utils/ptr"
)

// Names, labels and annotations of what an attachment installs.
const (
	// LabelManagedBy, with the value ManagedBy, marks every object mlfleet installs.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedBy is the value of LabelManagedBy.
	ManagedBy = "mlfleet"
	// LabelAttachment carries the attachment id on every object an attachment installs;
	// Remove deletes by it.
	LabelAttachment = "ml.mlfleet.io/attachment"
	// LabelPartOf groups the objects as Azure ML's, with the value "azureml".
	LabelPartOf = "app.kubernetes.io/part-of"

	// AnnotationComputeID carries the ARM id of the compute on every object.
	AnnotationComputeID = "ml.mlfleet.io/compute-id"
	// AnnotationVersion carries ComponentsVersion on the front-end's Deployment and pods.
	AnnotationVersion = "ml.mlfleet.io/components-version"
	// AnnotationCName carries the TLS certificate's cname on the TLS Secret.
	AnnotationCName = "ml.mlfleet.io/cname"
	// AnnotationTLSChecksum on the front-end's pods changes with the certificate, so that
	// a rotated certificate (B5) rolls the pods.
	AnnotationTLSChecksum = "ml.mlfleet.io/tls-checksum"

	// Namespace is the namespace of the in-cluster components.
	Namespace = "azureml"
	// FrontEndName names the front-end's ServiceAccount, ClusterRole, ClusterRoleBinding,
	// Deployment and Service.
	FrontEndName = "azureml-fe"
	// TLSSecretName is the front-end's TLS Secret, present only with TLS.
	TLSSecretName = "azureml-fe-tls"
	// MarkerName is the attachment marker, a ConfigMap in kube-system.
	MarkerName = "azureml-attachment"
	// ComponentsVersion is the version of the components Apply installs.
	ComponentsVersion = "1.0.0"

	// FrontEndImage is the front-end's image. The real scoring router of Azure ML is out
	// of mlfleet's scope: the pause image holds the place of the router, with its ports,
	// replicas, spreading and TLS mount, so that everything around it is real.
	FrontEndImage = "registry.k8s.io/pause:3.10"

	// FieldManager is the server-side apply field manager of every object mlfleet owns.
	FieldManager = "mlfleet"

	// LoadBalancerPublic and LoadBalancerInternal are the values of Components.LoadBalancer.
	LoadBalancerPublic   = "PublicIp"
	LoadBalancerInternal = "InternalLoadBalancer"

	// AnnotationLoadBalancerInternal and AnnotationLoadBalancerInternalSubnet are the Azure
	// cloud provider's Service annotations for an internal load balancer.
	AnnotationLoadBalancerInternal       = "service.beta.kubernetes.io/azure-load-balancer-internal"
	AnnotationLoadBalancerInternalSubnet = "service.beta.kubernetes.io/azure-load-balancer-internal-subnet"

	kubeSystem      = "kube-system"
	httpPort        = 8001
	httpsPort       = 8443
	tlsMountPath    = "/etc/azureml-fe/tls"
	rootCAConfigMap = "kube-root-ca.crt"
)

// TLS is the front-end's certificate.
type TLS struct {
	Cert, Key []byte // PEM
	CName     string
}

// Components is what Apply installs for one attachment.
type Components struct {
	// AttachmentID is the value of LabelAttachment on every object: a DNS label (lower
	// case letters, digits and '-', at most 63 characters). Required.
	AttachmentID string
	// ComputeID is the ARM id of the compute, put in the annotation AnnotationComputeID.
	ComputeID string
	// Replicas of azureml-fe: 1 for DevTest, 3 for production (S6). Zero means 1.
	Replicas int32
	// LoadBalancer is LoadBalancerPublic or LoadBalancerInternal (case-insensitive);
	// "" means LoadBalancerPublic.
	LoadBalancer string
	// Subnet is the internal load balancer's subnet; "" means none named. Ignored for a
	// public load balancer.
	Subnet string
	// TLS nil means TLS disabled: no port 443, and the TLS Secret is removed if present.
	TLS *TLS
	// Image is the image of azureml-fe, the inference router (serve --router-image); ""
	// means FrontEndImage, a placeholder that routes nothing.
	Image string
}

func (comp Components) internal() bool {
	return strings.EqualFold(comp.LoadBalancer, LoadBalancerInternal)
}

func (comp Components) validate() error {
	var errs []error
	if msgs := validation.IsDNS1123Label(comp.AttachmentID); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("attachment id %q: %s", comp.AttachmentID, strings.Join(msgs, "; ")))
	}
	if comp.Replicas < 0 {
		errs = append(errs, fmt.Errorf("replicas %d: must not be negative", comp.Replicas))
	}
	if comp.LoadBalancer != "" && !strings.EqualFold(comp.LoadBalancer, LoadBalancerPublic) && !comp.internal() {
		errs = append(errs, fmt.Errorf("load balancer %q: want %s or %s", comp.LoadBalancer, LoadBalancerPublic, LoadBalancerInternal))
	}
	if comp.TLS != nil && (len(comp.TLS.Cert) == 0 || len(comp.TLS.Key) == 0) {
		errs = append(errs, errors.New("tls: certificate and key are required"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("components: %w", err)
	}
	return nil
}

// ownedLabels are the labels of every object of attachment id.
func ownedLabels(id string) map[string]string {
	return map[string]string{LabelManagedBy: ManagedBy, LabelAttachment: id, LabelPartOf: "azureml"}
}

func with(m map[string]string, kv ...string) map[string]string {
	out := make(map[string]string, len(m)+len(kv)/2)
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// frontEndSelector selects the front-end's pods.
var frontEndSelector = map[string]string{"app": FrontEndName}

// frontEndRules are what the front-end may read cluster-wide: it routes to the pods of
// model deployments behind their Services.
func frontEndRules() []rbacv1.PolicyRule {
	read := []string{"get", "list", "watch"}
	return []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"pods", "services", "endpoints", "nodes"}, Verbs: read},
		{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: read},
	}
}

// Apply installs or updates the components of comp.AttachmentID with server-side apply
// (field manager FieldManager, forced). It is idempotent: applying the same Components
// again changes no object. Fields a previous Apply set and this one leaves out (internal
// load balancer annotations, the TLS port and mount) are removed. It does not create the
// marker (see ClaimMarker). A namespace azureml still being deleted is waited for (bounded
// by ctx) before anything is applied.
func (c *Cluster) Apply(ctx context.Context, comp Components) error {
	if err := comp.validate(); err != nil {
		return err
	}
	if comp.Replicas == 0 {
		comp.Replicas = 1
	}
	if err := c.waitNamespaceNotTerminating(ctx); err != nil {
		return err
	}
	id := comp.AttachmentID
	owned := ownedLabels(id)
	annotations := map[string]string{AnnotationComputeID: comp.ComputeID}
	opts := metav1.ApplyOptions{FieldManager: FieldManager, Force: true}

	core, rbac := c.Client.CoreV1(), c.Client.RbacV1()
	ns := corev1ac.Namespace(Namespace).WithLabels(owned).WithAnnotations(annotations)
	if _, err := core.Namespaces().Apply(ctx, ns, opts); err != nil {
		return translate(err, "apply namespace %s", Namespace)
	}
	sa := corev1ac.ServiceAccount(FrontEndName, Namespace).WithLabels(owned).WithAnnotations(annotations)
	if _, err := core.ServiceAccounts(Namespace).Apply(ctx, sa, opts); err != nil {
		return translate(err, "apply serviceaccount %s/%s", Namespace, FrontEndName)
	}
	role := rbacv1ac.ClusterRole(FrontEndName).WithLabels(owned).WithAnnotations(annotations)
	for _, r := range frontEndRules() {
		role.WithRules(rbacv1ac.PolicyRule().WithAPIGroups(r.APIGroups...).WithResources(r.Resources...).WithVerbs(r.Verbs...))
	}
	if _, err := rbac.ClusterRoles().Apply(ctx, role, opts); err != nil {
		return translate(err, "apply clusterrole %s", FrontEndName)
	}
	binding := rbacv1ac.ClusterRoleBinding(FrontEndName).WithLabels(owned).WithAnnotations(annotations).
		WithRoleRef(rbacv1ac.RoleRef().WithAPIGroup(rbacv1.GroupName).WithKind("ClusterRole").WithName(FrontEndName)).
		WithSubjects(rbacv1ac.Subject().WithKind(rbacv1.ServiceAccountKind).WithName(FrontEndName).WithNamespace(Namespace))
	if _, err := rbac.ClusterRoleBindings().Apply(ctx, binding, opts); err != nil {
		return translate(err, "apply clusterrolebinding %s", FrontEndName)
	}

	if comp.TLS != nil {
		secret := corev1ac.Secret(TLSSecretName, Namespace).WithLabels(owned).
			WithAnnotations(with(annotations, AnnotationCName, comp.TLS.CName)).
			WithType(corev1.SecretTypeTLS).
			WithData(map[string][]byte{corev1.TLSCertKey: comp.TLS.Cert, corev1.TLSPrivateKeyKey: comp.TLS.Key})
		if _, err := core.Secrets(Namespace).Apply(ctx, secret, opts); err != nil {
			return translate(err, "apply secret %s/%s", Namespace, TLSSecretName)
		}
	}
	if _, err := c.Client.AppsV1().Deployments(Namespace).Apply(ctx, frontEndDeployment(comp, owned, annotations), opts); err != nil {
		return translate(err, "apply deployment %s/%s", Namespace, FrontEndName)
	}
	if _, err := core.Services(Namespace).Apply(ctx, frontEndService(comp, owned, annotations), opts); err != nil {
		return translate(err, "apply service %s/%s", Namespace, FrontEndName)
	}
	if comp.TLS == nil {
		// After the Deployment stopped mounting it.
		err := core.Secrets(Namespace).Delete(ctx, TLSSecretName, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return translate(err, "delete secret %s/%s", Namespace, TLSSecretName)
		}
	}
	return nil
}

func frontEndDeployment(comp Components, owned, annotations map[string]string) *appsv1ac.DeploymentApplyConfiguration {
	podAnnotations := with(annotations, AnnotationVersion, ComponentsVersion)
	image := comp.Image
	if image == "" {
		image = FrontEndImage
	}
	container := corev1ac.Container().WithName(FrontEndName).WithImage(image).
		WithPorts(corev1ac.ContainerPort().WithName("http").WithContainerPort(httpPort).WithProtocol(corev1.ProtocolTCP)).
		WithEnv(corev1ac.EnvVar().WithName("AZUREML_FE_VERSION").WithValue(ComponentsVersion)).
		WithResources(corev1ac.ResourceRequirements().WithRequests(corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse("100m"),
			corev1.ResourceMemory: resource.MustParse("128Mi"),
		})).
		WithSecurityContext(corev1ac.SecurityContext().
			WithAllowPrivilegeEscalation(false).
			WithReadOnlyRootFilesystem(true).
			WithRunAsNonRoot(true).
			WithRunAsUser(65535).
			WithCapabilities(corev1ac.Capabilities().WithDrop("ALL")))
	pod := corev1ac.PodSpec().WithServiceAccountName(FrontEndName)
	if comp.TLS != nil {
		sum := sha256.Sum256(append(append([]byte{}, comp.TLS.Cert...), comp.TLS.Key...))
		podAnnotations[AnnotationTLSChecksum] = hex.EncodeToString(sum[:8])
		container.WithPorts(corev1ac.ContainerPort().WithName("https").WithContainerPort(httpsPort).WithProtocol(corev1.ProtocolTCP)).
			WithEnv(corev1ac.EnvVar().WithName("AZUREML_FE_TLS_DIR").WithValue(tlsMountPath)).
			WithVolumeMounts(corev1ac.VolumeMount().WithName("tls").WithMountPath(tlsMountPath).WithReadOnly(true))
		pod.WithVolumes(corev1ac.Volume().WithName("tls").WithSecret(corev1ac.SecretVolumeSource().WithSecretName(TLSSecretName)))
	}
	selector := metav1ac.LabelSelector().WithMatchLabels(frontEndSelector)
	// Production replicas go to different nodes (S6): preferred anti-affinity, as
	// kube-scheduler weighs it, and a spread constraint that keeps nodes within one replica
	// of each other without making a replica unschedulable on a cluster of fewer nodes.
	pod.WithAffinity(corev1ac.Affinity().WithPodAntiAffinity(corev1ac.PodAntiAffinity().
		WithPreferredDuringSchedulingIgnoredDuringExecution(corev1ac.WeightedPodAffinityTerm().WithWeight(100).
			WithPodAffinityTerm(corev1ac.PodAffinityTerm().WithTopologyKey(corev1.LabelHostname).WithLabelSelector(selector))))).
		WithTopologySpreadConstraints(corev1ac.TopologySpreadConstraint().
			WithMaxSkew(1).
			WithTopologyKey(corev1.LabelHostname).
			WithWhenUnsatisfiable(corev1.ScheduleAnyway).
			WithLabelSelector(selector).
			WithMatchLabelKeys("pod-template-hash")).
		WithContainers(container)

	return appsv1ac.Deployment(FrontEndName, Namespace).
		WithLabels(with(owned, "app", FrontEndName)).
		WithAnnotations(with(annotations, AnnotationVersion, ComponentsVersion)).
		WithSpec(appsv1ac.DeploymentSpec().
			WithReplicas(comp.Replicas).
			WithSelector(selector).
			WithTemplate(corev1ac.PodTemplateSpec().
				WithLabels(with(owned, "app", FrontEndName)).
				WithAnnotations(podAnnotations).
				WithSpec(pod)))
}

func frontEndService(comp Components, owned, annotations map[string]string) *corev1ac.ServiceApplyConfiguration {
	svcAnnotations := with(annotations)
	if comp.internal() {
		svcAnnotations[AnnotationLoadBalancerInternal] = "true"
		if comp.Subnet != "" {
			svcAnnotations[AnnotationLoadBalancerInternalSubnet] = comp.Subnet
		}
	}
	spec := corev1ac.ServiceSpec().WithType(corev1.ServiceTypeLoadBalancer).WithSelector(frontEndSelector).
		WithPorts(corev1ac.ServicePort().WithName("http").WithProtocol(corev1.ProtocolTCP).WithPort(80).WithTargetPort(intstr.FromInt32(httpPort)))
	if comp.TLS != nil {
		spec.WithPorts(corev1ac.ServicePort().WithName("https").WithProtocol(corev1.ProtocolTCP).WithPort(443).WithTargetPort(intstr.FromInt32(httpsPort)))
	}
	return corev1ac.Service(FrontEndName, Namespace).WithLabels(with(owned, "app", FrontEndName)).WithAnnotations(svcAnnotations).WithSpec(spec)
}

// FrontEnd is the state of azureml-fe in the cluster.
type FrontEnd struct {
	Replicas, ReadyReplicas int32
	// Address is the load balancer's ingress address, "" until one is assigned.
	Address string
	// Version is the components version the Deployment carries.
	Version string
	// ServiceType is the Service's type ("LoadBalancer"), "" when the Service is missing.
	ServiceType string
	// Internal tells whether the Service asks for an internal load balancer.
	Internal bool
}

// FrontEnd reads the azureml-fe Deployment and Service. It returns nil, nil when the
// Deployment is not installed.
func (c *Cluster) FrontEnd(ctx context.Context) (*FrontEnd, error) {
	dep, err := c.Client.AppsV1().Deployments(Namespace).Get(ctx, FrontEndName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, translate(err, "get deployment %s/%s", Namespace, FrontEndName)
	}
	fe := &FrontEnd{ReadyReplicas: dep.Status.ReadyReplicas, Version: dep.Annotations[AnnotationVersion], Replicas: 1}
	if dep.Spec.Replicas != nil {
		fe.Replicas = *dep.Spec.Replicas
	}
	svc, err := c.Client.CoreV1().Services(Namespace).Get(ctx, FrontEndName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return fe, nil
	}
	if err != nil {
		return nil, translate(err, "get service %s/%s", Namespace, FrontEndName)
	}
	fe.ServiceType = string(svc.Spec.Type)
	fe.Internal = strings.EqualFold(svc.Annotations[AnnotationLoadBalancerInternal], "true")
	for _, in := range svc.Status.LoadBalancer.Ingress {
		if fe.Address = in.IP; fe.Address == "" {
			fe.Address = in.Hostname
		}
		if fe.Address != "" {
			break
		}
	}
	return fe, nil
}

// Resources Remove deletes by label, in this order: the Deployment before its
// ReplicaSets before their pods, so that nothing recreates what was just deleted.
var (
	gvrDeployments         = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	gvrReplicaSets         = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"}
	gvrStatefulSets        = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "statefulsets"}
	gvrDaemonSets          = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "daemonsets"}
	gvrJobs                = schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}
	gvrCronJobs            = schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "cronjobs"}
	gvrPods                = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	gvrServices            = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	gvrSecrets             = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	gvrConfigMaps          = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	gvrServiceAccounts     = schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}
	gvrPVCs                = schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumeclaims"}
	gvrClusterRoles        = schema.GroupVersionResource{Group: rbacv1.GroupName, Version: "v1", Resource: "clusterroles"}
	gvrClusterRoleBindings = schema.GroupVersionResource{Group: rbacv1.GroupName, Version: "v1", Resource: "clusterrolebindings"}

	removedNamespaced = []schema.GroupVersionResource{gvrDeployments, gvrReplicaSets, gvrPods, gvrServices, gvrSecrets, gvrServiceAccounts, gvrConfigMaps}
	removedCluster    = []schema.GroupVersionResource{gvrClusterRoleBindings, gvrClusterRoles}
	// foreignKinds are what makes azureml someone else's too: workloads and their data.
	foreignKinds = []schema.GroupVersionResource{gvrDeployments, gvrStatefulSets, gvrDaemonSets, gvrReplicaSets, gvrJobs, gvrCronJobs,
		gvrPods, gvrServices, gvrConfigMaps, gvrSecrets, gvrPVCs}
)

func resourceName(gvr schema.GroupVersionResource) string {
	if gvr.Group == "" {
		return gvr.Resource
	}
	return gvr.Resource + "." + gvr.Group
}

// Remove deletes every object labelled LabelAttachment=attachmentID: the namespaced ones
// in azureml and kube-system, the ClusterRole and ClusterRoleBinding, then the namespace
// azureml if it carries the label and holds nothing of anyone else's (see foreignKinds),
// and the marker last. A namespace that holds foreign objects stays, without mlfleet's
// labels. Remove does not wait for the namespace controller to finish a deleted
// namespace (it waits 5 s before it starts, for HA API servers): everything of mlfleet's
// in it is gone already, and an Apply that follows waits for the namespace itself. It is
// idempotent: nil when nothing is there.
func (c *Cluster) Remove(ctx context.Context, attachmentID string) error {
	if msgs := validation.IsDNS1123Label(attachmentID); len(msgs) > 0 {
		return fmt.Errorf("remove: attachment id %q: %s", attachmentID, strings.Join(msgs, "; "))
	}
	md, err := metadata.NewForConfig(c.Config)
	if err != nil {
		return fmt.Errorf("remove: metadata client: %w", err)
	}
	ours := labels.SelectorFromSet(labels.Set{LabelAttachment: attachmentID}).String()

	ns, err := c.Client.CoreV1().Namespaces().Get(ctx, Namespace, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		ns = nil
	case err != nil:
		return translate(err, "get namespace %s", Namespace)
	}
	if ns != nil {
		if err := deleteLabelled(ctx, md, Namespace, ours, removedNamespaced, ""); err != nil {
			return err
		}
		if err := waitPodsGone(ctx, md, ours); err != nil {
			return err
		}
	}
	if err := deleteLabelled(ctx, md, kubeSystem, ours, removedNamespaced, MarkerName); err != nil {
		return err
	}
	if err := deleteLabelled(ctx, md, "", ours, removedCluster, ""); err != nil {
		return err
	}

	if ns != nil && ns.Labels[LabelAttachment] == attachmentID {
		foreign, err := foreignObjects(ctx, md, attachmentID)
		if err != nil {
			return err
		}
		if len(foreign) > 0 {
			if err := c.disown(ctx, ns.UID); err != nil {
				return err
			}
		} else if err := c.deleteNamespace(ctx, ns.UID); err != nil {
			return err
		}
	}

	marker, err := c.Client.CoreV1().ConfigMaps(kubeSystem).Get(ctx, MarkerName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return translate(err, "get configmap %s/%s", kubeSystem, MarkerName)
	case markerFrom(marker).AttachmentID != attachmentID:
		return nil // another attachment's
	}
	err = c.Client.CoreV1().ConfigMaps(kubeSystem).Delete(ctx, MarkerName, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &marker.UID}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return translate(err, "delete configmap %s/%s", kubeSystem, MarkerName)
	}
	return nil
}

// deleteLabelled deletes the objects of kinds in namespace ns ("" = cluster-scoped) that
// selector selects, except the one named except. Pods go at once (grace period 0): they
// are the front-end's, whose router has nothing to drain, and a pod still terminating
// would make the namespace controller wait for its grace period.
func deleteLabelled(ctx context.Context, md metadata.Interface, ns, selector string, kinds []schema.GroupVersionResource, except string) error {
	for _, gvr := range kinds {
		var client metadata.ResourceInterface = md.Resource(gvr)
		where := " (cluster-wide)"
		if ns != "" {
			client = md.Resource(gvr).Namespace(ns)
			where = " in namespace " + ns
		}
		list, err := client.List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return translate(err, "list %s%s", resourceName(gvr), where)
		}
		opts := metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationBackground)}
		if gvr == gvrPods {
			opts.GracePeriodSeconds = ptr.To(int64(0))
		}
		for _, obj := range list.Items {
			if obj.Name == except {
				continue
			}
			uid := obj.UID
			opts.Preconditions = &metav1.Preconditions{UID: &uid}
			err := client.Delete(ctx, obj.Name, opts)
			if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
				return translate(err, "delete %s %s%s", resourceName(gvr), obj.Name, where)
			}
		}
	}
	return nil
}

// waitPodsGone deletes again, for up to two seconds, front-end pods that a ReplicaSet
// created while it was being deleted, so that the namespace controller finds none.
func waitPodsGone(ctx context.Context, md metadata.Interface, selector string) error {
	deadline := time.Now().Add(2 * time.Second)
	for {
		list, err := md.Resource(gvrPods).Namespace(Namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return translate(err, "list pods in namespace %s", Namespace)
		}
		if len(list.Items) == 0 || time.Now().After(deadline) {
			return nil
		}
		if err := deleteLabelled(ctx, md, Namespace, selector, []schema.GroupVersionResource{gvrPods}, ""); err != nil {
			return err
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return fmt.Errorf("wait for the front-end's pods to go: %w", err)
		}
	}
}

// foreignObjects lists, as "configmaps/name", objects in azureml that are not the
// attachment's, leaving out what Kubernetes puts into every namespace.
func foreignObjects(ctx context.Context, md metadata.Interface, attachmentID string) ([]string, error) {
	notOurs, err := labels.NewRequirement(LabelAttachment, selection.NotEquals, []string{attachmentID})
	if err != nil {
		return nil, fmt.Errorf("remove: %w", err)
	}
	selector := labels.NewSelector().Add(*notOurs).String()
	var out []string
	for _, gvr := range foreignKinds {
		list, err := md.Resource(gvr).Namespace(Namespace).List(ctx, metav1.ListOptions{LabelSelector: selector, Limit: 20})
		if err != nil {
			return nil, translate(err, "list %s in namespace %s", resourceName(gvr), Namespace)
		}
		for _, obj := range list.Items {
			switch {
			case gvr == gvrConfigMaps && obj.Name == rootCAConfigMap:
				continue
			case gvr == gvrSecrets && isServiceAccountToken(obj.Annotations):
				continue
			}
			out = append(out, gvr.Resource+"/"+obj.Name)
		}
	}
	return out, nil
}

// isServiceAccountToken tells a token Secret that older clusters generate for the
// namespace's own ServiceAccounts.
func isServiceAccountToken(annotations map[string]string) bool {
	sa := annotations[corev1.ServiceAccountNameKey]
	return sa == "default" || sa == FrontEndName
}

// disown removes mlfleet's labels and annotation from a namespace that stays.
func (c *Cluster) disown(ctx context.Context, uid types.UID) error {
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{
		"uid":         uid, // fails if the namespace was replaced meanwhile
		"labels":      map[string]any{LabelAttachment: nil, LabelManagedBy: nil, LabelPartOf: nil},
		"annotations": map[string]any{AnnotationComputeID: nil},
	}})
	_, err := c.Client.CoreV1().Namespaces().Patch(ctx, Namespace, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: FieldManager})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return translate(err, "remove labels from namespace %s", Namespace)
	}
	return nil
}

// deleteNamespace deletes the namespace of that uid and waits until it is gone.
func (c *Cluster) deleteNamespace(ctx context.Context, uid types.UID) error {
	err := c.Client.CoreV1().Namespaces().Delete(ctx, Namespace, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	if err != nil {
		return translate(err, "delete namespace %s", Namespace)
	}
	return nil
}

// waitNamespaceNotTerminating waits until namespace azureml is either live or gone.
func (c *Cluster) waitNamespaceNotTerminating(ctx context.Context) error {
	ns, err := c.Client.CoreV1().Namespaces().Get(ctx, Namespace, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return translate(err, "get namespace %s", Namespace)
	case ns.DeletionTimestamp == nil:
		return nil
	}
	return c.waitNamespaceGone(ctx, ns.UID)
}

// waitNamespaceGone polls until the namespace of that uid no longer exists. The namespace
// controller empties a deleted namespace and removes it; it starts 5 seconds after the
// delete (namespaceDeletionGracePeriod, for HA API servers), which makes most of the time.
func (c *Cluster) waitNamespaceGone(ctx context.Context, uid types.UID) error {
	for {
		ns, err := c.Client.CoreV1().Namespaces().Get(ctx, Namespace, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			return nil
		case err != nil:
			return translate(err, "wait for namespace %s to be deleted", Namespace)
		case ns.UID != uid:
			return nil
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			msg := "namespace " + Namespace + " is still being deleted"
			if cond := namespaceCondition(ns); cond != "" {
				msg += " (" + cond + ")"
			}
			return fmt.Errorf("%s: %w", msg, err)
		}
	}
}

// namespaceCondition returns what the namespace controller reports as holding a
// terminating namespace, "" when nothing.
func namespaceCondition(ns *corev1.Namespace) string {
	var parts []string
	for _, c := range ns.Status.Conditions {
		if c.Status == corev1.ConditionTrue && c.Message != "" {
			parts = append(parts, c.Message)
		}
	}
	return strings.Join(parts, "; ")
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
