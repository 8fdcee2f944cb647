package clientconfig

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzLoad feeds Load arbitrary config files: a bad one is an error naming the file, never
// a panic, and a good one can be saved and loaded again unchanged.
// Run with: go test -run='^$' -fuzz='^FuzzLoad$' -fuzztime=60s ./internal/clientconfig
func FuzzLoad(f *testing.F) {
	for _, s := range []string{
		`{"server": "https://127.0.0.1:8443", "subscription": "s1", "caFile": "ca.pem", "tokenFile": "token", "defaults": {"group": "rg"}}`,
		`{"server": "x", "login": {"servicePrincipal": true, "username": "app", "accessToken": "t", "expiresOn": "2026-11-30T00:00:00Z"}}`,
		`{"login": {"expiresOn": "not a time"}}`, `{"login": null}`, `{"defaults": {"group": 1}}`, ``, `null`, `[]`, `{} {}`, "\xef\xbb\xbf{}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		home := t.TempDir()
		if err := os.WriteFile(filepath.Join(home, FileName), b, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(home)
		if err != nil {
			if errors.Is(err, ErrNoConfig) || !strings.Contains(err.Error(), filepath.Join(home, FileName)) {
				t.Fatalf("Load: %v; want an error naming the file", err)
			}
			return
		}
		if c.Login != nil {
			c.Login.Expired(time.Now())
		}
		if c.Token != "" || c.Login != nil || c.TokenFile == "" {
			_, _ = c.ReadToken() // not from TokenFile, which may name anything (/dev/zero)
		}
		if err := Save(home, c); err != nil {
			t.Fatalf("Save of a loaded config: %v", err)
		}
		if _, err := Load(home); err != nil {
			t.Fatalf("Load of a saved config: %v", err)
		}
	})
}
