package inference

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/testutil"
)

// TestProcessDiesWithParent runs a supervisor in a child process (this test binary again),
// kills that child with SIGKILL, as a crash or kill -9 of mlfleet would, and checks that
// the Python server does not outlive it.
func TestProcessDiesWithParent(t *testing.T) {
	if os.Getenv("INFERENCE_TEST_HELPER") == "1" {
		helperSupervise()
		return
	}
	python := testPython(t)
	code := writeCode(t, "import os\ndef init():\n    pass\ndef run(d):\n    return os.getpid()\n")
	cmd := exec.Command(os.Args[0], "-test.run=^TestProcessDiesWithParent$")
	cmd.Env = append(os.Environ(), "INFERENCE_TEST_HELPER=1", "HELPER_PYTHON="+python, "HELPER_CODE="+code,
		"HELPER_WORK="+filepath.Join(t.TempDir(), "work"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(out)
	pid := 0
	for lines.Scan() {
		if p, ok := strings.CutPrefix(lines.Text(), "server pid "); ok {
			pid, _ = strconv.Atoi(p)
			break
		}
	}
	if pid == 0 {
		t.Fatal("the helper reported no server pid")
	}
	if !testutil.ProcessAlive(pid) {
		t.Fatalf("server %d not running", pid)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if _, ok := testutil.Poll(t.Context(), 10*time.Second, func() (bool, string) { return !testutil.ProcessAlive(pid), "" }); !ok {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Fatalf("server %d outlives its killed parent", pid)
	}
}

// helperSupervise starts a supervised server, prints its pid once it is ready and waits
// to be killed.
func helperSupervise() {
	s, err := StartProcess(ProcessSpec{Python: os.Getenv("HELPER_PYTHON"), WorkDir: os.Getenv("HELPER_WORK"),
		CodeDir: os.Getenv("HELPER_CODE"), ProbeInterval: 20 * time.Millisecond})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	if _, ok := testutil.Poll(context.Background(), time.Minute, func() (bool, string) { return s.State().Ready, "" }); !ok {
		fmt.Println("error: server not ready in a minute")
		os.Exit(1)
	}
	pid, err := score(s.Addr())
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Printf("server pid %d\n", pid)
	time.Sleep(time.Hour)
}

func score(addr string) (int, error) {
	resp, err := scorePost(addr, strings.NewReader("{}"))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}
