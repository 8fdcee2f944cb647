package server

import (
	"context"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/mlfleet/mlfleet/internal/catalog"
	"github.com/mlfleet/mlfleet/internal/provider"
	"github.com/mlfleet/mlfleet/internal/provider/embedded"
	"github.com/mlfleet/mlfleet/internal/provider/external"
)

// startProviders starts the cluster providers and returns them by name, the embedded one
// (the front door at frontDoor, host:port, finds its clusters), and a function that stops
// them (keeping their data).
func startProviders(ctx context.Context, home string, sizes *catalog.VMSizes, frontDoor string, log *slog.Logger) (map[string]provider.Provider, *embedded.Provider, func(), error) {
	emb, err := embedded.New(filepath.Join(home, "clusters"), sizes, log)
	if err != nil {
		return nil, nil, nil, err
	}
	emb.ServeThrough(frontDoor)
	providers := map[string]provider.Provider{"embedded": emb, "external": external.New(sizes)}
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
