package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runServe runs `mlfleet serve` with args on an empty home, a free port and a SQLite
// store unless args say otherwise. Every case here stops before the server listens; should
// one not, the server is stopped after a while rather than left serving.
func runServe(t *testing.T, args ...string) (stderr string, code int) {
	t.Helper()
	t.Setenv("MLFLEET_HOME", t.TempDir())
	t.Setenv("MLFLEET_STORE", "")
	t.Setenv("MLFLEET_SECRET_KEY", "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	err := Run(ctx, Streams{In: strings.NewReader(""), Out: &out, Err: &errb}, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...))
	return errb.String(), ExitCode(err)
}

// TestServeFlagErrors: serve refuses, as usage errors before it opens anything, a
// negative duration, or 0 for one whose default is not 0 (which the server would take for
// unset), a page size below 1, a token lifetime above the maximum, an --addr whose port no
// system has (without the hint of a port in use), and a --secret-key-file that is not
// there, with either store.
func TestServeFlagErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"negative health interval", []string{"--health-interval", "-5s"}, "--health-interval must be more than 0 (default 30s), not -5s"},
		{"negative lease", []string{"--lease-ttl", "-1m"}, "--lease-ttl must be more than 0 (default 15s), not -1m0s"},
		{"negative retention", []string{"--activity-log-retention", "-1h"}, "--activity-log-retention must be more than 0"},
		{"zero operation retention", []string{"--operation-retention", "0s"}, "--operation-retention must be more than 0 (default 168h0m0s), not 0s"},
		{"negative operation retention", []string{"--operation-retention", "-24h"}, "--operation-retention must be more than 0 (default 168h0m0s), not -24h0m0s"},
		{"negative step delay", []string{"--fault-step-delay", "-1s"}, "--fault-step-delay must be 0 or more, not -1s"},
		{"zero health interval", []string{"--health-interval", "0s"}, "--health-interval must be more than 0 (default 30s), not 0s"},
		{"zero lease", []string{"--lease-ttl", "0"}, "--lease-ttl must be more than 0 (default 15s), not 0s"},
		{"zero heartbeat", []string{"--replica-heartbeat-interval", "0s"}, "--replica-heartbeat-interval must be more than 0 (default 5s), not 0s"},
		{"zero sweep", []string{"--sweep-interval", "0s"}, "--sweep-interval must be more than 0 (default 1m0s), not 0s"},
		{"zero page size", []string{"--page-size", "0"}, "--page-size must be 1 or more (default 100), not 0"},
		{"negative page size", []string{"--page-size", "-1"}, "--page-size must be 1 or more (default 100), not -1"},
		{"token lifetime above the maximum", []string{"--token-lifetime", "48h"},
			"--token-lifetime 48h0m0s is longer than --token-max-lifetime 24h0m0s, which caps every token: lower --token-lifetime or raise --token-max-lifetime"},
		{"port too large", []string{"--addr", "127.0.0.1:99999"}, "invalid port 99999: a port is 0 (any free one) to 65535"},
		{"port not a number", []string{"--addr", "127.0.0.1:eighty"}, `invalid port "eighty"`},
		{"no port", []string{"--addr", "127.0.0.1"}, "--addr takes host:port"},
		{"missing key file with SQLite", []string{"--secret-key-file", "/nonexistent/key"}, "--secret-key-file: open /nonexistent/key: no such file or directory"},
		{"missing key file with PostgreSQL", []string{"--store", "postgres://mlfleet@127.0.0.1:1/none", "--secret-key-file", "/nonexistent/key"},
			"--secret-key-file: open /nonexistent/key: no such file or directory"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			errOut, code := runServe(t, tc.args...)
			if code != 2 || !strings.Contains(errOut, tc.want) || strings.Contains(errOut, "another mlfleet") {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, errOut, tc.want)
			}
		})
	}
}

// TestServeSecretKeyFileSQLite: with a SQLite store, a --secret-key-file that is there is
// said not to be used. The missing --quota-file stops the server right after.
func TestServeSecretKeyFileSQLite(t *testing.T) {
	key := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(key, []byte("a key of more than thirty-two characters\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	errOut, code := runServe(t, "--secret-key-file", key, "--quota-file", filepath.Join(t.TempDir(), "missing.json"))
	if code != 1 || !strings.Contains(errOut, "--secret-key-file is not used") || !strings.Contains(errOut, "missing.json") {
		t.Errorf("exit %d, stderr %q; want the key file said unused, then the quota file's error", code, errOut)
	}
}

// TestServeStoreKinds: --store is read before anything asks for the replica key: a SQLite
// file named by sqlite://PATH or a bare path is opened as SQLite (here in a directory that
// does not exist, so the start stops at the open), and a DSN of an unknown kind is a usage
// error that says which kinds there are. Only PostgreSQL needs the key.
func TestServeStoreKinds(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no", "such", "dir", "other.db")
	cases := []struct {
		name     string
		store    string
		wantCode int
		want     string
	}{
		{"sqlite URL", "sqlite://" + missing, 1, "open store: connect sqlite"},
		{"bare path", missing, 1, "open store: connect sqlite"},
		{"unknown scheme", "mysql://x", 2, `--store "mysql://x": parse dsn: unknown scheme "mysql", want postgres://, postgresql:// or sqlite://`},
		{"postgres without a key", "postgres://mlfleet@127.0.0.1:1/none", 1, "with a PostgreSQL store every replica needs the same secret key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			errOut, code := runServe(t, "--store", tc.store)
			if code != tc.wantCode || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errOut, tc.wantCode, tc.want)
			}
			if !strings.HasPrefix(tc.store, "postgres") && strings.Contains(errOut, "secret key") {
				t.Errorf("stderr %q asks a non-PostgreSQL store for the replica key", errOut)
			}
		})
	}
}

// TestServeReadOnlyStore: a SQLite store that cannot be written (here the connection is
// read-only, PRAGMA query_only, as a file the serving user may not write is) stops the
// start with the file's path and the fix, not SQLite's bare "attempt to write a readonly
// database".
func TestServeReadOnlyStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mlfleet.db")
	errOut, code := runServe(t, "--store", path+"?_pragma=query_only(1)")
	for _, want := range []string{"store " + path + " is read-only", "make " + path + " and its directory writable by the user running mlfleet serve"} {
		if code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("exit %d, stderr %q; want exit 1 and %q", code, errOut, want)
		}
	}
}

// TestServeRelativeStore: a relative SQLite path given to --store, as sqlite://PATH or a
// bare path, is a file in the data directory, as the default mlfleet.db is, not in the
// directory serve was started from. The missing --versions-file stops the start right
// after the store was opened (and so created).
func TestServeRelativeStore(t *testing.T) {
	for _, tc := range []struct{ name, store, file string }{
		{"sqlite URL", "sqlite://relative.db", "relative.db"},
		{"bare path", "sub/../other.db", "other.db"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wd, home := t.TempDir(), t.TempDir()
			t.Chdir(wd)
			missing := filepath.Join(wd, "missing.json")
			errOut, code := runServe(t, "--data-dir", home, "--store", tc.store, "--versions-file", missing)
			if code != 1 || !strings.Contains(errOut, "missing.json") {
				t.Fatalf("exit %d, stderr %q; want exit 1 and the versions file's error", code, errOut)
			}
			if _, err := os.Stat(filepath.Join(home, tc.file)); err != nil {
				t.Errorf("store %s is not in the data directory: %v", tc.store, err)
			}
			if _, err := os.Stat(filepath.Join(wd, tc.file)); err == nil {
				t.Errorf("store %s was made in the working directory %s", tc.store, wd)
			}
		})
	}
}
