package router

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/mlfleet/mlfleet/internal/background"
	"github.com/mlfleet/mlfleet/internal/inference"
	"github.com/mlfleet/mlfleet/internal/kube"
)

// resyncInterval is how often the server reconciles even without events, so that a
// failed write (the Service's annotations) is tried again.
const resyncInterval = 30 * time.Second

// ServerOptions tunes a Server; the zero value is fine.
type ServerOptions struct {
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
	// Handler tunes the routing.
	Handler HandlerOptions
}

// Server runs a Handler for one cluster: it feeds it the endpoints and Ready instances
// of the namespace azureml, and serves it on 127.0.0.1 while the Service azureml-fe
// exists, reporting its address on that Service.
type Server struct {
	client   kubernetes.Interface
	log      *slog.Logger
	handler  *Handler
	secrets  corelisters.SecretLister
	pods     corelisters.PodLister
	services corelisters.ServiceLister
	shutdown []func()
	wake     chan struct{}
	cancel   context.CancelFunc
	done     chan struct{}

	cert atomic.Pointer[tls.Certificate]

	mu     sync.Mutex // guards the listener fields
	srv    *http.Server
	addr   string
	scheme string
	served sync.WaitGroup
}

// StartServer starts the router of the cluster client reaches and returns once its
// caches are filled. client needs to read Secrets, Pods and Services in the namespace
// azureml and to patch Services there. It runs until Stop.
func StartServer(ctx context.Context, client kubernetes.Interface, o ServerOptions) (*Server, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Handler.Logger == nil {
		o.Handler.Logger = o.Logger
	}
	all := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(inference.Namespace))
	instances := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(inference.Namespace),
		informers.WithTweakListOptions(func(lo *metav1.ListOptions) { lo.LabelSelector = inference.LabelEndpoint }))
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &Server{client: client, log: o.Logger.With("component", "inference-router"), handler: NewHandler(o.Handler),
		secrets: all.Core().V1().Secrets().Lister(), services: all.Core().V1().Services().Lister(),
		pods: instances.Core().V1().Pods().Lister(), wake: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
	notify := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { s.poke() },
		UpdateFunc: func(any, any) { s.poke() },
		DeleteFunc: func(any) { s.poke() },
	}
	for _, inf := range []cache.SharedIndexInformer{all.Core().V1().Secrets().Informer(), all.Core().V1().Services().Informer(),
		instances.Core().V1().Pods().Informer()} {
		if _, err := inf.AddEventHandler(notify); err != nil {
			cancel()
			return nil, fmt.Errorf("start inference router: %w", err)
		}
	}
	all.Start(runCtx.Done())
	instances.Start(runCtx.Done())
	s.shutdown = []func(){all.Shutdown, instances.Shutdown}
	synced := map[string]bool{}
	for typ, ok := range all.WaitForCacheSync(ctx.Done()) {
		synced[typ.String()] = ok
	}
	for typ, ok := range instances.WaitForCacheSync(ctx.Done()) {
		synced[typ.String()] = ok
	}
	for typ, ok := range synced {
		if !ok {
			cancel()
			s.stopInformers()
			return nil, fmt.Errorf("start inference router: wait for %s cache: %w", typ, context.Cause(ctx))
		}
	}
	s.reconcile(runCtx)
	go s.run(runCtx)
	return s, nil
}

// Handler is the server's router, for tests and benchmarks.
func (s *Server) Handler() *Handler { return s.handler }

// Addr returns where the router listens and its scheme, "" while it does not.
func (s *Server) Addr() (addr, scheme string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr, s.scheme
}

// Stop stops serving and watching and waits until the server is done. Idempotent.
func (s *Server) Stop(ctx context.Context) error {
	s.cancel()
	if err := background.Wait(ctx, s.done); err != nil {
		return fmt.Errorf("stop inference router: %w", err)
	}
	return nil
}

func (s *Server) stopInformers() {
	for _, f := range s.shutdown {
		f()
	}
}

func (s *Server) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Server) run(ctx context.Context) {
	defer close(s.done)
	defer s.stopInformers()
	defer s.closeListener()
	background.EveryOrWake(ctx, resyncInterval, s.wake, s.reconcile)
}

