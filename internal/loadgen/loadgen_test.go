package loadgen

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestDrive(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1)%10 == 0 {
			http.Error(w, "every tenth fails", http.StatusServiceUnavailable)
			return
		}
		if r.Header.Get("Authorization") != "Bearer t" {
			http.Error(w, "no token", http.StatusUnauthorized)
		}
	}))
	defer srv.Close()
	l := &Loader{Client: srv.Client(), URL: srv.URL, Token: "t"}
	r := l.Drive(200, 250*time.Millisecond)
	if r.Sent != 50 || r.OK != 45 || r.Failed != 5 || r.Dropped != 0 {
		t.Fatalf("sent %d, ok %d, failed %d, dropped %d; want 50, 45, 5, 0 (first error %v)", r.Sent, r.OK, r.Failed, r.Dropped, r.FirstErr)
	}
	if r.FirstErr == nil || len(r.Latencies) != r.OK {
		t.Fatalf("first error %v, %d latencies", r.FirstErr, len(r.Latencies))
	}
	if r.Percentile(50) > r.Percentile(99) || r.Percentile(99) > r.Percentile(100) {
		t.Fatalf("percentiles out of order: %v %v %v", r.Percentile(50), r.Percentile(99), r.Percentile(100))
	}
}

func TestPercentile(t *testing.T) {
	r := &Result{}
	if r.Percentile(99) != 0 {
		t.Fatal("no latencies: want 0")
	}
	for i := 1; i <= 100; i++ {
		r.Latencies = append(r.Latencies, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		p    int
		want time.Duration
	}{{50, 51 * time.Millisecond}, {99, 100 * time.Millisecond}, {100, 100 * time.Millisecond}} {
		if got := r.Percentile(c.p); got != c.want {
			t.Errorf("p%d = %v, want %v", c.p, got, c.want)
		}
	}
}
