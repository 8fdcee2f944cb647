package server

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/clientconfig"
	"github.com/mlfleet/mlfleet/internal/store"
)

// TestBannerHome: the banner's first CLI command works as printed. With a home that is not
// the default (serve --data-dir D) that needs MLFLEET_HOME=D, so 'export MLFLEET_HOME=D'
// (quoted for the shell) comes before it; with the default home nothing is exported.
func TestBannerHome(t *testing.T) {
	user := t.TempDir()
	t.Setenv("HOME", user)
	cases := []struct {
		name, home, wantExport string
	}{
		{"default home", filepath.Join(user, ".mlfleet"), ""},
		{"data dir", filepath.Join(user, "h-x"), "  export MLFLEET_HOME=" + filepath.Join(user, "h-x") + "\n"},
		{"data dir with a space", filepath.Join(user, "my home"), "  export MLFLEET_HOME='" + filepath.Join(user, "my home") + "'\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			writeBanner(&out, "https://127.0.0.1:8443", tc.home, "sqlite://"+filepath.Join(tc.home, dbFile), &clientconfig.Config{
				CAFile: filepath.Join(tc.home, "pki", "ca.crt"), Subscription: "sub", Tenant: "tenant"})
			got := out.String()
			try := strings.Index(got, "try 'mlfleet group create")
			if try < 0 {
				t.Fatalf("banner has no first command:\n%s", got)
			}
			export := strings.Index(got, "export MLFLEET_HOME")
			switch {
			case tc.wantExport == "" && export >= 0:
				t.Errorf("banner of the default home exports MLFLEET_HOME:\n%s", got)
			case tc.wantExport != "" && (!strings.Contains(got, tc.wantExport) || export > try):
				t.Errorf("banner does not have %q before its first command:\n%s", tc.wantExport, got)
			}
		})
	}
}

// TestBannerStore: the banner says which store the server uses, so that a user who passed
// --store can confirm it: a SQLite file by its absolute path, wherever --store named it
// from, a PostgreSQL URL without its password.
func TestBannerStore(t *testing.T) {
	home := t.TempDir()
	for _, tc := range []struct{ name, dsn, want string }{
		{"relative SQLite file", "sqlite://relative.db", "  store:        sqlite://" + filepath.Join(home, "relative.db") + "\n"},
		{"default SQLite file", "", "  store:        sqlite://" + filepath.Join(home, dbFile) + "\n"},
		{"PostgreSQL", "postgres://mlfleet:s3cret@db:5432/mlfleet", "  store:        postgres://mlfleet:xxxxx@db:5432/mlfleet\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dsn, _, err := resolveStore(home, tc.dsn)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			writeBanner(&out, "https://127.0.0.1:8443", home, store.Describe(dsn), &clientconfig.Config{
				CAFile: filepath.Join(home, "pki", "ca.crt"), Subscription: "sub", Tenant: "tenant"})
			if got := out.String(); !strings.Contains(got, tc.want) || strings.Contains(got, "s3cret") {
				t.Errorf("banner does not have %q (or shows the password):\n%s", tc.want, got)
			}
		})
	}
}
