package endpoints

import (
	"encoding/json"
	"fmt"

	"github.com/mlfleet/mlfleet/internal/record"
	"github.com/mlfleet/mlfleet/internal/store"
)

// Versions of the stored formats of endpoints and deployments (see package record). Raise
// one, and teach decode the version before, when a change of the wire type changes what
// encode writes; TestRecord fails until then.
const (
	endpointSchema   = 1
	deploymentSchema = 1
)

// storedEndpoint is an online endpoint as its row holds it.
type storedEndpoint struct {
	record.Header
	*Endpoint
}

// storedDeployment is an online deployment as its row holds it.
type storedDeployment struct {
	record.Header
	*Deployment
}

// row is what this package stores as resources (its keys are sealed apart).
type row interface{ Endpoint | Deployment }

// encode returns the row body of an endpoint or a deployment.
func encode[T row](v *T) []byte {
	var b []byte
	switch v := any(v).(type) {
	case *Endpoint:
		b, _ = json.Marshal(storedEndpoint{Header: record.Header{Schema: endpointSchema}, Endpoint: v})
	case *Deployment:
		b, _ = json.Marshal(storedDeployment{Header: record.Header{Schema: deploymentSchema}, Deployment: v})
	}
	return b
}

// decode reads a row written by encode, or before record versions, into v.
func decode[T row](r *store.Resource, v *T) error {
	var err error
	switch v := any(v).(type) {
	case *Endpoint:
		rec := storedEndpoint{Endpoint: v}
		if err = json.Unmarshal(r.Body, &rec); err == nil {
			err = rec.Check("online endpoint", endpointSchema)
		}
	case *Deployment:
		rec := storedDeployment{Deployment: v}
		if err = json.Unmarshal(r.Body, &rec); err == nil {
			err = rec.Check("online deployment", deploymentSchema)
		}
	}
	if err != nil {
		return fmt.Errorf("decode %s: %w", r.ID, err)
	}
	return nil
}