// reconcile brings the routing table, the listener and the Service's annotations in line
// with the cluster.
func (s *Server) reconcile(ctx context.Context) {
	s.handler.Update(s.endpoints())

	svc, err := s.services.Services(inference.Namespace).Get(inference.FrontEndService)
	if apierrors.IsNotFound(err) {
		s.closeListener()
		return
	}
	if err != nil {
		s.log.Warn("read front-end service", "error", err)
		return
	}
	cert := s.certificate()
	scheme := "http"
	if cert != nil {
		scheme = "https"
	}
	s.cert.Store(cert)
	addr, err := s.listen(scheme, svc.Annotations[inference.AnnotationLocalAddress])
	if err != nil {
		s.log.Warn("inference router cannot listen", "error", err)
		return
	}
	if svc.Annotations[inference.AnnotationLocalAddress] == addr && svc.Annotations[inference.AnnotationLocalScheme] == scheme {
		return
	}
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{
		inference.AnnotationLocalAddress: addr, inference.AnnotationLocalScheme: scheme}}})
	reqCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err = s.client.CoreV1().Services(inference.Namespace).Patch(reqCtx, inference.FrontEndService, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: "mlfleet-inference-router"})
	if err != nil && !apierrors.IsNotFound(err) {
		s.log.Warn("annotate front-end service with the router's address", "error", err)
		return
	}
	s.log.Info("inference router serving", "addr", addr, "scheme", scheme)
}

// endpoints reads the endpoint Secrets and Ready instances into routing states.
func (s *Server) endpoints() []EndpointState {
	secrets, err := s.secrets.Secrets(inference.Namespace).List(labels.SelectorFromSet(labels.Set{inference.LabelEndpointConfig: "true"}))
	if err != nil {
		s.log.Warn("list endpoint configurations", "error", err)
		return nil
	}
	pods, err := s.pods.Pods(inference.Namespace).List(labels.Everything())
	if err != nil {
		s.log.Warn("list inference pods", "error", err)
		return nil
	}
	slices.SortFunc(pods, func(a, b *v1.Pod) int { return strings.Compare(a.Name, b.Name) })
	var states []EndpointState
	for _, sec := range secrets {
		cfg, err := inference.ParseEndpointConfig(sec.Data[inference.SecretKeyConfig])
		if err != nil {
			s.log.Warn("endpoint configuration ignored", "secret", sec.Name, "error", err)
			continue
		}
		st := EndpointState{Config: cfg, Instances: map[string][]string{}}
		for _, p := range pods {
			addr := p.Annotations[inference.AnnotationLocalAddress]
			if p.Labels[inference.LabelEndpoint] != cfg.Name || addr == "" || p.DeletionTimestamp != nil || !kube.PodReady(p) {
				continue
			}
			d := p.Labels[inference.LabelDeployment]
			st.Instances[d] = append(st.Instances[d], addr)
		}
		states = append(states, st)
	}
	return states
}

// certificate returns the front-end's TLS certificate, nil without a usable one.
func (s *Server) certificate() *tls.Certificate {
	sec, err := s.secrets.Secrets(inference.Namespace).Get(inference.FrontEndTLSSecret)
	if err != nil {
		return nil
	}
	cert, err := tls.X509KeyPair(sec.Data[v1.TLSCertKey], sec.Data[v1.TLSPrivateKeyKey])
	if err != nil {
		s.log.Warn("front-end TLS secret unusable, serving plain HTTP", "error", err)
		return nil
	}
	return &cert
}

// listen makes sure the router listens with scheme, on the port of prev when that is
// free (so that scoring URIs survive a restart), and returns its address.
func (s *Server) listen(scheme, prev string) (string, error) {
	s.mu.Lock()
	if s.srv != nil && s.scheme == scheme {
		addr := s.addr
		s.mu.Unlock()
		return addr, nil
	}
	s.mu.Unlock()
	s.closeListener()

	var l net.Listener
	var err error
	if host, _, perr := net.SplitHostPort(prev); perr == nil && host == "127.0.0.1" {
		l, _ = net.Listen("tcp", prev) // taken: any port will do
	}
	if l == nil {
		if l, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return "", err
		}
	}
	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	if scheme == "https" {
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			if c := s.cert.Load(); c != nil {
				return c, nil
			}
			return nil, errors.New("no certificate")
		}}
		l = tls.NewListener(l, srv.TLSConfig)
	}
	s.mu.Lock()
	s.srv, s.addr, s.scheme = srv, l.Addr().String(), scheme
	s.mu.Unlock()
	s.served.Go(func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Warn("inference router stopped serving", "error", err)
		}
	})
	return l.Addr().String(), nil
}

// closeListener stops serving, if it does, and waits for the requests under way.
func (s *Server) closeListener() {
	s.mu.Lock()
	srv := s.srv
	s.srv, s.addr, s.scheme = nil, "", ""
	s.mu.Unlock()
	if srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		_ = srv.Close()
	}
	s.served.Wait()
}
