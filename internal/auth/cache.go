package auth

import (
	"sync"
	"time"
)

// DefaultCacheTTL is how long a checked token is trusted without reading the store again.
const DefaultCacheTTL = time.Second

// cacheLimit bounds the cached tokens; a full cache is emptied and fills again.
const cacheLimit = 10_000

// tokenCache remembers the principal of each token checked in the last TTL, so that a
// client's burst of requests costs one store read a second instead of one a request (the
// read was a quarter of the server's CPU per GET). Changes made through the Authenticator
// empty it at once; a change it cannot see (another replica's, a resource group's delete
// taking its role assignments with it) shows after at most the TTL.
type tokenCache struct {
	ttl time.Duration // 0: nothing is cached
	mu  sync.Mutex
	m   map[string]cachedPrincipal
	// gen counts forgets. A check reads it before the store and caches its answer only if
	// no forget came in between, so an answer read before a change never outlives it.
	gen uint64
}

type cachedPrincipal struct {
	p     *Principal
	until time.Time
}

// get returns the principal cached for the token hash at now, if any, and the generation
// to give put after reading the store. Principals are never changed once built, so the
// cached one is shared.
func (c *tokenCache) get(hash string, now time.Time) (*Principal, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[hash]; ok && now.Before(e.until) {
		return e.p, c.gen
	}
	return nil, c.gen
}

// put caches p for the token hash from now, for the TTL or until the token expires, unless
// the cache was emptied since get returned gen.
func (c *tokenCache) put(hash string, p *Principal, now time.Time, gen uint64) {
	if c.ttl <= 0 {
		return
	}
	until := now.Add(c.ttl)
	if !p.ExpiresAt.IsZero() && p.ExpiresAt.Before(until) {
		until = p.ExpiresAt
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.m == nil || len(c.m) >= cacheLimit {
		c.m = map[string]cachedPrincipal{}
	}
	c.m[hash] = cachedPrincipal{p: p, until: until}
}

// Forget empties the authenticator's token cache. Code that changes principals, tokens or
// role assignments in the store without the Authenticator calls it once the change is in.
func (a *Authenticator) Forget() { a.cache.forget() }

// forget empties the cache: a principal, a secret or a role assignment changed. It is
// called once the change is in the store.
func (c *tokenCache) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = nil
	c.gen++
}
