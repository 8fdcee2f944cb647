package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// ErrUnavailable means a sandbox could not be set up, so the program was not started; the
// message says why and what the operator can do.
var ErrUnavailable = errors.New("scoring sandbox unavailable")

// Policy says what the programs Start runs must not see.
type Policy struct {
	// Hide are absolute paths, directories or files, hidden from the program; a path that
	// does not exist when the program starts is skipped. Empty hides nothing, but the
	// program still runs in its own namespaces, without capabilities.
	Hide []string
	// Unsandboxed starts programs directly, with the caller's access to every file
	// (mlfleet serve --unsandboxed-scoring). False means a program never runs unless its
	// sandbox is set up.
	Unsandboxed bool
}

// Mount is a directory the program needs: it is bound back in place when a hidden path
// contains it, and it is read-only unless Writable.
type Mount struct {
	Path     string `json:"path"`
	Writable bool   `json:"writable,omitempty"`
}

// With returns a copy of p that hides paths too.
func (p Policy) With(paths ...string) Policy {
	p.Hide = append(slices.Clip(p.Hide), paths...)
	return p
}

const (
	// stubName is argv[0] of this binary started as the stub.
	stubName = "mlfleet-sandbox"
	// specEnv carries the stub's stubSpec (JSON); the stub removes it before the exec.
	specEnv = "MLFLEET_SANDBOX_SPEC"
)

// stubSpec is what the stub sets up before it execs the program.
type stubSpec struct {
	Hide []string `json:"hide"`
	Keep []Mount  `json:"keep"`
	// Dir is the program's working directory, entered again after the mounts.
	Dir string `json:"dir"`
}

// initialized records that Init ran in this process. It is process-wide state by nature:
// the stub is this binary, and only a binary whose main calls Init can be one, so Start
// refuses to re-execute a binary that would not know what to do (a test binary would run
// its tests again).
var initialized atomic.Bool

// Init must be the first thing main (and the TestMain of a test binary that starts
// sandboxed programs) does. In a process started by Start as the stub it sets the sandbox
// up and execs the program, and never returns; it writes why to stderr and exits 126 (127
// when the program does not exist) when it cannot. Anywhere else it only records that the
// binary can serve as the stub.
func Init() {
	initialized.Store(true)
	if len(os.Args) < 2 || os.Args[0] != stubName {
		return
	}
	spec, ok := os.LookupEnv(specEnv)
	if !ok {
		return
	}
	err := runStub(spec, os.Args[1:])
	fmt.Fprintf(os.Stderr, "mlfleet: %v\n", err)
	if errors.Is(err, os.ErrNotExist) {
		os.Exit(127)
	}
	os.Exit(126)
}

// Start starts cmd, which must not have been started, in a new sandbox of p: cmd.Path
// with cmd.Args, cmd.Env (nil means this process's environment) and cmd.Dir, its
// SysProcAttr kept, run through the stub. keep are the directories the program needs
// (cmd.Dir is not added by itself). With p.Unsandboxed it is cmd.Start. Errors that
// prevent the sandbox wrap ErrUnavailable.
func (p Policy) Start(cmd *exec.Cmd, keep ...Mount) error {
	if p.Unsandboxed || cmd.Err != nil {
		return cmd.Start()
	}
	if !initialized.Load() {
		return fmt.Errorf("%w: this program's main does not call sandbox.Init first, so it cannot set up a sandbox", ErrUnavailable)
	}
	spec, err := json.Marshal(stubSpec{Hide: p.Hide, Keep: keep, Dir: cmd.Dir})
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	cmd.Env = append(slices.Clip(env), specEnv+"="+string(spec))
	cmd.Args = append([]string{stubName, cmd.Path}, cmd.Args[1:]...)
	cmd.Path = "/proc/self/exe"
	attr := &syscall.SysProcAttr{}
	if cmd.SysProcAttr != nil {
		c := *cmd.SysProcAttr
		attr = &c
	}
	// The caller's own uid and gid, so that files keep their owners; the stub keeps the
	// two capabilities it needs across its exec (a non-root uid would lose them) and drops
	// them before the program's.
	attr.Cloneflags |= syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS
	attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: os.Getuid(), HostID: os.Getuid(), Size: 1}}
	attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: os.Getgid(), HostID: os.Getgid(), Size: 1}}
	attr.GidMappingsEnableSetgroups = false
	attr.AmbientCaps = []uintptr{unix.CAP_SYS_ADMIN, unix.CAP_SETPCAP}
	cmd.SysProcAttr = attr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%w: the kernel refused a new user and mount namespace for it (%v). "+
			"Allow unprivileged user namespaces (sysctls user.max_user_namespaces, kernel.unprivileged_userns_clone, "+
			"kernel.apparmor_restrict_unprivileged_userns), or start mlfleet serve with --unsandboxed-scoring to run "+
			"scoring scripts with the server's own access to its files", ErrUnavailable, err)
	}
	return nil
}
