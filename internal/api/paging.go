package api

import (
	"cmp"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/resources"
)

// page reads where a list request's page starts and how long it is: $skiptoken (the
// nextLink's continuation, which ARM also spells $skipToken), $skip and $top. $top can only
// shrink a page below the server's page size, never grow it, so one request cannot ask for
// a whole large table. Within carries the caller's readable scopes, so that a caller with
// roles on some resource groups only pages through what it may read.
func (s *Server) page(r *http.Request) (resources.Page, error) {
	p := resources.Page{Top: s.cfg.PageSize, Within: readableWithin(r.Context())}
	q := r.URL.Query()
	if v := cmp.Or(q.Get("$skiptoken"), q.Get("$skipToken")); v != "" {
		after, err := decodeSkipToken(v)
		if err != nil {
			return p, err
		}
		p.After = after
	}
	if v := q.Get("$skip"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return p, arm.BadRequest(arm.CodeInvalidRequestContent, "The $skip parameter must be a non-negative integer, not '%s'.", v).WithTarget("$skip")
		}
		p.Skip = n
	}
	if v := q.Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return p, arm.BadRequest(arm.CodeInvalidRequestContent, "The $top parameter must be a positive integer, not '%s'.", v).WithTarget("$top")
		}
		p.Top = min(n, p.Top)
	}
	return p, nil
}

// encodeSkipToken is the $skiptoken of the page after the item with id last. A page
// continues after its last item's id, not at a count of items, so that items deleted or
// added before it do not shift the next page (an offset would skip or repeat items). The
// token is opaque to clients, as ARM's are: they follow the nextLink as given.
func encodeSkipToken(last string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(last))
}

// decodeSkipToken reads a $skiptoken of encodeSkipToken back into the id the page starts
// after; one this server could not have issued is a 400.
func decodeSkipToken(token string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || !utf8.Valid(b) || !strings.HasPrefix(strings.ToLower(string(b)), "/subscriptions/") {
		return "", arm.BadRequest(arm.CodeInvalidRequestContent, "The $skiptoken '%s' is not one this server issued; follow the nextLink as given.", token).WithTarget("$skiptoken")
	}
	return string(b), nil
}

// listBody is an ARM list page. NextLink is omitted on the last page.
type listBody struct {
	Value    any    `json:"value"`
	NextLink string `json:"nextLink,omitempty"`
}

// writePage serves one list page, with a nextLink to the next one when next, the id of the
// page's last item, is not "". The nextLink continues by $skiptoken alone: a $skip of this
// request was spent on this page.
func writePage(w http.ResponseWriter, r *http.Request, items any, next string) {
	body := listBody{Value: items}
	if next != "" {
		body.NextLink = nextLink(r, func(q url.Values) {
			q.Del("$skip")
			q.Del("$skipToken")
			q.Set("$skiptoken", encodeSkipToken(next))
		})
	}
	writeJSON(w, http.StatusOK, body)
}

// nextLink returns the absolute URL of the request r with its query changed by edit: the
// link to the next page of a list.
func nextLink(r *http.Request, edit func(q url.Values)) string {
	u := *r.URL
	q := u.Query()
	edit(q)
	u.RawQuery = q.Encode()
	return baseURL(r) + u.RequestURI()
}
