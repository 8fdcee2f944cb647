// Package procstat reads a process's resource use from /proc, for the benchmarks and tests
// that report memory per cluster and CPU per request: this process's (RSS, SettledRSS) or
// another's, by process id (ProcessRSS, ProcessCPU); or an mlfleet server's, from its
// /metrics (ServerMetric).
package procstat

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// RSS returns the process's resident set size (VmRSS) in bytes; 0 where there is no /proc.
func RSS() int64 {
	rss, err := rssOf("/proc/self/status")
	if err != nil {
		return 0
	}
	return rss
}

// SettledRSS returns RSS after handing memory the Go runtime no longer needs back to the
// operating system, so that successive readings compare live memory.
func SettledRSS() int64 {
	runtime.GC()
	debug.FreeOSMemory()
	return RSS()
}

// ProcessRSS returns the resident set size (VmRSS) in bytes of process pid.
func ProcessRSS(pid int) (int64, error) {
	return rssOf(fmt.Sprintf("/proc/%d/status", pid))
}

func rssOf(status string) (int64, error) {
	f, err := os.Open(status)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "VmRSS:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("%s: VmRSS: %w", status, err)
			}
			return kb * 1024, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("%s has no VmRSS", status)
}

// ProcessCPU returns the CPU time (user and system) process pid has used so far.
func ProcessCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The fields after the command name, which is in parentheses and may hold spaces.
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, errors.New("/proc/PID/stat has too few fields")
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on Linux.
const clockTicks = 100
