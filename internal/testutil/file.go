package testutil

import (
	"os"
	"testing"
)

// ReadFile returns the content of the file at path; t fails when it cannot be read.
func ReadFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
