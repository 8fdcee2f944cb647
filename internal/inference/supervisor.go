package inference

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/mlfleet/mlfleet/internal/background"
	"github.com/mlfleet/mlfleet/internal/failpoint"
	"github.com/mlfleet/mlfleet/internal/sandbox"
)

// ServerScript is mlfleet's Python inference server (server.py), written into each
// process's work directory.
//
//go:embed server.py
var ServerScript []byte

// Defaults of ProcessSpec.
const (
	// DefaultMinBackoff and DefaultMaxBackoff are the kubelet's crash-loop back-off.
	DefaultMinBackoff    = 10 * time.Second
	DefaultMaxBackoff    = 5 * time.Minute
	DefaultProbeInterval = time.Second
	// stopGrace is how long a process has to exit after SIGTERM before SIGKILL.
	stopGrace = 5 * time.Second
	// exitOutputLines is how many lines of output an exit keeps in ProcessExit.Output.
	exitOutputLines = 20
)

// Reasons of ProcessState.Waiting, as a kubelet words them.
const (
	WaitingStarting = "ContainerCreating"
	WaitingBackOff  = "CrashLoopBackOff"
	ExitReasonError = "Error"
)

// ErrInvalidSpec means a ProcessSpec lacks something; the message names it.
var ErrInvalidSpec = errors.New("invalid inference process spec")

// ProcessSpec describes one inference server process.
type ProcessSpec struct {
	// Python is the interpreter; see ResolvePython. Required.
	Python string
	// WorkDir is the process's working and home directory, created if missing. Required.
	// The process may write there, so the supervisor never reads or writes a file in it.
	WorkDir string
	// StateDir holds the supervisor's own files: the inference server it runs (which the
	// process sees read-only) and, by default, the log. It must not be inside WorkDir;
	// empty means WorkDir with ".mlfleet" appended.
	StateDir string
	// ModelDir becomes AZUREML_MODEL_DIR.
	ModelDir string
	// CodeDir and ScoringScript (relative to CodeDir; empty means score.py) are the
	// scoring code. CodeDir is required.
	CodeDir       string
	ScoringScript string
	// Env are the container's environment variables, NAME=value.
	Env []string
	// Port is where the server listens on 127.0.0.1; zero picks a free port.
	Port int
	// LogFile receives the process's stdout and stderr; empty means StateDir/output.log. It
	// must not be inside WorkDir.
	LogFile string
	// MaxLogBytes caps LogFile (the previous part is kept in LogFile.1); zero means
	// DefaultMaxLogBytes.
	MaxLogBytes int64
	// MinBackoff and MaxBackoff bound the wait before a restart, as a kubelet's
	// crash-loop back-off does: the first death restarts at once, the next waits
	// MinBackoff, each one after waits twice as long up to MaxBackoff, and a process that
	// ran for 2×MaxBackoff starts the count afresh. Zero means 10s and 5m.
	MinBackoff, MaxBackoff time.Duration
	// ProbeInterval is how often GET /ready is probed; zero means 1s.
	ProbeInterval time.Duration
	// RestartsBefore is the restart count to continue from (a pod's, from before a
	// restart of mlfleet), so that the count never goes back.
	RestartsBefore int
	// Sandbox says what the process must not see (mlfleet's home and state); it sees
	// WorkDir read-write and CodeDir and ModelDir read-only. Its zero value still runs the
	// process in a sandbox, hiding nothing; a process whose sandbox cannot be set up does
	// not run, unless Sandbox.Unsandboxed.
	Sandbox sandbox.Policy
	// OnChange, if set, is called (from the supervisor's goroutines) whenever State
	// changes. It must not block.
	OnChange func()
	// Logger receives the supervisor's own logs; nil discards them.
	Logger *slog.Logger
}

// ProcessState is what a supervisor knows about its process, in the terms of a
// container status.
type ProcessState struct {
	// Running is true while a process runs; StartedAt is when it started.
	Running   bool
	StartedAt time.Time
	// Ready is the last answer of GET /ready (200) of the running process.
	Ready bool
	// Restarts counts the processes started after the first.
	Restarts int
	// Waiting is WaitingStarting before a start and WaitingBackOff while waiting to
	// restart; empty while running or stopped.
	Waiting string
	// Backoff is the wait before the next start, and NextStart when it is due, while
	// Waiting is WaitingBackOff; zero otherwise.
	Backoff   time.Duration
	NextStart time.Time
	// LastExit is the last process that ended, nil before any did.
	LastExit *ProcessExit
}

