package mlfleet

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Operation status values.
const (
	StatusInProgress = "InProgress"
	StatusSucceeded  = "Succeeded"
	StatusFailed     = "Failed"
	StatusCanceled   = "Canceled"
)

// OperationStatus is the state of a long-running operation.
type OperationStatus struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	ResourceID string     `json:"resourceId"`
	Status     string     `json:"status"`
	StartTime  time.Time  `json:"startTime"`
	EndTime    *time.Time `json:"endTime"`
	Error      *Error     `json:"error"`
}

// Done reports whether the operation reached a terminal status.
func (s *OperationStatus) Done() bool { return s.Status != StatusInProgress && s.Status != "" }

// Poller follows one long-running operation.
type Poller struct {
	c          *Client
	statusURL  string
	retryAfter time.Duration
	last       *OperationStatus
}

// newPoller returns a poller for the operation named by resp's Azure-AsyncOperation header,
// or nil when the call finished synchronously.
func (c *Client) newPoller(resp *http.Response) *Poller {
	u := resp.Header.Get("Azure-AsyncOperation")
	if u == "" {
		return nil
	}
	p := &Poller{c: c, statusURL: u, retryAfter: time.Second}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		p.retryAfter = time.Duration(s) * time.Second
	}
	if c.pollInterval > 0 {
		p.retryAfter = c.pollInterval
	}
	return p
}

// OperationURL returns the operation-status URL the poller reads.
func (p *Poller) OperationURL() string { return p.statusURL }

// Poll reads the operation's status once.
func (p *Poller) Poll(ctx context.Context) (*OperationStatus, error) {
	var st OperationStatus
	if _, err := p.c.do(ctx, request{method: http.MethodGet, path: p.statusURL}, &st); err != nil {
		return nil, fmt.Errorf("poll operation: %w", err)
	}
	p.last = &st
	return &st, nil
}

// Wait polls until the operation ends, calling progress (when not nil) after every poll.
// It returns the final status, and the operation's error (an *Error) when it did not succeed.
func (p *Poller) Wait(ctx context.Context, progress func(*OperationStatus)) (*OperationStatus, error) {
	for {
		st, err := p.Poll(ctx)
		if err != nil {
			return nil, err
		}
		if progress != nil {
			progress(st)
		}
		if st.Done() {
			if st.Status != StatusSucceeded {
				if st.Error != nil {
					return st, st.Error
				}
				return st, &Error{Code: st.Status, Message: "the operation ended with status " + st.Status}
			}
			return st, nil
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-time.After(p.retryAfter):
		}
	}
}
