package failpoint

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// reset disarms and stops tracing now and when the test ends. The registry is global, so
// tests in this package do not run in parallel.
func reset(t testing.TB) {
	t.Helper()
	off := func() {
		if err := Arm(""); err != nil {
			t.Errorf("Arm(\"\"): %v", err)
		}
		if err := EnableTrace(""); err != nil {
			t.Errorf("EnableTrace(\"\"): %v", err)
		}
	}
	off()
	t.Cleanup(off)
}

func arm(t *testing.T, spec string) {
	t.Helper()
	if err := Arm(spec); err != nil {
		t.Fatalf("Arm(%q): %v", spec, err)
	}
}

// parsed is a term as the tests compare it.
type parsed struct {
	pattern  string
	mode     mode
	sleep    time.Duration
	at       int64
	andLater bool
	percent  float64
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		spec string
		want []parsed
	}{
		{name: "empty", spec: "", want: nil},
		{name: "only separators and space", spec: " ; ,;", want: nil},
		{name: "crash", spec: "store/commit/x/before=crash",
			want: []parsed{{pattern: "store/commit/x/before", mode: modeCrash, percent: 100}}},
		{name: "all modes separated by semicolons", spec: "a=crash;b=error;c=panic;d=off;e=sleep(250ms)",
			want: []parsed{
				{pattern: "a", mode: modeCrash, percent: 100},
				{pattern: "b", mode: modeError, percent: 100},
				{pattern: "c", mode: modePanic, percent: 100},
				{pattern: "d", mode: modeOff, percent: 100},
				{pattern: "e", mode: modeSleep, sleep: 250 * time.Millisecond, percent: 100},
			}},
		{name: "commas between terms", spec: "a=error,b=sleep(1s),c=off",
			want: []parsed{
				{pattern: "a", mode: modeError, percent: 100},
				{pattern: "b", mode: modeSleep, sleep: time.Second, percent: 100},
				{pattern: "c", mode: modeOff, percent: 100},
			}},
		{name: "space around terms is ignored, inside names kept", spec: "  op/create/provision nodes/before = error ; store/* = crash@2 ",
			want: []parsed{
				{pattern: "op/create/provision nodes/before", mode: modeError, percent: 100},
				{pattern: "store/*", mode: modeCrash, at: 2, percent: 100},
			}},
		{name: "names with dots colons and dashes", spec: "kube:apply/v1.Secret/mlfleet-system=error",
			want: []parsed{{pattern: "kube:apply/v1.Secret/mlfleet-system", mode: modeError, percent: 100}}},
		{name: "count", spec: "a=error@3",
			want: []parsed{{pattern: "a", mode: modeError, at: 3, percent: 100}}},
		{name: "count and later", spec: "a=crash@3+",
			want: []parsed{{pattern: "a", mode: modeCrash, at: 3, andLater: true, percent: 100}}},
		{name: "percentage", spec: "a=error%12.5",
			want: []parsed{{pattern: "a", mode: modeError, percent: 12.5}}},
		{name: "count and percentage", spec: "a=sleep(5ms)@2+%50",
			want: []parsed{{pattern: "a", mode: modeSleep, sleep: 5 * time.Millisecond, at: 2, andLater: true, percent: 50}}},
		{name: "glob", spec: "*/after=crash@1",
			want: []parsed{{pattern: "*/after", mode: modeCrash, at: 1, percent: 100}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			terms, err := parse(tt.spec)
			if err != nil {
				t.Fatalf("parse(%q): %v", tt.spec, err)
			}
			var got []parsed
			for _, tm := range terms {
				got = append(got, parsed{
					pattern: strings.Join(tm.pattern.parts, "*"), mode: tm.mode, sleep: tm.sleep,
					at: tm.at, andLater: tm.andLater, percent: tm.percent,
				})
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("parse(%q)\n got %+v\nwant %+v", tt.spec, got, tt.want)
			}
		})
	}
}

