package router

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/inference"
	"github.com/mlfleet/mlfleet/internal/testutil"
)

// BenchmarkRouterOverhead sends the same scoring requests to an instance directly and
// through the router (over loopback TCP, with key auth) and reports the time of each and
// their ratio. The instance is mlfleet's Python server when python3 runs here ("python"),
// and a Go server answering at once ("go"), which shows the router's own cost.
func BenchmarkRouterOverhead(b *testing.B) {
	b.Run("go", func(b *testing.B) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"predictions": [1]}`)
		}))
		defer srv.Close()
		benchOverhead(b, strings.TrimPrefix(srv.URL, "http://"))
	})
	b.Run("python", func(b *testing.B) {
		benchOverhead(b, startPythonScorer(b))
	})
}

func benchOverhead(b *testing.B, instance string) {
	rtr := routerTo(b, instance)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	call := func(url string, auth bool) {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"data": [1]}`))
		if auth {
			req.Header.Set("Authorization", "Bearer k")
		}
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("%s = %d", url, resp.StatusCode)
		}
	}
	direct, routed := "http://"+instance+"/score", rtr.URL+"/api/v1/endpoint/ep/score"
	call(direct, false) // warm the connections
	call(routed, true)
	b.ResetTimer()
	var tDirect, tRouted time.Duration
	for b.Loop() {
		t0 := time.Now()
		call(direct, false)
		t1 := time.Now()
		call(routed, true)
		tRouted += time.Since(t1)
		tDirect += t1.Sub(t0)
	}
	n := float64(b.N)
	b.ReportMetric(float64(tDirect.Microseconds())/n, "direct-µs/req")
	b.ReportMetric(float64(tRouted.Microseconds())/n, "routed-µs/req")
	b.ReportMetric(float64(tRouted)/float64(tDirect), "routed/direct")
}

// BenchmarkRouterLatencyAt200rps sends scoring requests through the router to one
// Python instance at 200 requests a second (open loop: each request leaves on schedule,
// whatever the previous ones do) and reports the latencies' p50 and p99. Each iteration
// is one second of load.
func BenchmarkRouterLatencyAt200rps(b *testing.B) {
	instance := startPythonScorer(b)
	rtr := routerTo(b, instance)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	const rate = 200
	var (
		mu        sync.Mutex
		latencies []time.Duration
		failed    int
	)
	b.ResetTimer()
	for b.Loop() {
		var wg sync.WaitGroup
		tick := time.NewTicker(time.Second / rate)
		for range rate {
			<-tick.C
			wg.Go(func() {
				req, _ := http.NewRequest(http.MethodPost, rtr.URL+"/api/v1/endpoint/ep/score", strings.NewReader(`{"data": [1]}`))
				req.Header.Set("Authorization", "Bearer k")
				t0 := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				took := time.Since(t0)
				mu.Lock()
				defer mu.Unlock()
				if err != nil || resp.StatusCode != 200 {
					failed++
					return
				}
				latencies = append(latencies, took)
			})
		}
		tick.Stop()
		wg.Wait()
	}
	if len(latencies) == 0 {
		b.Fatalf("no request succeeded (%d failed)", failed)
	}
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(failed), "failed")
}

// startPythonScorer starts a Python scoring server that echoes its input's data, stopped
// when b ends, and returns its address once it is ready; b is skipped without python3.
func startPythonScorer(b *testing.B) string {
	b.Helper()
	python, err := inference.ResolvePython(context.Background(), "python3")
	if err != nil {
		b.Skip(err)
	}
	code := b.TempDir()
	if err := os.WriteFile(filepath.Join(code, "score.py"), []byte("import json\ndef run(raw):\n    return {'predictions': json.loads(raw)['data']}\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	s, err := inference.StartProcess(inference.ProcessSpec{Python: python, WorkDir: b.TempDir(), CodeDir: code, ProbeInterval: 20 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Stop(context.Background()) })
	testutil.WaitFor(b, 30*time.Second, "python server ready", func() (bool, string) { return s.State().Ready, "" })
	return s.Addr()
}

// routerTo serves, until b ends, a router with one endpoint "ep" (key "k") whose one
// deployment "blue" runs on instance.
func routerTo(b *testing.B, instance string) *httptest.Server {
	h := NewHandler(HandlerOptions{})
	h.Update([]EndpointState{{Config: &inference.EndpointConfig{Name: "ep", AuthMode: inference.AuthKey, Keys: []string{"k"},
		Traffic: map[string]int{"blue": 100}, Deployments: map[string]inference.DeploymentRouting{"blue": {MaxConcurrentRequestsPerInstance: 64}}},
		Instances: map[string][]string{"blue": {instance}}}})
	rtr := httptest.NewServer(h)
	b.Cleanup(rtr.Close)
	return rtr
}
