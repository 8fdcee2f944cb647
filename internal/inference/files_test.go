package inference

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/mlfleet/mlfleet/internal/sandbox"
)

// TestLinksNotFollowed: links left where the supervisor keeps its files (as a process of
// an older mlfleet could leave them, when those files were in its work directory) are not
// followed: the server script and the log are written as new files in their place, and the
// files the links named are untouched; a log that is a link reads as no log. A state
// directory or log inside the work directory is refused.
func TestLinksNotFollowed(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "admin.token")
	victimDir := filepath.Join(dir, "elsewhere")
	if err := os.WriteFile(victim, []byte("mlf_secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(victimDir, 0o700); err != nil {
		t.Fatal(err)
	}
	spec := ProcessSpec{Python: testPython(t), WorkDir: filepath.Join(dir, "pod", "work"), StateDir: filepath.Join(dir, "pod"),
		LogFile: filepath.Join(dir, "pod", "server.log"), CodeDir: writeCode(t, "def init():\n    pass\ndef run(raw):\n    return raw\n"), Sandbox: sandbox.Policy{Hide: []string{victimDir}}}
	if err := os.MkdirAll(spec.StateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{spec.LogFile: victim, spec.LogFile + ".1": victim, filepath.Join(spec.StateDir, "bin"): victimDir} {
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := TailLog(spec.LogFile, 10); err != nil || out != "" {
		t.Errorf("TailLog of a link = %q, %v; want no log", out, err)
	}

	s := startTestProcess(t, spec)
	waitState(t, s, "ready", func(st ProcessState) bool { return st.Ready })
	if b, _ := os.ReadFile(victim); string(b) != "mlf_secret" {
		t.Errorf("the file a log link named now holds %q", b)
	}
	if entries, _ := os.ReadDir(victimDir); len(entries) != 0 {
		t.Errorf("the directory a bin link named now holds %v", entries)
	}
	for _, p := range []string{spec.LogFile, filepath.Join(spec.StateDir, "bin", "mlfleet_inference_server.py")} {
		if fi, err := os.Lstat(p); err != nil || !fi.Mode().IsRegular() {
			t.Errorf("%s: %v, %v; want a regular file", p, fi, err)
		}
	}

	for _, bad := range []ProcessSpec{{StateDir: filepath.Join(spec.WorkDir, "state")}, {LogFile: filepath.Join(spec.WorkDir, "out.log")}} {
		bad.Python, bad.WorkDir, bad.CodeDir = spec.Python, spec.WorkDir, spec.CodeDir
		if _, err := StartProcess(bad); err == nil {
			t.Errorf("StartProcess with state %q and log %q in the work directory: no error", bad.StateDir, bad.LogFile)
		}
	}
}
