// Package sandbox runs a program (the Python inference server that imports a user's
// scoring script) so that it cannot read mlfleet's own files: its home (database, keys,
// admin token, PKI, every cluster's data), a SQLite store or a replica key kept elsewhere,
// and the sockets of the clusters' etcd or kine.
//
// A Policy names those paths. Policy.Start starts the command in a new user namespace
// (the caller's uid and gid mapped to themselves) and a new mount namespace. Go cannot run
// code between clone and exec, so the process started is this same binary again
// (/proc/self/exe) with a marker as argv[0]: Init, called first thing in main (and in the
// TestMain of every test binary that starts such processes), sees the marker and, inside
// the new namespaces, builds a root of the program's own on a tmpfs and pivots into it,
// with the host's root detached. That root shows the system directories (/usr, /etc, /lib*,
// /bin, /sbin, /sys) and the program's installation (the prefix of its path and of what
// that links to: a Python virtual environment and its base) read-only, a /dev of a few
// devices, the host's /proc, an empty /tmp, and the directories the program needs at their
// own paths (its work directory read-write, its model and code read-only). The Policy's
// hidden paths that lie in what it shows are covered (an empty tmpfs, /dev/null over a
// file). The stub then enters the program's work directory, drops every capability, sets
// no_new_privs, and execs the real program with the same pid. Setpgid, Pdeathsig, output,
// exit codes and signals therefore behave as for a program started directly. Nothing
// outside that list is there: no home directory (the server user's keys and logins,
// another replica's home on the same machine), /var, /run, /opt or the host's /tmp.
//
// What the program cannot do afterwards, and why:
//   - open a path outside its root: there is none, the host's root is detached;
//   - open a hidden path: the tmpfs is all it sees there;
//   - undo the mounts: it has no capability left, and a nested user namespace it may create
//     copies the mounts locked, so they cannot be unmounted or bound apart (the kernel's
//     MNT_LOCKED rule for mounts from a more privileged namespace);
//   - reach the hidden directories through the working directory it inherited (from there
//     ".." would list the other deployments' work directories): the stub enters its work
//     directory again after the mounts;
//   - read /proc/<server>/environ, mem, fd or root: those need ptrace access, which a
//     process in a child user namespace never has to one in its parent.
//
// When the kernel refuses the namespaces (unprivileged user namespaces disabled), Start
// fails with ErrUnavailable and the process does not run, unless the policy says
// Unsandboxed (mlfleet serve --unsandboxed-scoring).
package sandbox
