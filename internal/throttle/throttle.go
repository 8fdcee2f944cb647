// Package throttle limits how many API requests a caller may make, as Azure Resource
// Manager does: a token bucket per principal, subscription and kind of request (reads are
// GET and HEAD, writes everything else). A bucket holds at most Burst tokens and refills at
// PerHour tokens an hour; a request takes one token, and a request that finds the bucket
// empty is refused with the time until the next token (the API answers it 429 with
// Retry-After).
//
// Memory is bounded: a bucket that has refilled to full is the same as no bucket and is
// dropped by the next sweep, so only callers active in the last Burst/rate seconds hold
// one; a principal keeps at most MaxSubscriptions buckets per kind (a caller naming ever
// new subscriptions shares one overflow bucket instead of getting a fresh burst each
// time), and the whole Limiter at most MaxBuckets (beyond which new keys share one
// overflow bucket per kind until sweeps free room).
package throttle

import (
	"fmt"
	"math"
	"sync"
	"time"
)

// Kind says which of a caller's buckets a request draws from.
type Kind int

// Kinds of requests.
const (
	// Reads are GET and HEAD requests.
	Reads Kind = iota
	// Writes are every other method (PUT, PATCH, DELETE, POST).
	Writes
)

// String returns "reads" or "writes", as ARM's x-ms-ratelimit-remaining-* headers say.
func (k Kind) String() string {
	if k == Reads {
		return "reads"
	}
	return "writes"
}

// KindOf returns the kind of a request made with this HTTP method.
func KindOf(method string) Kind {
	if method == "GET" || method == "HEAD" {
		return Reads
	}
	return Writes
}

// Limit is one token bucket's shape.
type Limit struct {
	// PerHour is how many tokens the bucket regains an hour; 0 means unlimited.
	PerHour int
	// Burst is how many tokens a full bucket holds, i.e. how many requests a caller idle
	// long enough may make at once; 0 means PerHour/36 (100 seconds of refill), at least 1.
	Burst int
}

// unlimited reports whether the limit lets everything through.
func (l Limit) unlimited() bool { return l.PerHour <= 0 }

// BurstSize returns how many tokens a full bucket holds: Burst, or its default.
func (l Limit) BurstSize() int {
	if l.Burst > 0 {
		return l.Burst
	}
	return max(1, l.PerHour/36)
}

func (l Limit) burst() float64 { return float64(l.BurstSize()) }

// String describes the limit, e.g. "1200 an hour, 33 at once" or "unlimited".
func (l Limit) String() string {
	if l.unlimited() {
		return "unlimited"
	}
	return fmt.Sprintf("%d an hour, %d at once", l.PerHour, l.BurstSize())
}

// ratePerSecond is the refill rate in tokens a second.
func (l Limit) ratePerSecond() float64 { return float64(l.PerHour) / 3600 }

// Config is a Limiter's limits. Zero values mean the documented defaults.
type Config struct {
	// Reads limits GET and HEAD requests per principal and subscription.
	Reads Limit
	// Writes limits every other request per principal and subscription.
	Writes Limit
	// MaxSubscriptions is how many subscriptions a principal has buckets for at once;
	// beyond, its requests share one overflow bucket per kind. 0 means 64.
	MaxSubscriptions int
	// MaxBuckets bounds the buckets kept in all; beyond, new keys share one overflow bucket
	// per kind until full buckets are swept. 0 means 100000 (a few MiB).
	MaxBuckets int
}

// Key names one bucket.
type Key struct {
	// Principal identifies the caller.
	Principal string
	// Subscription is the subscription id the request names ("" for tenant-wide requests
	// such as listing subscriptions). Callers lower-case it, so that the spellings of one
	// subscription share a bucket.
	Subscription string
	// Kind is reads or writes.
	Kind Kind
}

// overflow is the Subscription of the bucket a principal's requests share once it has
// MaxSubscriptions buckets; "*" is no subscription id.
const overflow = "*"

// Decision is the answer to one request.
type Decision struct {
	// Allowed is false when the request must be refused.
	Allowed bool
	// Limited is false when the kind is unlimited (Remaining is then meaningless).
	Limited bool
	// Remaining is how many more requests the bucket allows now (after this one).
	Remaining int
	// RetryAfter, when the request is refused, is how long until a token is available.
	RetryAfter time.Duration
}

type bucket struct {
	tokens float64
	at     time.Time // when tokens was computed
}

