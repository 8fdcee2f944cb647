package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/auth"
	"github.com/mlfleet/mlfleet/internal/store"
)

// toARM maps a domain error to the ARM error served for it. Unknown errors become a 500
// whose message hides internals; they are logged in full by the caller. It is the one
// place that picks a status for the store's and auth's sentinels (STYLE 12); domain
// packages that need another status or code return an *arm.Error, which passes through.
func toARM(err error) *arm.Error {
	var ae *arm.Error
	var expired *auth.ExpiredTokenError
	var unavailable *store.UnavailableError
	switch {
	case errors.As(err, &ae):
		// An arm.Error built without a status is a client mistake: 400, never a 500 (A3).
		if ae.Status == 0 {
			ae.Status = http.StatusBadRequest
		}
		if ae.AdditionalInfo == nil {
			ae.AdditionalInfo = []any{}
		}
		return ae
	// ARM tells an expired token from one it does not accept and from none at all: clients
	// such as azidentity and az renew their token on ExpiredAuthenticationToken.
	case errors.As(err, &expired):
		return arm.Errorf(http.StatusUnauthorized, arm.CodeExpiredAuthenticationToken,
			"The access token expiry UTC time '%s' is earlier than current UTC time '%s'. Get a new token: sign in again (mlfleet login, az login) or run 'mlfleet account get-access-token'.",
			expired.ExpiresAt.Format(armTime), expired.Now.Format(armTime))
	case errors.Is(err, auth.ErrInvalidToken):
		return arm.Errorf(http.StatusUnauthorized, arm.CodeInvalidAuthenticationToken,
			"The access token is invalid: this server did not issue it, or revoked it (its principal's credential was reset or the principal deleted). Get a new token: sign in again (mlfleet login, az login) or run 'mlfleet account get-access-token'.")
	case errors.Is(err, auth.ErrUnauthenticated):
		return arm.Errorf(http.StatusUnauthorized, arm.CodeAuthenticationFailed,
			"Authentication failed: the 'Authorization' header is missing or not a bearer token. Send 'Authorization: Bearer <token>' with a valid, unexpired mlfleet token (see 'mlfleet account get-access-token', or sign in again).")
	case errors.Is(err, auth.ErrForbidden):
		return arm.Errorf(http.StatusForbidden, arm.CodeAuthorizationFailed,
			"The caller does not have authorization to perform this action; ask an Owner of the scope for a role assignment.")
	case errors.Is(err, store.ErrNotFound):
		return arm.NotFound(arm.CodeResourceNotFound, "The resource could not be found.")
	case errors.Is(err, store.ErrConflict):
		// A version check lost to a concurrent write: the caller can simply retry.
		return arm.Conflict("The resource was changed by another request at the same time; retry the request.")
	// A full, read-only or failing store is the operator's to fix: a retry by the client
	// fails the same way until then, so the answer says so instead of "retry". ARM answers
	// 503 ServiceUnavailable when a resource provider cannot serve. The answer names no
	// host path and no driver error (ARM never shows them, and a Reader gets it too): they
	// are in the server log, under the request id the answer gives (writeError).
	case errors.As(err, &unavailable):
		return arm.Errorf(http.StatusServiceUnavailable, arm.CodeServiceUnavailable, "%s", unavailable.ClientMessage(""))
	default:
		return arm.Errorf(http.StatusInternalServerError, arm.CodeInternalServerError,
			"The server hit an internal error; the request id in x-ms-request-id identifies it in the server log.")
	}
}

// unavailableRetryAfter is the Retry-After, in seconds, of every 503 the API answers. ARM
// clients honour it on a 503 (azure-core and so az, azcore, mlfleet's own client), but each
// retries a bounded number of times (azure-core's retry_status 3, azcore's MaxRetries 3,
// mlfleet's 4) and then shows the error, so the value is how long a user waits per retry
// before reading what to do. A 503 here is a store that cannot take writes (or does not
// answer, for /readyz): that lasts until the operator frees space or points the server at
// a writable database, seconds at best, never a fraction of one, so 1 s (what an operation
// in progress sends) would only multiply refused writes; 5 s lets a fix made meanwhile
// succeed on the retry while the user learns within about 15-20 s when it was not made.
const unavailableRetryAfter = "5"

// loggerKey is the context key of the API server's logger.
type loggerKey struct{}

// withLogger returns ctx carrying log, for the functions that serve errors (writeError).
func withLogger(ctx context.Context, log *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, log)
}

// loggerFrom returns the logger withLogger put in ctx, else slog.Default().
func loggerFrom(ctx context.Context) *slog.Logger {
	if log, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return log
	}
	return slog.Default()
}

// armTime is how ARM's messages spell a UTC time (.NET's general date-time pattern).
const armTime = "1/2/2006 3:04:05 PM"

// writeError serves err as an ARM error body, with its code also in x-ms-error-code, where
// the Go SDK reads it. Only 5xx answers are logged as errors: a 4xx is the client's to fix,
// and its answer says how.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae := toARM(err)
	// An unexpected error's answer names the request id, the key to its full text in the
	// server log; an arm.Error's own message is kept, as it was written for the client.
	if id := w.Header().Get("x-ms-request-id"); ae.Code == arm.CodeInternalServerError && ae.Status == http.StatusInternalServerError && id != "" && !errors.As(err, new(*arm.Error)) {
		ae.Message = fmt.Sprintf("The server hit an internal error (request id %s, in the server log); retry the request, and report the id if it fails again.", id)
	}
	var unavailable *store.UnavailableError
	if id := w.Header().Get("x-ms-request-id"); id != "" && errors.As(err, &unavailable) {
		ae.Message = unavailable.ClientMessage("request id " + id)
	}
	if ae.Status >= 500 {
		loggerFrom(r.Context()).ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err,
			"requestId", w.Header().Get("x-ms-request-id"))
	}
	if ae.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", unavailableRetryAfter)
	}
	w.Header().Set("x-ms-error-code", ae.Code)
	writeJSON(w, ae.Status, arm.Body{Error: ae.Wire()})
}

// writeJSON answers v as JSON with status. HTML escaping is off: ARM bodies carry URLs and
// messages with & and <, which clients should read as written, not as \u0026.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if v != nil {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(v)
	}
}
