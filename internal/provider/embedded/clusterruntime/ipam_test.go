package clusterruntime

import (
	"errors"
	"net/netip"
	"testing"
)

func TestAddressPool(t *testing.T) {
	p, err := newAddressPool(netip.MustParsePrefix("10.240.0.0/29"), 4)
	if err != nil {
		t.Fatal(err)
	}
	// 10.240.0.0/29: .0-.3 reserved, .7 broadcast: .4, .5, .6 assignable.
	a, _ := p.assign("a")
	b, _ := p.assign("b")
	again, _ := p.assign("a")
	if a != netip.MustParseAddr("10.240.0.4") || b != netip.MustParseAddr("10.240.0.5") || again != a {
		t.Errorf("assign: a=%s b=%s a again=%s", a, b, again)
	}
	if err := p.claim("c", netip.MustParseAddr("10.240.0.5")); !errors.Is(err, ErrAddressUnavailable) {
		t.Errorf("claim of a taken address = %v, want ErrAddressUnavailable", err)
	}
	if err := p.claim("c", netip.MustParseAddr("10.241.0.5")); !errors.Is(err, ErrAddressUnavailable) {
		t.Errorf("claim outside the prefix = %v, want ErrAddressUnavailable", err)
	}
	if err := p.claim("c", netip.MustParseAddr("10.240.0.6")); err != nil {
		t.Errorf("claim of a free address: %v", err)
	}
	if _, err := p.assign("d"); !errors.Is(err, ErrAddressesExhausted) {
		t.Errorf("assign in a full pool = %v, want ErrAddressesExhausted", err)
	}
	p.release("a")
	if d, err := p.assign("d"); err != nil || d != a {
		t.Errorf("assign after release = %s, %v, want %s", d, err, a)
	}

	// assignFrom starts at an offset and wraps around.
	q, _ := newAddressPool(netip.MustParsePrefix("198.18.0.0/30"), 1) // .1, .2 assignable
	x, _ := q.assignFrom("x", 1)
	y, _ := q.assignFrom("y", 1)
	if x != netip.MustParseAddr("198.18.0.2") || y != netip.MustParseAddr("198.18.0.1") {
		t.Errorf("assignFrom: x=%s y=%s", x, y)
	}
}

func TestSubnetPool(t *testing.T) {
	p, err := newSubnetPool(netip.MustParsePrefix("10.244.0.0/16"), 24)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.claim("old", netip.MustParsePrefix("10.244.0.0/24")); err != nil {
		t.Fatal(err)
	}
	n, _ := p.assign("new")
	if n != netip.MustParsePrefix("10.244.1.0/24") {
		t.Errorf("assign = %s, want 10.244.1.0/24", n)
	}
	if err := p.claim("other", netip.MustParsePrefix("10.244.1.0/24")); !errors.Is(err, ErrAddressUnavailable) {
		t.Errorf("claim of a taken subnet = %v", err)
	}
	p.release("old")
	if got, _ := p.assign("third"); got != netip.MustParsePrefix("10.244.0.0/24") {
		t.Errorf("assign after release = %s", got)
	}
}
