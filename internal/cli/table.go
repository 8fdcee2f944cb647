package cli

import (
	"bytes"
	"encoding/json"
	"strings"
)

// row is one line of a -o table: its columns, in the order az prints them. A table
// transformer returns rows; the output package reads the column order from the JSON,
// which keeps the order of the cells.
type row []cell

// cell is a column's header and its value; a nil value leaves the cell empty.
type cell struct {
	name  string
	value any
}

// MarshalJSON writes the row as one object, its keys in column order. A map would not do:
// encoding/json sorts map keys, and az's columns are not in alphabetical order.
func (r row) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, c := range r {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(c.name)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(c.value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// rows applies toRow to each object of a normalised result (one object or a list of
// them), for table transformers. One object gives a one-row table, as az prints a show.
// Items that are not objects are dropped, and anything else is returned as it is, for
// the output package's generic table.
func rows(v any, toRow func(map[string]any) row) any {
	switch t := v.(type) {
	case []any:
		out := make([]any, 0, len(t))
		for _, item := range t {
			if m, ok := item.(map[string]any); ok {
				out = append(out, toRow(m))
			}
		}
		return out
	case map[string]any:
		return []any{toRow(t)}
	}
	return v
}

// rowsUnder is rows for a table of the list under key in one object (a catalog's
// orchestrators, a dry run's checks): one row per item. A missing list is an empty table.
func rowsUnder(v any, key string, toRow func(map[string]any) row) any {
	m, _ := v.(map[string]any)
	list, _ := m[key].([]any)
	return rows(list, toRow)
}

// dig returns the value at a path of keys in nested objects, or nil.
func dig(m map[string]any, keys ...string) any {
	var cur any = m
	for _, k := range keys {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[k]
	}
	return cur
}

// splitID returns the segments of an ARM id, without the empty ones its leading and
// trailing slashes would give.
func splitID(id string) []string { return strings.Split(strings.Trim(id, "/"), "/") }

func equalFold(a, b string) bool { return strings.EqualFold(a, b) }

// parseTags reads az-style tags: "key[=value]" items, each a word of its own (az's
// grammar; commas separate items too), so that a quoted value keeps its spaces
// ("owner=a b"); a key without "=" gets an empty value, as in az. Empty items are
// skipped (--tags "" gives no tags).
func parseTags(items []string) (map[string]string, error) {
	if len(items) == 0 {
		return nil, nil
	}
	tags := map[string]string{}
	for _, it := range items {
		if strings.TrimSpace(it) == "" {
			continue
		}
		k, v, _ := strings.Cut(it, "=")
		if strings.TrimSpace(k) == "" {
			return nil, usagef("--tags takes key[=value] items, not %q", it)
		}
		tags[k] = v
	}
	return tags, nil
}
