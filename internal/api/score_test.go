package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/endpoints"
	"github.com/mlfleet/mlfleet/internal/mlassets"
	"github.com/mlfleet/mlfleet/internal/operations"
	"github.com/mlfleet/mlfleet/internal/secrets"
)

// TestScoreRefusals: POST …/score refuses what it cannot forward with a 4xx that says
// what to do — an empty body, a body that is not JSON, one over the limit, an unknown
// endpoint, an endpoint without a scoring URI yet — and never a 500.
func TestScoreRefusals(t *testing.T) {
	a, _, _ := blobARM(t, 1<<20)
	box, err := secrets.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	assets := mlassets.New(mlassets.Config{Store: a.st, Resources: a.rs, Workspaces: a.ws})
	eps := endpoints.New(endpoints.Config{Store: a.st, Engine: operations.New(a.st, operations.Config{}), Resources: a.rs, Workspaces: a.ws, Assets: assets, Secrets: box})
	srv := newEndpointServer(t, a, eps, assets)
	// No engine runs: the endpoint stays Creating, without a scoring URI.
	status, body := jsonCall(t, a, srv, a.owner, http.MethodPut, assetWS+"/onlineEndpoints/ep1?api-version=2024-04-01", map[string]any{"location": "westus", "properties": map[string]any{"authMode": "Key"}})
	if status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, body)
	}
	cases := []struct {
		name, endpoint string
		body           []byte
		status         int
		message        string
	}{
		{"empty", "ep1", nil, http.StatusBadRequest, "The request body is empty"},
		{"not JSON", "ep1", []byte("{data"), http.StatusBadRequest, "not valid JSON"},
		{"too large", "ep1", []byte(`"` + strings.Repeat("x", endpoints.ScoreMaxRequest) + `"`), http.StatusRequestEntityTooLarge, "larger than 1048576 bytes"},
		{"unknown endpoint", "nope", []byte(`{"data":[1]}`), http.StatusNotFound, "nope"},
		{"no scoring URI", "ep1", []byte(`{"data":[1]}`), http.StatusConflict, "has no scoring URI yet"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, srv+assetWS+"/onlineEndpoints/"+tc.endpoint+"/score?api-version=2024-04-01", bytes.NewReader(tc.body))
			req.Header.Set("Authorization", "Bearer "+a.owner)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			var e struct{ Error struct{ Code, Message string } }
			_ = json.Unmarshal(raw, &e)
			if resp.StatusCode != tc.status || !strings.Contains(e.Error.Message, tc.message) {
				t.Errorf("%d %s, want %d with %q", resp.StatusCode, raw, tc.status, tc.message)
			}
		})
	}
}
