package api

import (
	"net/http"
	"testing"
)

// BenchmarkGetGroup measures the server's cost of one authenticated GET of a resource
// group (authentication with the caller's roles, authorization, request limits, the
// store read and the JSON answer), over loopback HTTP/1.1 on a real SQLite store.
//
//	go test -run '^$' -bench GetGroup ./internal/api/
func BenchmarkGetGroup(b *testing.B) {
	a := newAPIServer(b, Config{})
	if ans := a.call(b, a.admin, "PUT", rgURL("bench"), `{"location":"westus"}`); ans.status >= 300 {
		b.Fatalf("create group: %d %s", ans.status, ans.raw)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if ans := a.call(b, a.reader, "GET", rgURL("bench"), ""); ans.status != http.StatusOK {
			b.Fatalf("GET: %d %s", ans.status, ans.raw)
		}
	}
}
