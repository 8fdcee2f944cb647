// Package loadgen sends HTTP GETs at a fixed rate, open-loop, and reports their latency:
// requests leave on schedule whether or not the earlier ones have answered, and a latency
// counts from the scheduled departure, so a server that falls behind shows it in the
// percentiles instead of slowing the load down. bench/apiload and hack/bench drive the
// API with it.
package loadgen

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// HTTPClient returns a client that trusts the CA in caFile ("" = the system's) and speaks
// HTTP/1.1 only, on at most conns connections as a client's pool would, or HTTP/2 (h2) on
// one multiplexed connection.
func HTTPClient(caFile string, h2 bool, conns int) (*http.Client, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s holds no certificate", caFile)
		}
	}
	tr := &http.Transport{TLSClientConfig: tc, MaxIdleConns: conns, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, IdleConnTimeout: time.Minute}
	if h2 {
		tr.ForceAttemptHTTP2 = true
	} else {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{} // no h2
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}, nil
}

// Loader sends GETs of one URL with a bearer token.
type Loader struct {
	// Client sends the requests.
	Client *http.Client
	// URL is what every request GETs.
	URL string
	// Token is sent as "Authorization: Bearer Token"; "" sends none.
	Token string
	// MaxInflight bounds the requests outstanding; a departure beyond it is counted as
	// Dropped instead of sent. 0 means no bound.
	MaxInflight int64

	inflight atomic.Int64
}

// Result is what one Drive sent and how it went.
type Result struct {
	// Sent counts the departures, OK the 200 answers, Failed the errors and other
	// statuses, Dropped the departures beyond MaxInflight.
	Sent, OK, Failed, Dropped int
	// Latencies are those of the OK requests, sorted.
	Latencies []time.Duration
	// FirstErr is the first failure, nil without one.
	FirstErr error
}

// Percentile returns the p-th percentile (100: the maximum) of the OK requests' latencies,
// 0 without any.
func (r *Result) Percentile(p int) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := min(len(r.Latencies)-1, (len(r.Latencies)*p)/100)
	return r.Latencies[i]
}

// Once sends one request and returns an error unless it was answered 200.
func (l *Loader) Once() error {
	req, err := http.NewRequest(http.MethodGet, l.URL, nil)
	if err != nil {
		return err
	}
	if l.Token != "" {
		req.Header.Set("Authorization", "Bearer "+l.Token)
	}
	resp, err := l.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %.300s", resp.Status, body)
	}
	return nil
}

// Drive sends rate requests a second for d, each leaving at its scheduled time, and
// waits for the answers.
func (l *Loader) Drive(rate int, d time.Duration) *Result {
	var mu sync.Mutex
	r := &Result{}
	var wg sync.WaitGroup
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	n := int(d / interval)
	for i := range n {
		due := start.Add(time.Duration(i) * interval)
		if wait := time.Until(due); wait > 0 {
			time.Sleep(wait)
		}
		r.Sent++
		if l.MaxInflight > 0 && l.inflight.Load() >= l.MaxInflight {
			r.Dropped++
			continue
		}
		l.inflight.Add(1)
		wg.Go(func() {
			defer l.inflight.Add(-1)
			err := l.Once()
			took := time.Since(due)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				r.Failed++
				if r.FirstErr == nil {
					r.FirstErr = err
				}
				return
			}
			r.OK++
			r.Latencies = append(r.Latencies, took)
		})
	}
	wg.Wait()
	slices.Sort(r.Latencies)
	return r
}
