package arm

import (
	"net/http"
	"strconv"
	"strings"
)

// Preconditions are a request's conditional headers, as ARM honours them on PUT and DELETE.
type Preconditions struct {
	// IfMatch is the If-Match header: "" (none), "*" (the resource must exist) or the etag
	// the resource must have now.
	IfMatch string
	// IfNoneMatch is If-None-Match: *, which official clients send to create only: the
	// request must not change a resource that exists. Services answer it with a 409 that
	// says how to change the resource instead.
	IfNoneMatch bool
}

// ETag is the etag of a stored resource at version: it changes with every write. GET and
// PUT responses carry it in the ETag header and the body's etag field.
func ETag(version int64) string {
	return `"` + strconv.FormatInt(version, 10) + `"`
}

// CheckIfMatch returns a 412 PreconditionFailed when If-Match does not hold for a resource
// that exists with etag (or does not exist, when exists is false); nil otherwise. what
// names the resource in the message, e.g. "Compute 'myaks'".
func (p Preconditions) CheckIfMatch(what string, exists bool, etag string) error {
	switch {
	case p.IfMatch == "":
		return nil
	case !exists:
		return Errorf(http.StatusPreconditionFailed, CodePreconditionFailed,
			"%s does not exist, and the request's If-Match header needs it to: read it again, or send the request without If-Match to create it.", what)
	case p.IfMatch == "*":
		return nil
	}
	for _, tag := range strings.Split(p.IfMatch, ",") {
		if t := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(tag), "W/")); t == etag || t == strings.Trim(etag, `"`) {
			return nil
		}
	}
	return Errorf(http.StatusPreconditionFailed, CodePreconditionFailed,
		"%s has changed since it was read: its etag is %s, the request's If-Match is %s. Read it again (GET), then retry with the new etag.", what, etag, p.IfMatch)
}

// CheckIfMatchUntagged is CheckIfMatch for an existing resource that has no etag (resource
// groups, workspaces): If-Match: * holds, and any etag fails with a 412, since none can
// match, rather than being ignored.
func (p Preconditions) CheckIfMatchUntagged(what string) error {
	if p.IfMatch == "" || p.IfMatch == "*" {
		return nil
	}
	return Errorf(http.StatusPreconditionFailed, CodePreconditionFailed,
		"%s has no etag, so the request's If-Match %s cannot match: send If-Match: * or no If-Match.", what, p.IfMatch)
}
