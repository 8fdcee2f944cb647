package blobs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Sentinel errors.
var (
	// ErrNotFound means no blob has the digest asked for.
	ErrNotFound = errors.New("blob not found")
	// ErrCorrupt means a stored blob's content no longer matches its digest.
	ErrCorrupt = errors.New("blob corrupt")
	// ErrTooLarge means an upload is over the size limit; errors wrapping it are a
	// *TooLargeError.
	ErrTooLarge = errors.New("blob too large")
	// ErrInvalidURI means a string is not an mlfleet://blobs/<sha256> URI.
	ErrInvalidURI = errors.New("invalid blob uri")
)

// TooLargeError is an upload over the limit.
type TooLargeError struct {
	// Limit is the largest blob accepted, in bytes.
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("blob larger than the limit of %d bytes (serve --max-upload-size)", e.Limit)
}

// Unwrap makes errors.Is(err, ErrTooLarge) true.
func (e *TooLargeError) Unwrap() error { return ErrTooLarge }

// DefaultMaxSize is the size limit when none is set: 512 MiB.
const DefaultMaxSize = 512 << 20

// URIPrefix starts every blob URI.
const URIPrefix = "mlfleet://blobs/"

// Info describes a stored blob.
type Info struct {
	// Digest is the lowercase hex SHA-256 of the content.
	Digest string `json:"digest"`
	// Size is the content's length in bytes.
	Size int64 `json:"size"`
}

// URI returns the blob's mlfleet://blobs/<sha256> URI.
func (i Info) URI() string { return URIPrefix + i.Digest }

// Store keeps blobs by digest. Implementations are safe for concurrent use.
type Store interface {
	// Put reads r to its end and stores its content, returning its digest and size. It is
	// idempotent: the same content again returns the same Info and stores nothing new,
	// unless the stored copy is corrupt, which it replaces.
	// Content over the store's limit is refused with a *TooLargeError, storing nothing.
	Put(ctx context.Context, r io.Reader) (Info, error)
	// Stat returns the Info of the blob with this digest, or ErrNotFound.
	Stat(ctx context.Context, digest string) (Info, error)
	// Open returns the blob's content. The reader returns ErrCorrupt instead of io.EOF
	// when what it read does not hash to digest. ErrNotFound when there is no such blob.
	Open(ctx context.Context, digest string) (io.ReadCloser, Info, error)
}

// ParseURI reads an mlfleet://blobs/<sha256>[/<file name>] URI. With a file name the blob
// is one file of that name; without one it is a tar archive (optionally gzipped) of a
// directory. Errors wrap ErrInvalidURI and say what a valid URI looks like.
func ParseURI(uri string) (digest, fileName string, err error) {
	rest, ok := strings.CutPrefix(uri, URIPrefix)
	if !ok {
		return "", "", fmt.Errorf("%w: %q does not start with %s; upload the content first (mlfleet ml model create --path, or PUT …/workspaces/{ws}/blobs) and use the uri it returns", ErrInvalidURI, uri, URIPrefix)
	}
	digest, fileName, _ = strings.Cut(rest, "/")
	if !ValidDigest(digest) {
		return "", "", fmt.Errorf("%w: %q does not name a blob by its SHA-256 digest (64 lowercase hex characters after %s)", ErrInvalidURI, uri, URIPrefix)
	}
	if _, _, more := strings.Cut(rest, "/"); more && !ValidFileName(fileName) {
		return "", "", fmt.Errorf("%w: %q ends in %q, which is not a file name (one path segment, not . or .., no / or \\)", ErrInvalidURI, uri, fileName)
	}
	return digest, fileName, nil
}

// ValidFileName reports whether s is a plain file name: one path segment, not "." or "..".
func ValidFileName(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, "/\\\x00") && len(s) <= 255
}

// ValidDigest reports whether s is 64 lowercase hex characters.
func ValidDigest(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// spoolPrefix begins the names of spooled copies.
const spoolPrefix = ".upload-"

// removeSpooled removes from dir the spooled copies a crashed process left behind. dir
// must be the store's alone and no upload under way: it runs when the store is made.
// What cannot be removed stays, as it would have without it.
func removeSpooled(dir string) {
	if dir == "" {
		return
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), spoolPrefix) && e.Type().IsRegular() {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// spool copies r into a new temporary file in dir (os.TempDir when ""), hashing and
// counting it, and refuses more than limit bytes. The caller removes the file.
func spool(dir string, r io.Reader, limit int64) (*os.File, Info, error) {
	f, err := os.CreateTemp(dir, spoolPrefix+"*")
	if err != nil {
		return nil, Info{}, fmt.Errorf("spool upload: %w", err)
	}
	fail := func(err error) (*os.File, Info, error) {
		f.Close()
		os.Remove(f.Name())
		return nil, Info{}, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(r, limit+1))
	if err != nil {
		return fail(fmt.Errorf("spool upload: %w", err))
	}
	if n > limit {
		return fail(&TooLargeError{Limit: limit})
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fail(fmt.Errorf("spool upload: %w", err))
	}
	return f, Info{Digest: hex.EncodeToString(h.Sum(nil)), Size: n}, nil
}

// verifier hashes what is read through it and turns the final io.EOF into ErrCorrupt when
// the content does not match.
type verifier struct {
	r      io.Reader
	closer io.Closer
	h      hash.Hash
	info   Info
	n      int64
}

func newVerifier(r io.Reader, c io.Closer, info Info) *verifier {
	return &verifier{r: r, closer: c, h: sha256.New(), info: info}
}

func (v *verifier) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	if errors.Is(err, io.EOF) {
		if got := hex.EncodeToString(v.h.Sum(nil)); got != v.info.Digest || v.n != v.info.Size {
			return n, fmt.Errorf("%w: blob %s holds %d bytes hashing to %s; upload the content again", ErrCorrupt, v.info.Digest, v.n, got)
		}
	}
	return n, err
}

func (v *verifier) Close() error {
	if v.closer != nil {
		return v.closer.Close()
	}
	return nil
}

// Verify reads a blob to its end: nil when its content matches its digest, an error
// wrapping ErrCorrupt when not, ErrNotFound when there is none.
func Verify(ctx context.Context, s Store, digest string) error {
	rc, _, err := s.Open(ctx, digest)
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = io.Copy(io.Discard, rc)
	return err
}
