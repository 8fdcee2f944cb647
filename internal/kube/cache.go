package kube

import (
	"bytes"
	"context"
	"sync"
	"time"
)

// Cache keeps one client per cluster, so that the operations and monitors reaching a cluster
// share its connections, as cluster-api's cluster cache does for its controllers:
//
//   - Get returns the cached client while the cluster's kubeconfig and context stay the
//     same, and builds a new one when they change (a rotated certificate, a moved address).
//   - Forget drops a cluster's client; its owner calls it when the cluster is deleted.
//   - Probe checks a cluster's health with GET /readyz; after FailureThreshold failures in
//     a row the client is dropped, so the next Get starts over with fresh connections
//     rather than reusing ones a restarted API server no longer answers.
//
// A Cache is safe for concurrent use.
type Cache struct {
	// FailureThreshold is how many failed probes in a row drop a client; 0 means 3.
	FailureThreshold int
	// ProbeTimeout bounds one probe; 0 means 5 seconds.
	ProbeTimeout time.Duration
	// Local builds clients with ConnectLocal, trusting kubeconfigs' exec plugins, auth
	// providers and file paths; false, with Connect, which refuses them. Set before use.
	Local bool

	mu      sync.Mutex
	entries map[string]*cacheEntry
}

type cacheEntry struct {
	kubeconfig []byte
	context    string
	client     *Cluster
	failures   int
}

// Health is what the last probe of a cluster found.
type Health struct {
	// Cached reports whether the cache holds a client for the cluster.
	Cached bool
	// Failures counts the failed probes in a row since the last success.
	Failures int
}

// NewCache returns an empty cache.
func NewCache() *Cache { return &Cache{entries: map[string]*cacheEntry{}} }

// Get returns the client of cluster id for kubeconfig and context ("" = the current one),
// building it when the cache has none or has one for other credentials. It does not
// contact the cluster.
func (c *Cache) Get(id string, kubeconfig []byte, context string) (*Cluster, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[id]; ok && e.context == context && bytes.Equal(e.kubeconfig, kubeconfig) {
		return e.client, nil
	}
	connect := Connect
	if c.Local {
		connect = ConnectLocal
	}
	kc, err := connect(kubeconfig, context)
	if err != nil {
		return nil, err
	}
	c.entries[id] = &cacheEntry{kubeconfig: bytes.Clone(kubeconfig), context: context, client: kc}
	return kc, nil
}

// Forget drops the client of cluster id, if any.
func (c *Cache) Forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, id)
}

// Len returns the number of cached clients.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// Probe asks cluster id's API server GET /readyz through its cached client and records the
// outcome; enough failures in a row drop the client. A cluster without a cached client is
// not probed (nil).
func (c *Cache) Probe(ctx context.Context, id string) error {
	c.mu.Lock()
	e, ok := c.entries[id]
	c.mu.Unlock()
	if !ok {
		return nil
	}
	timeout := c.ProbeTimeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := e.client.Client.Discovery().RESTClient().Get().AbsPath("/readyz").Do(ctx).Error()
	if err != nil {
		err = translate(err, "probe the API server")
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries[id] != e {
		return err // replaced or forgotten meanwhile
	}
	if err == nil {
		e.failures = 0
		return nil
	}
	e.failures++
	threshold := c.FailureThreshold
	if threshold == 0 {
		threshold = 3
	}
	if e.failures >= threshold {
		delete(c.entries, id)
	}
	return err
}

// Health returns what the cache knows of cluster id.
func (c *Cache) Health(id string) Health {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok {
		return Health{}
	}
	return Health{Cached: true, Failures: e.failures}
}
