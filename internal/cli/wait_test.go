package cli

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// deadAddress returns the address of a port nothing listens on any more: a server that
// has died.
func deadAddress(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestWaitLostOperation: when the server stops answering while a command waits for its
// operation, the error says that the operation was accepted and goes on, and which
// command shows how it ends (the activity log under the correlation id of the request
// that started it); a create with --all-traffic also says that the traffic was not set,
// and the command that sets it, when its deployment could not be waited for or the
// traffic change was not accepted. The fake server accepts the operations; their status
// URL is on a dead port, or on the fake, which answers Succeeded.
func TestWaitLostOperation(t *testing.T) {
	dead := "http://" + deadAddress(t) + "/subscriptions/sub1/providers/Microsoft.Resources/operationStatuses/op1?api-version=2024-03-01"
	// fakeServer answers with status as the operation's status URL, "" for its own.
	fakeServer := func(t *testing.T, status string, trafficStatus int) *httptest.Server {
		fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			switch {
			case strings.Contains(r.URL.Path, "/operationStatuses/"):
				w.Write([]byte(`{"status":"Succeeded"}`))
			case r.Method == http.MethodPatch && strings.HasSuffix(r.URL.Path, "/onlineEndpoints/ep"):
				w.WriteHeader(trafficStatus)
				w.Write([]byte(`{"error":{"code":"BadRequest","message":"traffic refused"}}`))
			case r.Method == http.MethodDelete || r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/deployments/blue"):
				u := status
				if u == "" {
					u = "http://" + r.Host + "/operationStatuses/op1"
				}
				w.Header().Set("Azure-AsyncOperation", u)
				w.Header().Set("x-ms-correlation-request-id", "corr-1")
				w.WriteHeader(http.StatusAccepted)
				w.Write([]byte(`{}`))
			default:
				http.Error(w, "unexpected "+r.Method+" "+r.URL.String(), http.StatusNotFound)
			}
		}))
		t.Cleanup(fake.Close)
		return fake
	}
	spec := filepath.Join(t.TempDir(), "blue.yml")
	if err := os.WriteFile(spec, []byte("compute: azureml:exatt\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	create := []string{"ml", "online-deployment", "create", "-n", "blue", "-e", "ep", "-g", "rg1", "-w", "ws1", "-f", spec, "--all-traffic"}
	const (
		lost    = "The operation was accepted and goes on on the server; this command stopped following it. To see how it ends, run: mlfleet monitor activity-log list --correlation-id corr-1"
		traffic = `The endpoint's traffic was not set. Once the deployment has succeeded, send it all of the traffic with: mlfleet ml online-endpoint update -n ep -g rg1 -w ws1 --traffic "blue=100"`
	)
	cases := []struct {
		name          string
		args          []string
		status        string // the operation's status URL
		trafficStatus int
		want, notWant []string
	}{
		{"delete", []string{"group", "delete", "-n", "rg1", "-y"}, dead, 0, []string{"connection refused", lost}, []string{traffic}},
		{"deployment lost", create, dead, 0, []string{"connection refused", lost, traffic}, nil},
		{"traffic refused", create, "", http.StatusBadRequest, []string{"(BadRequest) traffic refused", traffic}, []string{lost}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := runAgainst(t, fakeServer(t, tc.status, tc.trafficStatus), tc.args...)
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q\nwant it to say %q", errOut, w)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(errOut, w) {
					t.Errorf("stderr %q\nsays %q", errOut, w)
				}
			}
		})
	}
}
