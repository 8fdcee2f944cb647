package cli

import "strings"

// rows applies row to each object of a normalised result (one object or a list of them),
// for table transformers.
func rows(v any, row func(map[string]any) any) any {
	switch t := v.(type) {
	case []any:
		out := make([]any, 0, len(t))
		for _, item := range t {
			if m, ok := item.(map[string]any); ok {
				out = append(out, row(m))
			}
		}
		return out
	case map[string]any:
		return []any{row(t)}
	}
	return v
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

func splitID(id string) []string { return strings.Split(strings.Trim(id, "/"), "/") }

func equalFold(a, b string) bool { return strings.EqualFold(a, b) }

// parseTags reads az-style tags: "key[=value]" items, space or comma separated.
func parseTags(items []string) (map[string]string, error) {
	if len(items) == 0 {
		return nil, nil
	}
	tags := map[string]string{}
	for _, it := range items {
		for _, kv := range strings.Fields(it) {
			k, v, _ := strings.Cut(kv, "=")
			if k == "" {
				return nil, usagef("--tags takes key[=value] items, not %q", kv)
			}
			tags[k] = v
		}
	}
	return tags, nil
}
