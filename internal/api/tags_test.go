package api

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/testutil"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// tagsOf returns properties.tags of a Tags API body as strings.
func tagsOf(body map[string]any) map[string]string {
	out := map[string]string{}
	m, _ := testutil.Field(body, "properties.tags").(map[string]any)
	for k, v := range m {
		out[k], _ = v.(string)
	}
	return out
}

// TestTagsAtScope: the Tags API (az tag create/update/list/delete --resource-id) reads and
// changes the tags of a resource group, a workspace and a managed cluster, as their own
// tags: PUT replaces, PATCH merges, replaces or deletes, DELETE removes them all, and the
// resource shows the result. Changing them needs what a PATCH of the resource needs.
func TestTagsAtScope(t *testing.T) {
	t.Parallel()
	a := newTestARM(t)
	a.group(t, "rg1")
	if _, _, err := a.ws.Put(context.Background(), testSub, "rg1", "ws1", armapi.WorkspaceInput{Location: "westus"}); err != nil {
		t.Fatal(err)
	}
	rg := subURL + "/resourceGroups/rg1"
	cluster := succeededCluster(t, a, "rg1", "aks1", "1.36.3")
	reader := a.principal(t, "Reader", rg)
	const v = "?api-version=2022-09-01"
	for _, scope := range []string{rg, rg + "/providers/Microsoft.MachineLearningServices/workspaces/ws1", cluster} {
		tags := scope + "/providers/Microsoft.Resources/tags/default" + v
		steps := []struct {
			name, method string
			body         any
			want         map[string]string
		}{
			{"create", http.MethodPut, map[string]any{"properties": map[string]any{"tags": map[string]string{"a": "1", "b": "2"}}}, map[string]string{"a": "1", "b": "2"}},
			{"read", http.MethodGet, nil, map[string]string{"a": "1", "b": "2"}},
			{"merge", http.MethodPatch, map[string]any{"operation": "Merge", "properties": map[string]any{"tags": map[string]string{"a": "9", "c": "3"}}}, map[string]string{"a": "9", "b": "2", "c": "3"}},
			{"merge in another case", http.MethodPatch, map[string]any{"operation": "Merge", "properties": map[string]any{"tags": map[string]string{"B": "7"}}}, map[string]string{"a": "9", "B": "7", "c": "3"}},
			{"delete by name, in another case", http.MethodPatch, map[string]any{"operation": "Delete", "properties": map[string]any{"tags": map[string]string{"b": ""}}}, map[string]string{"a": "9", "c": "3"}},
			{"delete of another value", http.MethodPatch, map[string]any{"operation": "Delete", "properties": map[string]any{"tags": map[string]string{"a": "1"}}}, map[string]string{"a": "9", "c": "3"}},
			{"delete by value", http.MethodPatch, map[string]any{"operation": "Delete", "properties": map[string]any{"tags": map[string]string{"a": "9"}}}, map[string]string{"c": "3"}},
			{"replace", http.MethodPatch, map[string]any{"operation": "Replace", "properties": map[string]any{"tags": map[string]string{"x": "y"}}}, map[string]string{"x": "y"}},
		}
		for _, st := range steps {
			status, body := a.call(t, a.owner, st.method, tags, st.body)
			if status != http.StatusOK || !maps.Equal(tagsOf(body), st.want) || body["id"] != scope+"/providers/Microsoft.Resources/tags/default" ||
				body["name"] != "default" || body["type"] != "Microsoft.Resources/tags" {
				t.Errorf("%s: %s %s = %d %v, want tags %v", scope, st.name, st.method, status, body, st.want)
			}
		}
		if _, res := a.call(t, a.owner, http.MethodGet, scope+v, nil); testutil.Field(res, "tags.x") != "y" || testutil.Field(res, "tags.c") != nil {
			t.Errorf("%s after the tag changes = %v, want tags {x: y}", scope, res)
		}
		// A Reader reads the tags and may not change them.
		if status, _ := a.call(t, reader, http.MethodGet, tags, nil); status != http.StatusOK {
			t.Errorf("%s: a Reader's GET = %d, want 200", scope, status)
		}
		if status, body := a.call(t, reader, http.MethodPut, tags, map[string]any{"properties": map[string]any{"tags": map[string]string{}}}); status != http.StatusForbidden {
			t.Errorf("%s: a Reader's PUT = %d %v, want 403", scope, status, body)
		}
		if status, body := a.call(t, a.owner, http.MethodPatch, tags, map[string]any{"operation": "Upsert", "properties": map[string]any{"tags": map[string]string{}}}); status != http.StatusBadRequest {
			t.Errorf("%s: PATCH with operation Upsert = %d %v, want 400", scope, status, body)
		}
		if status, _ := a.call(t, a.owner, http.MethodDelete, tags, nil); status != http.StatusOK {
			t.Errorf("%s: DELETE = %d, want 200", scope, status)
		}
		if _, body := a.call(t, a.owner, http.MethodGet, tags, nil); len(tagsOf(body)) != 0 {
			t.Errorf("%s: tags after DELETE = %v, want none", scope, body)
		}
	}
	for _, tc := range []struct {
		scope  string
		status int
		code   string
	}{
		{subURL, http.StatusBadRequest, "OperationNotSupported"},
		{rg + "/providers/Microsoft.ContainerService/managedClusters/nope", http.StatusNotFound, "ResourceNotFound"},
		{subURL + "/resourceGroups/nope", http.StatusNotFound, "ResourceGroupNotFound"},
		{cluster + "/agentPools/nodepool1", http.StatusBadRequest, "OperationNotSupported"},
		{rg + "/providers/Microsoft.Storage/storageAccounts/sa", http.StatusBadRequest, "InvalidScope"},
	} {
		status, body := a.call(t, a.owner, http.MethodGet, tc.scope+"/providers/Microsoft.Resources/tags/default"+v, nil)
		if status != tc.status || errorCode(body) != tc.code {
			t.Errorf("GET tags of %s = %d %v, want %d %s", tc.scope, status, body, tc.status, tc.code)
		}
	}
}

