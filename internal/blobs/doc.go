// Package blobs is mlfleet's content-addressed blob store: the bytes of models and code
// that assets point at with mlfleet://blobs/<sha256> URIs.
//
// A blob is written once under the SHA-256 of its content and never changed; writing the
// same content again is a no-op. Two implementations satisfy Store: Files keeps each blob
// as a file under a directory of the home (the SQLite server's), written to a temporary
// file and renamed into place; Database keeps them in the store's blobs tables
// (store.BlobStore), so that PostgreSQL replicas share them. Both spool an upload to a
// temporary file first, to know its digest and enforce the size limit before anything is
// stored, and both verify the digest again while a blob is read: a blob whose bytes
// changed on disk or in the database fails with ErrCorrupt at the end of the read instead
// of serving the wrong model.
//
// Content is shared, access is not: Uploads is the store as workspaces see it. An upload
// to a workspace stores the content (once, whoever uploaded it before) and then records a
// row for the workspace under it; a workspace reads, and its asset versions name, only
// the blobs recorded for it, and any other digest is ErrNotFound to it. Nothing removes
// content: a workspace's delete removes its rows, and the content stays for the other
// workspaces that may have uploaded it.
package blobs
