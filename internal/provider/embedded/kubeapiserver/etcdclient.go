package kubeapiserver

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	etcdkubernetes "go.etcd.io/etcd/client/v3/kubernetes"
	"go.uber.org/zap"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	genericfeatures "k8s.io/apiserver/pkg/features"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/apiserver/pkg/storage/etcd3"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/apiserver/pkg/storage/storagebackend/factory"
	"k8s.io/apiserver/pkg/storage/value/encrypt/identity"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"
)

// kube-apiserver opens one etcd client, with its own gRPC connection, for every resource it
// stores: about 65 per cluster, each costing three goroutines on the client side and as
// many in the embedded etcd, plus their HTTP/2 buffers. sharedEtcd gives all the resources
// of one server a single client instead (gRPC multiplexes their requests and watches over
// one connection), which the server owns and closes once it has stopped.
//
// It replaces the storage decorator of the RESTOptionsGetters, which with the watch cache
// off (see newOptions) is generic.UndecoratedStorage for every resource, by one that builds
// the same etcd3 store as k8s.io/apiserver's storage factory does, on the shared client.
// A decorator other than UndecoratedStorage is left alone.
type sharedEtcd struct {
	mu        sync.Mutex
	client    *etcdkubernetes.Client // nil until first used
	endpoints []string
	compactor interface {
		etcd3.Compactor
		Stop()
	}
	closed bool
}

// Dial settings, those of k8s.io/apiserver's storage factory.
const (
	etcdDialTimeout      = 20 * time.Second
	etcdKeepaliveTime    = 30 * time.Second
	etcdKeepaliveTimeout = 10 * time.Second
)

// errEtcdClosed is returned by a storage asked for after the server stopped.
var errEtcdClosed = errors.New("etcd client of the stopped apiserver is closed")

// sharedClient returns the server's client, dialling it on first use with the transport of
// the first resource (all resources of a server share the same transport).
func (e *sharedEtcd) sharedClient(c *storagebackend.ConfigForResource) (*etcdkubernetes.Client, etcd3.Compactor, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, nil, errEtcdClosed
	}
	if e.client != nil {
		return e.client, e.compactor, nil
	}
	if c.Transport.CertFile != "" || c.Transport.KeyFile != "" || c.Transport.TrustedCAFile != "" || c.Transport.EgressLookup != nil {
		return nil, nil, fmt.Errorf("shared etcd client: TLS and egress transports are not supported")
	}
	client, err := etcdkubernetes.New(clientv3.Config{
		Endpoints:            c.Transport.ServerList,
		DialTimeout:          etcdDialTimeout,
		DialKeepAliveTime:    etcdKeepaliveTime,
		DialKeepAliveTimeout: etcdKeepaliveTimeout,
		Logger:               zap.NewNop(),
	})
	if err != nil {
		return nil, nil, fmt.Errorf("dial etcd: %w", err)
	}
	// Track etcd latency per request, as the factory does.
	client.KV = etcd3.NewETCDLatencyTracker(client.KV)
	if c.CompactionInterval > 0 {
		// Compactors coordinate through etcd, so one per server is safe; it stops with the
		// server instead of living as long as the process.
		e.compactor = etcd3.NewCompactor(client.Client, c.CompactionInterval, clock.RealClock{}, nil)
	}
	e.client = client
	e.endpoints = c.Transport.ServerList
	return client, e.compactor, nil
}

// close stops the compactor and closes the client. Stores built on it fail afterwards.
func (e *sharedEtcd) close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	if e.compactor != nil {
		e.compactor.Stop()
		e.compactor = nil
	}
	if e.client != nil {
		_ = e.client.Close()
		e.client = nil
	}
}

// decorate is a generic.StorageDecorator that builds an undecorated etcd3 store on the
// shared client.
func (e *sharedEtcd) decorate(config *storagebackend.ConfigForResource, resourcePrefix string,
	_ func(obj runtime.Object) (string, error), newFunc, newListFunc func() runtime.Object,
	_ storage.AttrFunc, _ storage.IndexerFuncs, _ *cache.Indexers) (storage.Interface, factory.DestroyFunc, error) {
	client, compactor, err := e.sharedClient(config)
	if err != nil {
		return nil, nil, err
	}
	transformer := config.Transformer
	if transformer == nil {
		transformer = identity.NewEncryptCheckTransformer()
	}
	versioner := storage.APIObjectVersioner{}
	decoder := etcd3.NewDefaultDecoder(config.Codec, versioner)
	unsafeDeletion := utilfeature.DefaultFeatureGate.Enabled(genericfeatures.AllowUnsafeMalformedObjectDeletion)
	if unsafeDeletion {
		transformer = etcd3.WithCorruptObjErrorHandlingTransformer(transformer)
		decoder = etcd3.WithCorruptObjErrorHandlingDecoder(decoder)
	}
	store, err := etcd3.New(client, compactor, config.Codec, newFunc, newListFunc, config.Prefix, resourcePrefix,
		config.GroupResource, transformer, config.LeaseManagerConfig, decoder, versioner)
	if err != nil {
		return nil, nil, err
	}
	var s storage.Interface = store
	if unsafeDeletion {
		s = etcd3.NewStoreWithUnsafeCorruptObjectDeletion(s, config.GroupResource)
	}
	// The store is destroyed once per resource (subresources share it); the client stays
	// until the server has stopped.
	var once sync.Once
	return s, func() { once.Do(store.Close) }, nil
}

// undecoratedStorage identifies generic.UndecoratedStorage, the only decorator replaced.
var undecoratedStorage = reflect.ValueOf(generic.StorageDecorator(generic.UndecoratedStorage)).Pointer()

// sharedClientGetter is a RESTOptionsGetter whose undecorated storages use the shared
// client.
type sharedClientGetter struct {
	inner generic.RESTOptionsGetter
	etcd  *sharedEtcd
}

// GetRESTOptions implements generic.RESTOptionsGetter.
func (g sharedClientGetter) GetRESTOptions(resource schema.GroupResource, example runtime.Object) (generic.RESTOptions, error) {
	opts, err := g.inner.GetRESTOptions(resource, example)
	if err != nil {
		return opts, err
	}
	if opts.Decorator != nil && reflect.ValueOf(opts.Decorator).Pointer() == undecoratedStorage {
		opts.Decorator = g.etcd.decorate
	}
	return opts, nil
}

// wrap returns getter with its undecorated storages on the shared client; nil stays nil.
func (e *sharedEtcd) wrap(getter generic.RESTOptionsGetter) generic.RESTOptionsGetter {
	if getter == nil {
		return nil
	}
	return sharedClientGetter{inner: getter, etcd: e}
}
