package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/blobs"
	"github.com/mlfleet/mlfleet/internal/endpoints"
	"github.com/mlfleet/mlfleet/internal/mlassets"
	"github.com/mlfleet/mlfleet/internal/operations"
	"github.com/mlfleet/mlfleet/internal/secrets"
	"github.com/mlfleet/mlfleet/internal/testutil"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// blobARM is testARM's server with a file blob store of limit bytes.
func blobARM(t *testing.T, limit int64) (*testARM, *httptest.Server, string) {
	a := newTestARM(t)
	dir := t.TempDir()
	bs, err := blobs.NewFiles(dir, limit)
	if err != nil {
		t.Fatal(err)
	}
	uploads := blobs.NewUploads(a.st, bs)
	assets := mlassets.New(mlassets.Config{Store: a.st, Resources: a.rs, Workspaces: a.ws, Blobs: uploads})
	srv := httptest.NewServer(New(Config{Store: a.st, Auth: a.authn, Resources: a.rs, Workspaces: a.ws, Blobs: uploads, Assets: assets}))
	t.Cleanup(srv.Close)
	a.group(t, "rg1")
	if _, _, err := a.ws.Put(context.Background(), testSub, "rg1", "ws1", armapi.WorkspaceInput{Location: "westus"}); err != nil {
		t.Fatal(err)
	}
	return a, srv, dir
}

func rawCall(t *testing.T, srv *httptest.Server, token, method, path string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	ans := send(t, srv.Client(), req)
	return ans.status, []byte(ans.raw)
}

func rawErrorCode(b []byte) string {
	var e struct {
		Error struct{ Code, Message string }
	}
	_ = json.Unmarshal(b, &e)
	return e.Error.Code
}

func TestBlobUploadDownload(t *testing.T) {
	a, srv, dir := blobARM(t, 1024)
	ws := subURL + "/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/ws1/blobs"
	q := "?api-version=2023-04-01"
	content := []byte("pickled model bytes")
	sum := sha256.Sum256(content)
	digest := hex.EncodeToString(sum[:])

	status, body := rawCall(t, srv, a.owner, http.MethodPut, ws+q, content)
	if status != http.StatusCreated {
		t.Fatalf("upload: %d %s", status, body)
	}
	var up armapi.Blob
	if err := json.Unmarshal(body, &up); err != nil || up.URI != "mlfleet://blobs/"+digest || up.Size != int64(len(content)) {
		t.Fatalf("upload answer %s (%v), want uri mlfleet://blobs/%s size %d", body, err, digest, len(content))
	}
	status, body = rawCall(t, srv, a.owner, http.MethodGet, ws+"/"+digest+q, nil)
	if status != http.StatusOK || !bytes.Equal(body, content) {
		t.Fatalf("download: %d %q", status, body)
	}

	reader := a.principal(t, "Reader", subURL)
	if status, body := rawCall(t, srv, reader, http.MethodPut, ws+q, content); status != http.StatusForbidden {
		t.Errorf("a Reader uploaded: %d %s", status, body)
	}
	if status, body := rawCall(t, srv, reader, http.MethodGet, ws+"/"+digest+q, nil); status != http.StatusOK {
		t.Errorf("a Reader could not download: %d %s", status, body)
	}

	status, body = rawCall(t, srv, a.owner, http.MethodPut, ws+q, make([]byte, 1025))
	if status != http.StatusRequestEntityTooLarge || rawErrorCode(body) != codeBlobTooLarge || !strings.Contains(string(body), "--max-upload-size") {
		t.Errorf("upload over the limit: %d %s", status, body)
	}
	missing := strings.Repeat("0", 64)
	if status, body := rawCall(t, srv, a.owner, http.MethodGet, ws+"/"+missing+q, nil); status != http.StatusNotFound || rawErrorCode(body) != codeBlobNotFound {
		t.Errorf("missing blob: %d %s", status, body)
	}
	if status, body := rawCall(t, srv, a.owner, http.MethodPut, subURL+"/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/nope/blobs"+q, content); status != http.StatusNotFound {
		t.Errorf("upload to a missing workspace: %d %s", status, body)
	}

	if err := os.WriteFile(filepath.Join(dir, digest[:2], digest), []byte("flipped"), 0o600); err != nil {
		t.Fatal(err)
	}
	if status, body := rawCall(t, srv, a.owner, http.MethodGet, ws+"/"+digest+q, nil); status != http.StatusConflict || rawErrorCode(body) != codeBlobCorrupt {
		t.Errorf("corrupt blob: %d %s", status, body)
	}
	if status, body := rawCall(t, srv, a.owner, http.MethodPut, ws+q, content); status != http.StatusCreated {
		t.Fatalf("upload again: %d %s", status, body)
	}
	if status, body := rawCall(t, srv, a.owner, http.MethodGet, ws+"/"+digest+q, nil); status != http.StatusOK || !bytes.Equal(body, content) {
		t.Errorf("after repair: %d %q", status, body)
	}
}

// endpointARM is blobARM with the endpoint service, configured as extra says beyond what
// the ARM provides (its operation engine never starts), and a server of them with the blob
// and asset services; it returns the ARM and the server's URL.
func endpointARM(t *testing.T, extra endpoints.Config) (*testARM, string) {
	a, url, _ := endpointARMEngine(t, extra)
	return a, url
}

