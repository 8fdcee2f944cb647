package store

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
)

// IsPostgres reports whether dsn (as Open takes it) names a PostgreSQL database rather than
// a SQLite file. A DSN Open refuses for its form (an unknown scheme, an empty SQLite path)
// is an error here too, without connecting.
func IsPostgres(dsn string) (bool, error) {
	postgres, _, _, err := parseDSN(dsn)
	return postgres, err
}

// parseDSN splits dsn into what it names: a PostgreSQL URL (postgres true), or a SQLite
// file's path and the driver parameters that follow it.
func parseDSN(dsn string) (postgres bool, path, params string, err error) {
	scheme, rest, hasScheme := strings.Cut(dsn, "://")
	switch {
	case hasScheme && (scheme == "postgres" || scheme == "postgresql"):
		return true, "", "", nil
	case hasScheme && scheme != "sqlite":
		return false, "", "", fmt.Errorf("parse dsn: unknown scheme %q, want postgres://, postgresql:// or sqlite://", scheme)
	}
	path = dsn
	if hasScheme {
		path = rest
	}
	path, params, _ = strings.Cut(path, "?")
	if path == "" {
		return false, "", "", fmt.Errorf("parse sqlite dsn %q: empty path", dsn)
	}
	return false, path, params, nil
}

// ResolveSQLite returns dsn with a relative SQLite path made absolute in dir (a server's
// data directory), so that which file a server uses does not depend on the directory it was
// started from. A PostgreSQL URL, an absolute path and SQLite's special names (":memory:",
// "file:" URIs) are returned as they are; a DSN Open refuses for its form is an error.
func ResolveSQLite(dsn, dir string) (string, error) {
	postgres, path, params, err := parseDSN(dsn)
	if err != nil {
		return "", err
	}
	if postgres || filepath.IsAbs(path) || strings.HasPrefix(path, ":") || strings.HasPrefix(path, "file:") {
		return dsn, nil
	}
	abs, err := filepath.Abs(filepath.Join(dir, path))
	if err != nil {
		return "", fmt.Errorf("resolve sqlite path %s in %s: %w", path, dir, err)
	}
	if params != "" {
		return "sqlite://" + abs + "?" + params, nil
	}
	return "sqlite://" + abs, nil
}

// Describe names the database dsn is for a person: sqlite:///abs/path for a SQLite file
// (without driver parameters), or the PostgreSQL URL with its password, in the user
// information or a password parameter, replaced by "xxxxx". It never returns a password.
func Describe(dsn string) string {
	postgres, path, _, err := parseDSN(dsn)
	switch {
	case err != nil:
		return "an unusable store DSN"
	case !postgres:
		if abs, err := filepath.Abs(path); err == nil && !strings.HasPrefix(path, ":") && !strings.HasPrefix(path, "file:") {
			path = abs
		}
		return "sqlite://" + path
	}
	u, err := url.Parse(dsn)
	if err != nil {
		// Without the URL's parts the password cannot be told apart: name only the kind.
		return "a PostgreSQL database (its URL does not parse)"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// SQLiteFile returns the absolute path of the file a SQLite dsn names; false for a
// PostgreSQL URL, an in-memory database and a DSN Open refuses.
func SQLiteFile(dsn string) (string, bool) {
	postgres, path, _, err := parseDSN(dsn)
	path = strings.TrimPrefix(path, "file:")
	if err != nil || postgres || path == "" || strings.HasPrefix(path, ":") {
		return "", false
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", false
	}
	return abs, true
}
