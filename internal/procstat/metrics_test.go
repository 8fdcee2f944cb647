package procstat

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestServerMetric(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte("# HELP go_goroutines Number of goroutines.\ngo_goroutines 42\nprocess_cpu_seconds_total 1.5\n"))
	}))
	defer srv.Close()
	for _, tc := range []struct {
		name string
		want float64
	}{{"go_goroutines", 42}, {"process_cpu_seconds_total", 1.5}} {
		if got, err := ServerMetric(srv.Client(), srv.URL+"/", tc.name); err != nil || got != tc.want {
			t.Errorf("%s: %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	_, err := ServerMetric(srv.Client(), srv.URL, "go_threads")
	var nm *NoMetricError
	if !errors.As(err, &nm) || err.Error() != "the server's /metrics has no go_threads" {
		t.Errorf("a missing metric: %v; want NoMetricError", err)
	}
}
