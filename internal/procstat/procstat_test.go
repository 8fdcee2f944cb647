package procstat

import (
	"os"
	"testing"
)

func TestRSS(t *testing.T) {
	if r := RSS(); r <= 0 {
		t.Fatalf("RSS = %d on a machine with /proc", r)
	}
	if r := SettledRSS(); r <= 0 {
		t.Fatalf("SettledRSS = %d", r)
	}
}

func TestProcess(t *testing.T) {
	if r, err := ProcessRSS(os.Getpid()); err != nil || r <= 0 {
		t.Fatalf("ProcessRSS(self) = %d, %v", r, err)
	}
	// Burn a little CPU so that at least one clock tick is counted.
	x := 0
	for i := range 50_000_000 {
		x += i % 7
	}
	if c, err := ProcessCPU(os.Getpid()); err != nil || c <= 0 {
		t.Fatalf("ProcessCPU(self) = %v, %v (%d)", c, err, x)
	}
	if _, err := ProcessRSS(1 << 30); err == nil {
		t.Fatal("ProcessRSS of a process that does not exist: no error")
	}
}
