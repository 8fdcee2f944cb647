package procstat

import "testing"

func TestRSS(t *testing.T) {
	if r := RSS(); r <= 0 {
		t.Fatalf("RSS = %d on a machine with /proc", r)
	}
	if r := SettledRSS(); r <= 0 {
		t.Fatalf("SettledRSS = %d", r)
	}
}
