package inference

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/mlfleet/mlfleet/internal/sandbox"
	"github.com/mlfleet/mlfleet/internal/testutil"
)

// snoopScript is a scoring script that tries what QA's did (read the admin token from the
// home of the server that started it) and the ways around a sandbox: the other processes'
// work directories through its own, the server's /proc entries, unmounting the tmpfs,
// directly and from a nested user namespace; and a file of the server's user outside the
// home (another replica's home on the same machine, the user's own keys). It reports what
// each attempt gave.
const snoopScript = `
import ctypes, json, os, sys
libc = ctypes.CDLL(None, use_errno=True)
def init():
    pass
def attempt(f):
    try:
        return "read " + str(f())[:40]
    except Exception as e:
        return type(e).__name__
def errno_of(rc):
    return "ok" if rc == 0 else os.strerror(ctypes.get_errno())
def nested(home):
    # In a child: unshare needs a single-threaded process.
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            if libc.unshare(0x10000000 | 0x00020000) != 0:
                out = "unshare: " + errno_of(-1)
            else:
                out = "umount: " + errno_of(libc.umount2(home.encode(), 2)) + ", token: " + attempt(lambda: open(os.path.join(home, "admin.token")).read())
        except Exception as e:
            out = repr(e)
        os.write(w, out.encode())
        os._exit(0)
    os.close(w)
    out = os.read(r, 4096).decode()
    os.waitpid(pid, 0)
    return out
def run(raw_data):
    home, ppid = os.environ["TEST_HOME"], os.getppid()
    state = os.path.dirname(os.path.dirname(sys.argv[0]))  # the server script is in <state>/bin
    return {
        "state dir": attempt(lambda: sorted(os.listdir(state))),
        "write server": attempt(lambda: open(sys.argv[0], "a").write("x")),
        "link a log": attempt(lambda: os.symlink(os.path.join(home, "admin.token"), os.path.join(state, "output.log.1"))),
        "token": attempt(lambda: open(os.path.join(home, "admin.token")).read()),
        "elsewhere": attempt(lambda: open(os.environ["TEST_ELSEWHERE"]).read()),
        "tmp": attempt(lambda: sorted(os.listdir("/tmp"))),
        "home dirs": attempt(lambda: sorted(os.listdir("/home"))),
        "listing": attempt(lambda: sorted(os.listdir(home))),
        "walk up": attempt(lambda: open("../../admin.token").read()),
        "other pods": attempt(lambda: sorted(os.listdir(".."))),
        "server environ": attempt(lambda: open("/proc/%d/environ" % ppid).read()),
        "server root": attempt(lambda: open("/proc/%d/root%s/admin.token" % (ppid, home)).read()),
        "model": attempt(lambda: open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.txt")).read()),
        "write model": attempt(lambda: open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "new"), "w").write("x")),
        "write work": attempt(lambda: open("scratch", "w").write("x")),
        "umount": errno_of(libc.umount2(home.encode(), 2)),
        "nested": nested(home),
    }
`

