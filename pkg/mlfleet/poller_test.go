package mlfleet

import (
	"testing"
	"time"
)

// TestPollerInterval: the first seconds of an operation are polled every quarter second
// (never more often than Retry-After asks to wait), then at Retry-After; an interval the
// client chose always wins.
func TestPollerInterval(t *testing.T) {
	t.Parallel()
	now := time.Now()
	tests := []struct {
		name string
		p    Poller
		want time.Duration
	}{
		{"young operation", Poller{retryAfter: time.Second, started: now}, quickPoll},
		{"short Retry-After", Poller{retryAfter: 100 * time.Millisecond, started: now}, 100 * time.Millisecond},
		{"old operation", Poller{retryAfter: 2 * time.Second, started: now.Add(-quickPollFor)}, 2 * time.Second},
		{"client's interval", Poller{retryAfter: 5 * time.Second, fixed: true, started: now}, 5 * time.Second},
	}
	for _, tt := range tests {
		if got := tt.p.interval(); got != tt.want {
			t.Errorf("%s: interval %v, want %v", tt.name, got, tt.want)
		}
	}
}
