package resources

import (
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// filterCase is a $filter and what a list's parser makes of it: want, or, with wantErr set,
// a 400 InvalidFilterInQueryString on $filter that says wantErr.
type filterCase struct {
	name, in string
	want     Filter
	wantErr  string
}

// testParse runs tests through parse, named parseName, the $filter parser of a list whose
// 400s also name supported, what the list takes.
func testParse(t *testing.T, parseName string, parse func(string) (Filter, error), supported string, tests []filterCase) {
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parse(tt.in)
			if tt.wantErr != "" {
				ae, ok := err.(*arm.Error)
				if !ok || ae.Status != 400 || ae.Code != "InvalidFilterInQueryString" || ae.Target != "$filter" ||
					!strings.Contains(ae.Message, tt.wantErr) || !strings.Contains(ae.Message, supported) {
					t.Fatalf("%s(%q) = %+v, %v; want a 400 InvalidFilterInQueryString saying %q and what is supported", parseName, tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("%s(%q) = %+v, %v; want %+v", parseName, tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseFilter(t *testing.T) {
	t.Parallel()
	testParse(t, "ParseFilter", ParseFilter, "resourceType eq '…', resourceGroup eq '…', name eq '…', location eq '…', substringof('…', name)", []filterCase{
		{name: "empty", in: " "},
		{name: "az resource list -g", in: "resourceGroup eq 'myresourcegroup'", want: Filter{ResourceGroup: "myresourcegroup"}},
		{name: "az resource list, everything", in: "resourceGroup eq 'rg' and name eq 'aks1' and location eq 'westus' and resourceType eq 'Microsoft.ContainerService/managedClusters'",
			want: Filter{ResourceGroup: "rg", Name: "aks1", Location: "westus", ResourceType: "Microsoft.ContainerService/managedClusters"}},
		{name: "case of keywords", in: "ResourceType EQ 'a/b' AND NAME eq 'x'", want: Filter{ResourceType: "a/b", Name: "x"}},
		{name: "quote in a value, and in a value", in: "name eq 'it''s and more'", want: Filter{Name: "it's and more"}},
		{name: "substringof", in: "substringof('aks', name)", want: Filter{NameContains: "aks"}},
		{name: "tags", in: "tagname eq 'env' and tagvalue eq 'prod'", want: Filter{TagName: "env", TagValue: "prod"}},
		{name: "tag prefix", in: "startswith(tagname, 'en')", want: Filter{TagPrefix: "en"}},
		{name: "unknown field", in: "kind eq 'x'", wantErr: "'kind' cannot be filtered on"},
		{name: "not eq", in: "name ne 'x'", wantErr: "expected FIELD eq 'value'"},
		{name: "unquoted", in: "name eq x", wantErr: "expected FIELD eq 'value'"},
		{name: "unclosed quote", in: "name eq 'x", wantErr: "a quote is not closed"},
		{name: "or", in: "name eq 'x' or name eq 'y'", wantErr: "expected FIELD eq 'value'"},
		{name: "substringof on type", in: "substringof('x', resourceType)", wantErr: "substringof works on name only"},
		{name: "tag value alone", in: "tagValue eq 'prod'", wantErr: "tagValue needs a tagName clause"},
	})
}

func TestParseGroupFilter(t *testing.T) {
	t.Parallel()
	testParse(t, "ParseGroupFilter", ParseGroupFilter, "tagName eq '…', alone or with tagValue eq '…'", []filterCase{
		{name: "empty", in: ""},
		{name: "az group list --tag k=v", in: "tagname eq 'team' and tagvalue eq 'qa'", want: Filter{TagName: "team", TagValue: "qa"}},
		{name: "az group list --tag k", in: "tagname eq 'team'", want: Filter{TagName: "team"}},
		{name: "garbage", in: "garbage(((", wantErr: "expected FIELD eq 'value'"},
		{name: "name", in: "name eq 'rg'", wantErr: "resource groups are filtered by tagName and tagValue only"},
		{name: "tag prefix", in: "startswith(tagName, 'te')", wantErr: "resource groups are filtered by tagName and tagValue only"},
		{name: "tag value alone", in: "tagValue eq 'qa'", wantErr: "tagValue needs a tagName clause"},
	})
}

func TestFilterMatches(t *testing.T) {
	t.Parallel()
	r := &armapi.GenericResource{Name: "ws1/AKS1", Location: "westus", Tags: map[string]string{"env": "prod"}}
	tests := []struct {
		filter string
		want   bool
	}{
		{"", true},
		{"name eq 'ws1/aks1'", true},
		{"name eq 'aks1'", false},
		{"substringof('aks', name)", true},
		{"substringof('gpu', name)", false},
		{"location eq 'West US'", true},
		{"location eq 'eastus'", false},
		{"tagName eq 'ENV'", true},
		{"tagName eq 'env' and tagValue eq 'prod'", true},
		{"tagName eq 'env' and tagValue eq 'dev'", false},
		{"startswith(tagName, 'e') and tagValue eq 'prod'", true},
		{"tagName eq 'team'", false},
	}
	for _, tt := range tests {
		f, err := ParseFilter(tt.filter)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Matches(r); got != tt.want {
			t.Errorf("%q matches %+v = %v, want %v", tt.filter, r, got, tt.want)
		}
	}
}
