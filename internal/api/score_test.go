package api

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/auth"
	"github.com/mlfleet/mlfleet/internal/endpoints"
)

// TestScoreRefusals: POST …/score refuses what it cannot forward with a 4xx that says
// what to do — an empty body, a body that is not JSON, one over the limit, an unknown
// endpoint, an endpoint without a scoring URI yet — and never a 500.
func TestScoreRefusals(t *testing.T) {
	a, srv := endpointARM(t, endpoints.Config{})
	// No engine runs: the endpoint stays Creating, without a scoring URI.
	createEndpoint(t, a, srv, assetWS+"/onlineEndpoints/ep1?api-version=2024-04-01", nil)
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
			var e struct {
				Error struct{ Code, Message string }
			}
			_ = json.Unmarshal(raw, &e)
			if resp.StatusCode != tc.status || !strings.Contains(e.Error.Message, tc.message) {
				t.Errorf("%d %s, want %d with %q", resp.StatusCode, raw, tc.status, tc.message)
			}
		})
	}
}

// TestScoreForwards: POST …/score sends the body to the scoring URI over TLS (trusting
// the configured roots) with the endpoint's primary key and the pinned deployment, and
// answers the router's status, body and deployment as a value; an unreachable router is
// a 502 that names the URI.
func TestScoreForwards(t *testing.T) {
	type seen struct{ auth, deployment, body string }
	got := make(chan seen, 1)
	router := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Header.Get("Authorization"), r.Header.Get("azureml-model-deployment"), string(b)}
		w.Header().Set("azureml-model-deployment", "green")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTeapot)
		w.Write([]byte(`{"answer": 42}`))
	}))
	defer router.Close()
	roots := x509.NewCertPool()
	roots.AddCert(router.Certificate())

	key, err := auth.LoadOrCreateSigningKey(filepath.Join(t.TempDir(), "signing.pem"))
	if err != nil {
		t.Fatal(err)
	}
	a, srv := endpointARM(t, endpoints.Config{SigningKey: key, ScoreRoots: roots})
	createEndpoint(t, a, srv, assetWS+"/onlineEndpoints/ep1?api-version=2024-04-01", nil)
	status, body := jsonCall(t, a, srv, a.owner, http.MethodPut, assetWS+"/onlineEndpoints/ep2?api-version=2024-04-01", map[string]any{"location": "westus", "properties": map[string]any{"authMode": "AMLToken"}})
	if status != http.StatusCreated {
		t.Fatalf("create ep2: %d %v", status, body)
	}
	// The router's address, as the endpoint's operation would have set it.
	setScoringURI := func(name, uri string) {
		t.Helper()
		ctx := context.Background()
		r, err := a.st.GetResource(ctx, endpoints.EndpointID(testSub, "rg1", "ws1", name))
		if err != nil {
			t.Fatal(err)
		}
		var ep map[string]any
		if err := json.Unmarshal(r.Body, &ep); err != nil {
			t.Fatal(err)
		}
		ep["properties"].(map[string]any)["scoringUri"] = uri
		r.Body, _ = json.Marshal(ep)
		if err := a.st.UpdateResource(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	setScoringURI("ep1", router.URL+"/api/v1/endpoint/ep1/score")
	setScoringURI("ep2", router.URL+"/api/v1/endpoint/ep2/score")
	_, keys := jsonCall(t, a, srv, a.owner, http.MethodPost, assetWS+"/onlineEndpoints/ep1/listKeys?api-version=2024-04-01", nil)

	status, res := jsonCall(t, a, srv, a.owner, http.MethodPost, assetWS+"/onlineEndpoints/ep1/score?api-version=2024-04-01&deployment=green", map[string]any{"data": []int{1, 2}})
	if status != http.StatusOK || res["statusCode"] != float64(http.StatusTeapot) || res["body"] != `{"answer": 42}` || res["deployment"] != "green" {
		t.Fatalf("score: %d %v", status, res)
	}
	s := <-got
	if s.auth != "Bearer "+keys["primaryKey"].(string) || s.deployment != "green" || s.body != `{"data":[1,2]}` {
		t.Fatalf("the router got %+v", s)
	}

	// authMode AMLToken: a fresh token signed by the server's key.
	status, res = jsonCall(t, a, srv, a.owner, http.MethodPost, assetWS+"/onlineEndpoints/ep2/score?api-version=2024-04-01", []int{3})
	if status != http.StatusOK || res["statusCode"] != float64(http.StatusTeapot) {
		t.Fatalf("score ep2: %d %v", status, res)
	}
	s = <-got
	if tok, ok := strings.CutPrefix(s.auth, "Bearer "); !ok || strings.Count(tok, ".") != 2 || s.deployment != "" || s.body != "[3]" {
		t.Fatalf("the router got %+v, want a JWT and no pinned deployment", s)
	}

	router.Close()
	status, res = jsonCall(t, a, srv, a.owner, http.MethodPost, assetWS+"/onlineEndpoints/ep1/score?api-version=2024-04-01", map[string]any{"data": []int{1}})
	if msg, _ := res["error"].(map[string]any)["message"].(string); status != http.StatusBadGateway || !strings.Contains(msg, router.URL) {
		t.Fatalf("score of a closed router: %d %v", status, res)
	}
}
