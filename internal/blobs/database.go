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

// NewDatabase returns a Store over db; uploads are spooled in tmpDir, the store's alone
// (the spooled copies a crash left in it are removed), or in os.TempDir when "";
// maxSize <= 0 means DefaultMaxSize.
func NewDatabase(db store.BlobStore, tmpDir string, maxSize int64) *Database {
	if maxSize <= 0 {
		maxSize = DefaultMaxSize
	}
	removeSpooled(tmpDir)
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

var _ collectable = (*Database)(nil)

// prepare spools r and checks whether a stored copy is corrupt (reading it, which is
// why it happens before the lock).
func (s *Database) prepare(ctx context.Context, r io.Reader) (pendingPut, error) {
	f, info, err := spool(s.tmpDir, r, s.limit)
	if err != nil {
		return nil, err
	}
	p := &databasePut{f: f, in: info}
	if _, err := s.Stat(ctx, info.Digest); err == nil {
		err := Verify(ctx, s, info.Digest)
		p.corrupt = errors.Is(err, ErrCorrupt)
		if err != nil && !p.corrupt && !errors.Is(err, ErrNotFound) {
			p.close()
			return nil, err
		}
	}
	return p, nil
}

// databasePut is content spooled to a temporary file.
type databasePut struct {
	f  *os.File
	in Info
	// corrupt is true when the stored copy was found corrupt before the lock.
	corrupt bool
}

func (p *databasePut) info() Info { return p.in }

// store writes the chunks in tx unless the blob is there (store.BlobStore.PutBlob),
// replacing a corrupt copy.
func (p *databasePut) store(ctx context.Context, tx store.Store) error {
	bs := tx.(store.BlobStore)
	if p.corrupt {
		if err := bs.DeleteBlob(ctx, p.in.Digest); err != nil {
			return fmt.Errorf("replace corrupt blob %s: %w", p.in.Digest, err)
		}
	}
	if err := bs.PutBlob(ctx, p.in.Digest, p.in.Size, p.f); err != nil {
		return fmt.Errorf("store blob %s: %w", p.in.Digest, err)
	}
	return nil
}

func (p *databasePut) close() {
	p.f.Close()
	os.Remove(p.f.Name())
}

// each lists the blobs a page at a time.
func (s *Database) each(ctx context.Context, fn func(store.Blob) error) error {
	const page = 1000
	after := ""
	for {
		list, err := s.db.ListBlobs(ctx, after, page)
		if err != nil {
			return err
		}
		for _, b := range list {
			if err := fn(*b); err != nil {
				return err
			}
		}
		if len(list) < page {
			return nil
		}
		after = list[len(list)-1].Digest
	}
}

// remove deletes the blob's rows in tx, which holds the lock (NewUploads made sure tx is
// a transaction of the store the blobs are in).
func (s *Database) remove(ctx context.Context, tx store.Store, digest string) (bool, error) {
	bs := tx.(store.BlobStore)
	if _, _, err := bs.BlobInfo(ctx, digest); errors.Is(err, store.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	if err := bs.DeleteBlob(ctx, digest); err != nil {
		return false, err
	}
	return true, nil
}
