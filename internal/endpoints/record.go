package endpoints

import (
	"github.com/mlfleet/mlfleet/internal/record"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// The formats of the rows of endpoints and deployments (see package record). Raise a
// Schema, and teach decode the version before, when a change of the wire type changes what
// encode writes; TestRecord fails until then.
var (
	endpointRecord = record.Kind[armapi.OnlineEndpoint]{Name: "online endpoint", Schema: 1}
	// A deployment's version 2 added properties.mlfleet.formerComputes; a version 1 row
	// reads as one without it.
	deploymentRecord = record.Kind[armapi.OnlineDeployment]{Name: "online deployment", Schema: 2}
	records          = record.Pair[armapi.OnlineEndpoint, armapi.OnlineDeployment]{A: endpointRecord, B: deploymentRecord}
)

// row is what this package stores as resources (its keys are sealed apart). The
// constraint lets the helpers over rows (modify, getRow, replaced, update) be written once
// for both kinds, with records picking the Kind by type.
type row interface {
	armapi.OnlineEndpoint | armapi.OnlineDeployment
}

// encode returns the row body of an endpoint or a deployment.
func encode[T row](v *T) []byte { return records.Encode(v) }

// decode reads a row written by encode, or before record versions, into v.
func decode[T row](r *store.Resource, v *T) error { return records.Decode(r.ID, r.Body, v) }

// decodeRow returns the endpoint or deployment that row r holds.
func decodeRow[T row](r *store.Resource) (*T, error) {
	v := new(T)
	if err := decode(r, v); err != nil {
		return nil, err
	}
	return v, nil
}
