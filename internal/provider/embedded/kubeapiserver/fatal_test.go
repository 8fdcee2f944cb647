package kubeapiserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/testutil"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"
	"k8s.io/client-go/rest"
	certutil "k8s.io/client-go/util/cert"
)

// TestFailedPostStartHookDoesNotExit runs a bare generic apiserver whose post-start hook
// fails. Upstream that is klog.Fatalf, i.e. os.Exit(255): if the guard does not hold, the
// test binary dies here.
func TestFailedPostStartHookDoesNotExit(t *testing.T) {
	installFatalGuard()
	version, err := newServedVersion("v1.37.2")
	if err != nil {
		t.Fatal(err)
	}
	cfg := genericapiserver.NewConfig(serializer.NewCodecFactory(runtime.NewScheme()))
	cfg.EffectiveVersion = version
	cfg.LoopbackClientConfig = &rest.Config{}
	// Serving is needed for the server to be able to stop; nothing connects.
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := certutil.GenerateSelfSignedCertKey("localhost", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := dynamiccertificates.NewStaticCertKeyContent("test", certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	cfg.SecureServing = &genericapiserver.SecureServingInfo{Listener: listener, Cert: cert}
	server, err := cfg.Complete(nil).New("fatal-guard-test", genericapiserver.NewEmptyDelegate())
	if err != nil {
		t.Fatal(err)
	}
	failed := make(chan struct{})
	if err := server.AddPostStartHook("fail-on-purpose", func(genericapiserver.PostStartHookContext) error {
		defer close(failed)
		return errors.New("deliberate failure")
	}); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- server.PrepareRun().RunWithContext(ctx) }()
	select {
	case <-failed:
	case <-time.After(30 * time.Second):
		t.Fatal("hook did not run")
	}
	// klog.Fatalf runs right after the hook returns; the process does not exit and the
	// server keeps running.
	testutil.Holds(t, 500*time.Millisecond, "server running after the hook failed", func() (bool, string) {
		select {
		case err := <-done:
			done <- err
			return false, fmt.Sprintf("RunWithContext returned %v", err)
		default:
			return true, ""
		}
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("RunWithContext: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("server did not stop")
	}
}