// endpointARMEngine is endpointARM that also returns the endpoint service's operation
// engine, for tests that start it.
func endpointARMEngine(t *testing.T, extra endpoints.Config) (*testARM, string, *operations.Engine) {
	t.Helper()
	a, _, _ := blobARM(t, 1<<20)
	box, err := secrets.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	assets := mlassets.New(mlassets.Config{Store: a.st, Resources: a.rs, Workspaces: a.ws})
	cfg := extra
	engine := operations.New(a.st, operations.Config{})
	cfg.Store, cfg.Engine, cfg.Resources, cfg.Workspaces, cfg.Assets, cfg.Secrets = a.st, engine, a.rs, a.ws, assets, box
	bs, err := blobs.NewFiles(t.TempDir(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(Config{Store: a.st, Auth: a.authn, Resources: a.rs, Workspaces: a.ws, Blobs: blobs.NewUploads(a.st, bs), Assets: assets, Endpoints: endpoints.New(cfg)}))
	t.Cleanup(srv.Close)
	return a, srv.URL, engine
}

// endpointARMRunning is endpointARMEngine with the engine running until the test ends.
func endpointARMRunning(t *testing.T, extra endpoints.Config) (*testARM, string) {
	t.Helper()
	a, srv, engine := endpointARMEngine(t, extra)
	engine.Start(context.Background())
	t.Cleanup(func() { _ = engine.Close(context.Background()) })
	return a, srv
}

// settleEndpoint waits until the endpoint at path (an id, without api-version) is
// Succeeded.
func settleEndpoint(t *testing.T, a *testARM, srv, path string) {
	t.Helper()
	testutil.WaitFor(t, 30*time.Second, "the endpoint's operation", func() (bool, string) {
		_, ep := jsonCall(t, a, srv, a.owner, http.MethodGet, path+"?api-version=2023-04-01", nil)
		state := testutil.Field(ep, "properties.provisioningState")
		return state == "Succeeded", fmt.Sprint(state)
	})
}

// TestBlobsAreNotSharedAcrossWorkspaces: a blob uploaded to one workspace is, to another
// workspace, exactly a blob that does not exist: its download is the same 404 and a model
// version naming it the same 400, so that knowing a digest neither gets another
// workspace's content nor tells whether the server holds it. Uploading the content to the
// workspace makes it usable there.
func TestBlobsAreNotSharedAcrossWorkspaces(t *testing.T) {
	a, srv, _ := blobARM(t, 1<<20)
	a.group(t, "rgn")
	if _, _, err := a.ws.Put(context.Background(), testSub, "rgn", "wsn", armapi.WorkspaceInput{Location: "westus"}); err != nil {
		t.Fatal(err)
	}
	q := "?api-version=2023-04-01"
	other := subURL + "/resourceGroups/rgn/providers/Microsoft.MachineLearningServices/workspaces/wsn"
	content := []byte("another workspace's model")
	status, body := rawCall(t, srv, a.owner, http.MethodPut, assetWS+"/blobs"+q, content)
	if status != http.StatusCreated {
		t.Fatalf("upload: %d %s", status, body)
	}
	var up armapi.Blob
	_ = json.Unmarshal(body, &up)
	never := strings.Repeat("ab", 32)

	// answers returns the status and body of a request for digest and one for never, the
	// digest in each body replaced by the same word.
	answers := func(method, path string, body func(digest string) []byte) (string, string) {
		t.Helper()
		get := func(digest string) string {
			status, b := rawCall(t, srv, a.owner, method, strings.ReplaceAll(path, "DIGEST", digest), body(digest))
			return fmt.Sprintf("%d %s", status, strings.ReplaceAll(string(b), digest, "DIGEST"))
		}
		return get(up.Digest), get(never)
	}
	noBody := func(string) []byte { return nil }
	model := func(digest string) []byte {
		b, _ := json.Marshal(map[string]any{"properties": map[string]any{"modelUri": blobs.URIPrefix + digest}})
		return b
	}

	if got, missing := answers(http.MethodGet, other+"/blobs/DIGEST"+q, noBody); got != missing || !strings.HasPrefix(got, "404 ") {
		t.Errorf("download of another workspace's blob:\n%s\nwant the answer of a missing one:\n%s", got, missing)
	}
	if got, missing := answers(http.MethodPut, other+"/models/stolen/versions/1"+q, model); got != missing || !strings.HasPrefix(got, "400 ") {
		t.Errorf("model naming another workspace's blob:\n%s\nwant the answer of a missing one:\n%s", got, missing)
	}

	if status, body := rawCall(t, srv, a.owner, http.MethodPut, other+"/blobs"+q, content); status != http.StatusCreated {
		t.Fatalf("upload to the second workspace: %d %s", status, body)
	}
	if status, body := rawCall(t, srv, a.owner, http.MethodGet, other+"/blobs/"+up.Digest+q, nil); status != http.StatusOK || !bytes.Equal(body, content) {
		t.Errorf("download once uploaded to the workspace: %d %q", status, body)
	}
	if status, body := rawCall(t, srv, a.owner, http.MethodPut, other+"/models/own/versions/1"+q, model(up.Digest)); status != http.StatusCreated {
		t.Errorf("model once uploaded to the workspace: %d %s", status, body)
	}
}
