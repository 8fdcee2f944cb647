// Package record is the format of a resource's row body (store.Resource.Body): the JSON of
// the resource with the version of that format, so that what the database holds does not
// follow the wire types (package armapi) silently.
//
// Each domain package has a record type per kind it stores, Header first:
//
//	type storedCompute struct {
//		record.Header
//		*Compute
//	}
//
// writes it with Header{Schema: its current version}, and reads rows through Header.Check,
// which refuses a row written by a newer mlfleet. Rows written before versions (no
// schemaVersion) read as version 1: their format is version 1's. A golden test per kind
// (recordtest.Golden) pins the JSON of version 1; when a change of a wire type changes it,
// the kind's version goes up and its reader learns to read the version before.
package record

import (
	"errors"
	"fmt"
)

// ErrNewerSchema means a row was written by a newer mlfleet, in a format this one does not
// know; it is not read, so that it is not rewritten without the fields it does not know.
var ErrNewerSchema = errors.New("stored by a newer version of mlfleet")

// Header is what every record starts with.
type Header struct {
	// Schema is the version of the record's format; 0 (absent) in rows written before
	// versions, which is the same format as 1.
	Schema int `json:"schemaVersion,omitempty"`
}

// Check returns an error wrapping ErrNewerSchema when h's version is above current, the
// newest this server knows for the kind.
func (h Header) Check(kind string, current int) error {
	if h.Schema > current {
		return fmt.Errorf("%s record version %d (this server reads up to %d): %w", kind, h.Schema, current, ErrNewerSchema)
	}
	return nil
}
