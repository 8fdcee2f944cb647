package clusterruntime

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/netip"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"
)

// Service annotations of the Azure cloud provider that the load balancer simulator reads.
const (
	// AnnotationLoadBalancerInternal set to "true" asks for an internal load balancer,
	// whose address comes from the virtual network instead of a public IP.
	AnnotationLoadBalancerInternal = "service.beta.kubernetes.io/azure-load-balancer-internal"

	// AnnotationLoadBalancerInternalSubnet names the subnet an internal load balancer's
	// address comes from.
	AnnotationLoadBalancerInternalSubnet = "service.beta.kubernetes.io/azure-load-balancer-internal-subnet"

	// AnnotationLoadBalancerIPv4 asks for a specific address; it supersedes
	// spec.loadBalancerIP, which Kubernetes deprecated.
	AnnotationLoadBalancerIPv4 = "service.beta.kubernetes.io/azure-load-balancer-ipv4"
)

// loadBalancerSimulator stands in for the service controller of the Azure cloud
// provider: a Service of type LoadBalancer gets an address in
// status.loadBalancer.ingress, from the internal range when annotated internal, else from
// the public range. An address stays with its Service until the Service is deleted or
// stops being of type LoadBalancer.
type loadBalancerSimulator struct {
	client     kubernetes.Interface
	services   corelisters.ServiceLister
	recorder   record.EventRecorder
	log        *slog.Logger
	clusterUID string

	public   *addressPool
	internal *addressPool
	subnets  map[string]*addressPool // by subnet name

	queue keyQueue
}

func newLoadBalancerSimulator(client kubernetes.Interface, informer coreinformers.ServiceInformer, recorder record.EventRecorder, o *Options, clusterUID string) (*loadBalancerSimulator, error) {
	public, err := newAddressPool(o.publicLBPrefix, 1)
	if err != nil {
		return nil, fmt.Errorf("public load balancer CIDR: %w", err)
	}
	internal, err := newAddressPool(o.internalLBPrefix, 4)
	if err != nil {
		return nil, fmt.Errorf("internal load balancer CIDR: %w", err)
	}
	subnets := map[string]*addressPool{}
	for name, prefix := range o.subnetPrefixes {
		if subnets[name], err = newAddressPool(prefix, 4); err != nil {
			return nil, fmt.Errorf("subnet %s: %w", name, err)
		}
	}
	s := &loadBalancerSimulator{
		client:     client,
		services:   informer.Lister(),
		recorder:   recorder,
		log:        o.Logger.With("component", "load-balancer-simulator"),
		clusterUID: clusterUID,
		public:     public,
		internal:   internal,
		subnets:    subnets,
		queue:      newKeyQueue("mlfleet_load_balancer_simulator", "service"),
	}
	_, err = informer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    s.queue.enqueue,
		UpdateFunc: func(_, obj any) { s.queue.enqueue(obj) },
		DeleteFunc: func(obj any) {
			if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			if svc, ok := obj.(*v1.Service); ok {
				s.release(svc, nil)
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("watch services: %w", err)
	}
	return s, nil
}

// pools returns every pool, for releasing an address wherever it is.
func (s *loadBalancerSimulator) pools() []*addressPool {
	all := []*addressPool{s.public, s.internal}
	for _, p := range s.subnets {
		all = append(all, p)
	}
	return all
}

// release frees the address of svc in every pool but keep.
func (s *loadBalancerSimulator) release(svc *v1.Service, keep *addressPool) {
	for _, p := range s.pools() {
		if p != keep {
			p.release(string(svc.UID))
		}
	}
}

// poolFor returns the pool svc's address comes from and whether it is internal.
func (s *loadBalancerSimulator) poolFor(svc *v1.Service) (*addressPool, bool) {
	if !strings.EqualFold(svc.Annotations[AnnotationLoadBalancerInternal], "true") {
		return s.public, false
	}
	if p, ok := s.subnets[svc.Annotations[AnnotationLoadBalancerInternalSubnet]]; ok {
		return p, true
	}
	return s.internal, true
}

// ours tells whether svc is a Service the simulated cloud provider serves.
func ours(svc *v1.Service) bool {
	return svc.Spec.Type == v1.ServiceTypeLoadBalancer && svc.Spec.LoadBalancerClass == nil
}

// adopt records the addresses Services already have (from before a restart), so that
// they keep them and no other Service gets them. It runs once, before run.
func (s *loadBalancerSimulator) adopt() error {
	services, err := s.services.List(labels.Everything())
	if err != nil {
		return fmt.Errorf("list services: %w", err)
	}
	for _, svc := range services {
		if !ours(svc) || len(svc.Status.LoadBalancer.Ingress) == 0 {
			continue
		}
		pool, _ := s.poolFor(svc)
		if ip, err := netip.ParseAddr(svc.Status.LoadBalancer.Ingress[0].IP); err == nil && pool.contains(ip) {
			if err := pool.claim(string(svc.UID), ip); err != nil {
				s.log.Warn("load balancer address not adopted", "service", svc.Namespace+"/"+svc.Name, "error", err)
			}
		}
	}
	return nil
}

// run works the queue until ctx ends.
func (s *loadBalancerSimulator) run(ctx context.Context) { s.queue.run(ctx, s.log, s.sync) }

func (s *loadBalancerSimulator) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	svc, err := s.services.Services(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil // its address went with the delete event
	}
	if err != nil {
		return err
	}
	if !ours(svc) {
		s.release(svc, nil)
		if svc.Spec.Type != v1.ServiceTypeLoadBalancer && len(svc.Status.LoadBalancer.Ingress) > 0 {
			// No longer a load balancer: the cloud provider tears it down.
			return s.setIngress(ctx, svc, nil)
		}
		return nil
	}

	pool, internal := s.poolFor(svc)
	s.release(svc, pool)
	ip, err := s.address(svc, pool, internal)
	if err != nil {
		s.recorder.Eventf(svc, v1.EventTypeWarning, "SyncLoadBalancerFailed", "Error syncing load balancer: %v", err)
		return nil // nothing changes until the Service does
	}
	want := []v1.LoadBalancerIngress{{IP: ip.String(), IPMode: ptr.To(v1.LoadBalancerIPModeVIP)}}
	if equality.Semantic.DeepEqual(svc.Status.LoadBalancer.Ingress, want) {
		return nil
	}
	s.recorder.Event(svc, v1.EventTypeNormal, "EnsuringLoadBalancer", "Ensuring load balancer")
	if err := s.setIngress(ctx, svc, want); err != nil {
		return err
	}
	s.recorder.Event(svc, v1.EventTypeNormal, "EnsuredLoadBalancer", "Ensured load balancer")
	return nil
}

