package api

import (
	"net/http"
	"sync"
	"testing"

	"github.com/mlfleet/mlfleet/internal/endpoints"
)

// TestEndpointConcurrentCreates: of many creates of one endpoint at once with
// If-None-Match, exactly one is accepted; the others get a 409, never a 500, and one set
// of keys exists.
func TestEndpointConcurrentCreates(t *testing.T) {
	a, srv := endpointARM(t, endpoints.Config{})
	path := assetWS + "/onlineEndpoints/race1?api-version=2023-04-01"
	const n = 8
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, _ := jsonCall(t, a, srv, a.owner, http.MethodPut, path, map[string]any{"location": "westus", "properties": map[string]any{"authMode": "Key"}}, "If-None-Match", "*")
			statuses <- status
		}()
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[http.StatusCreated] != 1 || count[http.StatusConflict] != n-1 {
		t.Fatalf("statuses %v, want one 201 and %d 409", count, n-1)
	}
	status, keys := jsonCall(t, a, srv, a.owner, http.MethodPost, assetWS+"/onlineEndpoints/race1/listKeys?api-version=2023-04-01", nil)
	if status != http.StatusOK || len(keys["primaryKey"].(string)) < 16 {
		t.Fatalf("listKeys: %d %v", status, keys)
	}
	// The endpoint's operation never ran (no engine started): a change meanwhile is refused.
	status, body := jsonCall(t, a, srv, a.owner, http.MethodPut, path, map[string]any{"location": "westus", "properties": map[string]any{}})
	if status != http.StatusConflict {
		t.Fatalf("update while creating: %d %v", status, body)
	}
}