// TestTagNames: az tag list counts the tags of the subscription's groups and resources
// by name (without case, as Azure compares tag names) and value, and shows a caller only
// what it may read.
func TestTagNames(t *testing.T) {
	t.Parallel()
	a := newTestARM(t)
	a.group(t, "rg1")
	a.group(t, "rg2")
	cluster := succeededCluster(t, a, "rg2", "aks1", "1.36.3")
	const v = "?api-version=2022-09-01"
	for scope, tags := range map[string]map[string]string{
		subURL + "/resourceGroups/rg1": {"env": "prod"},
		subURL + "/resourceGroups/rg2": {"env": "dev", "team": "ml"},
		cluster:                        {"ENV": "prod"},
	} {
		if status, body := a.call(t, a.owner, http.MethodPut, scope+"/providers/Microsoft.Resources/tags/default"+v, map[string]any{"properties": map[string]any{"tags": tags}}); status != http.StatusOK {
			t.Fatalf("PUT tags of %s = %d %v", scope, status, body)
		}
	}
	summary := func(token string) string {
		status, body := a.call(t, token, http.MethodGet, subURL+"/tagNames"+v, nil)
		if status != http.StatusOK {
			t.Fatalf("tagNames = %d %v", status, body)
		}
		var parts []string
		for _, n := range body["value"].([]any) {
			n := n.(map[string]any)
			if n["id"] != subURL+"/tagNames/"+n["tagName"].(string) || testutil.Field(n, "count.type") != "Total" {
				t.Errorf("tag name %v", n)
			}
			s := n["tagName"].(string) + "=" + fmt.Sprint(testutil.Field(n, "count.value"))
			for _, v := range n["values"].([]any) {
				v := v.(map[string]any)
				s += " " + v["tagValue"].(string) + ":" + fmt.Sprint(testutil.Field(v, "count.value"))
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, "; ")
	}
	if got, want := summary(a.owner), "env=3 dev:1 prod:2; team=1 ml:1"; got != want {
		t.Errorf("tagNames = %q, want %q", got, want)
	}
	if got, want := summary(a.principal(t, "Reader", subURL+"/resourceGroups/rg1")), "env=1 prod:1"; got != want {
		t.Errorf("tagNames of a Reader of rg1 = %q, want %q", got, want)
	}
	if status, body := a.call(t, a.owner, http.MethodPut, subURL+"/tagNames/env"+v, nil); status != http.StatusBadRequest || errorCode(body) != "OperationNotSupported" {
		t.Errorf("PUT tagNames/env = %d %v, want 400 OperationNotSupported", status, body)
	}
}

// TestTagsPutNeedsProperties (QA12 F3): a Tags PUT without properties (the resource-style
// {"tags":…}), with properties null, or with a wrong-typed envelope is a 400 naming the
// field, and the scope keeps its tags: TagsResource.properties is required, so ARM never
// reads such a body as "replace with nothing".
func TestTagsPutNeedsProperties(t *testing.T) {
	t.Parallel()
	a := newTestARM(t)
	a.group(t, "rg1")
	tags := subURL + "/resourceGroups/rg1/providers/Microsoft.Resources/tags/default?api-version=2022-09-01"
	if status, out := a.call(t, a.owner, http.MethodPut, tags, map[string]any{"properties": map[string]any{"tags": map[string]string{"env": "prod", "owner": "ml"}}}); status != http.StatusOK {
		t.Fatalf("PUT tags: %d %v", status, out)
	}
	refuseBodies(t, a.srv.URL, a.owner, tags, []badBody{
		{"resource-style tags", http.MethodPut, tags, `{"tags":{"env":"dev"}}`, "properties"},
		{"properties null", http.MethodPut, tags, `{"properties":null}`, "properties"},
		{"tags a string", http.MethodPut, tags, `{"tags":"x"}`, "tags"},
		{"location a number", http.MethodPut, tags, `{"location":5}`, "location"},
	})
	if status, out := a.call(t, a.owner, http.MethodGet, tags, nil); status != http.StatusOK || !maps.Equal(tagsOf(out), map[string]string{"env": "prod", "owner": "ml"}) {
		t.Errorf("tags after the refused PUTs = %d %v, want env and owner", status, out)
	}
}
