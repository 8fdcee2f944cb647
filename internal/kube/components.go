package kube

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
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
	// CName is the host name the certificate was issued for, kept on the Secret.
	CName string
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
	// The order above is the order of dependence: the namespace, then who the pods run as
	// and what they may do, then the Secret they mount, then the pods, then the Service
	// selecting them. A crash between two applies leaves a prefix that the next Apply
	// (the operation's step, resumed) completes.
	if comp.TLS == nil {
		// After the Deployment stopped mounting it, so no pod is left waiting on a
		// missing volume.
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
	// Replicas and ReadyReplicas are the Deployment's spec and status counts.
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
	dep, found, err := getIfExists(ctx, c.Client.AppsV1().Deployments(Namespace).Get, FrontEndName, "get deployment %s/%s", Namespace, FrontEndName)
	if !found {
		return nil, err
	}
	fe := &FrontEnd{ReadyReplicas: dep.Status.ReadyReplicas, Version: dep.Annotations[AnnotationVersion], Replicas: 1}
	if dep.Spec.Replicas != nil {
		fe.Replicas = *dep.Spec.Replicas
	}
	svc, found, err := getIfExists(ctx, c.Client.CoreV1().Services(Namespace).Get, FrontEndName, "get service %s/%s", Namespace, FrontEndName)
	if err != nil {
		return nil, err
	}
	if !found {
		return fe, nil
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

// FrontEndNotReady says why a pod of the front-end is not Ready, the way the deployment
// path says it of an inference pod: the scheduler's reason for a Pending pod, a waiting
// container's reason, or the pod's phase. It returns "" when every pod is Ready or there is
// none.
func (c *Cluster) FrontEndNotReady(ctx context.Context) (string, error) {
	pods, err := c.Client.CoreV1().Pods(Namespace).List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(frontEndSelector).String()})
	if err != nil {
		return "", translate(err, "list pods of %s/%s", Namespace, FrontEndName)
	}
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil && !PodReady(&p) {
			return notReady(&p), nil
		}
	}
	return "", nil
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
