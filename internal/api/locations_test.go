package api

import (
	"net/http"
	"testing"
)

func TestListLocations(t *testing.T) {
	t.Parallel()
	srv, token := catalogServer(t)
	status, body := get(t, srv, token, "/subscriptions/"+testSub+"/locations?api-version=2022-12-01")
	if status != http.StatusOK {
		t.Fatalf("GET locations = %d, body %v", status, body)
	}
	var westus map[string]any
	for _, v := range body["value"].([]any) {
		if l := v.(map[string]any); l["name"] == "westus" {
			westus = l
		}
	}
	want := "/subscriptions/" + testSub + "/locations/westus"
	if westus == nil || westus["id"] != want || westus["type"] != "Region" {
		t.Fatalf("westus = %v, want id %s and type Region", westus, want)
	}
	status, body = get(t, srv, token, "/subscriptions/00000000-0000-0000-0000-000000000bad/locations?api-version=2022-12-01")
	if status != http.StatusNotFound || errorCode(body) != "SubscriptionNotFound" {
		t.Fatalf("GET locations of an unknown subscription = %d %v, want 404 SubscriptionNotFound", status, body)
	}
}
