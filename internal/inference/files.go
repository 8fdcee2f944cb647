package inference

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// The files of the supervisor must never be reached through a link that the process, or
// an older mlfleet's process that could write where they are, left: it runs as the
// server's user, so a log path turned into a link to the admin token would let get-logs
// read the token, and one turned into a link to the database would let a rotation or a
// restart write over it. Directories are checked to be directories, not links; files are
// opened with O_NOFOLLOW, a link in their place removed first.

// within reports whether path is dir or inside it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// realDir makes dir a directory: a link or a file in its place is removed first.
func realDir(dir string) error {
	fi, err := os.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	case fi.IsDir():
		return nil
	default:
		if err := os.Remove(dir); err != nil {
			return fmt.Errorf("remove %s, which is not a directory: %w", dir, err)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	return nil
}

// dropLink removes path when it is a symbolic link.
func dropLink(path string) error {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return os.Remove(path)
	}
	return nil
}

// writeNew writes b to path as a new file, never through a link.
func writeNew(path string, b []byte) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY|syscall.O_NOFOLLOW, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// openNoFollow opens path with flag, refusing to follow a link in its place.
func openNoFollow(path string, flag int) (*os.File, error) {
	return os.OpenFile(path, flag|syscall.O_NOFOLLOW, 0o600)
}
