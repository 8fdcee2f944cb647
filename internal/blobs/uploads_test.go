package blobs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"reflect"
	"testing"

	"github.com/mlfleet/mlfleet/internal/failpoint"
	"github.com/mlfleet/mlfleet/internal/record/recordtest"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
)

const (
	ws1 = "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/ws1"
	ws2 = "/subscriptions/s1/resourceGroups/rg2/providers/Microsoft.MachineLearningServices/workspaces/ws2"
)

// TestUploadsPerWorkspace: over every content store, a workspace stats and opens only
// what was uploaded to it; another workspace gets ErrNotFound, as for a digest no one
// uploaded, until it uploads the same content, which is stored once.
func TestUploadsPerWorkspace(t *testing.T) {
	ctx := context.Background()
	for _, im := range impls(t) {
		t.Run(im.name, func(t *testing.T) {
			st := im.rows(t)
			u := NewUploads(st, im.open(t, 1<<20))
			content := []byte("a workspace's model")
			info, err := u.In(ws1).Put(ctx, bytes.NewReader(content))
			if err != nil {
				t.Fatal(err)
			}
			if got, err := u.In(ws1).Stat(ctx, info.Digest); err != nil || got != info {
				t.Fatalf("Stat in the uploading workspace = %+v, %v", got, err)
			}
			if err := Verify(ctx, u.In(ws1), info.Digest); err != nil {
				t.Fatalf("read in the uploading workspace: %v", err)
			}
			if _, err := u.In(ws2).Stat(ctx, info.Digest); !errors.Is(err, ErrNotFound) {
				t.Errorf("Stat in another workspace: %v, want ErrNotFound", err)
			}
			if _, _, err := u.In(ws2).Open(ctx, info.Digest); !errors.Is(err, ErrNotFound) {
				t.Errorf("Open in another workspace: %v, want ErrNotFound", err)
			}
			if _, err := u.In(ws1).Stat(ctx, "../../etc/passwd"); !errors.Is(err, ErrNotFound) {
				t.Errorf("Stat of a bad digest: %v, want ErrNotFound", err)
			}
			// Again in the same workspace: idempotent.
			if again, err := u.In(ws1).Put(ctx, bytes.NewReader(content)); err != nil || again != info {
				t.Fatalf("second Put = %+v, %v", again, err)
			}
			if _, err := u.In(ws2).Put(ctx, bytes.NewReader(content)); err != nil {
				t.Fatal(err)
			}
			rc, got, err := u.In(ws2).Open(ctx, info.Digest)
			if err != nil || got != info {
				t.Fatalf("Open after uploading to the second workspace = %+v, %v", got, err)
			}
			b, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || !bytes.Equal(b, content) {
				t.Fatalf("read %q, %v", b, err)
			}
			rows, err := st.ListResources(ctx, store.ListOptions{Type: TypeUpload})
			if err != nil || len(rows) != 2 || rows[0].ParentID != ws1 || rows[1].ParentID != ws2 {
				t.Fatalf("upload rows: %v, %v; want one under each workspace", rows, err)
			}
		})
	}
}

// TestUploadRecordedAfterContent: an upload that fails (or crashes) between storing the
// content and recording it leaves the content and no row: the workspace does not see the
// blob, and uploading it again records it. Failing in the store's insert of the row does
// the same.
func TestUploadRecordedAfterContent(t *testing.T) {
	ctx := context.Background()
	for _, point := range []string{"blobs/upload/record/before", "store/CreateResource/" + TypeUpload + "/before"} {
		t.Run(point, func(t *testing.T) {
			files, err := NewFiles(t.TempDir(), 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			u := NewUploads(storetest.OpenSQLite(t), files)
			content := []byte("uploaded while failing")
			if err := failpoint.Arm(point + "=error"); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = failpoint.Arm("") })
			_, err = u.In(ws1).Put(ctx, bytes.NewReader(content))
			if err := failpoint.Arm(""); err != nil {
				t.Fatal(err)
			}
			if !errors.Is(err, failpoint.ErrInjected) {
				t.Fatalf("Put with %s armed: %v", point, err)
			}
			digest := digestOf(content)
			if _, err := files.Stat(ctx, digest); err != nil {
				t.Errorf("the content was not stored before the row: %v", err)
			}
			if _, err := u.In(ws1).Stat(ctx, digest); !errors.Is(err, ErrNotFound) {
				t.Errorf("Stat after the failed upload: %v, want ErrNotFound", err)
			}
			if _, err := u.In(ws1).Put(ctx, bytes.NewReader(content)); err != nil {
				t.Fatal(err)
			}
			if _, err := u.In(ws1).Stat(ctx, digest); err != nil {
				t.Errorf("Stat after uploading again: %v", err)
			}
		})
	}
}

// TestUploadRecord pins the format of an upload row's body.
func TestUploadRecord(t *testing.T) {
	ex := &upload{Digest: digestOf([]byte("x")), Size: 1}
	recordtest.AllSet(t, ex)
	body := uploadRecord.Encode(ex)
	recordtest.Golden(t, "testdata/record/blobupload.v1.json", body)
	got, err := uploadRecord.Read("row", body)
	if err != nil || !reflect.DeepEqual(got, ex) {
		t.Fatalf("read back %+v, %v; want %+v", got, err, ex)
	}
}
