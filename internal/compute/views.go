package compute

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"

	"github.com/mlfleet/mlfleet/internal/store"
)

// maxViews bounds the views kept; when full, the cache starts over.
const maxViews = 2048

// views caches the JSON a compute row is served as. A view is a pure function of the
// row's body and version (decode fills defaults, blanks write-only fields and sets the
// ETag from the version), so a view is reused only for a row read with the same version
// and byte-identical body: never stale, whatever wrote the row, on any replica.
type views struct {
	mu sync.Mutex
	m  map[string]view
}

type view struct {
	version int64
	body    []byte
	wire    json.RawMessage
}

// of returns the JSON of the compute in row r, as GET serves it.
func (v *views) of(r *store.Resource) (json.RawMessage, error) {
	key := strings.ToLower(r.ID)
	v.mu.Lock()
	e, ok := v.m[key]
	v.mu.Unlock()
	if ok && e.version == r.Version && bytes.Equal(e.body, r.Body) {
		return e.wire, nil
	}
	c, err := decode(r)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	wire := json.RawMessage(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	v.mu.Lock()
	if v.m == nil || len(v.m) >= maxViews {
		v.m = make(map[string]view, 64)
	}
	v.m[key] = view{version: r.Version, body: r.Body, wire: wire}
	v.mu.Unlock()
	return wire, nil
}
