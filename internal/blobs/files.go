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
)

// Files keeps each blob as a file <dir>/<first two hex digits>/<digest>.
type Files struct {
	dir   string
	limit int64
}

var _ Store = (*Files)(nil)

// NewFiles returns a Store over dir (created 0700 when missing); maxSize <= 0 means
// DefaultMaxSize.
func NewFiles(dir string, maxSize int64) (*Files, error) {
	if maxSize <= 0 {
		maxSize = DefaultMaxSize
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create blob directory: %w", err)
	}
	return &Files{dir: dir, limit: maxSize}, nil
}

func (s *Files) path(digest string) string { return filepath.Join(s.dir, digest[:2], digest) }

// Put stores r's content as a file, renamed into place once complete and synced.
func (s *Files) Put(ctx context.Context, r io.Reader) (Info, error) {
	f, info, err := spool(s.dir, r, s.limit)
	if err != nil {
		return Info{}, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := os.Stat(s.path(info.Digest)); err == nil {
		if err := Verify(ctx, s, info.Digest); !errors.Is(err, ErrCorrupt) {
			return info, err
		}
	}
	if err := failpoint.Hit("blobs/put/before"); err != nil {
		return Info{}, err
	}
	if err := f.Sync(); err != nil {
		return Info{}, fmt.Errorf("store blob %s: %w", info.Digest, err)
	}
	if err := os.MkdirAll(filepath.Dir(s.path(info.Digest)), 0o700); err != nil {
		return Info{}, fmt.Errorf("store blob %s: %w", info.Digest, err)
	}
	if err := os.Rename(f.Name(), s.path(info.Digest)); err != nil {
		return Info{}, fmt.Errorf("store blob %s: %w", info.Digest, err)
	}
	return info, failpoint.Hit("blobs/put/after")
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
