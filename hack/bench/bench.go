package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/mlfleet/mlfleet/internal/clientconfig"
	"github.com/mlfleet/mlfleet/internal/loadgen"
	"github.com/mlfleet/mlfleet/internal/procstat"
	"github.com/mlfleet/mlfleet/internal/serveproc"
	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

const (
	group     = "bench"
	workspace = "benchws"
	location  = "westus"
	// pollEvery is the SDK's poll interval for the timed operations: a create or detach
	// is seen to end within it.
	pollEvery = 20 * time.Millisecond
	// answerWithin bounds the wait for every cluster to answer after a start.
	answerWithin = 5 * time.Minute
	// stopWithin bounds a graceful stop.
	stopWithin = 2 * time.Minute
)

// bench is one run of the benchmark against one server home.
type bench struct {
	o    *options
	logf func(format string, a ...any)

	srv *serveproc.Server
	// c is the SDK client of the running server, polling every pollEvery; cfg is its
	// client configuration and token its admin token.
	c     *mlfleet.Client
	cfg   *clientconfig.Config
	token string
	// metrics reads the server's /metrics.
	metrics *http.Client
}

// idleReading is the server's resource use over one window of idleness.
type idleReading struct {
	cpu        float64 // % of a core
	rss        int64   // bytes
	goroutines int
}

// figures are the rows of the table, in its order; each phase of run fills some.
type figures struct {
	create, cli, rss, goroutines, cpu, attach, detach, restart, stop *figure
	// getP99, listP99 and getCPU are per protocol: HTTP/1.1, HTTP/2.
	getP99, listP99, getCPU [2]*figure
}

var protocols = [2]string{"HTTP/1.1", "HTTP/2"}

func newFigures(o *options) *figures {
	f := &figures{
		create: &figure{Name: "embedded cluster create, PUT → Succeeded (median = p50)", Unit: "s", Goal: 1.5,
			Note: "3 × Standard_DS2_v2 (az's default), one after another through the SDK polling every 20 ms"},
		cli: &figure{Name: "CLI `aks create`: wall time − server time", Unit: "s", Goal: 0.2,
			Note: "server time: from the PUT's answer to the operation's end, as the activity log records them"},
		rss:        &figure{Name: fmt.Sprintf("RSS per extra cluster (%d clusters)", o.clusters), Unit: "MB", Goal: 80},
		goroutines: &figure{Name: "goroutines per idle cluster", Unit: "goroutines", Goal: 1000},
		cpu:        &figure{Name: "idle CPU per cluster", Unit: "% of a core", Goal: 0.3},
		attach:     &figure{Name: "compute attach, PUT → Succeeded", Unit: "s", Goal: 1},
		detach:     &figure{Name: "compute detach, DELETE → Succeeded (median = p50)", Unit: "s", Goal: 0.5},
		restart: &figure{Name: fmt.Sprintf("%d clusters all answering after kill -9 + restart", o.restartClusters), Unit: "s", Goal: 4,
			Note: "from the kill to every cluster's GET /version answering through the credentials the server hands out"},
		stop: &figure{Name: fmt.Sprintf("graceful stop (SIGTERM → exit) with %d clusters", o.restartClusters), Unit: "s", Goal: 5},
	}
	for i, proto := range protocols {
		f.getP99[i] = &figure{Name: fmt.Sprintf("GET compute at %d req/s, %s, p99", o.rate, proto), Unit: "ms", Goal: 5}
		f.listP99[i] = &figure{Name: fmt.Sprintf("list computes (%d) at %d req/s, %s, p99", o.samples, o.rate, proto), Unit: "ms", Goal: 10}
		f.getCPU[i] = &figure{Name: fmt.Sprintf("server CPU per GET compute, %s", proto), Unit: "ms", Goal: 0.3}
	}
	return f
}

// list returns the figures in the table's order.
func (f *figures) list() []*figure {
	out := []*figure{f.create, f.cli, f.rss, f.goroutines, f.cpu, f.attach, f.detach, f.restart, f.stop}
	out = append(out, f.getP99[:]...)
	out = append(out, f.listP99[:]...)
	return append(out, f.getCPU[:]...)
}

