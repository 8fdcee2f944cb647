package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/mlfleet/mlfleet/internal/provider"
	"github.com/mlfleet/mlfleet/internal/provider/embedded"
	"github.com/mlfleet/mlfleet/internal/secrets"
	"github.com/mlfleet/mlfleet/internal/store"
)

// peerCallPath is where a replica takes provider calls on the clusters it hosts from the
// other replicas (embedded.Remote). It is not part of the ARM API: requests and answers
// are sealed with the key every replica shares, which is their authentication.
const peerCallPath = "/mlfleet/peer/v1/call"

// peerCallSkew is how old (or how far ahead) a sealed call may be: older ones are replays.
const peerCallSkew = time.Minute

type peerCall struct {
	Method string          `json:"method"`
	At     int64           `json:"at"` // unix ms, when sent
	In     json.RawMessage `json:"in"`
}

type peerAnswer struct {
	Out      json.RawMessage `json:"out,omitempty"`
	Error    string          `json:"error,omitempty"`
	NotFound bool            `json:"notFound,omitempty"`
	// Drain carries a provider.DrainError, which the caller's operation reports as the
	// user's to fix (a PodDisruptionBudget), not as a server failure.
	Drain *peerDrain `json:"drain,omitempty"`
}

// peerDrain is a provider.DrainError on the wire.
type peerDrain struct {
	Node   string `json:"node"`
	Pod    string `json:"pod"`
	Budget string `json:"budget,omitempty"`
	Error  string `json:"error"`
}

// answerOf is the answer to a call that returned out and err.
func answerOf(out any, err error) peerAnswer {
	var a peerAnswer
	var de *provider.DrainError
	switch {
	case errors.Is(err, provider.ErrNotFound):
		a.NotFound = true
	case err != nil:
		a.Error = err.Error()
		if errors.As(err, &de) {
			a.Drain = &peerDrain{Node: de.Node, Pod: de.Pod, Budget: de.Budget, Error: fmt.Sprint(de.Err)}
		}
	default:
		if a.Out, err = json.Marshal(out); err != nil {
			a = peerAnswer{Error: err.Error()}
		}
	}
	return a
}

// result is the error of the answer of replica, or nil with its output decoded into out.
func (a peerAnswer) result(replica string, out any) error {
	switch {
	case a.NotFound:
		return fmt.Errorf("%w on replica %s", provider.ErrNotFound, replica)
	case a.Drain != nil:
		return fmt.Errorf("on replica %s: %w", replica, &provider.DrainError{Node: a.Drain.Node, Pod: a.Drain.Pod, Budget: a.Drain.Budget, Err: errors.New(a.Drain.Error)})
	case a.Error != "":
		return errors.New(a.Error)
	case out != nil && len(a.Out) > 0:
		return json.Unmarshal(a.Out, out)
	}
	return nil
}

// forwarder implements embedded.Remote over HTTPS to the replica's address in the store.
type forwarder struct {
	st     store.Store
	box    *secrets.Box
	client *http.Client
}

func newForwarder(st store.Store, box *secrets.Box, roots *x509.CertPool) *forwarder {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}, ForceAttemptHTTP2: true}
	return &forwarder{st: st, box: box, client: &http.Client{Transport: tr}}
}

func (f *forwarder) Call(ctx context.Context, replica, method string, in, out any) error {
	addr, err := f.address(ctx, replica)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(in)
	if err != nil {
		return err
	}
	body, err := json.Marshal(peerCall{Method: method, At: time.Now().UnixMilli(), In: raw})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+addr+peerCallPath, bytes.NewReader(f.box.Seal(body)))
	if err != nil {
		return err
	}
	// The errors name the replica, never its address or the peer URL: they end up in the
	// user's operation error, and `mlfleet replica list` tells an operator the rest.
	resp, err := f.client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: replica %s: %v", embedded.ErrUnreachable, replica, withoutAddress(err))
	}
	defer resp.Body.Close()
	sealed, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("%w: replica %s: %v", embedded.ErrUnreachable, replica, err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusServiceUnavailable:
		return fmt.Errorf("replica %s: %w", replica, embedded.ErrHostStopping)
	default:
		return fmt.Errorf("%w: replica %s answered %s", embedded.ErrUnreachable, replica, resp.Status)
	}
	plain, err := f.box.Open(sealed)
	if err != nil {
		return fmt.Errorf("answer of replica %s: %w", replica, err)
	}
	var a peerAnswer
	if err := json.Unmarshal(plain, &a); err != nil {
		return fmt.Errorf("answer of replica %s: %w", replica, err)
	}
	return a.result(replica, out)
}

