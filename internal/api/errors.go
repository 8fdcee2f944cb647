package api

import (
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
// whose message hides internals; they are logged in full by the caller.
func toARM(err error) *arm.Error {
	var ae *arm.Error
	switch {
	case errors.As(err, &ae):
		if ae.Status == 0 {
			ae.Status = http.StatusBadRequest
		}
		if ae.AdditionalInfo == nil {
			ae.AdditionalInfo = []any{}
		}
		return ae
	case errors.Is(err, auth.ErrUnauthenticated):
		return arm.Errorf(http.StatusUnauthorized, arm.CodeAuthenticationFailed,
			"Authentication failed: send 'Authorization: Bearer <token>' with a valid, unexpired mlfleet token (see 'mlfleet account get-access-token', or sign in again).")
	case errors.Is(err, auth.ErrForbidden):
		return arm.Errorf(http.StatusForbidden, arm.CodeAuthorizationFailed,
			"The caller does not have authorization to perform this action; ask an Owner of the scope for a role assignment.")
	case errors.Is(err, store.ErrNotFound):
		return arm.NotFound(arm.CodeResourceNotFound, "The resource could not be found.")
	case errors.Is(err, store.ErrConflict):
		return arm.Conflict("The resource was changed by another request at the same time; retry the request.")
	default:
		return arm.Errorf(http.StatusInternalServerError, arm.CodeInternalServerError,
			"The server hit an internal error; the request id in x-ms-request-id identifies it in the server log.")
	}
}

// writeError serves err as an ARM error body.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae := toARM(err)
	if id := w.Header().Get("x-ms-request-id"); ae.Code == arm.CodeInternalServerError && ae.Status == http.StatusInternalServerError && id != "" && !errors.As(err, new(*arm.Error)) {
		ae.Message = fmt.Sprintf("The server hit an internal error (request id %s, in the server log); retry the request, and report the id if it fails again.", id)
	}
	if ae.Status >= 500 {
		slog.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err,
			"requestId", w.Header().Get("x-ms-request-id"))
	}
	w.Header().Set("x-ms-error-code", ae.Code)
	writeJSON(w, ae.Status, arm.Body{Error: ae.Wire()})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if v != nil {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(v)
	}
}
