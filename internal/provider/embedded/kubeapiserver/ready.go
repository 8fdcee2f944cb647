package kubeapiserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// requestTimeout bounds each request this package makes itself.
const requestTimeout = 10 * time.Second

// loopbackClient returns a client over the internal listener whose requests time out.
func (s *Server) loopbackClient() (*kubernetes.Clientset, error) {
	cfg := rest.CopyConfig(s.loopback)
	cfg.Timeout = requestTimeout
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("create loopback client: %w", err)
	}
	return client, nil
}

// waitReady waits until the server answers /readyz, then starts the in-process controllers
// and waits until the cluster user's bindings exist and grant something.
func (s *Server) waitReady(ctx context.Context) error {
	client, err := s.loopbackClient()
	if err != nil {
		return err
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		if lastErr = s.readyStep(ctx, client); lastErr == nil {
			return nil
		}
		select {
		case <-tick.C:
		case <-s.done:
			if s.runErr != nil {
				return fmt.Errorf("wait for readiness: %w", s.runErr)
			}
			return errors.New("wait for readiness: apiserver exited")
		case <-ctx.Done():
			return fmt.Errorf("wait for readiness: %w (last: %v)", ctx.Err(), lastErr)
		}
	}
}

// readyStep makes one attempt at the next step towards readiness; nil means ready.
func (s *Server) readyStep(ctx context.Context, client kubernetes.Interface) error {
	if s.controllers == nil {
		status := 0
		client.Discovery().RESTClient().Get().AbsPath("/readyz").Do(ctx).StatusCode(&status)
		if status != http.StatusOK {
			return fmt.Errorf("readyz answered %d", status)
		}
		c, err := startControllers(context.WithoutCancel(ctx), s.loopback)
		if err != nil {
			return err
		}
		s.controllers = c
	}
	// The system namespaces appear shortly after readyz; retry until they do.
	for _, ns := range systemNamespaces {
		if _, err := client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err != nil {
			return fmt.Errorf("get namespace %s: %w", ns, err)
		}
	}
	if err := ensureUserBindings(ctx, client); err != nil {
		return err
	}
	return rolesAggregated(ctx, client)
}

// systemNamespaces are the namespaces the apiserver creates itself.
var systemNamespaces = []string{
	metav1.NamespaceDefault, metav1.NamespaceSystem, metav1.NamespacePublic, corev1.NamespaceNodeLease,
}

// abortHookWait bounds how long an aborted start waits for post-start hooks to finish.
const abortHookWait = 30 * time.Second

// abort stops a server that did not get ready. Post-start hooks that are still running when
// the server stops fail, and a failed hook is fatal to kube-apiserver (see
// installFatalGuard), so abort first gives them a bounded time to finish, unless etcd is
// unhealthy, in which case they would not finish anyway.
func (s *Server) abort(ctx context.Context) error {
	waitCtx, cancel := context.WithTimeout(ctx, abortHookWait)
	defer cancel()
	if client, err := s.loopbackClient(); err == nil {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for waitCtx.Err() == nil && !isClosed(s.done) && hooksPending(waitCtx, client) {
			select {
			case <-tick.C:
			case <-s.done:
			case <-waitCtx.Done():
			}
		}
	}
	stopCtx, stopCancel := context.WithTimeout(ctx, time.Minute)
	defer stopCancel()
	return s.Stop(stopCtx)
}

// hooksPending tells whether /healthz reports post-start hooks still running while etcd is
// healthy, i.e. whether waiting for them makes sense.
func hooksPending(ctx context.Context, client kubernetes.Interface) bool {
	body, err := client.Discovery().RESTClient().Get().AbsPath("/healthz").Param("verbose", "true").DoRaw(ctx)
	if err != nil && len(body) == 0 {
		return true // not answering yet
	}
	// Verbose health output has one "[+]name ok" or "[-]name failed: ..." line per check.
	pending := false
	for _, line := range strings.Split(string(body), "\n") {
		switch {
		case strings.HasPrefix(line, "[-]etcd "):
			return false
		case strings.HasPrefix(line, "[-]poststarthook/"):
			pending = true
		}
	}
	return pending
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
