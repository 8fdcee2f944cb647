// Package record is the format of a resource's row body (store.Resource.Body): the JSON of
// the resource with the version of that format, so that what the database holds does not
// follow the wire types (package armapi) silently.
//
// Each domain package has a Kind per kind it stores:
//
//	var computeRecord = record.Kind[Compute]{Name: "compute", Schema: 1}
//
// Kind.Encode writes the resource's JSON with a Header first, {"schemaVersion":1,...}, and
// Kind.Decode reads rows through Header.Check, which refuses a row written by a newer
// mlfleet. Rows written before versions (no schemaVersion) read as version 1: their format
// is version 1's. A golden test per kind (recordtest.Golden) pins the JSON of version 1;
// when a change of a wire type changes it, the kind's version goes up and its reader learns
// to read the version before.
package record

import (
	"encoding/json"
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

// Kind is the record format of one kind of resource whose wire type is T, a struct.
type Kind[T any] struct {
	// Name names the kind in errors ("compute").
	Name string
	// Schema is the kind's current version: what Encode writes and the newest Decode
	// reads. Versions start at 1.
	Schema int
}

// Encode returns the row body of v: v's JSON object with the header's field first.
func (k Kind[T]) Encode(v *T) []byte {
	head, _ := json.Marshal(Header{Schema: k.Schema}) // {"schemaVersion":N}
	body, _ := json.Marshal(v)
	row := head[:len(head)-1]
	if len(head) > len("{}") && len(body) > len("{}") {
		row = append(row, ',')
	}
	return append(row, body[1:]...)
}

// Decode reads into v a row body written by Encode, or before record versions; id names
// the row in errors. A row of a version above k.Schema is not read: its error wraps
// ErrNewerSchema.
func (k Kind[T]) Decode(id string, body []byte, v *T) error {
	var h Header
	err := json.Unmarshal(body, &h)
	if err == nil {
		err = h.Check(k.Name, k.Schema)
	}
	if err == nil {
		err = json.Unmarshal(body, v)
	}
	if err != nil {
		return fmt.Errorf("decode %s %s: %w", k.Name, id, err)
	}
	return nil
}

// Read is Decode into a new value.
func (k Kind[T]) Read(id string, body []byte) (*T, error) {
	v := new(T)
	if err := k.Decode(id, body, v); err != nil {
		return nil, err
	}
	return v, nil
}

// Pair is the two record kinds of a package that stores two wire types, for its code that is
// generic over both (a type parameter constrained to A | B): Encode and Decode pick the kind
// by the type of v, which must be *A or *B.
type Pair[A, B any] struct {
	A Kind[A]
	B Kind[B]
}

// Encode is A's or B's Encode, by v's type.
func (p Pair[A, B]) Encode(v any) []byte {
	switch v := v.(type) {
	case *A:
		return p.A.Encode(v)
	case *B:
		return p.B.Encode(v)
	}
	panic(p.misuse(v))
}

// Decode is A's or B's Decode, by v's type.
func (p Pair[A, B]) Decode(id string, body []byte, v any) error {
	switch v := v.(type) {
	case *A:
		return p.A.Decode(id, body, v)
	case *B:
		return p.B.Decode(id, body, v)
	}
	panic(p.misuse(v))
}

// misuse describes a v of neither type: a programming error, which the callers' type
// constraints rule out.
func (p Pair[A, B]) misuse(v any) string {
	return fmt.Sprintf("record: a %T is neither a %s nor a %s", v, p.A.Name, p.B.Name)
}
