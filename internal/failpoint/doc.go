// Package failpoint lets tests crash mlfleet, or make it fail, at named points in its code.
//
// A failpoint is a call to Hit with a name, placed where a crash or an error would leave
// state worth testing: between a step's side effect and the record of it, before and after
// a transaction commits. Hit is compiled in always. Unarmed and untraced it is one atomic
// load and returns nil, so the points cost nothing in production and the binary under test
// is the binary that ships.
//
// # Names
//
// A name says where in mlfleet it is, from the package outwards, joined by "/":
//   - the operations engine hits "op/<kind>/<step>/before" and "op/<kind>/<step>/after"
//     around each step of an operation, e.g. "op/create/provision nodes/before";
//   - the store hits "store/<Method>/<type>/before" and ".../after" around each method, e.g.
//     "store/Put/cluster/after", "store/commit/<tx name>/before" and ".../after" around
//     each transaction commit, and "store/Lock/<key>/before" before a transaction takes a
//     lock.
//
// Names may contain spaces, "/", ".", ":" and "-". They are not registered anywhere: a name
// exists once code hits it. Tracing (below) lists the names a run goes through, which is how
// a test finds every point worth crashing at.
//
// # Arming
//
// The MLFLEET_FAILPOINTS environment variable, read by FromEnv when `mlfleet serve` starts,
// or Arm in-process, takes a spec: terms separated by ";" (or by "," outside parentheses),
// each PATTERN=MODE[@K[+]][%P]. Space around a term, its pattern and its mode is ignored.
//
//   - PATTERN is a name, or a glob in which "*" matches any run of characters, "/" and
//     spaces included. No other character is special.
//   - MODE is what happens: crash writes "failpoint: crash at NAME (hit N)" to stderr and
//     exits with status 137 at once, running no deferred functions, as kill -9 would;
//     error makes Hit return an error wrapping ErrInjected; panic panics with such an error;
//     sleep(DURATION) sleeps for a time.ParseDuration duration, then returns nil; off does
//     nothing, which lets an earlier term exempt names from a later one.
//   - @K fires only at the K-th hit of names matching PATTERN, counted per term across all
//     the names it matches; @K+ fires at the K-th hit and every later one. Without it every
//     matching hit fires.
//   - %P fires only with probability P percent (0 to 100) among the hits that would fire.
//
// The first term whose pattern matches a name decides what happens; every term whose pattern
// matches counts the hit, so a term's @K is the same whichever terms come before it. Arming
// again starts all counts from zero. For example
//
//	MLFLEET_FAILPOINTS='store/commit/*/after=crash@3; op/*=error%10'
//
// crashes after the third commit of any transaction and fails a tenth of operation steps.
//
// # Tracing
//
// When MLFLEET_FAILPOINTS_TRACE names a file (read by FromEnv), or EnableTrace is called,
// every Hit appends its name and a newline to that file, with one write, before acting on
// its mode: a test that crashes the process can read which points it passed and where it
// died. Trace returns the same names from memory. The list grows with every hit, so tracing
// is for tests, not for long-running servers.
//
// # Hooks
//
// Hook, in-process only, calls a function at every hit of a name matching a pattern, on
// the goroutine that hit it, before the armed terms act. A test holds a request at a point
// with it (the function waits on a channel) to run another request in the window, which
// makes a race a sequence of steps.
//
// # Global state
//
// The armed set and the trace are process-global, on purpose and unlike the rest of mlfleet:
// like a signal handler, a failpoint has to reach code that no constructor option threads
// through, and a child process has to be armed before it runs any of its code. Tests arm a
// `mlfleet serve` they start as a child process through the environment, and arm in-process
// code with Arm or Hook, resetting with Arm(""), EnableTrace("") and the hook's remove when
// they finish; tests that arm in-process cannot run in parallel with each other.
package failpoint