// run takes every figure, in the order the package doc gives. When it fails, the figures
// taken so far are in f.
func (b *bench) run(ctx context.Context, f *figures) error {
	o := b.o
	if err := b.start(); err != nil {
		return err
	}
	if _, err := b.c.CreateResourceGroup(ctx, group, location, nil); err != nil {
		return fmt.Errorf("create group: %w", err)
	}
	if _, err := b.c.CreateWorkspace(ctx, group, workspace, location); err != nil {
		return fmt.Errorf("create workspace: %w", err)
	}
	b.logf("server up (pid %d); idle readings without clusters", b.srv.PID())
	time.Sleep(o.settle)
	base, err := b.idle(o.samples)
	if err != nil {
		return err
	}

	// The clusters created through the SDK, then through the CLI, one after another: the
	// SDK's samples are the create's time, the CLI's what it adds to the server's time.
	var names []string
	for _, way := range []struct {
		prefix string
		fig    *figure
		create func(context.Context, string) (time.Duration, error)
		done   string
	}{
		{"sdk", f.create, b.createCluster, "created %s in %.2fs"},
		{"cli", f.cli, b.createClusterCLI, "created %s with the CLI, %.2fs more than the server took"},
	} {
		for i := range o.samples {
			name := fmt.Sprintf("%s%d", way.prefix, i)
			took, err := way.create(ctx, name)
			if err != nil {
				return err
			}
			way.fig.Samples = append(way.fig.Samples, took.Seconds())
			names = append(names, name)
			b.logf(way.done, name, took.Seconds())
		}
	}
	var more []string
	for i := range o.clusters - len(names) {
		more = append(more, fmt.Sprintf("more%d", i))
	}
	if err := b.createClusters(ctx, more); err != nil {
		return err
	}
	names = append(names, more...)

	b.logf("%d clusters; idle readings", len(names))
	time.Sleep(o.settle)
	loaded, err := b.idle(o.samples)
	if err != nil {
		return err
	}
	n := float64(len(names))
	baseCPU, baseRSS, baseG := medianIdle(base)
	f.cpu.Note = fmt.Sprintf("%s readings; without clusters the server used %.2f %% of a core", o.window, baseCPU)
	for _, r := range loaded {
		f.rss.Samples = append(f.rss.Samples, float64(r.rss-baseRSS)/n/1e6)
		f.goroutines.Samples = append(f.goroutines.Samples, float64(r.goroutines-baseG)/n)
		f.cpu.Samples = append(f.cpu.Samples, (r.cpu-baseCPU)/n)
	}

	var computes []string
	for i := range o.samples {
		compute := fmt.Sprintf("compute%d", i)
		took, err := b.attach(ctx, compute, names[i])
		if err != nil {
			return err
		}
		f.attach.Samples = append(f.attach.Samples, took.Seconds())
		computes = append(computes, compute)
		b.logf("attached %s to %s in %.2fs", compute, names[i], took.Seconds())
	}
	if err := b.apiLoad(f, computes[0]); err != nil {
		return err
	}
	for _, compute := range computes {
		took, err := b.detach(ctx, compute)
		if err != nil {
			return err
		}
		f.detach.Samples = append(f.detach.Samples, took.Seconds())
		b.logf("detached %s in %.2fs", compute, took.Seconds())
	}

	if err := b.deleteClusters(ctx, names[o.restartClusters:]); err != nil {
		return err
	}
	names = names[:o.restartClusters]
	// Each graceful stop takes a start more, until every cluster answers, before the next
	// kill: stop after every other restart, and after the last.
	for i := range o.samples {
		took, err := b.restart(names)
		if err != nil {
			return err
		}
		f.restart.Samples = append(f.restart.Samples, took.Seconds())
		b.logf("restart %d: all %d clusters answering after %.2fs", i+1, len(names), took.Seconds())
		if i%2 == 1 && i != o.samples-1 {
			continue
		}
		began := time.Now()
		if err := b.srv.Stop(stopWithin); err != nil {
			return err
		}
		f.stop.Samples = append(f.stop.Samples, time.Since(began).Seconds())
		b.logf("graceful stop %d: %.2fs", len(f.stop.Samples), time.Since(began).Seconds())
		if i == o.samples-1 {
			break
		}
		// Up again, every cluster answering, for the next kill.
		if err := b.start(); err != nil {
			return err
		}
		if _, err := serveproc.AllAnswer(b.c, group, names, answerWithin); err != nil {
			return err
		}
	}
	b.srv = nil
	return nil
}

// apiLoad GETs a compute and lists the workspace's computes at o.rate over HTTP/1.1 and
// HTTP/2, o.samples runs of o.load each, and fills the p99 latency of each kind and
// protocol, and the server's CPU time per GET.
func (b *bench) apiLoad(f *figures, compute string) error {
	base := strings.TrimSuffix(b.cfg.Server, "/") + "/subscriptions/" + b.cfg.Subscription + "/resourceGroups/" + group +
		"/providers/Microsoft.MachineLearningServices/workspaces/" + workspace + "/computes"
	get := base + "/" + compute + "?api-version=" + mlfleet.MachineLearningAPIVersion
	list := base + "?api-version=" + mlfleet.MachineLearningAPIVersion
	for i := range protocols {
		hc, err := loadgen.HTTPClient(b.cfg.CAFile, i == 1, 64)
		if err != nil {
			return err
		}
		for _, k := range []struct {
			url      string
			p99, cpu *figure
		}{{get, f.getP99[i], f.getCPU[i]}, {list, f.listP99[i], nil}} {
			l := &loadgen.Loader{Client: hc, URL: k.url, Token: b.token, MaxInflight: 4000}
			if err := l.Once(); err != nil {
				return fmt.Errorf("GET %s: %w", k.url, err)
			}
			l.Drive(b.o.rate, b.o.load/2) // warm up: connections, caches
			failed := 0
			var firstErr error
			for range b.o.samples {
				cpu0, err := procstat.ProcessCPU(b.srv.PID())
				if err != nil {
					return err
				}
				r := l.Drive(b.o.rate, b.o.load)
				cpu1, err := procstat.ProcessCPU(b.srv.PID())
				if err != nil {
					return err
				}
				k.p99.Samples = append(k.p99.Samples, float64(r.Percentile(99))/float64(time.Millisecond))
				if served := r.OK + r.Failed; served > 0 && k.cpu != nil {
					k.cpu.Samples = append(k.cpu.Samples, float64(cpu1-cpu0)/float64(served)/float64(time.Millisecond))
				}
				failed += r.Failed + r.Dropped
				if firstErr == nil {
					firstErr = r.FirstErr
				}
			}
			if failed > 0 {
				k.p99.Note = fmt.Sprintf("%d requests failed or dropped, the first: %v", failed, firstErr)
			}
			b.logf("%s: %.1f ms", k.p99.Name, k.p99.Samples)
		}
	}
	return nil
}
