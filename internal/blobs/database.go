package blobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/mlfleet/mlfleet/internal/store"
)

// Database keeps blobs in the store's tables (store.BlobStore), in chunks.
type Database struct {
	db     store.BlobStore
	limit  int64
	tmpDir string
}

var _ Store = (*Database)(nil)

// NewDatabase returns a Store over db; uploads are spooled in tmpDir ("" = os.TempDir);
// maxSize <= 0 means DefaultMaxSize.
func NewDatabase(db store.BlobStore, tmpDir string, maxSize int64) *Database {
	if maxSize <= 0 {
		maxSize = DefaultMaxSize
	}
	return &Database{db: db, limit: maxSize, tmpDir: tmpDir}
}

// Put spools r, then writes its chunks in one transaction.
func (s *Database) Put(ctx context.Context, r io.Reader) (Info, error) {
	f, info, err := spool(s.tmpDir, r, s.limit)
	if err != nil {
		return Info{}, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := s.Stat(ctx, info.Digest); err == nil {
		err := Verify(ctx, s, info.Digest)
		if !errors.Is(err, ErrCorrupt) {
			return info, err
		}
		if err := s.db.DeleteBlob(ctx, info.Digest); err != nil {
			return Info{}, fmt.Errorf("replace corrupt blob %s: %w", info.Digest, err)
		}
	}
	if err := s.db.PutBlob(ctx, info.Digest, info.Size, f); err != nil {
		return Info{}, fmt.Errorf("store blob %s: %w", info.Digest, err)
	}
	return info, nil
}

// Stat returns the blob's Info, or ErrNotFound.
func (s *Database) Stat(ctx context.Context, digest string) (Info, error) {
	if !ValidDigest(digest) {
		return Info{}, fmt.Errorf("%w: %q is not a SHA-256 digest", ErrNotFound, digest)
	}
	size, _, err := s.db.BlobInfo(ctx, digest)
	if errors.Is(err, store.ErrNotFound) {
		return Info{}, fmt.Errorf("%w: %s", ErrNotFound, digest)
	}
	if err != nil {
		return Info{}, err
	}
	return Info{Digest: digest, Size: size}, nil
}

// Open reads the blob chunk by chunk behind a digest check.
func (s *Database) Open(ctx context.Context, digest string) (io.ReadCloser, Info, error) {
	if !ValidDigest(digest) {
		return nil, Info{}, fmt.Errorf("%w: %q is not a SHA-256 digest", ErrNotFound, digest)
	}
	size, chunks, err := s.db.BlobInfo(ctx, digest)
	if errors.Is(err, store.ErrNotFound) {
		return nil, Info{}, fmt.Errorf("%w: %s", ErrNotFound, digest)
	}
	if err != nil {
		return nil, Info{}, err
	}
	info := Info{Digest: digest, Size: size}
	cr := &chunkReader{ctx: ctx, db: s.db, digest: digest, chunks: chunks}
	return newVerifier(cr, nil, info), info, nil
}

// chunkReader reads a blob's chunks in order, one query each.
type chunkReader struct {
	ctx    context.Context
	db     store.BlobStore
	digest string
	chunks int
	next   int
	buf    []byte
}

func (c *chunkReader) Read(p []byte) (int, error) {
	for len(c.buf) == 0 {
		if c.next >= c.chunks {
			return 0, io.EOF
		}
		b, err := c.db.BlobChunk(c.ctx, c.digest, c.next)
		if errors.Is(err, store.ErrNotFound) {
			return 0, fmt.Errorf("%w: blob %s misses chunk %d; upload the content again", ErrCorrupt, c.digest, c.next)
		}
		if err != nil {
			return 0, err
		}
		c.buf, c.next = b, c.next+1
	}
	n := copy(p, c.buf)
	c.buf = c.buf[n:]
	return n, nil
}
