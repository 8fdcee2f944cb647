package output

import (
	"strconv"
	"strings"
)

// formatTSV is knack's format_tsv (_TsvOutput): one line per item of the result (a non-list
// result is a one-item list), no header.
//
//   - an object item writes its values tab-separated, in tsvKeys order;
//   - an array item writes its elements tab-separated;
//   - a boolean item writes true/false;
//   - any other item writes str(item) (null is "None").
//
// Inside an object or array, an array value writes its length, an object value writes
// nothing and any other value writes str(value), so booleans are True/False and null None.
func formatTSV(data any, keys func(map[string]any) []string) string {
	items, ok := data.([]any)
	if !ok {
		items = []any{data}
	}
	var b strings.Builder
	for _, item := range items {
		switch t := item.(type) {
		case map[string]any:
			for i, k := range keys(t) {
				if i > 0 {
					b.WriteByte('\t')
				}
				tsvField(&b, t[k], keys)
			}
		case []any:
			for i, v := range t {
				if i > 0 {
					b.WriteByte('\t')
				}
				tsvField(&b, v, keys)
			}
		case bool:
			if t {
				b.WriteString("true")
			} else {
				b.WriteString("false")
			}
		default:
			tsvField(&b, t, keys)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// tsvField is knack's _TsvOutput._dump_obj.
func tsvField(b *strings.Builder, v any, keys func(map[string]any) []string) {
	switch t := v.(type) {
	case []any:
		b.WriteString(strconv.Itoa(len(t)))
	case map[string]any:
	default:
		b.WriteString(pyStr(t, keys))
	}
}
