package clusterruntime

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/util/connrotation"
)

// Client limits when the caller's rest.Config sets none. A cluster runtime talks to one
// small apiserver that serves nobody else as busily; the defaults of client-go (5 QPS)
// would make namespace deletion and garbage collection crawl.
const (
	defaultQPS   = 50
	defaultBurst = 100
)

// clients makes the clients of the runtime's parts. They share one HTTP client, and so
// one connection pool, that belongs to the runtime alone: client-go otherwise shares
// transports between all configs with the same credentials in the process, and the
// connections of a stopped runtime would stay open.
type clients struct {
	config *rest.Config
	http   *http.Client
	dialer *connrotation.Dialer // nil when the caller's config brings its own Dial
}

func newClients(base *rest.Config, log *slog.Logger) (*clients, error) {
	cfg := rest.CopyConfig(base)
	// Deprecation warnings (the namespace and garbage collectors touch v1 Endpoints, for
	// one) would otherwise go to klog's global logger, once per cluster.
	cfg.WarningHandler = nil
	cfg.WarningHandlerWithContext = warningLogger{log}
	// Watches last as long as the runtime; an overall client timeout would cut them off.
	// Requests that must not hang carry their own deadline.
	cfg.Timeout = 0
	if cfg.QPS == 0 {
		cfg.QPS = defaultQPS
	}
	if cfg.Burst == 0 {
		cfg.Burst = defaultBurst
	}
	var dialer *connrotation.Dialer
	if cfg.Dial == nil {
		// A dialer of our own makes client-go build a transport for this runtime only
		// instead of taking one from its process-wide cache, and lets close end every
		// connection, including one that was still finishing a request when the
		// runtime's goroutines stopped and so was not idle yet.
		d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
		dialer = connrotation.NewDialer(d.DialContext)
		cfg.Dial = dialer.DialContext
	}
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("create HTTP client: %w", err)
	}
	return &clients{config: cfg, http: httpClient, dialer: dialer}, nil
}

// configFor returns the config of one part, named in the User-Agent header as
// kube-controller-manager names its controllers, with its QPS and burst scaled.
func (c *clients) configFor(userAgent string, scale float32) *rest.Config {
	cfg := rest.AddUserAgent(rest.CopyConfig(c.config), userAgent)
	cfg.QPS *= scale
	cfg.Burst = int(float32(cfg.Burst) * scale)
	return cfg
}

func (c *clients) kube(userAgent string) (kubernetes.Interface, error) {
	return c.kubeScaled(userAgent, 1)
}

func (c *clients) kubeScaled(userAgent string, scale float32) (kubernetes.Interface, error) {
	cs, err := kubernetes.NewForConfigAndClient(c.configFor(userAgent, scale), c.http)
	if err != nil {
		return nil, fmt.Errorf("create client %s: %w", userAgent, err)
	}
	return cs, nil
}

func (c *clients) metadata(userAgent string, scale float32) (metadata.Interface, error) {
	m, err := metadata.NewForConfigAndClient(c.configFor(userAgent, scale), c.http)
	if err != nil {
		return nil, fmt.Errorf("create metadata client %s: %w", userAgent, err)
	}
	return m, nil
}

func (c *clients) discovery(userAgent string) (*discovery.DiscoveryClient, error) {
	d, err := discovery.NewDiscoveryClientForConfigAndClient(c.configFor(userAgent, 1), c.http)
	if err != nil {
		return nil, fmt.Errorf("create discovery client %s: %w", userAgent, err)
	}
	return d, nil
}

// restMapper returns a mapper of resources to kinds over a discovery client of its own,
// which caches discovery in memory until the mapper is reset.
func (c *clients) restMapper(userAgent string) (*restmapper.DeferredDiscoveryRESTMapper, error) {
	d, err := c.discovery(userAgent)
	if err != nil {
		return nil, err
	}
	return restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(d)), nil
}

// close ends the connections once nothing uses the clients any more.
func (c *clients) close() {
	c.http.CloseIdleConnections()
	if c.dialer != nil {
		c.dialer.CloseAll()
	}
}

// warningLogger logs the warnings of API responses at Debug level.
type warningLogger struct{ log *slog.Logger }

func (w warningLogger) HandleWarningHeaderWithContext(ctx context.Context, code int, agent, text string) {
	if code == 299 && text != "" {
		w.log.DebugContext(ctx, "warning from apiserver", "warning", text)
	}
}
