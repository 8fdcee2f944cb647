package browser

import (
	"archive/tar"
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// echoScore is the scoring script of the scenario: it logs from init() and answers the
// request it got, wrapped, so that the page's answer shows the request went through.
const echoScore = `import json

def init():
    print("studio echo: init done", flush=True)

def run(raw_data):
    return {"echo": json.loads(raw_data)}
`

// TestStudioEndpoints is the Studio line of issue #17: an endpoint with a deployment on an
// embedded compute, created through the Go SDK, shows in the list; its details show the
// deployment and the traffic; the keys are shown only when asked; the test box scores
// through the API (POST …/score) and shows the script's answer; the logs show init().
func TestStudioEndpoints(t *testing.T) {
	requireChromium(t)
	const rg, ws, ep = "studio-ep-rg", "studio-ep-ws", "studio-ep"
	c := shared.srv.Client(t)
	workspace(t, c, rg, ws)
	deployEcho(t, c, rg, ws, ep)
	keys, err := c.OnlineEndpointKeys(context.Background(), rg, ws, ep)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.GetOnlineEndpoint(context.Background(), rg, ws, ep)
	if err != nil {
		t.Fatal(err)
	}
	scoringURI := got.Properties.ScoringURI
	if scoringURI == "" {
		t.Fatalf("endpoint %s has no scoring URI: %+v", ep, got.Properties.Mlfleet)
	}
	s := openStudio(t, 1280, 900)

	step(s, "list", func(t *testing.T, s *studio) {
		s.signIn(adminToken(t), rg, ws)
		s.click(`a[data-nav="endpoints"]`)
		epRow := `document.querySelector('#endpoints-body tr[data-name="` + ep + `"]')`
		s.waitFor("the endpoint's row", epRow+` && `+epRow+`.innerText.includes("Succeeded")`, 20*time.Second)
		cells := eval[[]string](s, `[...`+epRow+`.cells].map(c => c.innerText.trim())`)
		want := []string{ep, "Key", "Succeeded", scoringURI, "blue 100%"}
		if strings.Join(cells, "|") != strings.Join(want, "|") {
			t.Errorf("row = %q, want %q", cells, want)
		}
		s.shot("ep-01-list")
	})

	step(s, "details", func(t *testing.T, s *studio) {
		s.click(`#endpoints-body tr[data-name="` + ep + `"] a.name`)
		s.waitFor("the deployments", `document.querySelector('#deployments tr[data-name="blue"]')`, 20*time.Second)
		cells := eval[[]string](s, `[...document.querySelector('#deployments tr[data-name="blue"]').cells].map(c => c.innerText.trim())`)
		want := []string{"blue", "Succeeded", "defaultinstancetype", "1", "1 of 1", "Logs"}
		if strings.Join(cells, "|") != strings.Join(want, "|") {
			t.Errorf("deployment row = %q, want %q", cells, want)
		}
		if got := s.text(`#traffic tr[data-name="blue"]`); !strings.Contains(got, "100%") {
			t.Errorf("traffic row of blue = %q", got)
		}
		if html := eval[string](s, `document.documentElement.outerHTML`); strings.Contains(html, keys.PrimaryKey) || strings.Contains(html, keys.SecondaryKey) {
			t.Error("a key is in the page before Show keys")
		}
		if bad := eval[[]string](s, unlabelled("#endpoint")); len(bad) > 0 {
			t.Errorf("controls without a label: %v", bad)
		}
		s.shot("ep-02-details")
	})

	step(s, "show keys", func(t *testing.T, s *studio) {
		s.click("#keys-button")
		s.waitFor("the keys", `document.getElementById("keys-out").innerText.includes("Primary key")`, 10*time.Second)
		got := s.text("#keys-out")
		if !strings.Contains(got, keys.PrimaryKey) || !strings.Contains(got, keys.SecondaryKey) {
			t.Errorf("keys shown = %q, want the endpoint's primary and secondary keys", got)
		}
		s.shot("ep-03-keys")
		s.click("#keys-button")
		s.waitFor("the keys hidden", `document.getElementById("keys-out").innerText === ""`, 5*time.Second)
		if html := eval[string](s, `document.documentElement.outerHTML`); strings.Contains(html, keys.PrimaryKey) {
			t.Error("Hide keys left the primary key in the page")
		}
	})

	step(s, "test request", func(t *testing.T, s *studio) {
		s.typeInto("#score-request", `{"data": [[5.1, 3.5]], "who": "studio"}`)
		s.click("#score-send")
		s.waitFor("the answer", `document.getElementById("score-status")`, 30*time.Second)
		if got := s.text("#score-status"); !strings.HasPrefix(got, "HTTP 200") {
			t.Errorf("status = %q, want HTTP 200 (answer: %s)", got, s.text("#score-out"))
		}
		body := s.text("#score-body")
		for _, want := range []string{`"echo"`, `"who": "studio"`, "5.1"} {
			if !strings.Contains(body, want) {
				t.Errorf("answer lacks %s:\n%s", want, body)
			}
		}
		s.shot("ep-04-score")
		// A request that is not JSON is refused on the page, before any call.
		s.typeInto("#score-request", `not json`)
		s.click("#score-send")
		s.waitFor("the JSON error", `document.getElementById("score-out").innerText.includes("The request is not JSON")`, 5*time.Second)
	})

	step(s, "logs", func(t *testing.T, s *studio) {
		s.click(`#deployments tr[data-name="blue"] button[data-key="blue:logs"]`)
		s.waitFor("the logs", `document.getElementById("logs-text")`, 20*time.Second)
		if got := s.text("#logs-text"); !strings.Contains(got, "studio echo: init done") {
			t.Errorf("logs lack init()'s line:\n%s", got)
		}
		s.typeInto("#logs-tail", "1")
		s.click("#logs-reload")
		s.waitFor("one line", `document.getElementById("logs-text") && document.getElementById("logs-text").innerText.trim().split("\n").length === 1`, 10*time.Second)
		s.shot("ep-05-logs")
		s.click("#logs-close")
		s.waitFor("the dialog closed", `!document.getElementById("dialog").open`, 5*time.Second)
	})
}

// deployEcho creates a DevTest compute, a model, the echo code, endpoint ep and its
// deployment blue with all the traffic, waiting for each.
func deployEcho(t *testing.T, c *mlfleet.Client, rg, ws, ep string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	wait := func(what string, p *mlfleet.Poller, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if st, err := p.Wait(ctx, nil); err != nil || st.Status != mlfleet.StatusSucceeded {
			t.Fatalf("%s: %v %+v", what, err, st)
		}
	}
	purpose, count := "DevTest", 1
	in := &mlfleet.Compute{Location: "westus"}
	in.Properties.ComputeType = mlfleet.ComputeTypeAKS
	in.Properties.Properties = &mlfleet.AKSProperties{ClusterPurpose: &purpose, AgentCount: &count}
	_, cp, err := c.BeginCreateOrUpdateCompute(ctx, rg, ws, "epaks", in, &mlfleet.ComputeOptions{IfNoneMatch: true})
	wait("compute", cp, err)
	model, err := c.UploadBlob(ctx, rg, ws, strings.NewReader("model"))
	if err != nil {
		t.Fatal(err)
	}
	mv := &mlfleet.AssetVersion{Properties: mlfleet.AssetVersionProperties{ModelURI: model.URI + "/model.pkl"}}
	if _, err := c.CreateOrUpdateAssetVersion(ctx, rg, ws, mlfleet.AssetModels, "m", "1", mv, true); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "score.py", Mode: 0o644, Size: int64(len(echoScore)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	tw.Write([]byte(echoScore))
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	code, err := c.UploadBlob(ctx, rg, ws, &buf)
	if err != nil {
		t.Fatal(err)
	}
	cv := &mlfleet.AssetVersion{Properties: mlfleet.AssetVersionProperties{CodeURI: code.URI}}
	if _, err := c.CreateOrUpdateAssetVersion(ctx, rg, ws, mlfleet.AssetCodes, "echo", "1", cv, true); err != nil {
		t.Fatal(err)
	}
	e := &mlfleet.OnlineEndpoint{Location: "westus"}
	e.Properties.Compute = c.ComputeID(rg, ws, "epaks")
	_, ep1, err := c.BeginCreateOrUpdateOnlineEndpoint(ctx, rg, ws, ep, e, true)
	wait("endpoint", ep1, err)
	d := &mlfleet.OnlineDeployment{Location: "westus"}
	d.Properties.EndpointComputeType = "Kubernetes"
	d.Properties.Model = c.AssetVersionID(rg, ws, mlfleet.AssetModels, "m", "1")
	d.Properties.CodeConfiguration = &mlfleet.CodeConfiguration{CodeID: c.AssetVersionID(rg, ws, mlfleet.AssetCodes, "echo", "1"), ScoringScript: "score.py"}
	_, dp, err := c.BeginCreateOrUpdateOnlineDeployment(ctx, rg, ws, ep, "blue", d, true)
	wait("deployment", dp, err)
	tp, err := c.BeginUpdateOnlineEndpointTraffic(ctx, rg, ws, ep, map[string]int{"blue": 100})
	wait("traffic", tp, err)
}
