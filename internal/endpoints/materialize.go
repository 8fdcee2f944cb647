package endpoints

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/blobs"
	"github.com/mlfleet/mlfleet/internal/mlassets"
)

// maxExtracted bounds what one archive may unpack to, against compression bombs.
const maxExtracted = 8 << 30

// assetDir makes the content of a model or code version (ref, as a deployment names it)
// a directory on this host, and returns its path; any failure is a UserError naming the
// deployment's field: mostly the blob is missing, corrupt or not an archive, which the
// user fixes by uploading it again.
func (s *Service) assetDir(ctx context.Context, k mlassets.Kind, ref string) (string, error) {
	field := "properties.model"
	if k == mlassets.Codes {
		field = "properties.codeConfiguration.codeId"
	}
	v, err := s.cfg.Assets.Resolve(ctx, k, ref, field)
	if err != nil {
		return "", err
	}
	uri, kind := v.Properties.ModelURI, "model"
	if k == mlassets.Codes {
		uri, kind = v.Properties.CodeURI, "code"
	}
	dir, err := materialize(ctx, s.cfg.Blobs, s.inferenceDir(), uri, kind)
	if err != nil {
		return "", arm.BadRequest(arm.CodeUserError, "The %s of the deployment could not be prepared: %v", kind, err).WithTarget(field)
	}
	return dir, nil
}

// materialize makes the content a blob URI names a directory on this host,
// <inference dir>/<key>/<kind>, and returns its path. The key is the blob's digest (plus
// the file name of a single-file URI), so the same content is written once and reused
// across deployments and restarts. The directory appears whole or not at all: it is
// written under a temporary name and renamed.
func materialize(ctx context.Context, bs blobs.Store, root, uri, kind string) (string, error) {
	digest, fileName, err := blobs.ParseURI(uri)
	if err != nil {
		return "", err
	}
	key := digest
	if fileName != "" {
		sum := sha256.Sum256([]byte(digest + "/" + fileName))
		key = hex.EncodeToString(sum[:])
	}
	parent := filepath.Join(root, key)
	dir := filepath.Join(parent, kind)
	if _, err := os.Stat(dir); err == nil {
		// Reused: fresh again for SweepMaterialized, which spares what was used lately.
		now := time.Now()
		_ = os.Chtimes(parent, now, now)
		return dir, nil
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("materialize %s: %w", uri, err)
	}
	tmp, err := os.MkdirTemp(parent, ".tmp-"+kind+"-")
	if err != nil {
		return "", fmt.Errorf("materialize %s: %w", uri, err)
	}
	defer os.RemoveAll(tmp)
	rc, _, err := bs.Open(ctx, digest)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	if fileName != "" {
		err = writeFile(filepath.Join(tmp, fileName), rc, 0o644)
	} else {
		err = extract(rc, tmp)
	}
	if err == nil {
		// Read to the end, where the digest is checked: a corrupt blob never becomes a
		// directory.
		_, err = io.Copy(io.Discard, rc)
	}
	if err != nil {
		return "", fmt.Errorf("materialize %s: %w", uri, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(dir); serr == nil {
			return dir, nil // made by a concurrent call
		}
		return "", fmt.Errorf("materialize %s: %w", uri, err)
	}
	return dir, nil
}

// writeFile writes r to a new file p and syncs it before the directory holding it is
// renamed into place. O_EXCL refuses to write through a name an archive already created
// (two entries of one name), rather than overwrite it.
func writeFile(p string, r io.Reader, mode os.FileMode) error {
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// errNotArchive means a URI without a file name named a blob that is no tar archive.
var errNotArchive = errors.New("the blob is not a tar archive: a uri without a file name must name a tar (or tar.gz) archive of a directory; for a single file, end the uri in /<file name>")

// extract unpacks a tar or gzipped tar into dir, refusing entries that would land outside
// it and anything but directories and regular files.
func extract(r io.Reader, dir string) error {
	// gzip is recognised by its magic bytes, not by a file name: a blob has none.
	br := bufio.NewReader(r)
	var src io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return errNotArchive
		}
		defer gz.Close()
		src = gz
	}
	tr := tar.NewReader(src)
	var total int64
	for first := true; ; first = false {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			if first {
				return errNotArchive
			}
			return nil
		}
		// Failing on the first header means the blob is no tar at all: say so, rather
		// than report tar's "invalid header".
		if err != nil {
			if first {
				return errNotArchive
			}
			return fmt.Errorf("read archive: %w", err)
		}
		name := path.Clean(strings.TrimPrefix(h.Name, "./"))
		if name == "." {
			continue
		}
		if path.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") {
			return fmt.Errorf("archive entry %q points outside the directory", h.Name)
		}
		target := filepath.Join(dir, filepath.FromSlash(name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			total += h.Size
			if total > maxExtracted {
				return fmt.Errorf("archive unpacks to more than %d bytes", int64(maxExtracted))
			}
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			// Only the execute bits are taken from the archive: files are readable by
			// the inference processes and never writable by others, whatever it says.
			if err := writeFile(target, tr, 0o644|os.FileMode(h.Mode)&0o111); err != nil {
				return err
			}
		default:
			// A symlink could point outside the directory, and later entries be written
			// through it; links and devices are refused rather than checked.
			return fmt.Errorf("archive entry %q is not a file or directory (links and devices are not accepted)", h.Name)
		}
	}
}