func TestArmRejectsBadSpecs(t *testing.T) {
	tests := []struct {
		name string
		spec string
		want []string // substrings of the error
	}{
		{name: "no equals", spec: "a=error;store/commit", want: []string{`"store/commit"`, "PATTERN=MODE"}},
		{name: "empty pattern", spec: "=crash", want: []string{`"=crash"`, "empty pattern"}},
		{name: "unknown mode", spec: "a=boom", want: []string{`"a=boom"`, "crash, error, panic, off or sleep(DURATION)"}},
		{name: "empty mode", spec: "a=", want: []string{`"a="`, "crash, error, panic, off or sleep(DURATION)"}},
		{name: "bad duration", spec: "a=sleep(soon)", want: []string{`"a=sleep(soon)"`, "sleep(DURATION)"}},
		{name: "negative duration", spec: "a=sleep(-1s)", want: []string{`"a=sleep(-1s)"`, "sleep(DURATION)"}},
		{name: "unclosed sleep", spec: "a=sleep(1s", want: []string{`"a=sleep(1s"`, "sleep(DURATION)"}},
		{name: "zero count", spec: "a=crash@0", want: []string{`"a=crash@0"`, "K >= 1"}},
		{name: "missing count", spec: "a=crash@", want: []string{`"a=crash@"`, "K >= 1"}},
		{name: "signed count", spec: "a=crash@+3", want: []string{`"a=crash@+3"`, "K >= 1"}},
		{name: "word count", spec: "a=crash@two", want: []string{`"a=crash@two"`, "K >= 1"}},
		{name: "percentage over 100", spec: "a=error%101", want: []string{`"a=error%101"`, "0 to 100"}},
		{name: "percentage not a number", spec: "a=error%NaN", want: []string{`"a=error%NaN"`, "0 to 100"}},
		{name: "percentage before count", spec: "a=error%50@2", want: []string{`"a=error%50@2"`, "0 to 100"}},
		{name: "bad term after good ones", spec: "a=error, b=crash, c=explode", want: []string{`"c=explode"`, "mode"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reset(t)
			arm(t, "still/armed=error")
			err := Arm(tt.spec)
			if err == nil {
				t.Fatalf("Arm(%q) = nil, want an error", tt.spec)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Arm(%q) = %q, want it to contain %q", tt.spec, err, w)
				}
			}
			if err := Hit("still/armed"); !errors.Is(err, ErrInjected) {
				t.Errorf("after a bad spec, Hit of the previously armed name = %v, want ErrInjected", err)
			}
		})
	}
}

func TestErrorMode(t *testing.T) {
	reset(t)
	const name = "store/commit/create cluster/before"
	arm(t, name+"=error")

	err := Hit(name)
	if !errors.Is(err, ErrInjected) {
		t.Fatalf("Hit(%q) = %v, want an error wrapping ErrInjected", name, err)
	}
	if want := "failpoint " + name + ": injected failure"; err.Error() != want {
		t.Errorf("Hit(%q) = %q, want %q", name, err, want)
	}
	if err := Hit("store/commit/create cluster/after"); err != nil {
		t.Errorf("Hit of a name not armed = %v, want nil", err)
	}
}

// TestHook: a hook runs at the hits of the names it matches, on the goroutine that hit,
// before an armed term acts; Arm leaves it in place, and once removed it runs no more and
// an unarmed process is back to Hit doing nothing.
func TestHook(t *testing.T) {
	reset(t)
	var got []string
	remove := Hook("store/commit/*/before", func(name string) { got = append(got, name) })
	arm(t, "store/commit/b/before=error")
	if err := Hit("store/commit/a/before"); err != nil {
		t.Errorf("Hit of a hooked name = %v, want nil", err)
	}
	if err := Hit("store/commit/b/before"); !errors.Is(err, ErrInjected) {
		t.Errorf("Hit of a hooked and armed name = %v, want the armed error", err)
	}
	_ = Hit("store/commit/a/after")
	if want := []string{"store/commit/a/before", "store/commit/b/before"}; !slices.Equal(got, want) {
		t.Errorf("hook saw %q, want %q", got, want)
	}

	// A hook holds the goroutine that hit until it returns.
	release, held := make(chan struct{}), make(chan struct{})
	removeHold := Hook("hold", func(string) {
		close(held)
		<-release
	})
	returned := make(chan struct{})
	go func() {
		_ = Hit("hold")
		close(returned)
	}()
	<-held
	select {
	case <-returned:
		t.Fatal("Hit returned while its hook held it")
	default:
	}
	close(release)
	<-returned

	remove()
	removeHold()
	arm(t, "")
	_ = Hit("store/commit/a/before")
	if len(got) != 2 {
		t.Errorf("a removed hook ran: %q", got)
	}
	if current.Load() != nil {
		t.Error("with no hook, term or trace left, the registry is still installed")
	}
}

