package sandbox

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// systemDirs are the host directories a program sees, read-only: the binaries, libraries
// and configuration it and its interpreter need. Nothing else of the host is there: no
// home directory (the server user's keys and logins, another replica's home on the same
// machine), no /tmp, /var, /run or /opt.
var systemDirs = []string{"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/sys"}

// devices are the device files of the program's /dev.
var devices = []string{"null", "zero", "full", "random", "urandom", "tty"}

// staging is where the new root is built, a tmpfs over the host's /tmp in this mount
// namespace: every host path the new root shows is opened before it is covered.
const staging = "/tmp"

// source is one thing the new root shows at path: a host directory or file (fd, an O_PATH
// descriptor opened before the staging tmpfs), or a symbolic link to link.
type source struct {
	path     string
	fd       int
	dir      bool
	writable bool
	link     string
}

// setUp makes a new root for the program in this (new) mount namespace and enters it: the
// system directories and the program's own installation read-only, a /dev of a few
// devices, the host's /proc, an empty /tmp, and the directories it needs (spec.Keep) at
// their own paths; paths of spec.Hide inside what it shows are covered. It then enters
// spec.Dir and drops every privilege.
func setUp(spec stubSpec, program string) error {
	// Nothing done here may reach the caller's namespace.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make the mounts private: %w", err)
	}
	var keep []target
	for _, m := range spec.Keep {
		t, err := resolve(m.Path)
		if err != nil {
			return fmt.Errorf("directory %s the program needs: %w", m.Path, err)
		}
		t.writable = m.Writable
		keep = append(keep, t)
	}
	hide, err := hidden(spec.Hide, keep)
	if err != nil {
		return err
	}
	var sources []source
	defer func() {
		for _, s := range sources {
			if s.link == "" {
				unix.Close(s.fd)
			}
		}
	}()
	add := func(path, hostPath string, writable bool) error {
		s, err := open(path, hostPath, writable)
		if err == nil && s != nil {
			sources = append(sources, *s)
		}
		return err
	}
	visible := append(slices.Clip(systemDirs), programDirs(program)...)
	for _, d := range visible {
		if err := add(d, d, false); err != nil {
			return err
		}
	}
	// A resolver configuration kept elsewhere (/run/systemd/resolve/...), so that DNS works.
	if r, err := filepath.EvalSymlinks("/etc/resolv.conf"); err == nil && !slices.ContainsFunc(visible, func(d string) bool { return within(r, d) }) {
		if err := add(r, r, false); err != nil {
			return err
		}
	}
	for _, d := range devices {
		if err := add("/dev/"+d, "/dev/"+d, true); err != nil {
			return err
		}
	}
	for _, k := range keep {
		if err := add(k.path, k.path, k.writable); err != nil {
			return fmt.Errorf("directory %s the program needs: %w", k.path, err)
		}
	}
	// The paths the caller gave too, when they differ (a link on the way): the program is
	// given those.
	for i, m := range spec.Keep {
		if p := filepath.Clean(m.Path); p != keep[i].path {
			if err := add(p, keep[i].path, keep[i].writable); err != nil {
				return err
			}
		}
	}
	slices.SortStableFunc(sources, func(a, b source) int { return strings.Compare(a.path, b.path) })

	if err := unix.Mount("tmpfs", staging, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755,size=1m"); err != nil {
		return fmt.Errorf("make the new root: %w", err)
	}
	// /proc, /tmp and /dev's own first, then the system directories and devices (the
	// program's installation may lie under /tmp), then what covers hidden paths among
	// them, then the kept directories, which may lie under such a cover.
	if err := specialMounts(); err != nil {
		return err
	}
	isKept := func(s source) bool {
		return slices.ContainsFunc(keep, func(k target) bool { return k.path == s.path }) ||
			slices.ContainsFunc(spec.Keep, func(m Mount) bool { return filepath.Clean(m.Path) == s.path })
	}
	for _, s := range sources {
		if !isKept(s) {
			if err := place(s); err != nil {
				return err
			}
		}
	}
	var covered []target
	for _, h := range hide {
		if slices.ContainsFunc(visible, func(d string) bool { return within(h.path, d) }) {
			if err := cover(h); err != nil {
				return err
			}
			covered = append(covered, h)
		}
	}
	for _, s := range sources {
		if isKept(s) {
			if err := place(s); err != nil {
				return err
			}
		}
	}
	for _, h := range covered {
		if h.dir {
			if err := unix.Mount("", staging+h.path, "", unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
				return fmt.Errorf("make the tmpfs over %s read-only: %w", h.path, err)
			}
		}
	}
	if err := enter(); err != nil {
		return err
	}
	if spec.Dir != "" {
		if err := os.Chdir(spec.Dir); err != nil {
			return fmt.Errorf("enter %s: %w", spec.Dir, err)
		}
	}
	return dropPrivileges()
}

