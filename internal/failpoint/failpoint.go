package failpoint

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrInjected is the error returned by a failpoint armed with mode "error", wrapped in an
// error that names the failpoint.
var ErrInjected = errors.New("injected failure")

// The environment variables FromEnv reads.
const (
	// EnvSpec holds the spec that arms failpoints, in the grammar Arm takes.
	EnvSpec = "MLFLEET_FAILPOINTS"
	// EnvTrace holds the path of the file every hit is appended to.
	EnvTrace = "MLFLEET_FAILPOINTS_TRACE"
)

// crashExitCode is what a shell reports for a process killed by SIGKILL (128+9), so a
// crashed mlfleet looks to its supervisor like one killed with kill -9.
const crashExitCode = 137

// current is nil unless failpoints are armed or tracing is on, which keeps Hit to one
// atomic load in production. A registry is never changed once stored, apart from its
// counters and trace; Arm and EnableTrace store a new one.
var current atomic.Pointer[registry]

// configMu serialises Arm and EnableTrace, which each keep the half of the registry the
// other one sets.
var configMu sync.Mutex

// seen holds every name hit while a registry was installed, for Names.
var seen struct {
	sync.RWMutex
	names map[string]struct{}
}

// Hit is called at the failpoint called name. Unarmed and untraced it returns nil after one
// atomic load, with no allocation and no lock.
//
// When tracing, the name is recorded first. Then, if an armed term matches name and fires,
// mode "crash" writes "failpoint: crash at NAME (hit N)" to stderr and exits with status
// 137, running no deferred functions; mode "error" returns an error wrapping ErrInjected
// that names the failpoint; mode "sleep(DURATION)" sleeps, then returns nil; mode "panic"
// panics with the same error as mode "error". Otherwise Hit returns nil.
func Hit(name string) error {
	r := current.Load()
	if r == nil {
		return nil
	}
	return r.hit(name)
}

// Arm replaces the armed set with the terms of spec, in the grammar described in the
// package doc (the one MLFLEET_FAILPOINTS takes), and starts their counts from zero. An
// empty spec disarms. A bad spec returns an error quoting the bad term and leaves the armed
// set as it was. Tracing is not changed.
func Arm(spec string) error {
	terms, err := parse(spec)
	if err != nil {
		return err
	}
	configMu.Lock()
	defer configMu.Unlock()
	install(terms, currentTrace(), currentHooks())
	return nil
}

// Hook calls f at every hit, in this process, of a name matching pattern (a name, or a
// glob as in a spec), before the armed terms act on it. f runs on the goroutine that hit
// the point, so a test can hold that goroutine there, waiting on a channel, to order it
// against another request: the interleavings of a race become steps of the test rather
// than chances. remove takes the hook away; hooks are not armed by any spec, and Arm and
// EnableTrace leave them as they are.
func Hook(pattern string, f func(name string)) (remove func()) {
	h := &hook{pattern: newGlob(pattern), f: f}
	configMu.Lock()
	defer configMu.Unlock()
	install(currentTerms(), currentTrace(), append(slices.Clone(currentHooks()), h))
	return func() {
		configMu.Lock()
		defer configMu.Unlock()
		install(currentTerms(), currentTrace(), slices.DeleteFunc(slices.Clone(currentHooks()), func(x *hook) bool { return x == h }))
	}
}

// EnableTrace starts appending the name of every hit to the file at path, created if
// missing, and starts a new in-memory list for Trace. An empty path stops tracing. Either
// way the previous trace file, if any, is closed. The armed set is not changed.
func EnableTrace(path string) error {
	configMu.Lock()
	defer configMu.Unlock()
	var tr *tracer
	if path != "" {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return fmt.Errorf("enable failpoint trace: %w", err)
		}
		tr = &tracer{file: f, names: []string{}}
	}
	old := currentTrace()
	install(currentTerms(), tr, currentHooks())
	if old != nil {
		if err := old.close(); err != nil {
			return fmt.Errorf("close failpoint trace: %w", err)
		}
	}
	return nil
}

// FromEnv arms failpoints from MLFLEET_FAILPOINTS and traces to the file named by
// MLFLEET_FAILPOINTS_TRACE. A variable that is unset or empty leaves its setting as it is,
// so FromEnv in a process started without them changes nothing. A bad spec returns a parse
// error, and then tracing is not started either. `mlfleet serve` calls FromEnv once at
// start.
func FromEnv() error {
	if spec := os.Getenv(EnvSpec); spec != "" {
		if err := Arm(spec); err != nil {
			return fmt.Errorf("parse %s: %w", EnvSpec, err)
		}
	}
	if path := os.Getenv(EnvTrace); path != "" {
		if err := EnableTrace(path); err != nil {
			return fmt.Errorf("%s: %w", EnvTrace, err)
		}
	}
	return nil
}