// TestCounting hits names in order under a spec and checks which hits fired.
func TestCounting(t *testing.T) {
	tests := []struct {
		name string
		spec string
		hits []string
		want []bool // whether each hit returned ErrInjected
	}{
		{name: "every hit without a count", spec: "a=error",
			hits: []string{"a", "a", "a"}, want: []bool{true, true, true}},
		{name: "only the K-th hit", spec: "a=error@2",
			hits: []string{"a", "a", "a", "a"}, want: []bool{false, true, false, false}},
		{name: "the K-th hit and later", spec: "a=error@2+",
			hits: []string{"a", "a", "a", "a"}, want: []bool{false, true, true, true}},
		{name: "first hit", spec: "a=error@1",
			hits: []string{"a", "a"}, want: []bool{true, false}},
		{name: "other names do not count", spec: "a=error@2",
			hits: []string{"b", "a", "b", "a"}, want: []bool{false, false, false, true}},
		{name: "count is per term across matching names", spec: "store/commit/*=error@3",
			hits: []string{"store/commit/x/before", "op/create/s/before", "store/commit/x/after", "store/commit/y/before", "store/commit/y/after"},
			want: []bool{false, false, false, true, false}},
		{name: "first matching term decides", spec: "a=off;a=error",
			hits: []string{"a", "a"}, want: []bool{false, false}},
		{name: "off exempts names from a later glob", spec: "store/Get/*=off;store/*=error",
			hits: []string{"store/Get/cluster/before", "store/Put/cluster/before"}, want: []bool{false, true}},
		{name: "a deciding term that does not fire hides later terms", spec: "a=error@3;*=error",
			hits: []string{"a", "b", "a", "a"}, want: []bool{false, true, false, true}},
		{name: "later terms count hits an earlier term decided", spec: "a=off;*=error@3",
			hits: []string{"a", "a", "b", "b"}, want: []bool{false, false, true, false}},
		{name: "off with a count stays off", spec: "a=off@1",
			hits: []string{"a", "a"}, want: []bool{false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reset(t)
			arm(t, tt.spec)
			var got []bool
			for _, name := range tt.hits {
				err := Hit(name)
				if err != nil && !errors.Is(err, ErrInjected) {
					t.Fatalf("Hit(%q) = %v, want nil or ErrInjected", name, err)
				}
				got = append(got, err != nil)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("spec %q, hits %q: fired %v, want %v", tt.spec, tt.hits, got, tt.want)
			}
		})
	}
}

func TestArmRestartsCounts(t *testing.T) {
	reset(t)
	arm(t, "a=error@2")
	if err := Hit("a"); err != nil {
		t.Fatalf("first hit = %v, want nil", err)
	}
	arm(t, "a=error@2")
	if err := Hit("a"); err != nil {
		t.Errorf("first hit after re-arming = %v, want nil", err)
	}
	if err := Hit("a"); !errors.Is(err, ErrInjected) {
		t.Errorf("second hit after re-arming = %v, want ErrInjected", err)
	}
}

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern string
		name    string
		match   bool
	}{
		{"store/commit/create cluster/before", "store/commit/create cluster/before", true},
		{"store/commit/create cluster/before", "store/commit/create cluster/after", false},
		{"store/commit/create cluster/before", "store/commit/create cluster/before/x", false},
		{"*", "", true},
		{"*", "op/create/provision nodes/before", true},
		{"op/*", "op/create/provision nodes/before", true},
		{"op/*", "op/", true},
		{"op/*", "store/op/x", false},
		{"*/before", "op/create/provision nodes/before", true},
		{"*/before", "op/create/provision nodes/after", false},
		{"op/create/*/before", "op/create/provision nodes/before", true},
		{"op/create/*/before", "op/create/install gpu operator/before", true},
		{"op/create/*/before", "op/attach/install gpu operator/before", false},
		{"op/*/install*/after", "op/attach/install gpu operator/after", true},
		{"op/*/install*/after", "op/attach/wait/after", false},
		{"store/*/cluster/*", "store/Put/cluster/before", true},
		{"store/*/cluster/*", "store/Put/nodepool/before", false},
		{"a*a", "a", false},
		{"a*a", "aa", true},
		{"a*b*c", "abc", true},
		{"a*b*c", "acb", false},
		{"a**c", "ac", true},
		{"x?y", "xay", false},
		{"x?y", "x?y", true},
		{"kube:apply/v1.Secret/*", "kube:apply/v1.Secret/mlfleet-system", true},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" "+tt.name, func(t *testing.T) {
			reset(t)
			arm(t, tt.pattern+"=error")
			err := Hit(tt.name)
			if got := errors.Is(err, ErrInjected); got != tt.match {
				t.Errorf("pattern %q, Hit(%q) = %v, want match %v", tt.pattern, tt.name, err, tt.match)
			}
		})
	}
}

