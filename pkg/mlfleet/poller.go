package mlfleet

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// OperationStatus is the state of a long-running operation: armapi.OperationStatus as the
// client reads it, with the error as an *Error a caller can return.
type OperationStatus struct {
	OperationStatusBase
	// Error says why the operation failed; nil unless it failed.
	Error *Error `json:"error"`
}

// Done reports whether the operation reached a terminal status.
func (s *OperationStatus) Done() bool { return s.Status != StatusInProgress && s.Status != "" }

// Poller follows one long-running operation.
type Poller struct {
	c          *Client
	statusURL  string
	retryAfter time.Duration
	// fixed is set when the client chose the interval (WithPollInterval).
	fixed   bool
	started time.Time
	last    *OperationStatus
	// correlationID is the x-ms-correlation-request-id of the answer that started the
	// operation: the activity log records the operation's end under it.
	correlationID string
}

// Most operations of a local control plane end within seconds (an attach in a fraction of
// one, a cluster create in about three), while Retry-After is whole seconds: for the first
// quickPollFor the poller asks every quickPoll instead, so that a command returns within a
// quarter second of the operation's end; after that it keeps to Retry-After.
const (
	quickPoll    = 250 * time.Millisecond
	quickPollFor = 15 * time.Second
)

// newPoller returns a poller for the operation named by resp's Azure-AsyncOperation header,
// or nil when the call finished synchronously.
func (c *Client) newPoller(resp *http.Response) *Poller {
	u := resp.Header.Get("Azure-AsyncOperation")
	if u == "" {
		return nil
	}
	p := &Poller{c: c, statusURL: u, retryAfter: time.Second, started: time.Now(), correlationID: resp.Header.Get("x-ms-correlation-request-id")}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		p.retryAfter = time.Duration(s) * time.Second
	}
	if c.pollInterval > 0 {
		p.retryAfter, p.fixed = c.pollInterval, true
	}
	return p
}

// interval is how long to wait before the next poll.
func (p *Poller) interval() time.Duration {
	if p.fixed || time.Since(p.started) >= quickPollFor {
		return p.retryAfter
	}
	return min(p.retryAfter, quickPoll)
}

// OperationURL returns the operation-status URL the poller reads.
func (p *Poller) OperationURL() string { return p.statusURL }

// CorrelationID returns the correlation id of the request that started the operation
// (its answer's x-ms-correlation-request-id), "" when the server sent none. The activity
// log records the operation's end under it, so it tells how an operation ended that the
// poller could not follow to its end.
func (p *Poller) CorrelationID() string { return p.correlationID }

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
		case <-time.After(p.interval()):
		}
	}
}
