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
// An upload spools the content, then stores it (unless it is stored already) and records
// the row in one transaction that holds the blob's lock (store.Store.Lock of
// "blob/<digest>"), the lock under which the Collector decides to remove content: the
// content a row names is never removed after the row is recorded, and content removed
// before is stored again from the spooled copy. A crash before the commit may leave content
// no row names (a Files blob, renamed into place before; kept for the grace period, and
// named again by the next upload of it), never a row without its content. Uploads made before these rows existed are recorded for
// no workspace: an asset version that already names one keeps working, since versions are
// checked only when created, and uploading the content again (which the CLI does for every
// new version) records it.
type Uploads struct {
	store store.Store
	blobs Store
	// content is blobs when it is a store the Collector can empty (Files, Database).
	content collectable
	// hook, when set (by tests), is called with the name of every blobs/upload/* and
	// blobs/collect/* failpoint before the failpoint itself: a test pauses there to run a
	// race in the order it wants.
	hook func(point string)
}

// collectable is a content store that Uploads writes under a blob's lock and the
// Collector empties: Files and Database.
type collectable interface {
	Store
	// prepare spools r and checks what is stored of its content, outside any lock.
	prepare(ctx context.Context, r io.Reader) (pendingPut, error)
	// each calls fn with every stored blob, in no particular order; CreatedAt is when it
	// was stored.
	each(ctx context.Context, fn func(store.Blob) error) error
	// remove deletes the blob through tx, which holds its lock; false when it was missing.
	remove(ctx context.Context, tx store.Store, digest string) (bool, error)
}

// pendingPut is spooled content waiting to be stored under its blob's lock.
type pendingPut interface {
	// info is the content's digest and size.
	info() Info
	// store makes sure the content is stored, through tx, which holds the blob's lock. It
	// runs again when the transaction is retried.
	store(ctx context.Context, tx store.Store) error
	// close removes the spooled copy.
	close()
}

// NewUploads returns the workspaces' view of content, whose rows are kept in st. A
// Database content store must keep its blobs in st itself: an upload stores the content
// and records its row in one transaction of st. It panics when it does not, a wiring
// mistake.
func NewUploads(st store.Store, content Store) *Uploads {
	u := &Uploads{store: st, blobs: content}
	if d, ok := content.(*Database); ok && any(d.db) != any(st) {
		panic("blobs: NewUploads: the Database content store keeps its blobs in another store than the rows")
	}
	if c, ok := content.(collectable); ok {
		u.content = c
	}
	return u
}

// In returns the blob store as the workspace with ARM id workspaceID sees it: Put stores
// content and records it for the workspace; Stat and Open find only what was recorded for
// it, and answer ErrNotFound for anything else.
func (u *Uploads) In(workspaceID string) Store {
	return &workspaceBlobs{u: u, ws: workspaceID}
}

// hit is the failpoint called name, after the test hook.
func (u *Uploads) hit(name string) error {
	if u.hook != nil {
		u.hook(name)
	}
	return failpoint.Hit(name)
}

// uploadID is the id of the row that records digest as uploaded to a workspace.
func uploadID(workspaceID, digest string) string {
	return workspaceID + "/mlfleetBlobs/" + digest
}

// lockKey is the store lock that uploads and the Collector take for a digest; the
// Database store's own writes take it too.
func lockKey(digest string) string { return "blob/" + digest }

// workspaceBlobs is one workspace's view of an Uploads.
type workspaceBlobs struct {
	u  *Uploads
	ws string
}

var _ Store = (*workspaceBlobs)(nil)

// Put stores the content and records it for the workspace, under the blob's lock (see
// Uploads). Idempotent: the row of content uploaded before is kept as it is.
func (w *workspaceBlobs) Put(ctx context.Context, r io.Reader) (Info, error) {
	id, err := arm.ParseID(w.ws)
	if err != nil {
		return Info{}, fmt.Errorf("upload blob to workspace: %w", err)
	}
	if w.u.content == nil {
		return w.putUnlocked(ctx, id, r)
	}
	p, err := w.u.content.prepare(ctx, r)
	if err != nil {
		return Info{}, err
	}
	defer p.close()
	info := p.info()
	if err := w.u.hit("blobs/upload/lock/before"); err != nil {
		return Info{}, err
	}
	err = w.u.store.InTx(ctx, func(tx store.Store) error {
		if err := tx.Lock(ctx, lockKey(info.Digest)); err != nil {
			return err
		}
		if err := p.store(ctx, tx); err != nil {
			return err
		}
		if err := w.u.hit("blobs/upload/record/before"); err != nil {
			return err
		}
		// Uploads of one digest hold its lock, so no other can insert the row between
		// this read and the insert (whose conflict would abort a PostgreSQL transaction).
		if _, err := tx.GetResource(ctx, uploadID(w.ws, info.Digest)); err == nil {
			return nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("record blob %s in %s: %w", info.Digest, w.ws, err)
		}
		if err := tx.CreateResource(ctx, w.row(id, info)); err != nil {
			return fmt.Errorf("record blob %s in %s: %w", info.Digest, w.ws, err)
		}
		return nil
	})
	if err != nil {
		return Info{}, err
	}
	return info, w.u.hit("blobs/upload/record/after")
}

// putUnlocked stores the content, then records it, for a content store the Collector does
// not know (and so never removes from).
func (w *workspaceBlobs) putUnlocked(ctx context.Context, id arm.ID, r io.Reader) (Info, error) {
	info, err := w.u.blobs.Put(ctx, r)
	if err != nil {
		return Info{}, err
	}
	if err := w.u.hit("blobs/upload/record/before"); err != nil {
		return Info{}, err
	}
	if err := w.u.store.CreateResource(ctx, w.row(id, info)); err != nil && !errors.Is(err, store.ErrConflict) {
		return Info{}, fmt.Errorf("record blob %s in %s: %w", info.Digest, w.ws, err)
	}
	return info, w.u.hit("blobs/upload/record/after")
}

// row is the upload row of info in the workspace.
func (w *workspaceBlobs) row(id arm.ID, info Info) *store.Resource {
	return &store.Resource{ID: uploadID(w.ws, info.Digest), ParentID: w.ws, Type: TypeUpload, Name: info.Digest,
		SubscriptionID: id.SubscriptionID, ResourceGroup: id.ResourceGroup,
		Body: uploadRecord.Encode(&upload{Digest: info.Digest, Size: info.Size})}
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
