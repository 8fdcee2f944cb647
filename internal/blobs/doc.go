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
// to a workspace stores the content (once, whoever uploaded it before) and records a row
// for the workspace under it; a workspace reads, and its asset versions name, only the
// blobs recorded for it, and any other digest is ErrNotFound to it. A workspace's delete
// removes its rows.
//
// The Collector removes content no row names any more, which `mlfleet serve` runs with
// the sweeper (serve --sweep-interval). Its rules:
//   - Content is removed only when no upload row, in any workspace, names its digest. The
//     Collector decides it and removes the content in one store transaction that holds
//     the blob's lock (store.Store.Lock of "blob/<digest>"), and an upload stores the
//     content and records its row in one transaction holding the same lock, after
//     spooling it. Whichever takes the lock first, an upload racing a collection either
//     finds the content kept (its row then stops the collection) or stores it again from
//     its spooled copy: a row never names content that is gone. On SQLite, whose
//     transactions all take the database's write lock, the lock is that one; on
//     PostgreSQL it is an advisory lock, so that replicas collecting at once remove each
//     blob once and never under an upload.
//   - Content stored less than a grace period ago (CollectorConfig.Grace, 10 minutes) is
//     kept whatever names it, for writers that store content before its row and outside
//     the lock: Store.Put alone, and the uploads of an mlfleet older than this one during
//     a rolling upgrade of replicas. (Such an upload of content stored long ago can still
//     lose its content to a collection; its workspace then gets ErrNotFound, and
//     uploading the content again repairs it.) The age is a Files blob's modification
//     time, a Database blob's created_at.
//   - Content no row ever named is removed too once past the grace period: content
//     uploaded before upload rows existed, or whose upload crashed before its row.
//     Workspaces cannot read it (their reads need a row), but deployments read content by
//     digest: an asset version created before upload rows (CollectorConfig.NamedBy) keeps
//     the content it names.
//   - A collection interrupted anywhere (error or crash) leaves each blob stored whole or
//     removed, never part of one, and upload rows as they were; the next one finishes.
//     Its failpoints are blobs/collect/decide/before (a blob chosen from lists read
//     without locks) and blobs/collect/remove/before|after (inside the transaction).
//
// Spooled copies a crash left behind (.upload-* files) are removed when the store is made
// again: its spool directory is its own (the server's home, which one process holds).
package blobs
