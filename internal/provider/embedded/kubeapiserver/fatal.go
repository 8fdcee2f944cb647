package kubeapiserver

import (
	"runtime"
	"sync"

	"k8s.io/klog/v2"
)

// runPostStartHook is the apiserver function that runs one post-start hook and calls
// klog.Fatalf, hence os.Exit, when the hook returns an error.
const runPostStartHook = "k8s.io/apiserver/pkg/server.runPostStartHook"

// installFatalGuard keeps a failing post-start hook of one embedded apiserver from killing
// the whole process.
//
// kube-apiserver treats a failed post-start hook as fatal (klog.Fatalf, then os.Exit(255)):
// right for a binary that its supervisor restarts, wrong for a process hosting many
// clusters. Hooks fail when their context is cancelled, i.e. when a server is stopped
// before it got ready (Start timing out), and when a hook gives up on its own (etcd too slow
// or gone). The guard replaces klog.OsExit, the function klog exits through, with one that
// ends only the calling goroutine (runtime.Goexit) when that goroutine is running a
// post-start hook, and exits as before otherwise. The hook then never reports done, so the
// server stays unready (its /readyz fails) and Start fails or the health checks of mlfleet
// see it; the fatal message itself is still logged by klog.
//
// klog.OsExit is process-wide, so this is installed once, by the first Start, and never
// removed.
var installFatalGuard = sync.OnceFunc(func() {
	exit := klog.OsExit
	klog.OsExit = func(code int) {
		if callerIs(runPostStartHook) {
			runtime.Goexit()
		}
		exit(code)
	}
})

// callerIs tells whether function is on the calling goroutine's stack.
func callerIs(function string) bool {
	pcs := make([]uintptr, 64)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs)])
	for {
		frame, more := frames.Next()
		if frame.Function == function {
			return true
		}
		if !more {
			return false
		}
	}
}
