// Package procstat reads this process's resource use from /proc, for the benchmarks and
// tests that report memory per cluster.
package procstat

import (
	"bufio"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
)

// RSS returns the process's resident set size (VmRSS) in bytes; 0 where there is no /proc.
func RSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "VmRSS:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				return 0
			}
			return kb * 1024
		}
	}
	return 0
}

// SettledRSS returns RSS after handing memory the Go runtime no longer needs back to the
// operating system, so that successive readings compare live memory.
func SettledRSS() int64 {
	runtime.GC()
	debug.FreeOSMemory()
	return RSS()
}
