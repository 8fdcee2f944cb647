package endpoints

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// materializedGrace is how long an unpacked model or code directory that no deployment
// names stays: a deployment unpacks its model and code, then records where, a moment
// later; materialize refreshes a directory it reuses.
const materializedGrace = time.Hour

// SweepMaterialized removes the unpacked models and code of this host (the home's
// inference directory) that no online deployment names any more, once unused for
// materializedGrace. Without it they outlived their deployments, workspaces and blobs, and
// every version ever deployed stayed on disk. It returns how many it removed; the sweeper
// runs it on every replica, each for its own home.
func (s *Service) SweepMaterialized(ctx context.Context) (int, error) {
	root := s.inferenceDir()
	entries, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	rows, err := s.cfg.Store.ListResources(ctx, store.ListOptions{Type: TypeDeployment})
	if err != nil {
		return 0, fmt.Errorf("list deployments: %w", err)
	}
	used := map[string]bool{}
	for _, r := range rows {
		d, err := decodeRow[armapi.OnlineDeployment](r)
		if err != nil || d.Properties.Mlfleet == nil {
			continue
		}
		// By the content's key, the first element of <key>/model: the replica hosting the
		// cluster unpacked the same content under the same key in its own home. (Rows of
		// older versions hold the whole path, whose key is the element before the last.)
		for _, dir := range []string{d.Properties.Mlfleet.ModelDir, d.Properties.Mlfleet.CodeDir} {
			if dir != "" {
				used[filepath.Base(filepath.Dir(dir))] = true
			}
		}
	}
	n := 0
	for _, e := range entries {
		if used[e.Name()] || !e.IsDir() {
			continue
		}
		if fi, err := e.Info(); err != nil || time.Since(fi.ModTime()) < materializedGrace {
			continue
		}
		if err := os.RemoveAll(filepath.Join(root, e.Name())); err != nil {
			return n, err
		}
		n++
		s.log.Info("removed an unpacked model or code no deployment uses", "dir", e.Name())
	}
	return n, nil
}
