package blobs

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/failpoint"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
)

// versionType is a row type whose bodies name blobs, as asset versions do.
const versionType = "Microsoft.MachineLearningServices/workspaces/models/versions"

// collectStack is an Uploads over one content store with its Collector, whose clock runs
// an hour ahead so that all content is past the grace period.
type collectStack struct {
	st      store.Store
	content Store
	u       *Uploads
	c       *Collector
}

func newCollectStack(t *testing.T, im impl) *collectStack {
	st := im.rows(t)
	content := im.open(t, 1<<20)
	u := NewUploads(st, content)
	c := NewCollector(u, CollectorConfig{NamedBy: []string{versionType},
		Now: func() time.Time { return time.Now().Add(time.Hour) }})
	return &collectStack{st: st, content: content, u: u, c: c}
}

// upload uploads content to workspace ws.
func (s *collectStack) upload(t *testing.T, ws string, content []byte) Info {
	t.Helper()
	info, err := s.u.In(ws).Put(context.Background(), bytes.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// forget deletes the upload row of digest in ws, as the workspace's delete does.
func (s *collectStack) forget(t *testing.T, ws, digest string) {
	t.Helper()
	if err := s.st.DeleteResource(context.Background(), uploadID(ws, digest), 0); err != nil {
		t.Fatal(err)
	}
}

// unnamed uploads content to workspace ws and deletes its upload row, so that no upload
// names the content and the next collection removes it; it returns the content's digest.
func (s *collectStack) unnamed(t *testing.T, ws string, content []byte) string {
	t.Helper()
	d := s.upload(t, ws, content).Digest
	s.forget(t, ws, d)
	return d
}

// forgetOneOfTwo uploads two contents to ws1 and forgets the second, which a collection is
// then to remove; it returns both, and the second's digest.
func (s *collectStack) forgetOneOfTwo(t *testing.T) (kept, gone []byte, d string) {
	t.Helper()
	kept, gone = []byte("still uploaded"), []byte("no longer uploaded")
	s.upload(t, ws1, kept)
	return kept, gone, s.unnamed(t, ws1, gone)
}

// finishes checks what an interrupted collection left and that the next one finishes its
// work: blob d is stored whole or not at all, then removed, and ws1 reads kept throughout.
func (s *collectStack) finishes(t *testing.T, d string, kept []byte) {
	t.Helper()
	s.stored(t, d) // whole or absent
	s.readable(t, ws1, kept)
	if _, err := s.c.Collect(context.Background()); err != nil {
		t.Fatalf("the next collection: %v", err)
	}
	if s.stored(t, d) {
		t.Fatal("the next collection left the blob")
	}
	s.readable(t, ws1, kept)
}

// collect runs a collection and checks what it removed.
func (s *collectStack) collect(t *testing.T, want Collected) {
	t.Helper()
	got, err := s.c.Collect(context.Background())
	if err != nil || got != want {
		t.Fatalf("Collect = %+v, %v; want %+v", got, err, want)
	}
}

// stored reports whether the content store holds digest, failing on any error but
// ErrNotFound: a blob is there whole or not at all.
func (s *collectStack) stored(t *testing.T, digest string) bool {
	t.Helper()
	err := Verify(context.Background(), s.content, digest)
	if err != nil && !errors.Is(err, ErrNotFound) {
		t.Fatalf("read blob %s: %v", digest, err)
	}
	return err == nil
}

// readable checks that workspace ws reads content.
func (s *collectStack) readable(t *testing.T, ws string, content []byte) {
	t.Helper()
	if err := Verify(context.Background(), s.u.In(ws), digestOf(content)); err != nil {
		t.Fatalf("read the blob in %s: %v", ws, err)
	}
}

// TestCollect: over every content store, content is removed once no upload row names it
// and it is older than the grace period, unless a row of a NamedBy type names it; a second
// collection removes nothing; uploading removed content again stores it again.
func TestCollect(t *testing.T) {
	ctx := context.Background()
	forEachImpl(t, "", func(t *testing.T, im impl) {
		s := newCollectStack(t, im)
		shared := []byte("uploaded to two workspaces")
		d := s.upload(t, ws1, shared).Digest
		s.upload(t, ws2, shared)
		s.collect(t, Collected{})

		s.forget(t, ws1, d)
		s.collect(t, Collected{})
		s.readable(t, ws2, shared)

		s.forget(t, ws2, d)
		s.collect(t, Collected{Blobs: 1, Bytes: int64(len(shared))})
		if s.stored(t, d) {
			t.Fatal("the blob no upload names is still stored")
		}
		s.collect(t, Collected{})

		// Content no row ever named (uploaded before upload rows, or a crash before
		// the row) goes too, once past the grace period.
		orphan := []byte("stored without a row")
		if _, err := s.content.Put(ctx, bytes.NewReader(orphan)); err != nil {
			t.Fatal(err)
		}
		graceful := NewCollector(s.u, CollectorConfig{})
		if got, err := graceful.Collect(ctx); err != nil || got != (Collected{}) {
			t.Fatalf("Collect within the grace period = %+v, %v; want nothing removed", got, err)
		}
		if !s.stored(t, digestOf(orphan)) {
			t.Fatal("content within the grace period was removed")
		}
		// ... unless an asset version names it (versions made before upload rows).
		legacy := []byte("named by an old asset version")
		if _, err := s.content.Put(ctx, bytes.NewReader(legacy)); err != nil {
			t.Fatal(err)
		}
		version := &store.Resource{ID: ws1 + "/models/m/versions/1", ParentID: ws1 + "/models/m", Type: versionType, Name: "1",
			Body: []byte(`{"properties":{"modelUri":"` + URIPrefix + digestOf(legacy) + `/model.pkl"}}`)}
		if err := s.st.CreateResource(ctx, version); err != nil {
			t.Fatal(err)
		}
		s.collect(t, Collected{Blobs: 1, Bytes: int64(len(orphan))})
		if s.stored(t, digestOf(orphan)) || !s.stored(t, digestOf(legacy)) {
			t.Fatal("want the orphan removed and the content an asset version names kept")
		}

		s.upload(t, ws1, shared)
		s.readable(t, ws1, shared)
	})
}

// pause makes s's uploads and collections stop at the first hit of point until the
// returned release is called; reached is closed when they get there.
func (s *collectStack) pause(point string) (reached <-chan struct{}, release func()) {
	at, resume := make(chan struct{}), make(chan struct{})
	var once sync.Once
	s.u.hook = func(name string) {
		if name != point {
			return
		}
		once.Do(func() {
			close(at)
			<-resume
		})
	}
	return at, sync.OnceFunc(func() { close(resume) })
}

// inBackground runs f on a goroutine of its own; its error comes on the channel.
func inBackground(f func() error) <-chan error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	return done
}

// pausedAt runs f in the background and returns once s's uploads and collections have
// reached point (see pause), where they wait until release, which the test's end calls
// too; f's error comes on done.
func (s *collectStack) pausedAt(t *testing.T, point string, f func() error) (done <-chan error, release func()) {
	reached, release := s.pause(point)
	t.Cleanup(release)
	done = inBackground(f)
	<-reached
	return done, release
}

// TestCollectRaces runs an upload of content the collector is about to remove, in both
// orders the blob's lock allows, over every content store: the upload either keeps the
// content or stores it again, and its workspace reads it afterwards.
func TestCollectRaces(t *testing.T) {
	ctx := context.Background()
	content := []byte("uploaded again while collected")
	forEachImpl(t, "/collected first", func(t *testing.T, im impl) {
		// The upload finds the content stored, then the collector removes it before the
		// upload takes the lock: the upload stores it again.
		s := newCollectStack(t, im)
		s.unnamed(t, ws1, content)
		done, release := s.pausedAt(t, "blobs/upload/lock/before", func() error {
			_, err := s.u.In(ws2).Put(ctx, bytes.NewReader(content))
			return err
		})
		s.collect(t, Collected{Blobs: 1, Bytes: int64(len(content))})
		release()
		if err := <-done; err != nil {
			t.Fatalf("the upload: %v", err)
		}
		s.readable(t, ws2, content)
		s.collect(t, Collected{})
		s.readable(t, ws2, content)
	})
	forEachImpl(t, "/upload first", func(t *testing.T, im impl) {
		// The collector finds the content unnamed, then the upload records a row before
		// the collector takes the lock: the collector keeps it.
		s := newCollectStack(t, im)
		s.unnamed(t, ws1, content)
		var got Collected
		done, release := s.pausedAt(t, "blobs/collect/decide/before", func() (err error) {
			got, err = s.c.Collect(ctx)
			return err
		})
		s.upload(t, ws2, content)
		release()
		if err := <-done; err != nil || got != (Collected{}) {
			t.Fatalf("Collect = %+v, %v; want nothing removed", got, err)
		}
		s.readable(t, ws2, content)
	})
	forEachImpl(t, "/upload during removal", func(t *testing.T, im impl) {
		// The collector holds the lock and is removing the content while the upload
		// starts: whichever way they interleave, the upload's row names stored content.
		s := newCollectStack(t, im)
		s.unnamed(t, ws1, content)
		done, release := s.pausedAt(t, "blobs/collect/remove/after", func() error {
			_, err := s.c.Collect(ctx)
			return err
		})
		uploaded := inBackground(func() error {
			_, err := s.u.In(ws2).Put(ctx, bytes.NewReader(content))
			return err
		})
		release()
		if err := <-done; err != nil {
			t.Fatalf("Collect: %v", err)
		}
		if err := <-uploaded; err != nil {
			t.Fatalf("the upload: %v", err)
		}
		s.readable(t, ws2, content)
		s.collect(t, Collected{})
		s.readable(t, ws2, content)
	})
}

// TestCollectInterrupted: a collection that fails (or crashes) at any point of a blob's
// removal leaves the blob stored whole or removed, and its upload rows as they were; the
// next collection finishes the work, and uploading the content again works.
func TestCollectInterrupted(t *testing.T) {
	ctx := context.Background()
	points := []string{"blobs/collect/decide/before", "blobs/collect/remove/before", "blobs/collect/remove/after",
		"store/DeleteBlob/before", "store/commit/*/before", "store/commit/*/after"}
	for _, point := range points {
		forEachImpl(t, "/"+point, func(t *testing.T, im impl) {
			s := newCollectStack(t, im)
			kept, gone, d := s.forgetOneOfTwo(t)
			if err := failpoint.Arm(point + "=error"); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = failpoint.Arm("") })
			_, err := s.c.Collect(ctx)
			if err := failpoint.Arm(""); err != nil {
				t.Fatal(err)
			}
			// Files are not in the database: no DeleteBlob there.
			fires := im.name != "files" || point != "store/DeleteBlob/before"
			if fires && !errors.Is(err, failpoint.ErrInjected) || !fires && err != nil {
				t.Fatalf("Collect with %s armed: %v", point, err)
			}
			s.finishes(t, d, kept)
			s.upload(t, ws2, gone)
			s.readable(t, ws2, gone)
		})
	}
}

