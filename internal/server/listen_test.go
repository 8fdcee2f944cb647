package server

import (
	"net"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/testutil"
)

// TestListenAPIErrors: a listen that fails says why in words the user can act on: the
// hint of another mlfleet only for a port in use, and an address that is not this
// machine's named so.
func TestListenAPIErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cases := []struct {
		name, addr string
		want       string
	}{
		{"port in use", busy.Addr().String(), "is another mlfleet serving?"},
		// 192.0.2.1 is TEST-NET-1 (RFC 5737): no machine has it.
		{"address of another machine", "192.0.2.1:443", "192.0.2.1 is not an address of this machine"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := listenAPI(t.TempDir(), tc.addr)
			if err == nil {
				ln.Close()
			}
			testutil.WantErr(t, err, tc.want)
			if tc.name != "port in use" && strings.Contains(err.Error(), "another mlfleet") {
				t.Errorf("error %q gives the hint of a port in use", err)
			}
		})
	}
}
