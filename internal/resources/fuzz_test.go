package resources

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// FuzzParseFilter: any $filter of a resource list or a resource group list is parsed or
// refused with a 400 InvalidFilterInQueryString that names the $filter, never a panic; a
// group filter that parses filters by tag only; a parsed filter matches without panicking.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		"",
		"resourceGroup eq 'rg' and name eq 'aks1' and location eq 'westus' and resourceType eq 'Microsoft.ContainerService/managedClusters'",
		"substringof('aks', name)",
		"startswith(tagName, 'env') and tagValue eq 'prod'",
		"tagName eq 'a and b' AND tagValue eq 'it''s'",
		"tagValue eq 'x'",
		"name eq 'unclosed",
		"substringof(",
		"startswith(tagName,",
		"name eq ''''",
		"NAME EQ 'ü\xff'",
		" and ",
		"'",
	} {
		f.Add(s)
	}
	res := &armapi.GenericResource{Name: "aks1", Location: "westus", Tags: map[string]string{"env": "prod"}}
	f.Fuzz(func(t *testing.T, s string) {
		for _, parse := range []struct {
			name  string
			parse func(string) (Filter, error)
		}{{"ParseFilter", ParseFilter}, {"ParseGroupFilter", ParseGroupFilter}} {
			got, err := parse.parse(s)
			if err != nil {
				var ae *arm.Error
				if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || ae.Code != "InvalidFilterInQueryString" || ae.Target != "$filter" || ae.Message == "" {
					t.Fatalf("%s(%q) refused with %#v, want a 400 InvalidFilterInQueryString", parse.name, s, err)
				}
				continue
			}
			if parse.name == "ParseGroupFilter" && got != (Filter{TagName: got.TagName, TagValue: got.TagValue}) {
				t.Fatalf("ParseGroupFilter(%q) = %+v: not a tag filter", s, got)
			}
			if got.TagValue != "" && got.TagName == "" && got.TagPrefix == "" {
				t.Fatalf("%s(%q) = %+v: a tagValue without a tag name", parse.name, s, got)
			}
			got.Matches(res)
		}
	})
}

// FuzzFilterValue: any value, quoted as OData quotes it (each ' doubled), is read back as
// itself in every clause, alone or joined by "and" with another.
func FuzzFilterValue(f *testing.F) {
	for _, s := range []string{"rg", "", "it's", "a and b", "' and name eq '", "''", " x ", "ü\xff\x00", ")", "tagName eq 'x'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		q := "'" + strings.ReplaceAll(v, "'", "''") + "'"
		for _, tc := range []struct {
			filter string
			field  func(Filter) string
		}{
			{"resourceGroup eq " + q, func(f Filter) string { return f.ResourceGroup }},
			{"name eq " + q + " and location eq 'westus'", func(f Filter) string { return f.Name }},
			{"substringof(" + q + ", name)", func(f Filter) string { return f.NameContains }},
			{"startswith(tagName, " + q + ")", func(f Filter) string { return f.TagPrefix }},
			{"tagName eq 'env' and tagValue eq " + q, func(f Filter) string { return f.TagValue }},
		} {
			got, err := ParseFilter(tc.filter)
			if err != nil {
				t.Fatalf("ParseFilter(%q): %v", tc.filter, err)
			}
			if tc.field(got) != v {
				t.Fatalf("ParseFilter(%q) read the value %q, want %q", tc.filter, tc.field(got), v)
			}
		}
	})
}
