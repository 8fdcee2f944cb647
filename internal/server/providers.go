package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/mlfleet/mlfleet/internal/catalog"
	"github.com/mlfleet/mlfleet/internal/clientconfig"
	"github.com/mlfleet/mlfleet/internal/inference"
	"github.com/mlfleet/mlfleet/internal/provider"
	"github.com/mlfleet/mlfleet/internal/provider/embedded"
	"github.com/mlfleet/mlfleet/internal/provider/external"
	"github.com/mlfleet/mlfleet/internal/sandbox"
	"github.com/mlfleet/mlfleet/internal/store"
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
	policy := scoringSandbox(cfg)
	warnSandbox(ctx, out, log, python, policy)
	emb, err := embedded.New(filepath.Join(cfg.Home, "clusters"), sizes, log, embedded.WithPython(python), embedded.WithSandbox(policy))
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

// warnSandbox tells the operator, on out and in the log, when scoring scripts run without
// a sandbox (--unsandboxed-scoring), and when python cannot run in one, so that no online
// deployment of an embedded cluster will start.
func warnSandbox(ctx context.Context, out io.Writer, log *slog.Logger, python string, policy sandbox.Policy) {
	switch {
	case policy.Unsandboxed:
		fmt.Fprintln(out, "WARNING: --unsandboxed-scoring: the scoring scripts of online deployments on embedded clusters run as this server's user, with its access to every file: whoever may create a deployment can read the admin token, the keys and the database, and so act as Owner of everything. Use it only when everyone who may create deployments may also run programs here as this user.")
		log.Warn("scoring scripts run without a sandbox (--unsandboxed-scoring): whoever may create an online deployment can read this server's files")
	case python != "":
		if err := inference.CheckSandbox(ctx, python, policy); err != nil {
			fmt.Fprintf(out, "WARNING: online deployments on embedded clusters will not start: %v\n", err)
			log.Error("online deployments on embedded clusters will not start", "err", err)
		}
	}
}

// scoringSandbox is what the scoring scripts of embedded clusters must not see: the home
// (the embedded provider adds its clusters' sockets), the CLI's configuration directories
// of this user (admin logins), a SQLite store elsewhere with its journal files, and the
// replica key file.
func scoringSandbox(cfg Config) sandbox.Policy {
	hide := []string{cfg.Home}
	for _, home := range []func() (string, error){clientconfig.Home, clientconfig.DefaultHome} {
		if h, err := home(); err == nil {
			hide = append(hide, h)
		}
	}
	if f, ok := store.SQLiteFile(cfg.StoreDSN); ok {
		hide = append(hide, f, f+"-wal", f+"-shm", f+"-journal")
	}
	if cfg.SecretKeyFile != "" {
		hide = append(hide, cfg.SecretKeyFile)
	}
	for i, p := range hide {
		if abs, err := filepath.Abs(p); err == nil {
			hide[i] = abs
		}
	}
	return sandbox.Policy{Hide: hide, Unsandboxed: cfg.UnsandboxedScoring}
}
