// Package recordtest has the checks a domain package's record tests share: Run tests one
// kind (its golden, the fixtures of every version, a newer version refused) from what
// Kind says of it; Golden compares a record's JSON with its golden file; AllSet checks that
// a test's example value sets every field, so that a field added to a wire type shows up
// in the golden comparison.
package recordtest

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"testing"
	"time"
)

// Golden compares the record JSON got with the file at path, both indented.
func Golden(t *testing.T, path string, got []byte) {
	t.Helper()
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var g bytes.Buffer
	if err := json.Indent(&g, got, "", "  "); err != nil {
		t.Fatalf("record is not JSON: %v\n%s", err, got)
	}
	g.WriteByte('\n')
	if !bytes.Equal(g.Bytes(), want) {
		t.Errorf("the stored format changed: %s no longer holds what is written.\n"+
			"A change of a wire type (pkg/mlfleet/armapi) changes what the database holds: raise the kind's\n"+
			"schema version, teach its decoder the version before (keep %s as the old version's fixture),\n"+
			"and write a new golden. Written now:\n%s", path, path, g.Bytes())
	}
}

// AllSet fails the test for each field of v, at any depth, left at its zero value: a value
// that sets them all makes its golden show every field the record has. Nil pointers,
// empty slices and maps count as unset; slices and maps are checked through their first
// element; interface values and time.Time are not looked into, nor a struct inside a
// struct of its own type (ARM error details).
func AllSet(t *testing.T, v any) {
	t.Helper()
	allSet(t, reflect.ValueOf(v), reflect.TypeOf(v).String(), map[reflect.Type]bool{})
}

var timeType = reflect.TypeOf(time.Time{})

func allSet(t *testing.T, v reflect.Value, path string, outer map[reflect.Type]bool) {
	t.Helper()
	if v.IsZero() {
		t.Errorf("%s is not set: set it in the example so that the golden covers it", path)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		allSet(t, v.Elem(), path, outer)
	case reflect.Struct:
		if v.Type() == timeType || outer[v.Type()] {
			return
		}
		outer[v.Type()] = true
		defer delete(outer, v.Type())
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if !f.IsExported() || f.Tag.Get("json") == "-" {
				continue
			}
			allSet(t, v.Field(i), path+"."+f.Name, outer)
		}
	case reflect.Slice:
		if v.Len() == 0 {
			t.Errorf("%s is empty: give it an element so that the golden covers its fields", path)
			return
		}
		if v.Type().Elem().Kind() != reflect.Uint8 {
			allSet(t, v.Index(0), path+"[0]", outer)
		}
	case reflect.Map:
		if v.Len() == 0 {
			t.Errorf("%s is empty: give it an entry so that the golden covers its fields", path)
			return
		}
		it := v.MapRange()
		it.Next()
		allSet(t, it.Value(), path+"["+it.Key().String()+"]", outer)
	}
}
