package api

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/auth"
	"github.com/mlfleet/mlfleet/internal/throttle"
)

// callerID identifies the authenticated caller of ctx for request limits and the activity
// log.
func callerID(ctx context.Context) string {
	return auth.PrincipalFrom(ctx).ID
}

// subscriptionOf returns the subscription id a request path names, or "" for a path
// outside any subscription (/subscriptions itself, /mlfleet/...).
func subscriptionOf(path string) string {
	segs := split(path)
	if len(segs) < 2 || !strings.EqualFold(segs[0], "subscriptions") {
		return ""
	}
	return segs[1]
}

// admit takes a token for the request from its caller's bucket and sets ARM's
// x-ms-ratelimit-remaining-{subscription|tenant}-{reads|writes} header. A request that
// finds the bucket empty is answered 429 TooManyRequests with Retry-After, and admit
// returns false. Call it after authentication, so that only known callers have buckets.
func (s *Server) admit(w http.ResponseWriter, r *http.Request) bool {
	if s.cfg.Limiter == nil {
		return true
	}
	// Subscription ids are case-insensitive: one bucket however the client spells it.
	sub := subscriptionOf(r.URL.Path)
	key := throttle.Key{Principal: callerID(r.Context()), Subscription: strings.ToLower(sub), Kind: throttle.KindOf(r.Method)}
	d := s.cfg.Limiter.Take(key)
	// An unlimited kind sends no x-ms-ratelimit-remaining header: there is no count to
	// report, and a made-up one would mislead a client that paces itself by it.
	if !d.Limited {
		return true
	}
	// ARM names the header after where the bucket lives: a subscription's, or the
	// tenant's for calls outside any subscription.
	scope := "subscription"
	if sub == "" {
		scope = "tenant"
	}
	w.Header().Set("x-ms-ratelimit-remaining-"+scope+"-"+key.Kind.String(), strconv.Itoa(d.Remaining))
	if d.Allowed {
		return true
	}
	s.metrics.throttled.WithLabelValues(key.Kind.String()).Inc()
	// Whole seconds, rounded up and at least 1: Retry-After: 0 would invite an immediate
	// retry that is throttled again.
	secs := max(int(math.Ceil(d.RetryAfter.Seconds())), 1)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	where := "outside any subscription"
	if sub != "" {
		where = "in subscription '" + sub + "'"
	}
	writeError(w, r, arm.Errorf(http.StatusTooManyRequests, arm.CodeTooManyRequests,
		"The request is throttled: '%s' has used up its %s %s (limit for %s: %s). Please try again after '%d' seconds.",
		auth.PrincipalFrom(r.Context()).Name, key.Kind, where, key.Kind, s.cfg.Limiter.Limit(key.Kind), secs))
	return false
}
