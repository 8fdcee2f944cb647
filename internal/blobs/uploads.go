package blobs

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/failpoint"
	"github.com/mlfleet/mlfleet/internal/record"
	"github.com/mlfleet/mlfleet/internal/store"
)

// TypeUpload is the type of the rows that record a blob uploaded to a workspace. Like the
// other rows mlfleet keeps for itself (mlfleetSecrets), it is no tracked type: the generic
// resource list never shows it, and a workspace's cascading delete removes it as a plain
// row.
const TypeUpload = "Microsoft.MachineLearningServices/workspaces/mlfleetBlobs"

// uploadRecord is the format of an upload row's body (see package record).
var uploadRecord = record.Kind[upload]{Name: "blob upload", Schema: 1}

// upload is the body of the row that records a blob uploaded to a workspace.
type upload struct {
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
}

// Uploads is the blob store as workspaces see it. Content is kept once per digest in a
// Store, whichever workspaces upload it; a row under the workspace (TypeUpload) records
// each digest uploaded to it, and a workspace reads and references only those. A blob
// uploaded only to other workspaces is ErrNotFound to it, the same error as a digest no
// one uploaded, so that knowing a digest tells nothing of what other workspaces hold.
//
// An upload writes the content before the row, so that a crash in between leaves content
// no row names (kept, and named again by the next upload of it) and never a row without
// its content. Uploads made before these rows existed are recorded for no workspace: an
// asset version that already names one keeps working, since versions are checked only
// when created, and uploading the content again (which the CLI does for every new
// version) records it.
type Uploads struct {
	store store.Store
	blobs Store
}

// NewUploads returns the workspaces' view of content, whose rows are kept in st.
func NewUploads(st store.Store, content Store) *Uploads {
	return &Uploads{store: st, blobs: content}
}

// In returns the blob store as the workspace with ARM id workspaceID sees it: Put stores
// content and records it for the workspace; Stat and Open find only what was recorded for
// it, and answer ErrNotFound for anything else.
func (u *Uploads) In(workspaceID string) Store {
	return &workspaceBlobs{u: u, ws: workspaceID}
}

// uploadID is the id of the row that records digest as uploaded to a workspace.
func uploadID(workspaceID, digest string) string {
	return workspaceID + "/mlfleetBlobs/" + digest
}

// workspaceBlobs is one workspace's view of an Uploads.
type workspaceBlobs struct {
	u  *Uploads
	ws string
}

var _ Store = (*workspaceBlobs)(nil)

// Put stores the content, then records it for the workspace. Idempotent: the row of
// content uploaded before is kept as it is.
func (w *workspaceBlobs) Put(ctx context.Context, r io.Reader) (Info, error) {
	id, err := arm.ParseID(w.ws)
	if err != nil {
		return Info{}, fmt.Errorf("upload blob to workspace: %w", err)
	}
	info, err := w.u.blobs.Put(ctx, r)
	if err != nil {
		return Info{}, err
	}
	if err := failpoint.Hit("blobs/upload/record/before"); err != nil {
		return Info{}, err
	}
	row := &store.Resource{ID: uploadID(w.ws, info.Digest), ParentID: w.ws, Type: TypeUpload, Name: info.Digest,
		SubscriptionID: id.SubscriptionID, ResourceGroup: id.ResourceGroup,
		Body: uploadRecord.Encode(&upload{Digest: info.Digest, Size: info.Size})}
	if err := w.u.store.CreateResource(ctx, row); err != nil && !errors.Is(err, store.ErrConflict) {
		return Info{}, fmt.Errorf("record blob %s in %s: %w", info.Digest, w.ws, err)
	}
	return info, failpoint.Hit("blobs/upload/record/after")
}

// Stat returns the blob's Info when it was uploaded to the workspace and its content is
// there, else ErrNotFound.
func (w *workspaceBlobs) Stat(ctx context.Context, digest string) (Info, error) {
	if err := w.uploaded(ctx, digest); err != nil {
		return Info{}, err
	}
	return w.u.blobs.Stat(ctx, digest)
}

// Open opens the blob when it was uploaded to the workspace, else ErrNotFound.
func (w *workspaceBlobs) Open(ctx context.Context, digest string) (io.ReadCloser, Info, error) {
	if err := w.uploaded(ctx, digest); err != nil {
		return nil, Info{}, err
	}
	return w.u.blobs.Open(ctx, digest)
}

// uploaded returns nil when the workspace has a row for digest, ErrNotFound when not.
func (w *workspaceBlobs) uploaded(ctx context.Context, digest string) error {
	if !ValidDigest(digest) {
		return fmt.Errorf("%w: %q is not a SHA-256 digest", ErrNotFound, digest)
	}
	_, err := w.u.store.GetResource(ctx, uploadID(w.ws, digest))
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %s in %s", ErrNotFound, digest, w.ws)
	}
	if err != nil {
		return fmt.Errorf("get upload of blob %s in %s: %w", digest, w.ws, err)
	}
	return nil
}
