package mlfleet_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// TestRetryAfter: the client sends a request the server refused for now (429, or 503 with
// Retry-After) again after Retry-After, writes included, a bounded number of times; it
// gives up at once on a wait longer than its cap or past the context's deadline, and never
// retries other errors.
func TestRetryAfter(t *testing.T) {
	t.Parallel()
	type reply struct {
		status     int
		retryAfter string
	}
	throttled := func(after string) reply { return reply{http.StatusTooManyRequests, after} }
	tests := []struct {
		name     string
		replies  []reply // then 200
		opts     []mlfleet.Option
		timeout  time.Duration
		calls    int
		wantErr  int // status of the error returned, 0 for success
		minTaken time.Duration
	}{
		{name: "429 twice, then success", replies: []reply{throttled("1"), throttled("1")}, calls: 3, minTaken: 2 * time.Second},
		{name: "429 without Retry-After backs off", replies: []reply{throttled("")}, calls: 2, minTaken: time.Second},
		{name: "503 with Retry-After", replies: []reply{{http.StatusServiceUnavailable, "0"}}, calls: 2},
		{name: "503 without Retry-After is an error", replies: []reply{{http.StatusServiceUnavailable, ""}}, calls: 1, wantErr: 503},
		{name: "409 is an error", replies: []reply{{http.StatusConflict, "1"}}, calls: 1, wantErr: 409},
		{name: "a wait beyond the cap is returned", replies: []reply{throttled("120")}, calls: 1, wantErr: 429},
		{name: "retries run out", replies: []reply{throttled("0"), throttled("0"), throttled("0"), throttled("0")},
			opts: []mlfleet.Option{mlfleet.WithRetries(2, time.Minute)}, calls: 3, wantErr: 429},
		{name: "retries off", replies: []reply{throttled("0")}, opts: []mlfleet.Option{mlfleet.WithRetries(0, 0)}, calls: 1, wantErr: 429},
		{name: "a wait past the deadline is returned", replies: []reply{throttled("2")}, timeout: time.Second, calls: 1, wantErr: 429},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var bodies []string
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				n := len(bodies)
				bodies = append(bodies, r.Method+" "+string(b))
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				if n < len(tt.replies) {
					if ra := tt.replies[n].retryAfter; ra != "" {
						w.Header().Set("Retry-After", ra)
					}
					w.WriteHeader(tt.replies[n].status)
					io.WriteString(w, `{"error":{"code":"TooManyRequests","message":"slow down"}}`)
					return
				}
				io.WriteString(w, `{"name":"rg1","location":"westus"}`)
			}))
			defer ts.Close()
			opts := append([]mlfleet.Option{mlfleet.WithServer(ts.URL), mlfleet.WithToken("t"), mlfleet.WithSubscription("s")}, tt.opts...)
			c, err := mlfleet.NewClient(opts...)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			start := time.Now()
			rg, err := c.CreateResourceGroup(ctx, "rg1", "westus", nil)
			taken := time.Since(start)
			var me *mlfleet.Error
			switch {
			case tt.wantErr == 0 && (err != nil || rg.Name != "rg1"):
				t.Fatalf("CreateResourceGroup = %+v, %v; want success", rg, err)
			case tt.wantErr != 0 && (!errors.As(err, &me) || me.StatusCode != tt.wantErr):
				t.Fatalf("CreateResourceGroup error = %v, want a %d", err, tt.wantErr)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(bodies) != tt.calls {
				t.Fatalf("the server saw %d requests, want %d", len(bodies), tt.calls)
			}
			for _, b := range bodies {
				if b != bodies[0] || b == "PUT " {
					t.Fatalf("a retry sent %q, the first try %q", b, bodies[0])
				}
			}
			if taken < tt.minTaken || taken > tt.minTaken+5*time.Second {
				t.Errorf("took %v, want about %v", taken, tt.minTaken)
			}
		})
	}
}