// ProcessExit is how a process ended.
type ProcessExit struct {
	// ExitCode is the exit status, 128+signal when killed by a signal.
	ExitCode   int
	Signal     string
	StartedAt  time.Time
	FinishedAt time.Time
	// Output is the last lines of the log when it ended.
	Output string
}

// Supervisor runs one inference server process and restarts it when it dies.
type Supervisor struct {
	spec   ProcessSpec
	addr   string
	log    *slog.Logger
	script string
	out    *logFile
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	state ProcessState
}

// StartProcess starts the process of spec and supervises it until Stop.
func StartProcess(spec ProcessSpec) (*Supervisor, error) {
	var errs []error
	if spec.Python == "" {
		errs = append(errs, fmt.Errorf("%w: no Python interpreter", ErrInvalidSpec))
	}
	if spec.WorkDir == "" {
		errs = append(errs, fmt.Errorf("%w: no work directory", ErrInvalidSpec))
	}
	if spec.CodeDir == "" {
		errs = append(errs, fmt.Errorf("%w: no code directory", ErrInvalidSpec))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if spec.StateDir == "" {
		spec.StateDir = spec.WorkDir + ".mlfleet"
	}
	if spec.LogFile == "" {
		spec.LogFile = filepath.Join(spec.StateDir, "output.log")
	}
	// The sandbox binds the directories back at absolute paths.
	for _, dir := range []*string{&spec.WorkDir, &spec.StateDir, &spec.LogFile, &spec.CodeDir, &spec.ModelDir} {
		if *dir != "" {
			abs, err := filepath.Abs(*dir)
			if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrInvalidSpec, err)
			}
			*dir = abs
		}
	}
	// A file the supervisor writes or reads in a directory the process may write could be
	// swapped for a link to any file of the server's user.
	for _, p := range []string{spec.StateDir, spec.LogFile} {
		if within(p, spec.WorkDir) {
			return nil, fmt.Errorf("%w: %s is inside the work directory %s, which the process may write", ErrInvalidSpec, p, spec.WorkDir)
		}
	}
	if spec.ScoringScript == "" {
		spec.ScoringScript = "score.py"
	}
	if spec.MinBackoff <= 0 {
		spec.MinBackoff = DefaultMinBackoff
	}
	if spec.MaxBackoff <= 0 {
		spec.MaxBackoff = DefaultMaxBackoff
	}
	if spec.ProbeInterval <= 0 {
		spec.ProbeInterval = DefaultProbeInterval
	}
	if spec.Logger == nil {
		spec.Logger = slog.New(slog.DiscardHandler)
	}
	if spec.Port == 0 {
		p, err := FreePort()
		if err != nil {
			return nil, err
		}
		spec.Port = p
	}
	bin := filepath.Join(spec.StateDir, "bin")
	for _, dir := range []string{spec.WorkDir, spec.StateDir, bin} {
		if err := realDir(dir); err != nil {
			return nil, err
		}
	}
	script := filepath.Join(bin, "mlfleet_inference_server.py")
	if err := writeNew(script, ServerScript); err != nil {
		return nil, fmt.Errorf("write inference server: %w", err)
	}
	out, err := openLog(spec.LogFile, spec.MaxLogBytes)
	if err != nil {
		return nil, fmt.Errorf("open process log: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Supervisor{spec: spec, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(spec.Port)),
		log: spec.Logger, script: script, out: out, cancel: cancel, done: make(chan struct{}),
		state: ProcessState{Waiting: WaitingStarting, Restarts: max(spec.RestartsBefore, 0)}}
	go s.loop(ctx)
	return s, nil
}

// FreePort returns a TCP port free on 127.0.0.1 at the time of the call.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Addr is the host:port the server listens on.
func (s *Supervisor) Addr() string { return s.addr }

// LogFile is the path of the process's log.
func (s *Supervisor) LogFile() string { return s.spec.LogFile }

