package mlassets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/blobs"
	"github.com/mlfleet/mlfleet/internal/servicetest"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/testutil"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

const testSub = "00000000-0000-0000-0000-0000000000a5"

// assetStack is the asset service wired as the server wires it, over servicetest's stack
// and a file blob store, with the uploads of workspaces.
func assetStack(t *testing.T) (*servicetest.Stack, *Service, *blobs.Uploads) {
	t.Helper()
	stack := servicetest.New(t, testSub, nil)
	files, err := blobs.NewFiles(t.TempDir(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	uploads := blobs.NewUploads(stack.Store, files)
	return stack, New(Config{Store: stack.Store, Resources: stack.Resources, Workspaces: stack.Workspaces, Blobs: uploads}), uploads
}

// upload stores content in workspace ws and returns its URI.
func upload(t *testing.T, uploads *blobs.Uploads, ws *armapi.Workspace, content string) string {
	t.Helper()
	info, err := uploads.In(ws.ID).Put(context.Background(), strings.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	return info.URI()
}

// putModel creates or updates model m's version v in workspace ws of group rg.
func putModel(s *Service, rg, ws, version, uri, description string) (*armapi.AssetVersion, bool, error) {
	in := armapi.AssetVersion{Properties: armapi.AssetVersionProperties{ModelURI: uri, AssetBase: armapi.AssetBase{Description: description}}}
	return s.Put(context.Background(), Models, testSub, rg, ws, "m", version, in, Options{})
}

// answer returns the status and body of err as the API answers it, with digest replaced,
// to compare two answers that differ only in the blob they name.
func answer(t *testing.T, err error, digest string) string {
	t.Helper()
	var e *arm.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is no ARM error", err)
	}
	body, _ := json.Marshal(e)
	return fmt.Sprintf("%d %s", e.Status, strings.ReplaceAll(string(body), digest, "DIGEST"))
}

// TestVersionsUseOnlyTheirWorkspacesBlobs: a new model version may name only a blob
// uploaded to its own workspace. A blob uploaded to another workspace, even one since
// deleted, is refused with the very answer of a digest no one uploaded, so the answer tells
// nothing of what other workspaces hold; uploading the same content to the workspace
// makes it usable there. A workspace's delete takes its upload rows with it.
func TestVersionsUseOnlyTheirWorkspacesBlobs(t *testing.T) {
	ctx := context.Background()
	stack, assets, uploads := assetStack(t)
	stack.Group(t, "rg1")
	stack.Group(t, "rgn")
	owner := stack.Workspace(t, "rg1", "ws1")
	other := stack.Workspace(t, "rgn", "wsn")
	uri := upload(t, uploads, owner, "the owner's model")
	digest, _, _ := blobs.ParseURI(uri)
	never := blobs.URIPrefix + strings.Repeat("ab", 32)

	if _, created, err := putModel(assets, "rg1", "ws1", "1", uri, ""); err != nil || !created {
		t.Fatalf("model in the workspace the blob was uploaded to: created=%v, %v", created, err)
	}
	_, _, missing := putModel(assets, "rgn", "wsn", "1", never, "")
	refused := func(when string) {
		t.Helper()
		_, _, err := putModel(assets, "rgn", "wsn", "1", uri, "")
		got, want := answer(t, err, digest), answer(t, missing, strings.Repeat("ab", 32))
		if got != want || !strings.HasPrefix(got, "400 ") {
			t.Fatalf("%s: another workspace's blob answered\n%s\nwant the answer of a missing blob,\n%s", when, got, want)
		}
	}
	refused("while the uploading workspace exists")
	if _, err := uploads.In(other.ID).Stat(ctx, digest); !errors.Is(err, blobs.ErrNotFound) {
		t.Errorf("Stat in another workspace: %v, want ErrNotFound", err)
	}

	stack.Engine.Start(ctx)
	t.Cleanup(func() { _ = stack.Engine.Close(context.Background()) })
	op, err := stack.Workspaces.Delete(ctx, testSub, "rg1", "ws1")
	if err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 30*time.Second, "the delete of ws1", func() (bool, string) {
		op, err = stack.Store.GetOperation(ctx, op.ID)
		if err != nil {
			return false, err.Error()
		}
		return op.Status != store.StatusInProgress, op.Status
	})
	if op.Status != store.StatusSucceeded {
		t.Fatalf("delete of ws1: %s %s", op.Status, op.Error)
	}
	left, err := stack.Store.ListResources(ctx, store.ListOptions{Scope: owner.ID})
	if err != nil || len(left) != 0 {
		t.Fatalf("rows left under the deleted workspace: %d, %v", len(left), err)
	}
	refused("once the uploading workspace is deleted")

	if got := upload(t, uploads, other, "the owner's model"); got != uri {
		t.Fatalf("the same content uploaded again has uri %s, want %s", got, uri)
	}
	if _, created, err := putModel(assets, "rgn", "wsn", "1", uri, ""); err != nil || !created {
		t.Fatalf("model once the content was uploaded to its workspace: created=%v, %v", created, err)
	}
}

// TestExistingVersionsAreNotCheckedAgain: a version created before uploads were recorded
// per workspace names a blob no row records for its workspace. It keeps working: a PUT
// that changes only its description updates it; a new version naming that blob is refused
// until the content is uploaded to the workspace.
func TestExistingVersionsAreNotCheckedAgain(t *testing.T) {
	ctx := context.Background()
	stack, assets, uploads := assetStack(t)
	stack.Group(t, "rg1")
	ws := stack.Workspace(t, "rg1", "ws1")
	uri := upload(t, uploads, ws, "an old model")
	if _, _, err := putModel(assets, "rg1", "ws1", "1", uri, ""); err != nil {
		t.Fatal(err)
	}
	// What an upload before this change left: the content, and no row for the workspace.
	digest, _, _ := blobs.ParseURI(uri)
	rows, err := stack.Store.ListResources(ctx, store.ListOptions{ParentID: ws.ID, Type: blobs.TypeUpload})
	if err != nil || len(rows) != 1 || rows[0].Name != digest {
		t.Fatalf("upload rows of the workspace: %v, %v; want the one of %s", rows, err, digest)
	}
	if err := stack.Store.DeleteResource(ctx, rows[0].ID, 0); err != nil {
		t.Fatal(err)
	}

	v, created, err := putModel(assets, "rg1", "ws1", "1", uri, "still here")
	if err != nil || created || v.Properties.Description != "still here" {
		t.Fatalf("update of an existing version: created=%v, %v", created, err)
	}
	if _, _, err := putModel(assets, "rg1", "ws1", "2", uri, ""); err == nil {
		t.Fatal("a new version named a blob not uploaded to its workspace")
	}
	upload(t, uploads, ws, "an old model")
	if _, created, err := putModel(assets, "rg1", "ws1", "2", uri, ""); err != nil || !created {
		t.Fatalf("new version after uploading again: created=%v, %v", created, err)
	}
}
