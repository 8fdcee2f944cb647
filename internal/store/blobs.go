package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// BlobChunkSize is the size of the chunks a blob is stored in (the last one may be shorter).
const BlobChunkSize = 4 << 20

// BlobStore keeps content-addressed blobs in the database, in chunks. The SQL store
// implements it; internal/blobs builds its database-backed blob store on it.
type BlobStore interface {
	// PutBlob stores the size bytes r yields under digest, in one transaction. It is
	// idempotent: when a blob with this digest exists it reads nothing and returns nil. The
	// caller has checked that digest is the content's; the store does not. r is read from
	// its start (a retried transaction reads it again).
	PutBlob(ctx context.Context, digest string, size int64, r io.ReadSeeker) error
	// BlobInfo returns the size and chunk count of a blob, or ErrNotFound.
	BlobInfo(ctx context.Context, digest string) (size int64, chunks int, err error)
	// BlobChunk returns chunk seq (0-based) of a blob, or ErrNotFound.
	BlobChunk(ctx context.Context, digest string, seq int) ([]byte, error)
	// DeleteBlob removes a blob and its chunks (a corrupt one, before it is stored again,
	// or one no upload names any more). Idempotent: a missing blob is not an error.
	DeleteBlob(ctx context.Context, digest string) error
	// ListBlobs returns up to limit blobs (0: no cap) whose digest sorts after after ("":
	// from the first), ordered by digest: the pages of every stored blob.
	ListBlobs(ctx context.Context, after string, limit int) ([]*Blob, error)
}

// Blob describes a stored blob.
type Blob struct {
	// Digest is the lowercase hex SHA-256 of the content.
	Digest string
	// Size is the content's length in bytes.
	Size int64
	// CreatedAt is when the blob was stored (UTC, by the clock of the replica that stored
	// it).
	CreatedAt time.Time
}

var _ BlobStore = (*sqlStore)(nil)

// PutBlob stores a blob in chunks (see BlobStore).
func (s *sqlStore) PutBlob(ctx context.Context, digest string, size int64, r io.ReadSeeker) error {
	return s.InTx(ctx, func(tx Store) error {
		t := tx.(*sqlStore)
		// Concurrent uploads of the same content wait for each other here, and the later
		// ones then find the blob stored.
		if err := t.Lock(ctx, "blob/"+digest); err != nil {
			return err
		}
		if _, _, err := t.BlobInfo(ctx, digest); err == nil {
			return nil
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		if err := t.hit("PutBlob", "before"); err != nil {
			return fmt.Errorf("put blob %s: %w", digest, err)
		}
		if _, err := r.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("put blob %s: %w", digest, err)
		}
		buf := make([]byte, BlobChunkSize)
		var written int64
		seq := 0
		for written < size {
			n, err := io.ReadFull(r, buf[:min(int64(len(buf)), size-written)])
			if err != nil {
				return fmt.Errorf("put blob %s: read chunk %d: %w", digest, seq, err)
			}
			if _, err := t.exec(ctx, `INSERT INTO blob_chunks (digest, seq, data) VALUES (?, ?, ?)`, digest, seq, buf[:n]); err != nil {
				return fmt.Errorf("put blob %s: chunk %d: %w", digest, seq, err)
			}
			written += int64(n)
			seq++
		}
		if _, err := t.exec(ctx, `INSERT INTO blobs (digest, size, chunks, created_at) VALUES (?, ?, ?, ?)`,
			digest, size, seq, millis(now())); err != nil {
			return fmt.Errorf("put blob %s: %w", digest, err)
		}
		return t.hit("PutBlob", "after")
	})
}

// BlobInfo returns a blob's size and chunk count, or ErrNotFound.
func (s *sqlStore) BlobInfo(ctx context.Context, digest string) (int64, int, error) {
	var size int64
	var chunks int
	err := s.queryRow(ctx, `SELECT size, chunks FROM blobs WHERE digest = ?`, digest).Scan(&size, &chunks)
	if err != nil {
		return 0, 0, fmt.Errorf("get blob %s: %w", digest, s.d.translate(err))
	}
	return size, chunks, nil
}

// BlobChunk returns one chunk of a blob, or ErrNotFound.
func (s *sqlStore) BlobChunk(ctx context.Context, digest string, seq int) ([]byte, error) {
	var data []byte
	err := s.queryRow(ctx, `SELECT data FROM blob_chunks WHERE digest = ? AND seq = ?`, digest, seq).Scan(&data)
	if err != nil {
		return nil, fmt.Errorf("get blob %s chunk %d: %w", digest, seq, s.d.translate(err))
	}
	return data, nil
}

// DeleteBlob removes a blob and its chunks in one transaction.
func (s *sqlStore) DeleteBlob(ctx context.Context, digest string) error {
	return s.InTx(ctx, func(tx Store) error {
		t := tx.(*sqlStore)
		if err := t.Lock(ctx, "blob/"+digest); err != nil {
			return err
		}
		if err := t.hit("DeleteBlob", "before"); err != nil {
			return fmt.Errorf("delete blob %s: %w", digest, err)
		}
		if _, err := t.exec(ctx, `DELETE FROM blob_chunks WHERE digest = ?`, digest); err != nil {
			return fmt.Errorf("delete blob %s: %w", digest, err)
		}
		if _, err := t.exec(ctx, `DELETE FROM blobs WHERE digest = ?`, digest); err != nil {
			return fmt.Errorf("delete blob %s: %w", digest, err)
		}
		return t.hit("DeleteBlob", "after")
	})
}

// ListBlobs returns a page of the stored blobs, ordered by digest.
func (s *sqlStore) ListBlobs(ctx context.Context, after string, limit int) ([]*Blob, error) {
	q := `SELECT digest, size, created_at FROM blobs WHERE digest > ? ORDER BY digest` + s.d.limitOffset(limit, 0)
	return queryAll(ctx, s, "list blobs", func(sc scanner) (*Blob, error) {
		var b Blob
		var created int64
		if err := sc.Scan(&b.Digest, &b.Size, &created); err != nil {
			return nil, err
		}
		b.CreatedAt = fromMillis(created)
		return &b, nil
	}, q, after)
}
