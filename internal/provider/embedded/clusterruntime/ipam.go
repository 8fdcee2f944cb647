package clusterruntime

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"sync"
)

// addressPool hands out the IPv4 addresses of one prefix to owners (a node name, a pod UID,
// a Service UID). An owner holds at most one address; asking again returns the same one.
// The zero value is not usable; use newAddressPool. Methods are safe for concurrent use.
type addressPool struct {
	prefix      netip.Prefix
	first, last uint32 // assignable range, inclusive
	held        *holders[netip.Addr]
}

// newAddressPool returns a pool of prefix's addresses, skipping the first skipFirst
// addresses (the network address and whatever the network reserves, e.g. 4 in an Azure
// subnet) and, unless the prefix is a single address, the last one (broadcast).
func newAddressPool(prefix netip.Prefix, skipFirst int) (*addressPool, error) {
	if !prefix.Addr().Is4() {
		return nil, fmt.Errorf("%w: %s is not an IPv4 prefix", ErrInvalidOptions, prefix)
	}
	prefix = prefix.Masked()
	base := addrToUint32(prefix.Addr())
	size := uint64(1) << (32 - prefix.Bits())
	last := uint64(base) + size - 1
	if size > 2 {
		last-- // broadcast
	}
	first := uint64(base) + uint64(skipFirst)
	if first > last {
		return nil, fmt.Errorf("%w: %s is too small", ErrInvalidOptions, prefix)
	}
	return &addressPool{
		prefix: prefix,
		first:  uint32(first),
		last:   uint32(last),
		held:   newHolders[netip.Addr](),
	}, nil
}

// size is the number of assignable addresses.
func (p *addressPool) size() uint64 { return uint64(p.last-p.first) + 1 }

// assign returns owner's address, taking the lowest free one if owner has none yet.
func (p *addressPool) assign(owner string) (netip.Addr, error) {
	return p.assignFrom(owner, 0)
}

// assignFrom is assign that starts looking for a free address at the offset-th assignable
// address (modulo the pool size) and wraps around, so that callers who pick offset from a
// hash spread their owners over the pool instead of filling it from the bottom.
func (p *addressPool) assignFrom(owner string, offset uint64) (netip.Addr, error) {
	n := p.size()
	a, ok := p.held.take(owner, n, func(i uint64) netip.Addr { return uint32ToAddr(p.first + uint32((offset+i)%n)) })
	if !ok {
		return netip.Addr{}, fmt.Errorf("%w: every address of %s is in use", ErrAddressesExhausted, p.prefix)
	}
	return a, nil
}

// claim gives owner the address addr, the way an address already recorded in the cluster
// (after a restart) or asked for by a user is taken. It releases what owner held before.
// It fails if addr is outside the pool or held by another owner.
func (p *addressPool) claim(owner string, addr netip.Addr) error {
	if !addr.Is4() || !p.prefix.Contains(addr) {
		return fmt.Errorf("%w: %s is not in %s", ErrAddressUnavailable, addr, p.prefix)
	}
	if !p.held.claim(owner, addr) {
		return fmt.Errorf("%w: %s is in use", ErrAddressUnavailable, addr)
	}
	return nil
}

// lookup returns owner's address, if it has one.
func (p *addressPool) lookup(owner string) (netip.Addr, bool) { return p.held.lookup(owner) }

// contains tells whether addr belongs to the pool's prefix.
func (p *addressPool) contains(addr netip.Addr) bool { return p.prefix.Contains(addr) }

// release frees owner's address; it does nothing if owner has none.
func (p *addressPool) release(owner string) { p.held.release(owner) }

// subnetPool hands out equal-sized subnets of a prefix (the /24 pod range of each node out
// of the cluster's pod CIDR), lowest free first. Methods are safe for concurrent use.
type subnetPool struct {
	prefix netip.Prefix
	bits   int
	held   *holders[netip.Prefix]
}

