package testutil

import (
	"strings"
	"testing"
)

// WantErr checks err against want, the error a table-driven test case expects: with want
// empty, err must be nil; otherwise err must be an error whose message contains want. t
// fails at once (Fatalf) when err is not so. It reports whether an error was wanted, so
// that such a case stops there:
//
//	if testutil.WantErr(t, err, tc.wantErr) {
//		return
//	}
func WantErr(t testing.TB, err error, want string) bool {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return false
	}
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error = %v, want one containing %q", err, want)
	}
	return true
}
