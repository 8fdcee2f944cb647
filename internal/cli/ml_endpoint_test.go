package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/mlfleet/mlfleet/internal/testutil"
)

// TestEndpointInvokeOutput: invoke prints the endpoint's answer through the output
// formats, as az ml does: --query and -o apply to the JSON it answered, -o none prints
// nothing, and an answer that is not JSON is a string. The server is a fake that serves
// the endpoint, its keys and its scoring URI.
func TestEndpointInvokeOutput(t *testing.T) {
	const ep = "/subscriptions/sub1/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/onlineEndpoints/ep"
	answer := `[11055.98, 4503.76]`
	var fake *httptest.Server
	fake = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodGet && r.URL.Path == ep:
			json.NewEncoder(w).Encode(map[string]any{"id": ep, "name": "ep",
				"properties": map[string]any{"authMode": "Key", "scoringUri": fake.URL + "/score"}})
		case r.Method == http.MethodPost && r.URL.Path == ep+"/listKeys":
			json.NewEncoder(w).Encode(map[string]any{"primaryKey": "k1", "secondaryKey": "k2"})
		case r.Method == http.MethodPost && r.URL.Path == "/score" && r.Header.Get("Authorization") == "Bearer k1":
			w.Write([]byte(answer))
		default:
			http.Error(w, "unexpected "+r.Method+" "+r.URL.String(), http.StatusNotFound)
		}
	}))
	t.Cleanup(fake.Close)
	sample := t.TempDir() + "/sample.json"
	if err := os.WriteFile(sample, []byte(`{"data": [[1, 2, 3]]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	invoke := []string{"ml", "online-endpoint", "invoke", "-n", "ep", "-g", "rg", "-w", "ws", "--request-file", sample}
	cases := []struct {
		name, answer string
		flags        []string
		want         string
	}{
		{"json", answer, nil, "[\n  11055.98,\n  4503.76\n]\n"},
		{"query", answer, []string{"--query", "[0]"}, "11055.98\n"},
		{"tsv", answer, []string{"-o", "tsv"}, "11055.98\n4503.76\n"},
		{"none", answer, []string{"-o", "none"}, ""},
		{"query and none", answer, []string{"--query", "[0]", "-o", "none"}, ""},
		{"not json", "scored: 2 rows\n", nil, "\"scored: 2 rows\"\n"},
		{"not json, tsv", "scored: 2 rows\n", []string{"-o", "tsv"}, "scored: 2 rows\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			answer = tc.answer
			out, errOut, code := runAgainst(t, fake, append(invoke, tc.flags...)...)
			if code != 0 || out != tc.want {
				t.Errorf("exit %d, stdout %q, stderr %q; want %q", code, out, errOut, tc.want)
			}
		})
	}
}

// TestAuthModeOf: auth_mode takes az ml's spellings (and ARM's), and refuses others in the
// user's own terms, before anything is sent.
func TestAuthModeOf(t *testing.T) {
	for _, tc := range []struct{ in, want, fails string }{
		{in: "key", want: "Key"},
		{in: "Key", want: "Key"},
		{in: "aml_token", want: "AMLToken"},
		{in: "AMLToken", want: "AMLToken"},
		{in: "aad_token", fails: "auth_mode aad_token is not supported by mlfleet; use key or aml_token"},
		{in: "keys", fails: "auth_mode 'keys' is not one of key, aml_token"},
	} {
		got, err := authModeOf(tc.in)
		if testutil.WantErr(t, err, tc.fails) {
			continue
		}
		if got != tc.want {
			t.Errorf("authModeOf(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
