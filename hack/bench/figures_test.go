package main

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/testutil"
)

func TestSummarize(t *testing.T) {
	for _, c := range []struct {
		name    string
		samples []float64
		want    summary
		met     bool
	}{
		{name: "odd count", samples: []float64{3, 1, 2}, want: summary{Min: 1, Median: 2, Max: 3}, met: true},
		{name: "even count: the mean of the middle two", samples: []float64{4, 1, 3, 2}, want: summary{Min: 1, Median: 2.5, Max: 4}, met: false},
		{name: "one", samples: []float64{1.5}, want: summary{Min: 1.5, Median: 1.5, Max: 1.5}, met: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := &figure{Goal: 2, Samples: c.samples}
			got, ok := f.summarize()
			if !ok || got != c.want {
				t.Fatalf("summarize(%v) = %+v, %v; want %+v", c.samples, got, ok, c.want)
			}
			if f.met() != c.met {
				t.Fatalf("met = %v, want %v", f.met(), c.met)
			}
		})
	}
	if _, ok := (&figure{Goal: 1}).summarize(); ok {
		t.Fatal("no samples: want ok false")
	}
	if (&figure{Goal: 1}).met() {
		t.Fatal("no samples: want the goal not met")
	}
}

func TestWriteTable(t *testing.T) {
	r := &report{
		Machine: machine{Date: "2026-11-30 07:00 UTC", Cores: 2, LoadAverage: "1.00 2.00 3.00", Clusters: 20, Samples: 5, Took: 300},
		Figures: []*figure{
			{Name: "embedded cluster create", Unit: "s", Goal: 1.5, Samples: []float64{1.2, 1.4, 1.3}},
			{Name: "RSS per extra cluster", Unit: "MB", Goal: 80, Samples: []float64{110.4}, Note: "one reading"},
			{Name: "GET compute p99", Unit: "ms", Goal: 5},
		},
	}
	var b bytes.Buffer
	if err := r.writeTable(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"2 cores, load average 1.00 2.00 3.00, 20 clusters, 5 samples a figure, took 300 s",
		"| embedded cluster create | 1.20 s | 1.30 s | 1.40 s | 3 | ≤ 1.50 s | yes |",
		"| RSS per extra cluster | 110 MB | 110 MB | 110 MB | 1 | ≤ 80 MB | no |",
		"| GET compute p99 | - | - | - | 0 | ≤ 5.00 ms | no |",
		"- RSS per extra cluster: one reading",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the table has no %q:\n%s", want, out)
		}
	}
	b.Reset()
	if err := r.writeJSON(&b); err != nil {
		t.Fatal(err)
	}
	var back report
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Machine.Cores != 2 || len(back.Figures) != 3 || back.Figures[0].Samples[2] != 1.3 {
		t.Fatalf("JSON round trip: %+v", back)
	}
}

func TestParse(t *testing.T) {
	for _, c := range []struct {
		name     string
		args     []string
		clusters int
		samples  int
		restart  int
		load     time.Duration
		wantErr  string
	}{
		{name: "defaults", clusters: 20, samples: 5, restart: 10, load: 2 * time.Second},
		{name: "quick", args: []string{"--quick"}, clusters: 4, samples: 2, restart: 4, load: time.Second},
		{name: "quick, clusters given", args: []string{"--quick", "--clusters", "6"}, clusters: 6, samples: 2, restart: 6, load: time.Second},
		{name: "fewer clusters", args: []string{"--clusters", "12"}, clusters: 12, samples: 5, restart: 10, load: 2 * time.Second},
		{name: "too few clusters for the samples", args: []string{"--clusters", "8"}, wantErr: "at least twice --samples (10)"},
		{name: "an argument", args: []string{"extra"}, wantErr: "unexpected arguments"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o, err := parse(c.args, io.Discard)
			if testutil.WantErr(t, err, c.wantErr) {
				return
			}
			if o.clusters != c.clusters || o.samples != c.samples || o.restartClusters != c.restart || o.load != c.load {
				t.Fatalf("clusters %d, samples %d, restart with %d, load %v; want %d, %d, %d, %v",
					o.clusters, o.samples, o.restartClusters, o.load, c.clusters, c.samples, c.restart, c.load)
			}
		})
	}
}