// State returns a copy of the process's state.
func (s *Supervisor) State() ProcessState {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.state
	if st.LastExit != nil {
		e := *st.LastExit
		st.LastExit = &e
	}
	return st
}

func (s *Supervisor) update(f func(*ProcessState) bool) {
	s.mu.Lock()
	changed := f(&s.state)
	s.mu.Unlock()
	if changed && s.spec.OnChange != nil {
		s.spec.OnChange()
	}
}

// Stop terminates the process group (SIGTERM, SIGKILL after a grace period), stops
// restarting it and waits until it is gone. Idempotent; if ctx ends first it returns its
// error and the stop completes in the background.
func (s *Supervisor) Stop(ctx context.Context) error {
	s.cancel()
	if err := background.Wait(ctx, s.done); err != nil {
		return fmt.Errorf("stop inference process %s: %w", s.addr, err)
	}
	return nil
}

// Done is closed once the supervisor has stopped and its process is gone.
func (s *Supervisor) Done() <-chan struct{} { return s.done }

func (s *Supervisor) loop(ctx context.Context) {
	defer close(s.done)
	defer s.out.Close()
	// Pdeathsig fires when the thread that started the process exits, not the process:
	// keep this goroutine on its thread, which the runtime then never retires, so that the
	// server dies with mlfleet and only then.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var next time.Duration // the back-off the next death gets
	for first := true; ; first = false {
		if !first {
			s.update(func(st *ProcessState) bool {
				st.Restarts++
				st.Waiting, st.Backoff, st.NextStart = WaitingStarting, 0, time.Time{}
				return true
			})
		}
		exit := s.runOnce(ctx)
		if ctx.Err() != nil {
			s.update(func(st *ProcessState) bool {
				st.Running, st.Ready, st.Waiting = false, false, ""
				return true
			})
			return
		}
		var backoff time.Duration
		backoff, next = backoffAfter(next, exit.FinishedAt.Sub(exit.StartedAt), s.spec.MinBackoff, s.spec.MaxBackoff)
		s.log.Warn("inference process exited, restarting", "addr", s.addr, "exitCode", exit.ExitCode, "backoff", backoff)
		if backoff == 0 {
			s.update(func(st *ProcessState) bool {
				st.Running, st.Ready, st.LastExit = false, false, exit
				return true
			})
			continue
		}
		due := time.Now().Add(backoff)
		s.update(func(st *ProcessState) bool {
			st.Running, st.Ready, st.Waiting, st.LastExit = false, false, WaitingBackOff, exit
			st.Backoff, st.NextStart = backoff, due
			return true
		})
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			s.update(func(st *ProcessState) bool { st.Waiting, st.Backoff, st.NextStart = "", 0, time.Time{}; return true })
			return
		case <-t.C:
		}
	}
}

// backoffAfter is the wait before restarting a process that died after running for ran,
// the way a kubelet backs off a crash-looping container: the first death of a loop
// restarts at once, the next waits minWait, each one after twice as long up to maxWait,
// and a run of 2×maxWait ends the loop. next is the wait the loop has reached (zero before
// its first death); it returns the wait now and the loop's next.
func backoffAfter(next, ran, minWait, maxWait time.Duration) (wait, after time.Duration) {
	if ran >= 2*maxWait {
		next = 0
	}
	return next, max(min(2*next, maxWait), minWait)
}

// env is the process's minimal environment: PATH, LANG, HOME = the work directory, the
// container's variables, then AZUREML_MODEL_DIR.
func (s *Supervisor) env() []string {
	path := os.Getenv("PATH")
	if path == "" {
		path = "/usr/local/bin:/usr/bin:/bin"
	}
	env := []string{"PATH=" + path, "LANG=C.UTF-8", "PYTHONDONTWRITEBYTECODE=1"}
	env = append(env, s.spec.Env...)
	return append(env, "HOME="+s.spec.WorkDir, "AZUREML_MODEL_DIR="+s.spec.ModelDir, instanceKeyEnv+"="+InstanceKey(s.addr))
}