func TestSleepMode(t *testing.T) {
	reset(t)
	arm(t, "slow/step=sleep(50ms)")
	start := time.Now()
	if err := Hit("slow/step"); err != nil {
		t.Fatalf("Hit = %v, want nil", err)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("Hit returned after %v, want at least 50ms", d)
	}
}

func TestPanicMode(t *testing.T) {
	reset(t)
	const name = "op/create/s/after"
	arm(t, name+"=panic")
	defer func() {
		v := recover()
		err, ok := v.(error)
		if !ok || !errors.Is(err, ErrInjected) || !strings.Contains(err.Error(), name) {
			t.Errorf("recovered %v, want an error wrapping ErrInjected naming %q", v, name)
		}
	}()
	_ = Hit(name)
	t.Errorf("Hit returned, want a panic")
}

func TestPercent(t *testing.T) {
	tests := []struct {
		name     string
		spec     string
		min, max int // fired hits out of 1000
	}{
		{name: "never", spec: "p=error%0", min: 0, max: 0},
		{name: "always", spec: "p=error%100", min: 1000, max: 1000},
		// Outside these bounds with a fair coin is less likely than 1 in 10^20.
		{name: "half", spec: "p=error%50", min: 300, max: 700},
		{name: "after the count only", spec: "p=error@501+%100", min: 500, max: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reset(t)
			arm(t, tt.spec)
			fired := 0
			for range 1000 {
				if Hit("p") != nil {
					fired++
				}
			}
			if fired < tt.min || fired > tt.max {
				t.Errorf("spec %q fired %d of 1000 hits, want %d to %d", tt.spec, fired, tt.min, tt.max)
			}
		})
	}
}

func TestArmEmptyDisarms(t *testing.T) {
	reset(t)
	arm(t, "a=error;*=crash")
	arm(t, "")
	if err := Hit("a"); err != nil {
		t.Errorf("Hit after Arm(\"\") = %v, want nil", err)
	}
	if current.Load() != nil {
		t.Errorf("after Arm(\"\") without tracing, the registry is installed; want the one-load fast path")
	}
}

func TestHitUnarmedDoesNotAllocate(t *testing.T) {
	reset(t)
	if n := testing.AllocsPerRun(1000, func() { _ = Hit("store/commit/x/before") }); n != 0 {
		t.Errorf("unarmed Hit allocates %v times, want 0", n)
	}
}

func TestTrace(t *testing.T) {
	reset(t)
	path := filepath.Join(t.TempDir(), "trace")
	if got := Trace(); got != nil {
		t.Fatalf("Trace() before tracing = %q, want nil", got)
	}
	if err := EnableTrace(path); err != nil {
		t.Fatal(err)
	}
	if got := Trace(); got == nil || len(got) != 0 {
		t.Fatalf("Trace() right after EnableTrace = %#v, want empty and not nil", got)
	}

	// Hits are traced whether armed or not, matching or not, firing or not.
	_ = Hit("trace/op/create/a b/before")
	arm(t, "trace/x=error@2")
	_ = Hit("trace/x")
	_ = Hit("trace/y")
	if err := Hit("trace/x"); !errors.Is(err, ErrInjected) {
		t.Fatalf("Hit(trace/x) = %v, want ErrInjected", err)
	}
	arm(t, "")
	_ = Hit("trace/x")

	want := []string{"trace/op/create/a b/before", "trace/x", "trace/y", "trace/x", "trace/x"}
	if got := Trace(); !slices.Equal(got, want) {
		t.Errorf("Trace() = %q, want %q", got, want)
	}
	if got := readLines(t, path); !slices.Equal(got, want) {
		t.Errorf("trace file = %q, want %q", got, want)
	}
	names := Names()
	if !slices.IsSorted(names) {
		t.Errorf("Names() = %q, want sorted", names)
	}
	for _, n := range []string{"trace/op/create/a b/before", "trace/x", "trace/y"} {
		if !slices.Contains(names, n) {
			t.Errorf("Names() = %q, want it to contain %q", names, n)
		}
	}
	if c := strings.Count(strings.Join(names, "\n"), "trace/x\n"); c != 1 {
		t.Errorf("Names() holds trace/x %d times, want once", c)
	}

	// Enabling again starts a new list and appends to the file; disabling stops both.
	if err := EnableTrace(path); err != nil {
		t.Fatal(err)
	}
	_ = Hit("trace/z")
	if got := Trace(); !slices.Equal(got, []string{"trace/z"}) {
		t.Errorf("Trace() after enabling again = %q, want [trace/z]", got)
	}
	if err := EnableTrace(""); err != nil {
		t.Fatal(err)
	}
	_ = Hit("trace/not traced")
	if got := Trace(); got != nil {
		t.Errorf("Trace() after EnableTrace(\"\") = %q, want nil", got)
	}
	if got, want := readLines(t, path), append(want, "trace/z"); !slices.Equal(got, want) {
		t.Errorf("trace file = %q, want %q", got, want)
	}
	if slices.Contains(Names(), "trace/not traced") {
		t.Errorf("Names() holds a name hit while unarmed and untraced")
	}
}

