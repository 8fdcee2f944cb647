package server

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/mlfleet/mlfleet/internal/catalog"
	"github.com/mlfleet/mlfleet/internal/inference"
	"github.com/mlfleet/mlfleet/internal/provider"
	"github.com/mlfleet/mlfleet/internal/provider/embedded"
	"github.com/mlfleet/mlfleet/internal/provider/external"
)

// clusterState says where embedded clusters keep their objects: an external etcd if etcd is
// set, else kine on the PostgreSQL store if kineDSN is set, else the embedded etcd.
type clusterState struct {
	etcd    []string
	kineDSN string
}

// startProviders starts the cluster providers and returns them by name, the embedded one
// (the front door at frontDoor, host:port, finds its clusters), and a function that stops
// them (keeping their data). It warns (on out and in the log) when the version catalog
// lacks what the embedded provider runs.
func startProviders(ctx context.Context, cfg Config, sizes *catalog.VMSizes, versions *catalog.Versions, frontDoor string, state clusterState, out io.Writer, log *slog.Logger) (map[string]provider.Provider, *embedded.Provider, func(), error) {
	python, err := inference.ResolvePython(ctx, cfg.Python)
	switch {
	case err != nil && cfg.Python != "":
		return nil, nil, nil, err
	case err != nil:
		log.Warn("no Python for the inference pods of embedded clusters; online deployments there will not start (install python3 or set serve --python)", "err", err)
		python = ""
	default:
		log.Info("inference pods of embedded clusters run with Python", "python", python)
	}
	emb, err := embedded.New(filepath.Join(cfg.Home, "clusters"), sizes, log, embedded.WithPython(python))
	if err != nil {
		return nil, nil, nil, err
	}
	emb.ServeThrough(frontDoor)
	warnCatalog(out, log, versions, cfg.VersionsFile, emb.Info().Versions)
	switch {
	case len(state.etcd) > 0:
		emb.UseEtcd(state.etcd)
	case state.kineDSN != "":
		emb.UseKine(state.kineDSN)
	}
	log.Info("embedded clusters keep their objects in " + emb.StateBackend())
	opts := []external.Option{external.WithRouterImage(cfg.RouterImage)}
	if cfg.AllowKubeconfigExec {
		opts = append(opts, external.WithLocalCredentials())
	}
	providers := map[string]provider.Provider{"embedded": emb, "external": external.New(sizes, opts...)}
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for name, p := range providers {
			if err := p.Close(ctx); err != nil {
				log.Warn("stop provider", "provider", name, "err", err)
			}
		}
	}
	return providers, emb, stop, nil
}
