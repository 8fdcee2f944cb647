// Package atomicfile writes files so that a crash leaves either the old content or the new,
// never a truncated file: the data goes to a temporary file in the same directory, is
// synced, and is renamed over the target. Keys, certificates and configuration files that a
// later start reads back are written this way.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// WriteFile writes data to path, atomically (see the package doc). Like os.WriteFile, the
// file gets perm less the process's umask (a server that tightens its umask keeps every file
// private, whatever perm says).
func WriteFile(path string, data []byte, perm os.FileMode) (err error) {
	tmp, err := createTemp(path, perm)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			err = fmt.Errorf("write %s: %w", path, err)
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// createTemp creates a new file next to path, with perm subject to the umask (os.CreateTemp
// would make it 0600 whatever perm is, and a chmod afterwards would ignore the umask).
func createTemp(path string, perm os.FileMode) (*os.File, error) {
	for range 100 {
		name := fmt.Sprintf("%s/.%s.tmp%d", filepath.Dir(path), filepath.Base(path), rand.Uint64())
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
	return nil, fmt.Errorf("no free temporary name next to %s", path)
}
