package mlassets

import (
	"encoding/json"

	"github.com/mlfleet/mlfleet/internal/record"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// The formats of the rows of asset versions and containers (see package record). Raise a
// Schema, and teach decode the version before, when a change of the wire type changes what
// encode writes; TestRecord fails until then.
var (
	versionRecord   = record.Kind[armapi.AssetVersion]{Name: "asset version", Schema: 1}
	containerRecord = record.Kind[armapi.AssetContainer]{Name: "asset container", Schema: 1}
	records         = record.Pair[armapi.AssetVersion, armapi.AssetContainer]{A: versionRecord, B: containerRecord}
)

// row is what this package stores.
type row interface {
	armapi.AssetVersion | armapi.AssetContainer
}

// encode returns the row body of a version or a container.
func encode[T row](v *T) []byte { return records.Encode(v) }

// decode reads a row written by encode, or before record versions, into v.
func decode[T row](r *store.Resource, v *T) error { return records.Decode(r.ID, r.Body, v) }

// wire returns the JSON a row is served as: its record without the record's header.
func wire[T row](r *store.Resource) (json.RawMessage, error) {
	var v T
	if err := decode(r, &v); err != nil {
		return nil, err
	}
	return json.Marshal(&v)
}