// homeLayout makes a directory standing for mlfleet's home, with a token and a database
// in it and a process's work, model and code directories under it, as on a server.
func homeLayout(t *testing.T) (home string, spec ProcessSpec) {
	t.Helper()
	home = filepath.Join(t.TempDir(), "home")
	model := filepath.Join(home, "inference", "m1", "model")
	for _, d := range []string{model, filepath.Join(home, "pods", "p2")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for path, content := range map[string]string{filepath.Join(home, "admin.token"): "mlf_secret",
		filepath.Join(home, "mlfleet.db"): "rows", filepath.Join(model, "model.txt"): "m-42"} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	code := filepath.Join(home, "inference", "c1", "code")
	if err := os.MkdirAll(code, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(code, "score.py"), []byte(snoopScript), 0o600); err != nil {
		t.Fatal(err)
	}
	// A file of the same user that no policy names: another replica's token.
	elsewhere := filepath.Join(t.TempDir(), "other-replica", "admin.token")
	if err := os.MkdirAll(filepath.Dir(elsewhere), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(elsewhere, []byte("mlf_other"), 0o600); err != nil {
		t.Fatal(err)
	}
	return home, ProcessSpec{WorkDir: filepath.Join(home, "pods", "p1"), ModelDir: model, CodeDir: code,
		Env: []string{"TEST_HOME=" + home, "TEST_ELSEWHERE=" + elsewhere}}
}

// postScore posts body to the process's /score and returns the answer, which must be 200.
func postScore(t *testing.T, addr, body string) string {
	t.Helper()
	resp, err := scorePost(addr, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("POST /score = %d %s", resp.StatusCode, b)
	}
	return string(b)
}

// TestSandboxHidesHome runs a scoring script that tries to read the home of the server
// that started it. In its sandbox it cannot, by any of the ways it tries, while it reads
// its model, writes its work directory and answers on its port; unsandboxed (the opt-out),
// the same script reads the token, as QA's did.
func TestSandboxHidesHome(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy func(home string) sandbox.Policy
		want   map[string]string
	}{
		{"sandboxed", func(home string) sandbox.Policy { return sandbox.Policy{Hide: []string{home}} }, map[string]string{
			"token":          "FileNotFoundError",
			"elsewhere":      "FileNotFoundError",
			"home dirs":      "FileNotFoundError",
			"listing":        "read ['inference', 'pods']",
			"walk up":        "FileNotFoundError",
			"other pods":     "read ['p1', 'p1.mlfleet']",
			"state dir":      "read ['bin']",
			"write server":   "OSError",   // read-only file system
			"link a log":     "read None", // made in its own tmpfs, not the state directory (checked below)
			"server environ": "PermissionError",
			"server root":    "PermissionError",
			"model":          "read m-42",
			"write model":    "OSError", // read-only file system
			"write work":     "read 1",
			"umount":         "Operation not permitted",
			"nested":         "umount: Invalid argument, token: FileNotFoundError",
		}},
		{"unsandboxed", func(string) sandbox.Policy { return sandbox.Policy{Unsandboxed: true} }, map[string]string{
			"token":      "read mlf_secret",
			"elsewhere":  "read mlf_other",
			"walk up":    "read mlf_secret",
			"other pods": "read ['p1', 'p1.mlfleet', 'p2']",
			"state dir":  "read ['bin', 'output.log']",
			"model":      "read m-42",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home, spec := homeLayout(t)
			spec.Sandbox = tc.policy(home)
			if err := CheckSandbox(t.Context(), testPython(t), spec.Sandbox); err != nil {
				t.Fatalf("CheckSandbox: %v", err)
			}
			s := startTestProcess(t, spec)
			waitState(t, s, "ready", func(st ProcessState) bool { return st.Ready })
			var got map[string]string
			if err := json.Unmarshal([]byte(postScore(t, s.Addr(), "{}")), &got); err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s: %q, want %q", k, got[k], v)
				}
			}
			if t.Failed() {
				t.Logf("all attempts: %v", got)
			}
			if _, err := os.Lstat(filepath.Join(spec.WorkDir+".mlfleet", "output.log.1")); tc.name == "sandboxed" && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the link the script made is in the state directory: %v", err)
			}
			if b, err := os.ReadFile(filepath.Join(spec.WorkDir, "scratch")); err != nil || string(b) != "x" {
				t.Errorf("the work directory's file, seen from outside: %q, %v", b, err)
			}
		})
	}
}

// TestSandboxRefused runs a supervisor where the kernel refuses a sandbox: a helper in a
// user namespace whose user.max_user_namespaces is 0 (no new user namespace, as with
// kernel.unprivileged_userns_clone=0), and one whose seccomp filter fails every mount(2)
// (the namespaces are made but nothing may be mounted in them, as with Ubuntu's AppArmor
// restriction). The process does not start, and its exit says why and what to do, as
// CheckSandbox does (what serve runs at start); with the opt-out it runs unsandboxed.
func TestSandboxRefused(t *testing.T) {
	if mode := os.Getenv("INFERENCE_TEST_HELPER"); strings.HasPrefix(mode, "refused-") {
		helperRefused(mode)
		return
	}
	python := testPython(t)
	for _, tc := range []struct {
		mode string
		attr *syscall.SysProcAttr
		want []string
	}{
		// Root of its namespace, so that it may lower the limit there.
		{"refused-userns", &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER,
			UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
			GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}}},
			[]string{"refused a new user and mount namespace", "user.max_user_namespaces"}},
		{"refused-mounts", nil, []string{"make the mounts private: operation not permitted", "allows the namespaces but no mounts in them"}},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestSandboxRefused$")
			cmd.Env = append(os.Environ(), "INFERENCE_TEST_HELPER="+tc.mode, "HELPER_PYTHON="+python,
				"HELPER_CODE="+writeCode(t, "def init():\n    pass\ndef run(d):\n    return 'scored'\n"), "HELPER_WORK="+t.TempDir())
			cmd.SysProcAttr = tc.attr
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("helper: %v\n%s", err, out)
			}
			results := map[string]string{}
			for line := range strings.Lines(string(out)) {
				if k, v, ok := strings.Cut(strings.TrimSpace(line), ": "); ok {
					results[k] = v
				}
			}
			for _, k := range []string{"check", "sandboxed"} {
				for _, want := range append([]string{"scoring sandbox", "--unsandboxed-scoring"}, tc.want...) {
					if !strings.Contains(results[k], want) {
						t.Errorf("%s: the refused start says %q, want it to say %q", k, results[k], want)
					}
				}
			}
			if !strings.Contains(results["check"], "scoring sandbox unavailable") {
				t.Errorf("check: %q, want it to wrap sandbox.ErrUnavailable", results["check"])
			}
			if got := results["unsandboxed"]; got != "scored" {
				t.Errorf("unsandboxed: %q, want the script's answer", got)
			}
			if t.Failed() {
				t.Logf("helper output:\n%s", out)
			}
		})
	}
}

