package server

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// TestWarnPublicAddress: a replica of a PostgreSQL store started without --public-address
// warns, on its output and in its log, that the kubeconfigs it hands out name its own
// address and stop working when another replica takes the cluster over, and says to pass
// --public-address; with --public-address, or a SQLite store (one server), it does not.
func TestWarnPublicAddress(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sqlite bool
		public string
		warn   bool
	}{
		{name: "postgres without public address", warn: true},
		{name: "postgres with public address", public: "lb.example.com:8443"},
		{name: "sqlite", sqlite: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, logs bytes.Buffer
			warnPublicAddress(&out, slog.New(slog.NewTextHandler(&logs, nil)), tc.sqlite, tc.public, "127.0.0.1:18611")
			if !tc.warn {
				if out.Len() > 0 || logs.Len() > 0 {
					t.Errorf("warned: %s %s", out.String(), logs.String())
				}
				return
			}
			for _, w := range []string{"WARNING: with a PostgreSQL store and no --public-address",
				"name its address (https://127.0.0.1:18611)", "stop working when another replica takes the cluster over",
				"Pass --public-address ADDR, an address every replica answers at (a load balancer"} {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output %q does not say %q", out.String(), w)
				}
			}
			if !strings.Contains(logs.String(), "level=WARN") {
				t.Errorf("log %q has no warning", logs.String())
			}
		})
	}
}