// crashHelperEnv holds, for TestCollectCrashHelper, the impl to collect: name, dsn, dir
// and a spool directory, separated by newlines. The killed helper runs no cleanup, so every
// directory it uses is one its parent test made and removes.
const crashHelperEnv = "MLFLEET_TEST_BLOBS_CRASH"

// TestCollectCrash kills a collection (failpoint crash: exit 137, no deferred function,
// no rollback but the database's own) between deciding to remove a blob and removing it,
// and after removing it before the commit: the blob is stored whole or not at all, the
// content still uploaded is untouched, and the next collection finishes the work.
func TestCollectCrash(t *testing.T) {
	ctx := context.Background()
	for _, point := range []string{"blobs/collect/remove/before", "blobs/collect/remove/after"} {
		forEachImpl(t, "/"+point, func(t *testing.T, im impl) {
			s := newCollectStack(t, im)
			kept, _, d := s.forgetOneOfTwo(t)

			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCollectCrashHelper$", "-test.count=1")
			cmd.Env = append(os.Environ(), failpoint.EnvSpec+"="+point+"=crash",
				crashHelperEnv+"="+strings.Join([]string{im.name, im.dsn, im.dir, t.TempDir()}, "\n"))
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 137 || !strings.Contains(string(out), "failpoint: crash at "+point) {
				t.Fatalf("the collection did not crash at %s: %v\n%s", point, err, out)
			}

			s.finishes(t, d, kept)
		})
	}
}

// TestCollectCrashHelper is the process TestCollectCrash kills: it collects the stores
// crashHelperEnv names, with the failpoints of the environment armed.
func TestCollectCrashHelper(t *testing.T) {
	spec := os.Getenv(crashHelperEnv)
	if spec == "" {
		t.Skip("run by TestCollectCrash")
	}
	parts := strings.Split(spec, "\n")
	name, dsn, dir, spool := parts[0], parts[1], parts[2], parts[3]
	if err := failpoint.FromEnv(); err != nil {
		t.Fatal(err)
	}
	st := storetest.Open(t, dsn)
	var content Store = NewDatabase(st.(store.BlobStore), spool, 0)
	if name == "files" {
		files, err := NewFiles(dir, 0)
		if err != nil {
			t.Fatal(err)
		}
		content = files
	}
	c := NewCollector(NewUploads(st, content), CollectorConfig{Now: func() time.Time { return time.Now().Add(time.Hour) }})
	got, err := c.Collect(context.Background())
	t.Fatalf("Collect = %+v, %v; want a crash", got, err)
}
