package containerservice

import (
	"strings"
	"sync"
)

// keyedMutex is one mutex per key (a cluster id, any case), created on first use and
// dropped when nobody holds or waits for it, so that a server that ran thousands of
// clusters does not keep a mutex for each. It is per process only: it orders what this
// process does to a cluster, not what two replicas do.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyedLock
}

type keyedLock struct {
	mu      sync.Mutex
	waiters int
}

func newKeyedMutex() *keyedMutex { return &keyedMutex{locks: map[string]*keyedLock{}} }

// lock locks key and returns its unlock.
func (k *keyedMutex) lock(key string) (unlock func()) {
	key = strings.ToLower(key)
	k.mu.Lock()
	l, ok := k.locks[key]
	if !ok {
		l = &keyedLock{}
		k.locks[key] = l
	}
	l.waiters++
	k.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		k.mu.Lock()
		l.waiters--
		if l.waiters == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}
