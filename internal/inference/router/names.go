package router

import "strings"

// endpointName is the name the router knows endpoint name by: names are case-insensitive
// and case-preserving (ARM), so a scoring URI typed in another case reaches the endpoint,
// which its Secret names as it was created. An unknown name is returned as it is.
func (h *Handler) endpointName(name string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return nameIn(h.endpoints, name)
}

// nameIn returns the key of m that equals name without case, preferring an exact match;
// name itself when there is none.
func nameIn[V any](m map[string]V, name string) string {
	if _, ok := m[name]; ok {
		return name
	}
	for k := range m {
		if strings.EqualFold(k, name) {
			return k
		}
	}
	return name
}
