package testutil

import (
	"fmt"
	"os"
	"strings"
)

// ProcessAlive tells whether pid is a process that has not ended; a zombie counts as
// ended. It reads /proc, so it is for Linux.
func ProcessAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) state ...
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}