// Limiter hands out tokens. It is safe for concurrent use.
type Limiter struct {
	cfg Config
	now func() time.Time

	mu      sync.Mutex
	buckets map[Key]*bucket
	// perPrincipal counts each principal's subscription buckets per kind.
	perPrincipal map[principalKind]int
	// takes counts Take calls since the last sweep.
	takes int
}

type principalKind struct {
	principal string
	kind      Kind
}

// Option configures New.
type Option func(*Limiter)

// WithClock makes the Limiter read the time from now (tests).
func WithClock(now func() time.Time) Option { return func(l *Limiter) { l.now = now } }

// New returns a Limiter with cfg's limits.
func New(cfg Config, opts ...Option) *Limiter {
	if cfg.MaxSubscriptions <= 0 {
		cfg.MaxSubscriptions = 64
	}
	if cfg.MaxBuckets <= 0 {
		cfg.MaxBuckets = 100000
	}
	l := &Limiter{cfg: cfg, now: time.Now, buckets: map[Key]*bucket{}, perPrincipal: map[principalKind]int{}}
	for _, o := range opts {
		o(l)
	}
	return l
}

// Limit returns the limit of a kind.
func (l *Limiter) Limit(k Kind) Limit { return l.limit(k) }

func (l *Limiter) limit(k Kind) Limit {
	if k == Reads {
		return l.cfg.Reads
	}
	return l.cfg.Writes
}

// sweepEvery is how many Take calls pass between sweeps of full buckets (a sweep also runs
// whenever the map is at MaxBuckets).
const sweepEvery = 4096

// Take takes a token for one request from key's bucket and says whether the request may
// proceed.
func (l *Limiter) Take(key Key) Decision {
	lim := l.limit(key.Kind)
	if lim.unlimited() {
		return Decision{Allowed: true}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.takes++
	if l.takes >= sweepEvery {
		l.sweep(now)
	}
	b := l.bucketFor(key, lim, now)
	l.refill(b, lim, now)
	if b.tokens >= 1 {
		b.tokens--
		return Decision{Allowed: true, Limited: true, Remaining: int(b.tokens)}
	}
	wait := time.Duration((1 - b.tokens) / lim.ratePerSecond() * float64(time.Second))
	return Decision{Limited: true, RetryAfter: wait}
}

// bucketFor returns key's bucket, making it (full) when there is none, or the overflow
// bucket that key shares when its principal or the Limiter has no room for another.
func (l *Limiter) bucketFor(key Key, lim Limit, now time.Time) *bucket {
	if b, ok := l.buckets[key]; ok {
		return b
	}
	pk := principalKind{key.Principal, key.Kind}
	if key.Subscription != overflow && l.perPrincipal[pk] >= l.cfg.MaxSubscriptions {
		return l.bucketFor(Key{Principal: key.Principal, Subscription: overflow, Kind: key.Kind}, lim, now)
	}
	if len(l.buckets) >= l.cfg.MaxBuckets {
		l.sweep(now)
		if len(l.buckets) >= l.cfg.MaxBuckets {
			shared := Key{Subscription: overflow, Kind: key.Kind}
			if b, ok := l.buckets[shared]; ok {
				return b
			}
			// The shared bucket may exceed MaxBuckets by one per kind.
			key = shared
		}
	}
	b := &bucket{tokens: lim.burst(), at: now}
	l.buckets[key] = b
	if key.Subscription != overflow {
		l.perPrincipal[pk]++
	}
	return b
}

// refill adds the tokens b regained since it was last looked at, up to the burst.
func (l *Limiter) refill(b *bucket, lim Limit, now time.Time) {
	if d := now.Sub(b.at); d > 0 {
		b.tokens = math.Min(lim.burst(), b.tokens+d.Seconds()*lim.ratePerSecond())
	}
	b.at = now
}

// sweep drops the buckets that are full again: they are the same as no bucket.
func (l *Limiter) sweep(now time.Time) {
	l.takes = 0
	for key, b := range l.buckets {
		lim := l.limit(key.Kind)
		l.refill(b, lim, now)
		if b.tokens < lim.burst() {
			continue
		}
		delete(l.buckets, key)
		if key.Subscription != overflow {
			pk := principalKind{key.Principal, key.Kind}
			if l.perPrincipal[pk]--; l.perPrincipal[pk] <= 0 {
				delete(l.perPrincipal, pk)
			}
		}
	}
}

// Len returns how many buckets the Limiter holds (for tests and metrics).
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