// runOnce runs one process until it exits or ctx ends, and says how it ended.
func (s *Supervisor) runOnce(ctx context.Context) *ProcessExit {
	started := time.Now()
	exit := &ProcessExit{StartedAt: started}
	if err := failpoint.Hit("inference/process/start/before"); err != nil {
		return s.failedStart(exit, err)
	}
	cmd := exec.Command(s.spec.Python, "-u", s.script, "--port", strconv.Itoa(s.spec.Port),
		"--code-dir", s.spec.CodeDir, "--scoring-script", s.spec.ScoringScript)
	cmd.Dir = s.spec.WorkDir
	cmd.Env = s.env()
	cmd.Stdout, cmd.Stderr = s.out, s.out
	// Its own process group, so that Stop reaches whatever the script started too; and
	// killed with mlfleet, so that no server outlives it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// Children that keep the output pipe open must not hold Wait forever.
	cmd.WaitDelay = stopGrace
	keep := []sandbox.Mount{{Path: s.spec.WorkDir, Writable: true}, {Path: filepath.Dir(s.script)}, {Path: s.spec.CodeDir}}
	if s.spec.ModelDir != "" {
		keep = append(keep, sandbox.Mount{Path: s.spec.ModelDir})
	}
	if err := s.spec.Sandbox.Start(cmd, keep...); err != nil {
		return s.failedStart(exit, err)
	}
	how := "in its sandbox"
	if s.spec.Sandbox.Unsandboxed {
		how = "without a sandbox (--unsandboxed-scoring)"
	}
	fmt.Fprintf(s.out, "mlfleet: started %s %s (pid %d) at %s\n", s.spec.Python, how, cmd.Process.Pid, started.UTC().Format(time.RFC3339))
	s.update(func(st *ProcessState) bool {
		st.Running, st.Ready, st.Waiting, st.StartedAt = true, false, "", started
		st.Backoff, st.NextStart = 0, time.Time{}
		return true
	})

	exited := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { s.probe(ctx, exited) })
	wg.Go(func() {
		select {
		case <-exited:
		case <-ctx.Done():
			pgid := cmd.Process.Pid
			_ = syscall.Kill(-pgid, syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(stopGrace):
				_ = syscall.Kill(-pgid, syscall.SIGKILL)
			}
		}
	})
	err := cmd.Wait()
	// Whatever the process left behind in its group goes with it, and is gone before
	// the next start or the end of Stop.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	waitGroupGone(cmd.Process.Pid, stopGrace)
	close(exited)
	wg.Wait()

	exit.FinishedAt = time.Now()
	exit.ExitCode = cmd.ProcessState.ExitCode()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		exit.Signal = ws.Signal().String()
		exit.ExitCode = 128 + int(ws.Signal())
	}
	if err != nil && exit.ExitCode == 0 && !errors.As(err, new(*exec.ExitError)) {
		exit.ExitCode = 1
	}
	fmt.Fprintf(s.out, "mlfleet: process exited with code %d\n", exit.ExitCode)
	exit.Output, _ = TailLog(s.spec.LogFile, exitOutputLines)
	return exit
}

// waitGroupGone waits, at most timeout, until no process of the group pgid is left
// (signals are delivered asynchronously; orphans are reaped by init).
func waitGroupGone(pgid int, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for syscall.Kill(-pgid, 0) == nil && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
}

func (s *Supervisor) failedStart(exit *ProcessExit, err error) *ProcessExit {
	fmt.Fprintf(s.out, "mlfleet: cannot start %s: %v\n", s.spec.Python, err)
	exit.FinishedAt = time.Now()
	exit.ExitCode = 127
	exit.Output = err.Error()
	return exit
}

// probe asks GET /ready every ProbeInterval until exited closes, recording the answer.
func (s *Supervisor) probe(ctx context.Context, exited <-chan struct{}) {
	client := &http.Client{Timeout: max(s.spec.ProbeInterval, time.Second),
		Transport: &http.Transport{DisableKeepAlives: true}}
	url := "http://" + s.addr + "/ready"
	tick := time.NewTicker(s.spec.ProbeInterval)
	defer tick.Stop()
	for {
		select {
		case <-exited:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		ready := false
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err == nil {
			if resp, err := client.Do(req); err == nil {
				ready = resp.StatusCode == http.StatusOK
				resp.Body.Close()
			}
		}
		s.update(func(st *ProcessState) bool {
			if !st.Running || st.Ready == ready {
				return false
			}
			st.Ready = ready
			return true
		})
	}
}