// programDirs are the directories of the program's installation: the prefix (the parent
// of its bin directory) of its path and of the file that path links to, so that a Python
// of a virtual environment finds both the environment and its base installation. A prefix
// that is / or holds the user's home is not shown whole: only the bin directory is.
func programDirs(program string) []string {
	paths := []string{program}
	if r, err := filepath.EvalSymlinks(program); err == nil && r != program {
		paths = append(paths, r)
	}
	home := ""
	if u, err := user.Current(); err == nil {
		home = u.HomeDir
	}
	var dirs []string
	for _, p := range paths {
		bin := filepath.Dir(p)
		prefix := filepath.Dir(bin)
		d := prefix
		if prefix == "/" || (home != "" && within(home, prefix)) {
			d = bin
		}
		if !slices.ContainsFunc(systemDirs, func(s string) bool { return within(d, s) }) && !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// open returns the source that shows the host's hostPath at path, nil when hostPath does
// not exist. A symbolic link stays a link (/bin -> usr/bin).
func open(path, hostPath string, writable bool) (*source, error) {
	fi, err := os.Lstat(hostPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if fi.Mode()&os.ModeSymlink != 0 && path == hostPath {
		link, err := os.Readlink(hostPath)
		if err != nil {
			return nil, err
		}
		return &source{path: path, link: link}, nil
	}
	fd, err := unix.Open(hostPath, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", hostPath, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("stat %s: %w", hostPath, err)
	}
	return &source{path: path, fd: fd, dir: st.Mode&unix.S_IFMT == unix.S_IFDIR, writable: writable}, nil
}

// place puts s in the new root: a recursive bind, read-only unless writable, or a link.
func place(s source) error {
	at := staging + s.path
	if err := os.MkdirAll(filepath.Dir(at), 0o755); err != nil {
		return fmt.Errorf("show %s: %w", s.path, err)
	}
	if s.link != "" {
		if err := os.Symlink(s.link, at); err != nil {
			return fmt.Errorf("show %s: %w", s.path, err)
		}
		return nil
	}
	if s.dir {
		if err := os.MkdirAll(at, 0o755); err != nil {
			return fmt.Errorf("show %s: %w", s.path, err)
		}
	} else if f, err := os.OpenFile(at, os.O_CREATE|os.O_WRONLY, 0o644); err != nil {
		return fmt.Errorf("show %s: %w", s.path, err)
	} else {
		f.Close()
	}
	if err := unix.Mount(fmt.Sprintf("/proc/self/fd/%d", s.fd), at, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("show %s: %w", s.path, err)
	}
	if !s.writable {
		return readOnly(at)
	}
	return nil
}

// specialMounts makes the new root's /proc (the host's: a new one needs a new pid
// namespace, and the program keeps its pid), an empty /tmp and /dev/shm, and the /dev
// links to the process's descriptors.
func specialMounts() error {
	if err := os.MkdirAll(staging+"/proc", 0o555); err != nil {
		return err
	}
	if err := unix.Mount("/proc", staging+"/proc", "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("show /proc: %w", err)
	}
	for _, d := range []string{"/tmp", "/dev/shm"} {
		if err := os.MkdirAll(staging+d, 0o755); err != nil {
			return err
		}
		if err := unix.Mount("tmpfs", staging+d, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777"); err != nil {
			return fmt.Errorf("make %s: %w", d, err)
		}
	}
	for name, to := range map[string]string{"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"} {
		if err := os.Symlink(to, staging+"/dev/"+name); err != nil {
			return fmt.Errorf("make /dev/%s: %w", name, err)
		}
	}
	return nil
}

// enter makes the new root the root, with the host's root detached from it, and makes it
// read-only (the directories mounted in it keep their own modes).
func enter() error {
	if err := unix.Chdir(staging); err != nil {
		return fmt.Errorf("enter the new root: %w", err)
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("enter the new root: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("leave the host's root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return err
	}
	if err := unix.Mount("", "/", "", unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV, ""); err != nil {
		return fmt.Errorf("make the new root read-only: %w", err)
	}
	return nil
}