func TestEnableTraceBadPath(t *testing.T) {
	reset(t)
	path := filepath.Join(t.TempDir(), "missing", "trace")
	err := EnableTrace(path)
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Errorf("EnableTrace(%q) = %v, want a not-exist error naming the path", path, err)
	}
}

func TestFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		spec    string
		trace   bool
		wantErr []string
		wantHit error // what Hit("env/a") returns after FromEnv
	}{
		{name: "neither set", wantHit: nil},
		{name: "spec", spec: "env/*=error", wantHit: ErrInjected},
		{name: "spec and trace", spec: "env/a=error", trace: true, wantHit: ErrInjected},
		{name: "trace only", trace: true, wantHit: nil},
		{name: "bad spec", spec: "env/a=error;env/b=crash@0", trace: true,
			wantErr: []string{"MLFLEET_FAILPOINTS", `"env/b=crash@0"`, "K >= 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reset(t)
			path := filepath.Join(t.TempDir(), "trace")
			t.Setenv(EnvSpec, tt.spec)
			t.Setenv(EnvTrace, "")
			if tt.trace {
				t.Setenv(EnvTrace, path)
			}
			err := FromEnv()
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("FromEnv() = nil, want an error")
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("FromEnv() = %q, want it to contain %q", err, w)
					}
				}
				if Trace() != nil || Hit("env/a") != nil {
					t.Errorf("after a bad spec, FromEnv armed or traced")
				}
				return
			}
			if err != nil {
				t.Fatalf("FromEnv() = %v", err)
			}
			if err := Hit("env/a"); !errors.Is(err, tt.wantHit) {
				t.Errorf("Hit(env/a) = %v, want %v", err, tt.wantHit)
			}
			if tt.trace {
				if got := readLines(t, path); !slices.Equal(got, []string{"env/a"}) {
					t.Errorf("trace file = %q, want [env/a]", got)
				}
			} else if Trace() != nil {
				t.Errorf("Trace() = %q without %s, want nil", Trace(), EnvTrace)
			}
		})
	}
}

// The crash test re-executes this test binary running only TestCrashChild, which arms from
// the environment like `mlfleet serve` and hits childHits in order.
const (
	envChild  = "MLFLEET_FAILPOINT_TEST_CHILD"
	envMarker = "MLFLEET_FAILPOINT_TEST_MARKER"
)

var childHits = []string{
	"op/create/provision nodes/before",
	"store/commit/create cluster/before",
	"store/commit/create cluster/after",
	"op/create/provision nodes/after",
}

func TestCrashChild(t *testing.T) {
	if os.Getenv(envChild) != "1" {
		t.Skip("run by TestCrash in a child process")
	}
	if err := FromEnv(); err != nil {
		t.Fatal(err)
	}
	// A crash must skip deferred functions; the marker shows whether they ran.
	defer func() {
		if err := os.WriteFile(os.Getenv(envMarker), []byte("deferred ran\n"), 0o644); err != nil {
			t.Error(err)
		}
	}()
	for _, name := range childHits {
		if err := Hit(name); err != nil {
			t.Fatalf("Hit(%q) = %v", name, err)
		}
	}
}

