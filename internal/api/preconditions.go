package api

import (
	"net/http"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
)

// preconditions reads the If-Match and If-None-Match headers of a PUT or DELETE. If-Match
// is passed on as sent (the service compares it with the resource's etag). If-None-Match
// is honoured only as "*", create only, as ARM does; any other value is refused rather
// than ignored, so that no client believes a condition was checked when it was not.
func preconditions(r *http.Request) (arm.Preconditions, error) {
	pre := arm.Preconditions{IfMatch: headerValue(r, "If-Match")}
	switch v := headerValue(r, "If-None-Match"); v {
	case "":
	case "*":
		pre.IfNoneMatch = true
	default:
		return arm.Preconditions{}, arm.BadRequest(arm.CodeInvalidRequestContent,
			"The If-None-Match header '%s' is not supported: only If-None-Match: * is (create only: fail if the resource exists). To change the resource only if nobody changed it since you read it, send its etag in If-Match instead.", v).
			WithTarget("If-None-Match")
	}
	return pre, nil
}

// headerValue returns every value of a header as one comma-separated list ("" when
// absent). Several If-Match lines mean the same as one with a list (RFC 9110 5.3), so a
// client that splits them is compared the same way.
func headerValue(r *http.Request, name string) string {
	return strings.TrimSpace(strings.Join(r.Header.Values(name), ", "))
}

// setETag sends a resource's etag in the ETag header, when it has one.
func setETag(w http.ResponseWriter, etag string) {
	if etag != "" {
		w.Header().Set("ETag", etag)
	}
}
