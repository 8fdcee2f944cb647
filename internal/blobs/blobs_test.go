package blobs

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
)

// impl is one Store under the contract, with a way to damage a stored blob.
type impl struct {
	name    string
	open    func(t *testing.T, limit int64) Store
	corrupt func(t *testing.T, digest string)
	// rows is the store for upload rows to use with it: the Database's own store, a
	// SQLite file of its own for Files.
	rows func(t *testing.T) store.Store
	// dsn is where rows is, dir where Files keep blobs ("" for a Database): how another
	// process opens the same stores.
	dsn, dir string
}

func impls(t *testing.T) []impl {
	var list []impl
	for _, name := range implNames() {
		list = append(list, newImpl(t, name))
	}
	return list
}

// implNames names the impls to test: files, sqlite, and postgres when
// MLFLEET_TEST_POSTGRES is set.
func implNames() []string {
	names := []string{"files", "sqlite"}
	if os.Getenv("MLFLEET_TEST_POSTGRES") != "" {
		names = append(names, "postgres")
	}
	return names
}

// newImpl returns the impl called name, over a new directory or database.
func newImpl(t *testing.T, name string) impl {
	switch name {
	case "files":
		dir, rowsPath := t.TempDir(), filepath.Join(t.TempDir(), "rows.db")
		var rows store.Store
		return impl{
			name: "files",
			open: func(t *testing.T, limit int64) Store {
				s, err := NewFiles(dir, limit)
				if err != nil {
					t.Fatal(err)
				}
				return s
			},
			corrupt: func(t *testing.T, digest string) {
				p := filepath.Join(dir, digest[:2], digest)
				if err := os.WriteFile(p, []byte("tampered"), 0o600); err != nil {
					t.Fatal(err)
				}
			},
			rows: func(t *testing.T) store.Store {
				if rows == nil {
					rows = storetest.Open(t, rowsPath)
				}
				return rows
			},
			dsn: rowsPath,
			dir: dir,
		}
	case "sqlite":
		sqlitePath := filepath.Join(t.TempDir(), "blobs.db")
		return databaseImpl(t, "sqlite", sqlitePath, "sqlite", sqlitePath)
	}
	schemaDSN := storetest.Schema(t, os.Getenv("MLFLEET_TEST_POSTGRES"))
	return databaseImpl(t, "postgres", schemaDSN, "pgx", schemaDSN)
}

// forEachImpl runs fn in a subtest per impl, each over stores of its own.
func forEachImpl(t *testing.T, suffix string, fn func(t *testing.T, im impl)) {
	for _, name := range implNames() {
		t.Run(name+suffix, func(t *testing.T) { fn(t, newImpl(t, name)) })
	}
}

func databaseImpl(t *testing.T, name, dsn, driver, driverDSN string) impl {
	var st store.Store
	rows := func(t *testing.T) store.Store {
		if st == nil {
			var err error
			if st, err = store.Open(context.Background(), dsn); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
		}
		return st
	}
	return impl{
		name: name,
		rows: rows,
		dsn:  dsn,
		open: func(t *testing.T, limit int64) Store {
			return NewDatabase(rows(t).(store.BlobStore), t.TempDir(), limit)
		},
		corrupt: func(t *testing.T, digest string) {
			db, err := sql.Open(driver, driverDSN)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			q := `UPDATE blob_chunks SET data = ? WHERE digest = ? AND seq = 0`
			if driver == "pgx" {
				q = `UPDATE blob_chunks SET data = $1 WHERE digest = $2 AND seq = 0`
			}
			if _, err := db.Exec(q, []byte("tampered"), digest); err != nil {
				t.Fatal(err)
			}
		},
	}
}

func digestOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestStoreContract(t *testing.T) {
	ctx := context.Background()
	for _, im := range impls(t) {
		t.Run(im.name, func(t *testing.T) {
			s := im.open(t, 10<<20)
			// More than one database chunk, not a multiple of it.
			content := make([]byte, store.BlobChunkSize+12345)
			rand.Read(content)

			info, err := s.Put(ctx, bytes.NewReader(content))
			if err != nil {
				t.Fatal(err)
			}
			if info.Digest != digestOf(content) || info.Size != int64(len(content)) {
				t.Fatalf("Put = %+v, want digest %s size %d", info, digestOf(content), len(content))
			}
			if got, _, err := ParseURI(info.URI()); err != nil || got != info.Digest {
				t.Fatalf("ParseURI(%s) = %s, %v", info.URI(), got, err)
			}
			again, err := s.Put(ctx, bytes.NewReader(content))
			if err != nil || again != info {
				t.Fatalf("second Put = %+v, %v; want %+v", again, err, info)
			}
			if st, err := s.Stat(ctx, info.Digest); err != nil || st != info {
				t.Fatalf("Stat = %+v, %v", st, err)
			}
			rc, got, err := s.Open(ctx, info.Digest)
			if err != nil || got != info {
				t.Fatalf("Open = %+v, %v", got, err)
			}
			read, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || !bytes.Equal(read, content) {
				t.Fatalf("read back %d bytes, err %v; want the %d uploaded", len(read), err, len(content))
			}

			empty, err := s.Put(ctx, bytes.NewReader(nil))
			if err != nil || empty.Size != 0 || empty.Digest != digestOf(nil) {
				t.Fatalf("empty Put = %+v, %v", empty, err)
			}

			missing := digestOf([]byte("never uploaded"))
			if _, err := s.Stat(ctx, missing); !errors.Is(err, ErrNotFound) {
				t.Errorf("Stat of a missing blob: %v, want ErrNotFound", err)
			}
			if _, _, err := s.Open(ctx, missing); !errors.Is(err, ErrNotFound) {
				t.Errorf("Open of a missing blob: %v, want ErrNotFound", err)
			}
			if _, err := s.Stat(ctx, "../../etc/passwd"); !errors.Is(err, ErrNotFound) {
				t.Errorf("Stat of a bad digest: %v, want ErrNotFound", err)
			}

			small := im.open(t, 100)
			_, err = small.Put(ctx, bytes.NewReader(make([]byte, 101)))
			var tl *TooLargeError
			if !errors.As(err, &tl) || tl.Limit != 100 {
				t.Fatalf("Put over the limit: %v, want TooLargeError{100}", err)
			}
			over := make([]byte, 101)
			if _, err := s.Stat(ctx, digestOf(over)); !errors.Is(err, ErrNotFound) {
				t.Errorf("a refused upload was stored: %v", err)
			}
			if _, err := small.Put(ctx, bytes.NewReader(make([]byte, 100))); err != nil {
				t.Errorf("Put of exactly the limit: %v", err)
			}

			im.corrupt(t, info.Digest)
			rc, _, err = s.Open(ctx, info.Digest)
			if err == nil {
				_, err = io.ReadAll(rc)
				rc.Close()
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("reading a tampered blob: %v, want ErrCorrupt", err)
			}
			// Uploading the content again repairs it.
			if _, err := s.Put(ctx, bytes.NewReader(content)); err != nil {
				t.Fatal(err)
			}
			if err := Verify(ctx, s, info.Digest); err != nil {
				t.Fatalf("after uploading again: %v", err)
			}
		})
	}
}

func TestConcurrentPuts(t *testing.T) {
	ctx := context.Background()
	for _, im := range impls(t) {
		t.Run(im.name, func(t *testing.T) {
			s := im.open(t, 1<<20)
			content := []byte("the same model, uploaded by many at once")
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := s.Put(ctx, bytes.NewReader(content))
					errs <- err
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Error(err)
				}
			}
			rc, _, err := s.Open(ctx, digestOf(content))
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			if b, err := io.ReadAll(rc); err != nil || !bytes.Equal(b, content) {
				t.Fatalf("read %q, %v", b, err)
			}
		})
	}
}

func TestParseURI(t *testing.T) {
	good := URIPrefix + digestOf([]byte("x"))
	for name, tc := range map[string]struct {
		uri string
		ok  bool
	}{
		"valid":     {good, true},
		"file":      {good + "/model.pkl", true},
		"dotdot":    {good + "/..", false},
		"nested":    {good + "/a/b", false},
		"emptyname": {good + "/", false},
		"http":      {"https://example.com/model.pkl", false},
		"short":     {URIPrefix + "abc", false},
		"uppercase": {URIPrefix + "ABCDEF" + digestOf(nil)[6:], false},
		"empty":     {"", false},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := ParseURI(tc.uri)
			if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrInvalidURI)) {
				t.Fatalf("ParseURI(%q) = %v, want ok=%v", tc.uri, err, tc.ok)
			}
		})
	}
}

// TestSpooledCopiesRemoved: the spooled copies a crash left in a store's directory go when
// the store is made again; the blobs and anything else there stay.
func TestSpooledCopiesRemoved(t *testing.T) {
	leave := func(t *testing.T, dir string, names ...string) {
		for _, n := range names {
			if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	left := func(t *testing.T, dir string) []string {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return names
	}
	t.Run("files", func(t *testing.T) {
		dir := t.TempDir()
		s, err := NewFiles(dir, 0)
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Put(t.Context(), bytes.NewReader([]byte("a model")))
		if err != nil {
			t.Fatal(err)
		}
		leave(t, dir, spoolPrefix+"123", "notes.txt")
		if _, err := NewFiles(dir, 0); err != nil {
			t.Fatal(err)
		}
		if got, want := left(t, dir), []string{info.Digest[:2], "notes.txt"}; !slices.Equal(got, want) {
			t.Errorf("left in the blob directory: %v, want %v", got, want)
		}
	})
	t.Run("database", func(t *testing.T) {
		dir := t.TempDir()
		leave(t, dir, spoolPrefix+"123", spoolPrefix+"456", "notes.txt")
		NewDatabase(storetest.Open(t, filepath.Join(t.TempDir(), "rows.db")).(store.BlobStore), dir, 0)
		if got, want := left(t, dir), []string{"notes.txt"}; !slices.Equal(got, want) {
			t.Errorf("left in the spool directory: %v, want %v", got, want)
		}
	})
}