// withoutAddress is the error of a request to a peer without the URL and addresses that
// the HTTP client and the dialer put in it.
func withoutAddress(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		err = fmt.Errorf("%s: %w", oe.Op, oe.Err)
	}
	return err
}

// address is the replica's address from its row, if it is alive.
func (f *forwarder) address(ctx context.Context, replica string) (string, error) {
	reps, err := f.st.ListReplicas(ctx)
	if err != nil {
		return "", err
	}
	for _, r := range reps {
		if r.ID == replica && r.Address != "" {
			return r.Address, nil
		}
	}
	return "", fmt.Errorf("%w: replica %s has no row", embedded.ErrUnreachable, replica)
}

// peerCalls answers the calls of forwarder on the clusters this replica runs; other
// requests go to next. Close makes it refuse calls, and cut short those it is running,
// with 503 (embedded.ErrHostStopping at the caller): a replica that shuts down hands its
// clusters over, and the callers try the next host instead of waiting on this one.
type peerCalls struct {
	next http.Handler
	emb  *embedded.Provider
	box  *secrets.Box
	log  *slog.Logger
	// stopping ends when Close is called; the calls in flight run under it.
	stopping context.Context
	stop     context.CancelFunc
}

// servePeerCalls returns the handler of the peer calls of forwarder on emb in front of next.
func servePeerCalls(next http.Handler, emb *embedded.Provider, box *secrets.Box, log *slog.Logger) *peerCalls {
	ctx, stop := context.WithCancel(context.Background())
	return &peerCalls{next: next, emb: emb, box: box, log: log, stopping: ctx, stop: stop}
}

// Close makes every later call, and every call in flight, answer 503: this replica is
// shutting down. It returns at once; the calls in flight end as their work notices.
func (s *peerCalls) Close() { s.stop() }

// shuttingDown answers a call that this replica will not run, or did not finish, because it
// is shutting down.
func shuttingDown(w http.ResponseWriter) {
	// The cluster's next host takes it over within a second or two (takeover runs every
	// second once the lease is freed), so the call can be sent again after a second; the
	// caller here (forwarder) waits for the next lease holder rather than for this header,
	// which is for any other client of a 503.
	w.Header().Set("Retry-After", "1")
	http.Error(w, "this replica is shutting down: call the cluster's next host", http.StatusServiceUnavailable)
}

func (s *peerCalls) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != peerCallPath {
		s.next.ServeHTTP(w, r)
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	sealed, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	plain, err := s.box.Open(sealed)
	var call peerCall
	if err == nil {
		err = json.Unmarshal(plain, &call)
	}
	if err != nil || time.Since(time.UnixMilli(call.At)).Abs() > peerCallSkew {
		http.Error(w, "not a call from a replica of this store", http.StatusForbidden)
		return
	}
	if s.stopping.Err() != nil {
		shuttingDown(w)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(s.stopping, cancel)()
	out, err := s.emb.ServeCall(ctx, call.Method, call.In)
	if err != nil && s.stopping.Err() != nil {
		// Cut short by the shutdown: the error is the interruption's, not the call's.
		s.log.Debug("peer call cut short by the shutdown", "method", call.Method, "err", err)
		shuttingDown(w)
		return
	}
	if err != nil && !errors.Is(err, provider.ErrNotFound) {
		s.log.Debug("peer call failed", "method", call.Method, "err", err)
	}
	b, _ := json.Marshal(answerOf(out, err))
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(s.box.Seal(b))
}