func newSubnetPool(prefix netip.Prefix, bits int) (*subnetPool, error) {
	if !prefix.Addr().Is4() || bits < prefix.Bits() || bits > 30 {
		return nil, fmt.Errorf("%w: cannot split %s into /%d subnets", ErrInvalidOptions, prefix, bits)
	}
	return &subnetPool{prefix: prefix.Masked(), bits: bits, held: newHolders[netip.Prefix]()}, nil
}

// subnet returns the i-th subnet of the pool.
func (p *subnetPool) subnet(i uint64) netip.Prefix {
	base := addrToUint32(p.prefix.Addr()) + uint32(i)<<(32-p.bits)
	return netip.PrefixFrom(uint32ToAddr(base), p.bits)
}

// assign returns owner's subnet, taking the lowest free one if owner has none yet.
func (p *subnetPool) assign(owner string) (netip.Prefix, error) {
	s, ok := p.held.take(owner, uint64(1)<<(p.bits-p.prefix.Bits()), p.subnet)
	if !ok {
		return netip.Prefix{}, fmt.Errorf("%w: every /%d of %s is in use", ErrAddressesExhausted, p.bits, p.prefix)
	}
	return s, nil
}

// claim gives owner the subnet s (recorded in the cluster before a restart). It fails if s
// is not one of the pool's subnets or is held by another owner.
func (p *subnetPool) claim(owner string, s netip.Prefix) error {
	if s.Bits() != p.bits || !p.prefix.Contains(s.Addr()) || s.Masked() != s {
		return fmt.Errorf("%w: %s is not a /%d of %s", ErrAddressUnavailable, s, p.bits, p.prefix)
	}
	if !p.held.claim(owner, s) {
		return fmt.Errorf("%w: %s is in use", ErrAddressUnavailable, s)
	}
	return nil
}

// lookup returns owner's subnet, if it has one.
func (p *subnetPool) lookup(owner string) (netip.Prefix, bool) { return p.held.lookup(owner) }

// release frees owner's subnet; it does nothing if owner has none.
func (p *subnetPool) release(owner string) { p.held.release(owner) }

// holders records which owner holds which slot of a pool (an address, a subnet); an owner
// holds at most one slot. Methods are safe for concurrent use.
type holders[S comparable] struct {
	mu      sync.Mutex
	bySlot  map[S]string
	byOwner map[string]S
}

func newHolders[S comparable]() *holders[S] {
	return &holders[S]{bySlot: map[S]string{}, byOwner: map[string]S{}}
}

// take returns owner's slot or, if it has none, gives it the first free one of slot(0) to
// slot(n-1); false when they are all held.
func (h *holders[S]) take(owner string, n uint64, slot func(i uint64) S) (S, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s, ok := h.byOwner[owner]; ok {
		return s, true
	}
	for i := range n {
		s := slot(i)
		if _, taken := h.bySlot[s]; !taken {
			h.bySlot[s] = owner
			h.byOwner[owner] = s
			return s, true
		}
	}
	var none S
	return none, false
}

// claim gives owner the slot s, releasing what owner held before; false if another owner
// holds s.
func (h *holders[S]) claim(owner string, s S) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if holder, taken := h.bySlot[s]; taken {
		return holder == owner
	}
	if old, ok := h.byOwner[owner]; ok {
		delete(h.bySlot, old)
	}
	h.bySlot[s] = owner
	h.byOwner[owner] = s
	return true
}

// lookup returns owner's slot, if it has one.
func (h *holders[S]) lookup(owner string) (S, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s, ok := h.byOwner[owner]
	return s, ok
}

// release frees owner's slot; it does nothing if owner has none.
func (h *holders[S]) release(owner string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s, ok := h.byOwner[owner]; ok {
		delete(h.bySlot, s)
		delete(h.byOwner, owner)
	}
}

func addrToUint32(a netip.Addr) uint32 {
	b := a.As4()
	return binary.BigEndian.Uint32(b[:])
}

func uint32ToAddr(u uint32) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], u)
	return netip.AddrFrom4(b)
}
