package api

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/blobs"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// Error codes of the blob endpoints.
const (
	codeBlobNotFound = "BlobNotFound"
	codeBlobCorrupt  = "BlobCorrupt"
	codeBlobTooLarge = "RequestEntityTooLarge"
	blobsPath        = wsPath + "/blobs"
	blobContentType  = "application/octet-stream"
	blobDigestHeader = "x-ms-blob-content-sha256"
)

// blobRoutes serves uploads and downloads of the content-addressed blobs that model and
// code versions point at. They hang under a workspace so that the route table authorizes
// them like the workspace's assets: writing a blob needs write access to the workspace.
// A workspace downloads only what was uploaded to it (blobs.Uploads).
func (s *Server) blobRoutes() {
	served := s.cfg.Blobs != nil
	s.router.handle(http.MethodPut, blobsPath, servedIf(served, "blobs", s.putBlob))
	s.router.handle(http.MethodGet, blobsPath+"/{digest}", servedIf(served, "blobs", s.getBlob))
}

// blobError maps the blob store's errors to ARM errors; ws is the workspace's name.
func blobError(err error, ws, digest string) error {
	var tl *blobs.TooLargeError
	switch {
	case errors.As(err, &tl):
		return arm.Errorf(http.StatusRequestEntityTooLarge, codeBlobTooLarge,
			"The upload is larger than this server's limit of %d bytes (%s); upload a smaller file, or ask the administrator to raise serve --max-upload-size.", tl.Limit, humanBytes(tl.Limit))
	case errors.Is(err, blobs.ErrNotFound):
		// The same answer whether other workspaces have the blob or none has: it says
		// nothing of what the server holds elsewhere.
		return arm.NotFound(codeBlobNotFound, "No blob with digest '%s' was uploaded to workspace '%s'; upload the content first (PUT …/workspaces/%s/blobs).", digest, ws, ws)
	case errors.Is(err, blobs.ErrCorrupt):
		return arm.Errorf(http.StatusConflict, codeBlobCorrupt, "The stored content of blob '%s' no longer matches its digest; upload the same content again to repair it.", digest)
	}
	return err
}

// humanBytes spells a size limit the way it was most likely configured (4 GiB, 512 MiB),
// falling back to bytes when it is no whole number of either.
func humanBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + " GiB"
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// putBlob stores the request body as a blob and answers its URI. The body is streamed to
// the blob store, not decoded: it is model or code content, not JSON.
func (s *Server) putBlob(w http.ResponseWriter, r *http.Request, p params) {
	// The workspace must exist: blobs hang under it only for authorization, but an
	// upload to a workspace that is not there is a 404, as any child's write is.
	ws, err := s.cfg.Workspaces.Get(r.Context(), p["sub"], p["rg"], p["ws"])
	if err != nil {
		writeError(w, r, err)
		return
	}
	info, err := s.cfg.Blobs.In(ws.ID).Put(r.Context(), r.Body)
	if err != nil {
		writeError(w, r, blobError(err, ws.Name, ""))
		return
	}
	// The client's digest is compared after the content is stored: the store names a blob
	// by what it hashed, so content that changed on the way is kept under its own digest
	// and never under the one the client expected.
	if want := r.Header.Get(blobDigestHeader); want != "" && want != info.Digest {
		writeError(w, r, arm.BadRequest(arm.CodeInvalidRequestContent,
			"The uploaded content hashes to %s, not to the %s header's %s: it changed on the way; upload it again.", info.Digest, blobDigestHeader, want).WithTarget(blobDigestHeader))
		return
	}
	writeJSON(w, http.StatusCreated, armapi.Blob{URI: info.URI(), Digest: info.Digest, Size: info.Size})
}

func (s *Server) getBlob(w http.ResponseWriter, r *http.Request, p params) {
	ws, err := s.cfg.Workspaces.Get(r.Context(), p["sub"], p["rg"], p["ws"])
	if err != nil {
		writeError(w, r, err)
		return
	}
	digest := p["digest"]
	uploaded := s.cfg.Blobs.In(ws.ID)
	// Check the whole content before the first byte goes out: a corrupt blob is a clear
	// error, not a truncated download.
	if err := blobs.Verify(r.Context(), uploaded, digest); err != nil {
		writeError(w, r, blobError(err, ws.Name, digest))
		return
	}
	rc, info, err := uploaded.Open(r.Context(), digest)
	if err != nil {
		writeError(w, r, blobError(err, ws.Name, digest))
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", blobContentType)
	w.Header().Set("Content-Length", strconv.FormatInt(info.Size, 10))
	w.Header().Set(blobDigestHeader, info.Digest)
	w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(w, rc)
}

// notServed is the answer for a feature this server was not configured with: 501, not the
// 404 of an unknown path, since the path is right and only this server lacks the service.
func notServed(what string) error {
	return arm.Errorf(http.StatusNotImplemented, arm.CodeMethodNotAllowed, "This server does not serve %s.", what)
}
