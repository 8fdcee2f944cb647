package mlfleet

import "net/http"

// conditionHeader returns the conditional headers of a PUT or DELETE: If-Match when
// ifMatch is set, If-None-Match: * when ifNoneMatch (nil when neither).
func conditionHeader(ifMatch string, ifNoneMatch bool) http.Header {
	if ifMatch == "" && !ifNoneMatch {
		return nil
	}
	h := http.Header{}
	if ifMatch != "" {
		h.Set("If-Match", ifMatch)
	}
	if ifNoneMatch {
		h.Set("If-None-Match", "*")
	}
	return h
}
