package mlfleet

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Error is an error answered by the server, in ARM's shape.
type Error struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is ARM's stable error code, e.g. ResourceGroupNotFound.
	Code string `json:"code"`
	// Message says what is wrong and what to do.
	Message string `json:"message"`
	// Target names the offending field, when there is one.
	Target string `json:"target,omitempty"`
	// Details lists each failure when several are reported together.
	Details []*Error `json:"details,omitempty"`
	// RequestID is the server's x-ms-request-id of the failed call.
	RequestID string `json:"-"`
}

// Error returns `(Code) Message`; Details are not included.
func (e *Error) Error() string { return fmt.Sprintf("(%s) %s", e.Code, e.Message) }

// IsNotFound reports whether err is a 404 from the server.
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.StatusCode == http.StatusNotFound
}

// HasCode reports whether err is an *Error (wrapped or not) whose Code, or the Code of
// any of its details at any depth, is code, compared case-insensitively as ARM codes are.
// Azure ML answers most 400s with the code UserError and the precise codes in the details
// (InsufficientCapacity, ClusterInAnotherSubscription, ...); HasCode finds them wherever
// they are.
func HasCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.hasCode(code)
}

// hasCode reports whether e or any of its details, recursively, carries code.
func (e *Error) hasCode(code string) bool {
	if e == nil {
		return false
	}
	if strings.EqualFold(e.Code, code) {
		return true
	}
	for _, d := range e.Details {
		if d.hasCode(code) {
			return true
		}
	}
	return false
}

func newError(resp *http.Response, data []byte) error {
	var body struct {
		Error *Error `json:"error"`
	}
	if err := json.Unmarshal(data, &body); err != nil || body.Error == nil || body.Error.Code == "" {
		msg := strings.TrimSpace(string(data))
		if msg == "" {
			msg = http.StatusText(resp.StatusCode)
		}
		body.Error = &Error{Code: resp.Header.Get("x-ms-error-code"), Message: msg}
		if body.Error.Code == "" {
			body.Error.Code = strings.ReplaceAll(http.StatusText(resp.StatusCode), " ", "")
		}
	}
	body.Error.StatusCode = resp.StatusCode
	body.Error.RequestID = resp.Header.Get("x-ms-request-id")
	return body.Error
}