// address returns the address of svc: the one it asks for, else the one it has, else a
// new one. Public addresses start at a place derived from the cluster and the Service, so
// that clusters do not all hand out the same first address; internal ones are taken
// lowest first, as Azure does in a subnet.
func (s *loadBalancerSimulator) address(svc *v1.Service, pool *addressPool, internal bool) (netip.Addr, error) {
	owner := string(svc.UID)
	requested := svc.Annotations[AnnotationLoadBalancerIPv4]
	if requested == "" {
		requested = svc.Spec.LoadBalancerIP
	}
	if requested != "" {
		ip, err := netip.ParseAddr(requested)
		if err != nil || !ip.Is4() {
			return netip.Addr{}, fmt.Errorf("requested address %q is not an IPv4 address", requested)
		}
		if pool.contains(ip) {
			if err := pool.claim(owner, ip); err != nil {
				return netip.Addr{}, err
			}
			return ip, nil
		}
		if internal {
			return netip.Addr{}, fmt.Errorf("requested address %s is not in the subnet %s", ip, pool.prefix)
		}
		// A public IP of the user's own, outside the simulated range.
		pool.release(owner)
		return ip, nil
	}
	if ip, ok := pool.lookup(owner); ok {
		return ip, nil
	}
	if len(svc.Status.LoadBalancer.Ingress) > 0 {
		if ip, err := netip.ParseAddr(svc.Status.LoadBalancer.Ingress[0].IP); err == nil && pool.contains(ip) && pool.claim(owner, ip) == nil {
			return ip, nil
		}
	}
	if internal {
		return pool.assign(owner)
	}
	h := fnv.New64a()
	h.Write([]byte(s.clusterUID + "/" + svc.Namespace + "/" + svc.Name))
	return pool.assignFrom(owner, h.Sum64())
}

func (s *loadBalancerSimulator) setIngress(ctx context.Context, svc *v1.Service, ingress []v1.LoadBalancerIngress) error {
	updated := svc.DeepCopy()
	updated.Status.LoadBalancer.Ingress = ingress
	_, err := s.client.CoreV1().Services(svc.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("update status of service %s/%s: %w", svc.Namespace, svc.Name, err)
	}
	// On a conflict the newer Service is on its way through the informer.
	return nil
}
