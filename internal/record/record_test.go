package record

import (
	"errors"
	"testing"
)

type thing struct {
	Name string `json:"name"`
}

type other struct {
	Size int `json:"size"`
}

func TestKindWritesTheHeaderFirstAndReadsOlderRows(t *testing.T) {
	k := Kind[thing]{Name: "thing", Schema: 2}
	if got := string(k.Encode(&thing{Name: "a"})); got != `{"schemaVersion":2,"name":"a"}` {
		t.Errorf("Encode = %s", got)
	}
	if got := string(k.Encode(&thing{})); got != `{"schemaVersion":2,"name":""}` {
		t.Errorf("Encode of a zero value = %s", got)
	}
	for _, body := range []string{`{"name":"a"}`, `{"schemaVersion":1,"name":"a"}`, `{"schemaVersion":2,"name":"a"}`} {
		v, err := k.Read("row", []byte(body))
		if err != nil || v.Name != "a" {
			t.Errorf("Read(%s) = %+v, %v; want name a", body, v, err)
		}
	}
	if _, err := k.Read("row", []byte(`{"schemaVersion":3,"name":"a"}`)); !errors.Is(err, ErrNewerSchema) {
		t.Errorf("Read of a newer row: err = %v, want ErrNewerSchema", err)
	}
}

func TestPairPicksTheKindByType(t *testing.T) {
	p := Pair[thing, other]{A: Kind[thing]{Name: "thing", Schema: 1}, B: Kind[other]{Name: "other", Schema: 4}}
	if got := string(p.Encode(&thing{Name: "a"})); got != `{"schemaVersion":1,"name":"a"}` {
		t.Errorf("Encode(thing) = %s", got)
	}
	if got := string(p.Encode(&other{Size: 3})); got != `{"schemaVersion":4,"size":3}` {
		t.Errorf("Encode(other) = %s", got)
	}
	var o other
	if err := p.Decode("row", []byte(`{"schemaVersion":4,"size":3}`), &o); err != nil || o.Size != 3 {
		t.Errorf("Decode(other) = %+v, %v", o, err)
	}
	if err := p.Decode("row", []byte(`{"schemaVersion":5,"size":3}`), &o); !errors.Is(err, ErrNewerSchema) {
		t.Errorf("Decode of a newer other: err = %v, want ErrNewerSchema (B's schema, not A's)", err)
	}

	defer func() {
		if recover() == nil {
			t.Error("Encode of a type of neither kind did not panic")
		}
	}()
	p.Encode(&struct{}{})
}