// helperRefused is TestSandboxRefused's helper: it makes the kernel refuse a sandbox as
// mode says, then prints what CheckSandbox says, how a sandboxed process ended and what an
// unsandboxed one answers.
func helperRefused(mode string) {
	var err error
	if mode == "refused-userns" {
		err = os.WriteFile("/proc/sys/user/max_user_namespaces", []byte("0"), 0)
	} else {
		err = denyMounts()
	}
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	results := map[string]string{"check": fmt.Sprint(CheckSandbox(context.Background(), os.Getenv("HELPER_PYTHON"), sandbox.Policy{}))}
	for _, unsandboxed := range []bool{false, true} {
		s, err := StartProcess(ProcessSpec{Python: os.Getenv("HELPER_PYTHON"), CodeDir: os.Getenv("HELPER_CODE"),
			WorkDir: filepath.Join(os.Getenv("HELPER_WORK"), fmt.Sprint(unsandboxed)), ProbeInterval: 20 * time.Millisecond,
			MinBackoff: time.Hour, Sandbox: sandbox.Policy{Hide: []string{os.Getenv("HELPER_WORK")}, Unsandboxed: unsandboxed}})
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		var result string
		testutil.Poll(context.Background(), time.Minute, func() (bool, string) {
			st := s.State()
			switch {
			case st.LastExit != nil:
				result = strings.ReplaceAll(st.LastExit.Output, "\n", " ")
			case st.Ready:
				resp, err := scorePost(s.Addr(), strings.NewReader("{}"))
				if err != nil {
					result = err.Error()
				} else {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					result = string(b)
				}
			}
			return result != "", ""
		})
		results[map[bool]string{false: "sandboxed", true: "unsandboxed"}[unsandboxed]] = result
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_ = s.Stop(ctx)
		cancel()
	}
	for _, k := range []string{"check", "sandboxed", "unsandboxed"} {
		fmt.Printf("%s: %s\n", k, results[k])
	}
}

// denyMounts installs, on every thread of this process and so on every process it starts,
// a seccomp filter that fails mount(2) with EPERM.
func denyMounts() error {
	filter := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0}, // seccomp_data.nr
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: unix.SYS_MOUNT, Jt: 0, Jf: 1},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return err
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	if _, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&prog))); errno != 0 {
		return errno
	}
	return nil
}

// TestSandboxVirtualEnv: a Python of a virtual environment (serve --python
// /opt/venv/bin/python) runs in the sandbox as that environment: the sandbox shows the
// environment and the base installation its interpreter links to, which may both be
// outside the system directories (pyenv under the user's home, /opt).
func TestSandboxVirtualEnv(t *testing.T) {
	venv := filepath.Join(t.TempDir(), "venv")
	if out, err := exec.Command(testPython(t), "-m", "venv", "--without-pip", venv).CombinedOutput(); err != nil {
		t.Skipf("no venv module: %v: %s", err, out)
	}
	var out strings.Builder
	cmd := exec.Command(filepath.Join(venv, "bin", "python"), "-c", "import json, sys; print(sys.prefix)")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := (sandbox.Policy{}).Start(cmd); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil || strings.TrimSpace(out.String()) != venv {
		t.Fatalf("sys.prefix in the sandbox = %q, %v; want %s", out.String(), err, venv)
	}
}