func TestCrash(t *testing.T) {
	tests := []struct {
		name       string
		spec       string
		wantCode   int
		wantStderr string   // a whole line of the child's stderr, when it crashes
		wantTrace  []string // lines of the trace file
	}{
		{name: "first match", spec: "store/commit/*=crash",
			wantCode: 137, wantStderr: "failpoint: crash at store/commit/create cluster/before (hit 1)",
			wantTrace: childHits[:2]},
		{name: "second match", spec: "store/commit/*=crash@2",
			wantCode: 137, wantStderr: "failpoint: crash at store/commit/create cluster/after (hit 2)",
			wantTrace: childHits[:3]},
		{name: "glob over every name", spec: "*=crash@4",
			wantCode: 137, wantStderr: "failpoint: crash at op/create/provision nodes/after (hit 4)",
			wantTrace: childHits},
		{name: "off shadows the crash", spec: "op/*/after=off;*=crash@4",
			wantCode: 0, wantTrace: childHits},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tracePath, marker := filepath.Join(dir, "trace"), filepath.Join(dir, "marker")
			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
			cmd.Env = append(os.Environ(),
				envChild+"=1", envMarker+"="+marker, EnvSpec+"="+tt.spec, EnvTrace+"="+tracePath)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			err := cmd.Run()

			code := 0
			if ee, ok := errors.AsType[*exec.ExitError](err); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatalf("run child: %v", err)
			}
			if code != tt.wantCode {
				t.Fatalf("child exited with %d, want %d; stderr:\n%s", code, tt.wantCode, stderr.String())
			}
			if tt.wantStderr != "" && !slices.Contains(strings.Split(stderr.String(), "\n"), tt.wantStderr) {
				t.Errorf("child stderr = %q, want the line %q", stderr.String(), tt.wantStderr)
			}
			if got := readLines(t, tracePath); !slices.Equal(got, tt.wantTrace) {
				t.Errorf("trace file = %q, want %q", got, tt.wantTrace)
			}
			_, err = os.Stat(marker)
			if ran := err == nil; ran != (tt.wantCode == 0) {
				t.Errorf("deferred function ran = %v, want %v", ran, tt.wantCode == 0)
			}
		})
	}
}

func TestConcurrentHits(t *testing.T) {
	t.Run("counts and trace", func(t *testing.T) {
		reset(t)
		path := filepath.Join(t.TempDir(), "trace")
		if err := EnableTrace(path); err != nil {
			t.Fatal(err)
		}
		const workers, perWorker, from = 8, 500, 1000
		arm(t, fmt.Sprintf("conc/*=error@%d+", from))
		var fired atomic.Int64
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				name := fmt.Sprintf("conc/%d", w)
				for range perWorker {
					if err := Hit(name); errors.Is(err, ErrInjected) {
						fired.Add(1)
					} else if err != nil {
						t.Errorf("Hit(%q) = %v", name, err)
					}
				}
			})
		}
		wg.Wait()

		const total = workers * perWorker
		if got, want := fired.Load(), int64(total-from+1); got != want {
			t.Errorf("%d hits fired, want %d", got, want)
		}
		if got := len(Trace()); got != total {
			t.Errorf("Trace() has %d names, want %d", got, total)
		}
		if got := len(readLines(t, path)); got != total {
			t.Errorf("trace file has %d lines, want %d", got, total)
		}
		names := Names()
		for w := range workers {
			if n := fmt.Sprintf("conc/%d", w); !slices.Contains(names, n) {
				t.Errorf("Names() lacks %q", n)
			}
		}
	})

	t.Run("while arming and tracing change", func(t *testing.T) {
		reset(t)
		dir := t.TempDir()
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					if err := Hit(fmt.Sprintf("race/%d", w)); err != nil && !errors.Is(err, ErrInjected) {
						t.Errorf("Hit = %v", err)
						return
					}
				}
			})
		}
		for i := range 50 {
			spec := ""
			if i%2 == 0 {
				spec = "race/*=error@3+"
			}
			arm(t, spec)
			trace := ""
			if i%3 == 0 {
				trace = filepath.Join(dir, fmt.Sprintf("trace-%d", i))
			}
			if err := EnableTrace(trace); err != nil {
				t.Fatal(err)
			}
			_ = Trace()
			_ = Names()
		}
		close(stop)
		wg.Wait()
	})
}

func BenchmarkHitUnarmed(b *testing.B) {
	reset(b)
	b.ReportAllocs()
	for b.Loop() {
		_ = Hit("store/commit/create cluster/before")
	}
}

func BenchmarkHitArmedNoMatch(b *testing.B) {
	reset(b)
	if err := Arm("op/*/after=crash;store/commit/*/after=crash@3"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = Hit("store/Put/cluster/before")
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) == 0 {
		return nil
	}
	if data[len(data)-1] != '\n' {
		t.Errorf("%s does not end in a newline: %q", path, data)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}
