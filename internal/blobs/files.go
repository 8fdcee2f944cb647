package blobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/mlfleet/mlfleet/internal/failpoint"
	"github.com/mlfleet/mlfleet/internal/store"
)

// Files keeps each blob as a file <dir>/<first two hex digits>/<digest>.
type Files struct {
	dir   string
	limit int64
}

var _ Store = (*Files)(nil)

// NewFiles returns a Store over dir (created 0700 when missing), the store's alone: the
// spooled copies a crash left in it are removed. maxSize <= 0 means DefaultMaxSize.
func NewFiles(dir string, maxSize int64) (*Files, error) {
	if maxSize <= 0 {
		maxSize = DefaultMaxSize
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create blob directory: %w", err)
	}
	removeSpooled(dir)
	return &Files{dir: dir, limit: maxSize}, nil
}

func (s *Files) path(digest string) string { return filepath.Join(s.dir, digest[:2], digest) }

// Put stores r's content as a file, renamed into place once complete and synced.
func (s *Files) Put(ctx context.Context, r io.Reader) (Info, error) {
	p, err := s.prepare(ctx, r)
	if err != nil {
		return Info{}, err
	}
	defer p.close()
	// No lock: content stored without a row is the Collector's once past its grace
	// period, whoever stored it.
	return p.info(), p.store(ctx, nil)
}

// Stat returns the blob's Info from its file, or ErrNotFound.
func (s *Files) Stat(ctx context.Context, digest string) (Info, error) {
	if !ValidDigest(digest) {
		return Info{}, fmt.Errorf("%w: %q is not a SHA-256 digest", ErrNotFound, digest)
	}
	st, err := os.Stat(s.path(digest))
	if errors.Is(err, fs.ErrNotExist) {
		return Info{}, fmt.Errorf("%w: %s", ErrNotFound, digest)
	}
	if err != nil {
		return Info{}, fmt.Errorf("stat blob %s: %w", digest, err)
	}
	return Info{Digest: digest, Size: st.Size()}, nil
}

// Open opens the blob's file behind a digest check.
func (s *Files) Open(ctx context.Context, digest string) (io.ReadCloser, Info, error) {
	info, err := s.Stat(ctx, digest)
	if err != nil {
		return nil, Info{}, err
	}
	f, err := os.Open(s.path(digest))
	if err != nil {
		return nil, Info{}, fmt.Errorf("open blob %s: %w", digest, err)
	}
	return newVerifier(f, f, info), info, nil
}

var _ collectable = (*Files)(nil)

// prepare spools r under dir, to be renamed into place, and checks whether the content is
// stored intact already (reading it, which is why it happens before the lock).
func (s *Files) prepare(ctx context.Context, r io.Reader) (pendingPut, error) {
	f, info, err := spool(s.dir, r, s.limit)
	if err != nil {
		return nil, err
	}
	p := &filePut{s: s, f: f, in: info}
	if _, err := os.Stat(s.path(info.Digest)); err == nil {
		err := Verify(ctx, s, info.Digest)
		if err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNotFound) {
			p.close()
			return nil, err
		}
		p.intact = err == nil
	}
	return p, nil
}

// filePut is content spooled to a file of the blob directory.
type filePut struct {
	s  *Files
	f  *os.File
	in Info
	// intact is true when the content was found stored and intact before the lock.
	intact bool
	// renamed is true once the spooled file became the blob.
	renamed bool
}

func (p *filePut) info() Info { return p.in }

// store renames the spooled file into place unless the content was found intact and is
// still there (the Collector may have removed it since). tx, which holds the blob's lock,
// is not used: the file is not in it.
func (p *filePut) store(ctx context.Context, tx store.Store) error {
	_, err := os.Stat(p.s.path(p.in.Digest))
	switch {
	case err == nil && (p.intact || p.renamed):
		return nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("store blob %s: %w", p.in.Digest, err)
	case p.renamed:
		// Renamed by an attempt of this transaction that was rolled back, then removed:
		// the spooled copy is gone.
		return fmt.Errorf("store blob %s: removed while it was being recorded; upload it again", p.in.Digest)
	}
	if err := failpoint.Hit("blobs/put/before"); err != nil {
		return err
	}
	if err := p.f.Sync(); err != nil {
		return fmt.Errorf("store blob %s: %w", p.in.Digest, err)
	}
	if err := os.MkdirAll(filepath.Dir(p.s.path(p.in.Digest)), 0o700); err != nil {
		return fmt.Errorf("store blob %s: %w", p.in.Digest, err)
	}
	if err := os.Rename(p.f.Name(), p.s.path(p.in.Digest)); err != nil {
		return fmt.Errorf("store blob %s: %w", p.in.Digest, err)
	}
	p.renamed = true
	return failpoint.Hit("blobs/put/after")
}

func (p *filePut) close() {
	p.f.Close()
	if !p.renamed {
		os.Remove(p.f.Name())
	}
}

// each lists the blob files, with their modification time as the time they were stored
// (a blob's file is written once, by the rename that stores it).
func (s *Files) each(ctx context.Context, fn func(store.Blob) error) error {
	dirs, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("list blobs: %w", err)
	}
	for _, d := range dirs {
		if !d.IsDir() || len(d.Name()) != 2 {
			continue
		}
		files, err := os.ReadDir(filepath.Join(s.dir, d.Name()))
		if err != nil {
			return fmt.Errorf("list blobs: %w", err)
		}
		for _, f := range files {
			if !f.Type().IsRegular() || !ValidDigest(f.Name()) || f.Name()[:2] != d.Name() {
				continue
			}
			fi, err := f.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return fmt.Errorf("list blobs: %w", err)
			}
			if err := fn(store.Blob{Digest: f.Name(), Size: fi.Size(), CreatedAt: fi.ModTime().UTC()}); err != nil {
				return err
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// remove deletes the blob's file; tx holds the lock, the file is not in it.
func (s *Files) remove(ctx context.Context, tx store.Store, digest string) (bool, error) {
	err := os.Remove(s.path(digest))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("remove blob %s: %w", digest, err)
	}
	return true, nil
}
