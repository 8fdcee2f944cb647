package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// filterServer serves GET path (with query, when not empty, the api-version it must carry)
// through answer, which writes the JSON body, and records the $filter of every call; the
// second result returns those recorded so far. Any other request is a 404.
func filterServer(t *testing.T, path, apiVersion string, answer func(srv *httptest.Server, w http.ResponseWriter, r *http.Request)) (*httptest.Server, func() []string) {
	var mu sync.Mutex
	var filters []string
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path || apiVersion != "" && r.URL.Query().Get("api-version") != apiVersion {
			http.Error(w, "unexpected "+r.URL.String(), http.StatusNotFound)
			return
		}
		mu.Lock()
		filters = append(filters, r.URL.Query().Get("$filter"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		answer(srv, w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), filters...)
	}
}

// activityServer answers the activity log with three events over two pages and records
// the $filter of each call.
func activityServer(t *testing.T) (*httptest.Server, func() []string) {
	event := func(i int) map[string]any {
		return map[string]any{
			"caller": "admin", "correlationId": fmt.Sprintf("c-%d", i), "eventTimestamp": fmt.Sprintf("2026-11-29T10:0%d:00Z", i),
			"operationName": map[string]string{"value": "Microsoft.ContainerService/managedClusters/write"},
			"status":        map[string]string{"value": "Succeeded"}, "resourceGroupName": "rg1",
		}
	}
	return filterServer(t, "/subscriptions/sub1/providers/Microsoft.Insights/eventtypes/management/values", "2015-04-01",
		func(srv *httptest.Server, w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			if q.Get("$skiptoken") == "" {
				q.Set("$skiptoken", "7")
				json.NewEncoder(w).Encode(map[string]any{"value": []any{event(3), event(2)}, "nextLink": srv.URL + r.URL.Path + "?" + q.Encode()})
				return
			}
			json.NewEncoder(w).Encode(map[string]any{"value": []any{event(1)}})
		})
}

// runAgainst runs the command line against srv with token "t" in subscription sub1.
func runAgainst(t *testing.T, srv *httptest.Server, args ...string) (string, string, int) {
	t.Helper()
	return runEnv(t, srv.URL, "t", "sub1", args...)
}

// TestActivityLogList: the flags become az's $filter (the time range from --offset), pages
// are followed up to --max-events, and the table shows one line per event.
func TestActivityLogList(t *testing.T) {
	srv, filters := activityServer(t)
	before := time.Now().UTC()
	out, errOut, code := runAgainst(t, srv, "monitor", "activity-log", "list", "-g", "rg1", "--correlation-id", "c'1", "--offset", "1d")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var events []map[string]any
	if err := json.Unmarshal([]byte(out), &events); err != nil || len(events) != 3 || events[2]["correlationId"] != "c-1" {
		t.Fatalf("output %s (%v), want the 3 events of both pages", out, err)
	}
	f := filters()
	if len(f) != 2 || f[0] != f[1] {
		t.Fatalf("filters sent %q, want the same one on both pages", f)
	}
	var ge, le string
	if _, err := fmt.Sscanf(f[0], "eventTimestamp ge %s and eventTimestamp le %s and", &ge, &le); err != nil {
		t.Fatalf("filter %q: %v", f[0], err)
	}
	start, err1 := time.Parse(time.RFC3339Nano, strings.Trim(ge, "'"))
	end, err2 := time.Parse(time.RFC3339Nano, strings.Trim(le, "'"))
	if err1 != nil || err2 != nil || end.Sub(start) != 24*time.Hour || end.Before(before.Add(-time.Second)) || end.After(time.Now()) {
		t.Errorf("time range %s .. %s, want the last day", ge, le)
	}
	if !strings.HasSuffix(f[0], " and resourceGroupName eq 'rg1' and correlationId eq 'c''1'") {
		t.Errorf("filter %q does not select the group and the (quoted) correlation id", f[0])
	}

	out, _, code = runAgainst(t, srv, "monitor", "activity-log", "list", "--max-events", "2", "--start-time", "2026-11-29T08:00:00", "-o", "table")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 4 || !strings.HasPrefix(lines[0], "EventTimestamp") || !strings.Contains(lines[0], "CorrelationId") ||
		!strings.Contains(lines[2], "Microsoft.ContainerService/managedClusters/write") || !strings.Contains(lines[2], "c-3") {
		t.Fatalf("table (exit %d):\n%s", code, out)
	}
	if f := filters(); len(f) != 3 || !strings.HasPrefix(f[2], "eventTimestamp ge '2026-11-29T08:00:00Z' and eventTimestamp le '2026-11-29T14:00:00Z'") {
		t.Errorf("--start-time alone sent %q, want it and 6 hours after", f[len(f)-1])
	}
}

func TestActivityLogListUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--offset", "6x"}, "##d##h"},
		{[]string{"--start-time", "yesterday"}, "--start-time"},
		{[]string{"--start-time", "2026-11-29T10:00:00Z", "--end-time", "2026-11-29T09:00:00Z"}, "is after --end-time"},
		{[]string{"--max-events", "-1"}, "--max-events"},
	} {
		_, errOut, code := runCLI(t, append([]string{"monitor", "activity-log", "list"}, c.args...)...)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, %q; want a usage error saying %q", c.args, code, errOut, c.want)
		}
	}
	if d, err := parseOffset("1d12h30m"); err != nil || d != 36*time.Hour+30*time.Minute {
		t.Errorf("parseOffset(1d12h30m) = %v, %v", d, err)
	}
}
