package integration

import (
	"context"
	"io/fs"
	"path/filepath"
	"syscall"
	"testing"
)

// TestFileModes (#11): whatever the umask, every file a server writes in its home (the
// database with its -wal and -shm, keys, certificates, kubeconfigs, etcd and apiserver
// data) is for its user only: files 0600 or stricter, directories 0700.
func TestFileModes(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	old := syscall.Umask(0o002) // the child server inherits a permissive umask
	p, _ := startServerProcess(t, home, "127.0.0.1:0")
	syscall.Umask(old)
	c := homeClient(t, home, "modes")
	ctx := context.Background()
	_, poller, err := c.BeginCreateManagedCluster(ctx, "modes", "modes", oneNodeCluster())
	if err == nil {
		_, err = poller.Wait(ctx, nil)
	}
	if err != nil {
		t.Fatalf("create cluster: %v\n%s", err, p.logs)
	}
	if _, err := c.ClusterCredentials(ctx, "modes", "modes", true); err != nil {
		t.Fatal(err)
	}
	files := 0
	err = filepath.WalkDir(home, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return nil // gone meanwhile (a temporary file)
		}
		perm := fi.Mode().Perm()
		switch {
		case d.IsDir() && perm != 0o700:
			t.Errorf("directory %s is %v, want drwx------", path, fi.Mode())
		case !d.IsDir() && fi.Mode()&fs.ModeSocket == 0 && perm&0o077 != 0:
			t.Errorf("file %s is %v, want -rw------- or stricter", path, fi.Mode())
		}
		files++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 20 {
		t.Fatalf("only %d entries under the home: the walk missed the data", files)
	}
	t.Logf("%d files and directories checked", files)
}
