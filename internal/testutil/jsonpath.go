package testutil

import "strings"

// Field returns the member of a decoded JSON object that path names, its keys joined by
// dots ("properties.provisioningState"), or nil when a key is missing or a value on the
// way is not an object.
func Field(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = obj[k]
	}
	return v
}
