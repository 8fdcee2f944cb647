package mlassets

import (
	"encoding/json"
	"fmt"

	"github.com/mlfleet/mlfleet/internal/record"
	"github.com/mlfleet/mlfleet/internal/store"
)

// Versions of the stored formats of asset versions and containers (see package record).
// Raise one, and teach decode the version before, when a change of the wire type changes
// what encode writes; TestRecord fails until then.
const (
	versionSchema   = 1
	containerSchema = 1
)

// storedVersion is an asset version as its row holds it.
type storedVersion struct {
	record.Header
	*Version
}

// storedContainer is an asset container as its row holds it.
type storedContainer struct {
	record.Header
	*Container
}

// row is what this package stores.
type row interface{ Version | Container }

// encode returns the row body of a version or a container.
func encode[T row](v *T) []byte {
	var b []byte
	switch v := any(v).(type) {
	case *Version:
		b, _ = json.Marshal(storedVersion{Header: record.Header{Schema: versionSchema}, Version: v})
	case *Container:
		b, _ = json.Marshal(storedContainer{Header: record.Header{Schema: containerSchema}, Container: v})
	}
	return b
}

// decode reads a row written by encode, or before record versions, into v.
func decode[T row](r *store.Resource, v *T) error {
	var err error
	switch v := any(v).(type) {
	case *Version:
		rec := storedVersion{Version: v}
		if err = json.Unmarshal(r.Body, &rec); err == nil {
			err = rec.Check("asset version", versionSchema)
		}
	case *Container:
		rec := storedContainer{Container: v}
		if err = json.Unmarshal(r.Body, &rec); err == nil {
			err = rec.Check("asset container", containerSchema)
		}
	}
	if err != nil {
		return fmt.Errorf("decode %s: %w", r.ID, err)
	}
	return nil
}

// wire returns the JSON a row is served as: its record without the record's header.
func wire[T row](r *store.Resource) (json.RawMessage, error) {
	var v T
	if err := decode(r, &v); err != nil {
		return nil, err
	}
	return json.Marshal(&v)
}
