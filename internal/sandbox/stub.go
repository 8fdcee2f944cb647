package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// runStub is the stub's body, in the new namespaces: it sets the sandbox of specJSON up
// and execs argv. It returns only on error.
func runStub(specJSON string, argv []string) error {
	// Capabilities and no_new_privs belong to a thread: drop them on the one that execs.
	runtime.LockOSThread()
	var spec stubSpec
	if err := json.Unmarshal([]byte(specJSON), &spec); err != nil {
		return fmt.Errorf("scoring sandbox: read its spec: %w", err)
	}
	if err := setUp(spec, argv[0]); err != nil {
		if errors.Is(err, unix.EPERM) {
			// Ubuntu's AppArmor lets the namespaces be made but allows nothing in them.
			err = fmt.Errorf("%w (the kernel allows the namespaces but no mounts in them, as AppArmor's "+
				"kernel.apparmor_restrict_unprivileged_userns=1 does: allow them for mlfleet, or start mlfleet serve "+
				"with --unsandboxed-scoring)", err)
		}
		return fmt.Errorf("scoring sandbox: %w", err)
	}
	env := slices.DeleteFunc(os.Environ(), func(e string) bool { return strings.HasPrefix(e, specEnv+"=") })
	err := syscall.Exec(argv[0], argv, env)
	return fmt.Errorf("cannot start %s: %w", argv[0], err)
}

// target is a path to hide or keep, resolved.
type target struct {
	path     string
	dir      bool
	writable bool
}

// resolve returns path with its symbolic links resolved, and whether it is a directory.
func resolve(path string) (target, error) {
	if !filepath.IsAbs(path) {
		return target{}, fmt.Errorf("%q is not an absolute path", path)
	}
	r, err := filepath.EvalSymlinks(path)
	if err != nil {
		return target{}, err
	}
	fi, err := os.Stat(r)
	if err != nil {
		return target{}, err
	}
	return target{path: r, dir: fi.IsDir()}, nil
}

// hidden resolves the paths to hide, skipping those that do not exist, those inside
// another hidden directory and those that are a kept directory.
func hidden(paths []string, keep []target) ([]target, error) {
	var all []target
	for _, p := range paths {
		t, err := resolve(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("hide %s: %w", p, err)
		}
		if !slices.ContainsFunc(keep, func(k target) bool { return k.path == t.path }) {
			all = append(all, t)
		}
	}
	slices.SortFunc(all, func(a, b target) int { return strings.Compare(a.path, b.path) })
	var out []target
	for _, t := range all {
		if !slices.ContainsFunc(out, func(o target) bool { return o.dir && within(t.path, o.path) }) {
			out = append(out, t)
		}
	}
	return out, nil
}

// within tells whether path is dir or inside it.
func within(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, strings.TrimSuffix(dir, "/")+"/")
}

// cover hides t: an empty tmpfs over a directory, /dev/null over a file.
func cover(t target) error {
	var err error
	if t.dir {
		err = unix.Mount("tmpfs", staging+t.path, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=0755,size=1m")
	} else {
		err = unix.Mount("/dev/null", staging+t.path, "", unix.MS_BIND, "")
	}
	if err != nil {
		return fmt.Errorf("hide %s: %w", t.path, err)
	}
	return nil
}

// readOnly makes the mount at path, and those below it, read-only.
func readOnly(path string) error {
	err := unix.MountSetattr(unix.AT_FDCWD, path, unix.AT_RECURSIVE, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY})
	if errors.Is(err, unix.ENOSYS) {
		// Before Linux 5.12: a remount of the bind alone, keeping the flags the kernel
		// locks on mounts from a more privileged namespace.
		var st unix.Statfs_t
		if err = unix.Statfs(path, &st); err == nil {
			locked := uintptr(st.Flags) & (unix.ST_NOSUID | unix.ST_NODEV | unix.ST_NOEXEC | unix.ST_NOATIME | unix.ST_NODIRATIME)
			if st.Flags&unix.ST_RELATIME != 0 {
				locked |= unix.MS_RELATIME
			}
			err = unix.Mount("", path, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY|locked, "")
		}
	}
	if err != nil {
		return fmt.Errorf("make %s read-only: %w", path, err)
	}
	return nil
}

// dropPrivileges leaves the thread no capability and no way to gain one: no_new_privs,
// an empty bounding set, no ambient, inheritable, permitted or effective capability, so
// that the program runs with none even as uid 0 of its namespace.
func dropPrivileges() error {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("set no_new_privs: %w", err)
	}
	for c := 0; c < 64; c++ {
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("drop capability %d: %w", c, err)
		}
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		return fmt.Errorf("clear ambient capabilities: %w", err)
	}
	var data [2]unix.CapUserData
	if err := unix.Capset(&unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}, &data[0]); err != nil {
		return fmt.Errorf("drop capabilities: %w", err)
	}
	return nil
}
