package output

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
)

// orders remembers key order, which a plain map[string]any forgets but knack's Python dicts
// keep: known holds the document order of every object decoded by normalize (identified by
// map identity), hints the key lists of the query's multiselect hashes, which build the only
// objects a query creates with an order of their own (Python's OrderedDict).
type orders struct {
	known map[uintptr][]string
	hints [][]string
}

// normalize round-trips v through JSON into map[string]any, []any, string, json.Number,
// bool and nil, recording each object's key order.
func normalize(v any) (any, *orders, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, nil, err
	}
	ord := &orders{known: map[uintptr][]string{}}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	out, err := ord.decode(dec)
	if err != nil {
		return nil, nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("trailing data after JSON value")
	}
	return out, ord, nil
}

func (o *orders) decode(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			m := map[string]any{}
			var keys []string
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("unexpected object key %v", kt)
				}
				v, err := o.decode(dec)
				if err != nil {
					return nil, err
				}
				// Like Python's json.loads: a repeated key keeps its first place, last value.
				if _, dup := m[k]; !dup {
					keys = append(keys, k)
				}
				m[k] = v
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			o.known[mapID(m)] = keys
			return m, nil
		case '[':
			l := []any{}
			for dec.More() {
				v, err := o.decode(dec)
				if err != nil {
					return nil, err
				}
				l = append(l, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return l, nil
		}
		return nil, fmt.Errorf("unexpected delimiter %v", t)
	default:
		return tok, nil // string, json.Number, bool or nil
	}
}

func mapID(m map[string]any) uintptr { return reflect.ValueOf(m).Pointer() }

// sortedKeys is knack's order for table output without a query or transformer.
func (o *orders) sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// itemKeys is a Python dict's own (insertion) order: document order for decoded objects,
// the query's order for objects a multiselect hash built, sorted when neither is known.
func (o *orders) itemKeys(m map[string]any) []string {
	if keys, ok := o.known[mapID(m)]; ok {
		return keys
	}
	if keys := o.hintFor(m); keys != nil {
		return keys
	}
	return o.sortedKeys(m)
}

// tsvKeys is knack's tsv order: OrderedDicts (built by a multiselect hash) keep their order,
// plain dicts are sorted, without the keys in omit.
func (o *orders) tsvKeys(m map[string]any, omit []string) []string {
	if _, ok := o.known[mapID(m)]; !ok {
		if keys := o.hintFor(m); keys != nil {
			return keys
		}
	}
	return slices.DeleteFunc(o.sortedKeys(m), func(k string) bool { return slices.Contains(omit, k) })
}

// hintFor finds the multiselect hash whose keys are exactly m's keys.
func (o *orders) hintFor(m map[string]any) []string {
	for _, h := range o.hints {
		var keys []string
		for _, k := range h {
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
		if len(keys) != len(m) {
			continue
		}
		match := true
		for _, k := range keys {
			if _, ok := m[k]; !ok {
				match = false
				break
			}
		}
		if match {
			return keys
		}
	}
	return nil
}