// Trace returns the names hit since tracing was enabled, in order, one entry per hit. It
// returns nil when tracing is off and an empty slice when tracing is on but nothing has
// been hit yet.
func Trace() []string {
	tr := currentTrace()
	if tr == nil {
		return nil
	}
	return tr.list()
}

// Names returns the distinct names hit so far in this process, sorted. Only hits made while
// failpoints were armed or tracing was on are recorded: unarmed and untraced, Hit records
// nothing. Names are kept for the life of the process, across Arm and EnableTrace.
func Names() []string {
	seen.RLock()
	defer seen.RUnlock()
	names := make([]string, 0, len(seen.names))
	for name := range seen.names {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// install stores a registry for terms, tr and hooks, or nil when there are none, so that
// a disarmed, untraced, unhooked process is back on the fast path. configMu must be held.
func install(terms []*term, tr *tracer, hooks []*hook) {
	if len(terms) == 0 && tr == nil && len(hooks) == 0 {
		current.Store(nil)
		return
	}
	current.Store(&registry{terms: terms, trace: tr, hooks: hooks})
}

// currentTrace returns the installed tracer, or nil when tracing is off.
func currentTrace() *tracer {
	if r := current.Load(); r != nil {
		return r.trace
	}
	return nil
}

// currentTerms returns the armed terms.
func currentTerms() []*term {
	if r := current.Load(); r != nil {
		return r.terms
	}
	return nil
}

// currentHooks returns the installed hooks.
func currentHooks() []*hook {
	if r := current.Load(); r != nil {
		return r.hooks
	}
	return nil
}

// registry is what is armed, traced and hooked. Only its term counters and trace change.
type registry struct {
	terms []*term
	trace *tracer // nil when not tracing
	hooks []*hook
}

// hook is a function Hook calls at the hits of names matching pattern.
type hook struct {
	pattern glob
	f       func(name string)
}

func (r *registry) hit(name string) error {
	remember(name)
	if r.trace != nil {
		// Before acting on the mode: a crash has to leave the name in the trace file.
		r.trace.record(name)
	}
	for _, h := range r.hooks {
		if h.pattern.match(name) {
			h.f(name)
		}
	}
	var decider *term
	var n int64
	for _, t := range r.terms {
		if !t.pattern.match(name) {
			continue
		}
		c := t.hits.Add(1)
		if decider == nil {
			decider, n = t, c
		}
	}
	if decider == nil || !decider.fires(n) {
		return nil
	}
	switch decider.mode {
	case modeCrash:
		fmt.Fprintf(os.Stderr, "failpoint: crash at %s (hit %d)\n", name, n)
		os.Exit(crashExitCode)
	case modeError:
		return fmt.Errorf("failpoint %s: %w", name, ErrInjected)
	case modePanic:
		panic(fmt.Errorf("failpoint %s: %w", name, ErrInjected))
	case modeSleep:
		time.Sleep(decider.sleep)
	}
	return nil
}

func remember(name string) {
	seen.RLock()
	_, ok := seen.names[name]
	seen.RUnlock()
	if ok {
		return
	}
	seen.Lock()
	defer seen.Unlock()
	if seen.names == nil {
		seen.names = make(map[string]struct{})
	}
	seen.names[name] = struct{}{}
}

// tracer appends hit names to a file and to memory, in the same order in both.
type tracer struct {
	mu     sync.Mutex
	file   *os.File
	closed bool // a Hit still holding an old registry must not write to its closed file
	failed bool // a write failed and was reported; later failures are not
	buf    []byte
	names  []string
}

func (t *tracer) record(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	t.names = append(t.names, name)
	// One write per line, so lines from concurrent processes appending to the same file
	// do not interleave.
	t.buf = append(append(t.buf[:0], name...), '\n')
	if _, err := t.file.Write(t.buf); err != nil && !t.failed {
		t.failed = true
		fmt.Fprintf(os.Stderr, "failpoint: write trace: %v\n", err)
	}
}

func (t *tracer) list() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string{}, t.names...)
}

func (t *tracer) close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	return t.file.Close()
}

type mode int

const (
	modeOff mode = iota
	modeCrash
	modeError
	modePanic
	modeSleep
)

// term is one PATTERN=MODE[@K[+]][%P] of a spec.
type term struct {
	pattern  glob
	mode     mode
	sleep    time.Duration // for modeSleep
	at       int64         // fire at this hit; 0 fires at every hit
	andLater bool          // fire at hit at and every later one
	percent  float64       // chance of firing, 0 to 100
	hits     atomic.Int64  // hits of names matching pattern
}

// fires reports whether the term acts at its n-th hit.
func (t *term) fires(n int64) bool {
	switch {
	case t.at == 0:
	case t.andLater && n < t.at:
		return false
	case !t.andLater && n != t.at:
		return false
	}
	return t.percent >= 100 || rand.Float64()*100 < t.percent
}

