package main

import (
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/mlfleet/mlfleet/internal/clientconfig"
	"github.com/mlfleet/mlfleet/internal/procstat"
	"github.com/mlfleet/mlfleet/internal/serveproc"
	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// start starts the server in the home and connects to it; each start listens on a port
// of its own, which the client configuration names.
func (b *bench) start() error {
	// Quotas and request limits sized for the benchmark, not for a user.
	quotas := filepath.Join(b.o.home, "bench-quotas.json")
	if err := os.WriteFile(quotas, []byte(`{"default": {"managedClusters": 1000, "cores": 100000}}`), 0o600); err != nil {
		return err
	}
	srv, err := serveproc.Start(b.o.bin, b.o.home, "--quota-file", quotas, "--rate-limit-reads", "0", "--rate-limit-writes", "0")
	if err != nil {
		return err
	}
	b.srv = srv
	if b.cfg, err = clientconfig.Load(b.o.home); err != nil {
		return err
	}
	if b.token, err = b.cfg.ReadToken(); err != nil {
		return err
	}
	if b.metrics, err = mlfleet.NewHTTPClient(b.cfg.CAFile); err != nil {
		return err
	}
	b.c, err = mlfleet.NewClient(mlfleet.WithHome(b.o.home), mlfleet.WithPollInterval(pollEvery))
	return err
}

// kill ends the server, if one runs.
func (b *bench) kill() {
	if b.srv != nil {
		b.srv.Kill()
	}
}

// idle reads the server's CPU use, memory and goroutines over n windows of o.window.
func (b *bench) idle(n int) ([]idleReading, error) {
	var out []idleReading
	for range n {
		cpu0, err := procstat.ProcessCPU(b.srv.PID())
		if err != nil {
			return nil, err
		}
		began := time.Now()
		time.Sleep(b.o.window)
		cpu1, err := procstat.ProcessCPU(b.srv.PID())
		if err != nil {
			return nil, err
		}
		took := time.Since(began)
		rss, err := procstat.ProcessRSS(b.srv.PID())
		if err != nil {
			return nil, err
		}
		g, err := b.goroutines()
		if err != nil {
			return nil, err
		}
		out = append(out, idleReading{cpu: 100 * float64(cpu1-cpu0) / float64(took), rss: rss, goroutines: g})
	}
	return out, nil
}

// medianIdle returns the median of each of the readings' quantities.
func medianIdle(rs []idleReading) (cpu float64, rss int64, goroutines int) {
	var c, r, g []float64
	for _, x := range rs {
		c, r, g = append(c, x.cpu), append(r, float64(x.rss)), append(g, float64(x.goroutines))
	}
	med := func(v []float64) float64 { s, _ := (&figure{Samples: v}).summarize(); return s.Median }
	return med(c), int64(med(r)), int(med(g))
}

// goroutines reads go_goroutines from the server's /metrics.
func (b *bench) goroutines() (int, error) {
	g, err := procstat.ServerMetric(b.metrics, b.cfg.Server, "go_goroutines")
	return int(g), err
}

// restart kills the server with SIGKILL, starts it again and returns the time from the
// kill to the last of the clusters answering.
func (b *bench) restart(names []string) (time.Duration, error) {
	b.srv.Kill()
	began := time.Now()
	if err := b.start(); err != nil {
		return 0, err
	}
	at, err := serveproc.AllAnswer(b.c, group, names, answerWithin)
	if err != nil {
		return 0, err
	}
	return slices.MaxFunc(at, func(x, y time.Time) int { return x.Compare(y) }).Sub(began), nil
}
