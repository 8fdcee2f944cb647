package recordtest

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/record"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// Kind is what the record test of one stored kind needs to know of it.
type Kind[T any] struct {
	// Name is the stem of the kind's fixtures in testdata/record: Name.v0.json is what
	// servers before record versions wrote (the wire body alone), Name.vN.json version N.
	Name string
	// Schema is the kind's current record version; its fixture is the golden.
	Schema int
	// Example returns a value that sets every field, so that the golden shows each of them.
	Example func() *T
	// Before, when set, turns the example into what a row of an older version reads back
	// as: it clears the fields added since version. Nil: every version holds every field.
	Before func(version int, v *T)
	// Encode returns the row body of a value; Read reads one back.
	Encode func(*T) []byte
	Read   func(body []byte) (*T, error)
	// Served, when set, checks what a row of each version serves (file is the fixture's
	// name, body its bytes): what the reader alone does not show.
	Served func(t *testing.T, file string, body []byte)
}

// Run tests k's records: the current version's golden pins what a row holds, so that a
// change of the wire type cannot change the database's format unnoticed; the fixture of
// every version a server wrote reads back as the example; a row of a newer version is
// refused with record.ErrNewerSchema.
func Run[T any](t *testing.T, k Kind[T]) {
	t.Helper()
	t.Run(k.Name, func(t *testing.T) {
		ex := k.Example()
		AllSet(t, ex)
		Golden(t, k.path(k.Schema), k.Encode(ex))
		for v := 0; v <= k.Schema; v++ {
			file := k.path(v)
			body, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			got, err := k.Read(body)
			if err != nil {
				t.Fatalf("read %s: %v", file, err)
			}
			want := ex
			if v < k.Schema && k.Before != nil {
				want = k.Example()
				k.Before(v, want)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("read %s:\n got %+v\nwant %+v", file, got, want)
			}
			if k.Served != nil {
				k.Served(t, file, body)
			}
		}
		newer := fmt.Sprintf(`{"schemaVersion":%d,"name":"x"}`, k.Schema+1)
		if _, err := k.Read([]byte(newer)); !errors.Is(err, record.ErrNewerSchema) {
			t.Errorf("read a version %d row: %v; want ErrNewerSchema", k.Schema+1, err)
		}
	})
}

func (k Kind[T]) path(version int) string {
	return fmt.Sprintf("testdata/record/%s.v%d.json", k.Name, version)
}

// Time returns the time the examples set in their time fields (modified ones an hour later).
func Time() time.Time {
	return time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)
}

// SystemData returns system data with every field set: created at Time, modified an hour
// later.
func SystemData() *armapi.SystemData {
	at := Time()
	return &armapi.SystemData{CreatedAt: at, CreatedBy: "alice", CreatedByType: "User",
		LastModifiedAt: at.Add(time.Hour), LastModifiedBy: "bob", LastModifiedByType: "User"}
}