// glob matches names against a pattern in which "*" matches any run of characters.
type glob struct {
	parts []string // the pattern split at each "*"; one part means no "*"
}

func newGlob(pattern string) glob {
	return glob{parts: strings.Split(pattern, "*")}
}

func (g glob) match(name string) bool {
	if len(g.parts) == 1 {
		return name == g.parts[0]
	}
	first, last := g.parts[0], g.parts[len(g.parts)-1]
	if len(name) < len(first)+len(last) || !strings.HasPrefix(name, first) || !strings.HasSuffix(name, last) {
		return false
	}
	// Taking each middle part at its leftmost place leaves the most room for the rest,
	// so the greedy search finds a match whenever there is one.
	rest := name[len(first) : len(name)-len(last)]
	for _, part := range g.parts[1 : len(g.parts)-1] {
		i := strings.Index(rest, part)
		if i < 0 {
			return false
		}
		rest = rest[i+len(part):]
	}
	return true
}

const termSyntax = "PATTERN=MODE[@K[+]][%P]"

// parse returns the terms of spec, in order; an empty spec has none.
func parse(spec string) ([]*term, error) {
	var terms []*term
	for _, raw := range splitTerms(spec) {
		text := strings.TrimSpace(raw)
		if text == "" {
			continue
		}
		t, err := parseTerm(text)
		if err != nil {
			return nil, fmt.Errorf("failpoint term %q: %w", text, err)
		}
		terms = append(terms, t)
	}
	return terms, nil
}

// splitTerms splits spec at every ";" and at every "," outside parentheses, so that a
// mode's argument may one day hold a comma.
func splitTerms(spec string) []string {
	var terms []string
	depth, start := 0, 0
	for i := 0; i < len(spec); i++ {
		switch spec[i] {
		case '(':
			depth++
		case ')':
			depth = max(depth-1, 0)
		case ';', ',':
			if spec[i] == ',' && depth > 0 {
				continue
			}
			terms = append(terms, spec[start:i])
			start = i + 1
		}
	}
	return append(terms, spec[start:])
}

func parseTerm(text string) (*term, error) {
	// Modes hold no "=", so the last one ends the pattern.
	eq := strings.LastIndexByte(text, '=')
	if eq < 0 {
		return nil, fmt.Errorf("no \"=\": want %s", termSyntax)
	}
	pattern := strings.TrimSpace(text[:eq])
	if pattern == "" {
		return nil, fmt.Errorf("empty pattern: want %s", termSyntax)
	}
	t := &term{pattern: newGlob(pattern), percent: 100}

	rest := strings.TrimSpace(text[eq+1:])
	modeText, opts := rest, ""
	if i := strings.IndexAny(rest, "@%"); i >= 0 {
		modeText, opts = strings.TrimSpace(rest[:i]), rest[i:]
	}
	if err := t.parseMode(modeText); err != nil {
		return nil, err
	}

	if k, ok := strings.CutPrefix(opts, "@"); ok {
		k, opts = cutBefore(k, '%')
		k, t.andLater = strings.CutSuffix(k, "+")
		n, err := strconv.ParseInt(k, 10, 64)
		if err != nil || n < 1 || strings.Trim(k, "0123456789") != "" {
			return nil, fmt.Errorf("count %q after @: want an integer K >= 1, as in @3 or @3+", k)
		}
		t.at = n
	}
	if p, ok := strings.CutPrefix(opts, "%"); ok {
		v, err := strconv.ParseFloat(p, 64)
		if err != nil || math.IsNaN(v) || v < 0 || v > 100 {
			return nil, fmt.Errorf("percentage %q after %%: want a number from 0 to 100, as in %%25", p)
		}
		t.percent = v
		opts = ""
	}
	if opts != "" {
		return nil, fmt.Errorf("unexpected %q after the mode: want %s", opts, termSyntax)
	}
	return t, nil
}

func (t *term) parseMode(text string) error {
	switch text {
	case "off":
		t.mode = modeOff
	case "crash":
		t.mode = modeCrash
	case "error":
		t.mode = modeError
	case "panic":
		t.mode = modePanic
	default:
		arg, ok := strings.CutPrefix(text, "sleep(")
		if !ok {
			return fmt.Errorf("mode %q: want crash, error, panic, off or sleep(DURATION)", text)
		}
		arg, ok = strings.CutSuffix(arg, ")")
		d, err := time.ParseDuration(strings.TrimSpace(arg))
		if !ok || err != nil || d < 0 {
			return fmt.Errorf("mode %q: want sleep(DURATION) with a duration such as 100ms or 2s", text)
		}
		t.mode, t.sleep = modeSleep, d
	}
	return nil
}

// cutBefore splits s before the first c, or returns s and "" when there is none.
func cutBefore(s string, c byte) (before, after string) {
	if i := strings.IndexByte(s, c); i >= 0 {
		return s[:i], s[i:]
	}
	return s, ""
}
