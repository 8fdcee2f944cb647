package resources

import (
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

func TestParseFilter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     Filter
		wantErr  bool
	}{
		{name: "empty", in: " "},
		{name: "az resource list -g", in: "resourceGroup eq 'myresourcegroup'", want: Filter{ResourceGroup: "myresourcegroup"}},
		{name: "az resource list, everything", in: "resourceGroup eq 'rg' and name eq 'aks1' and location eq 'westus' and resourceType eq 'Microsoft.ContainerService/managedClusters'",
			want: Filter{ResourceGroup: "rg", Name: "aks1", Location: "westus", ResourceType: "Microsoft.ContainerService/managedClusters"}},
		{name: "case of keywords", in: "ResourceType EQ 'a/b' AND NAME eq 'x'", want: Filter{ResourceType: "a/b", Name: "x"}},
		{name: "quote in a value, and in a value", in: "name eq 'it''s and more'", want: Filter{Name: "it's and more"}},
		{name: "substringof", in: "substringof('aks', name)", want: Filter{NameContains: "aks"}},
		{name: "tags", in: "tagname eq 'env' and tagvalue eq 'prod'", want: Filter{TagName: "env", TagValue: "prod"}},
		{name: "tag prefix", in: "startswith(tagname, 'en')", want: Filter{TagPrefix: "en"}},
		{name: "unknown field", in: "kind eq 'x'", wantErr: true},
		{name: "not eq", in: "name ne 'x'", wantErr: true},
		{name: "unquoted", in: "name eq x", wantErr: true},
		{name: "unclosed quote", in: "name eq 'x", wantErr: true},
		{name: "or", in: "name eq 'x' or name eq 'y'", wantErr: true},
		{name: "substringof on type", in: "substringof('x', resourceType)", wantErr: true},
		{name: "tag value alone", in: "tagValue eq 'prod'", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseFilter(tt.in)
			if tt.wantErr {
				if ae, ok := err.(*arm.Error); !ok || ae.Status != 400 || ae.Code != "InvalidFilterInQueryString" {
					t.Fatalf("ParseFilter(%q) = %+v, %v; want a 400 InvalidFilterInQueryString", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseFilter(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseGroupFilter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     Filter
		wantErr  string
	}{
		{name: "empty", in: ""},
		{name: "az group list --tag k=v", in: "tagname eq 'team' and tagvalue eq 'qa'", want: Filter{TagName: "team", TagValue: "qa"}},
		{name: "az group list --tag k", in: "tagname eq 'team'", want: Filter{TagName: "team"}},
		{name: "garbage", in: "garbage(((", wantErr: "expected FIELD eq 'value'"},
		{name: "name", in: "name eq 'rg'", wantErr: "resource groups are filtered by tagName and tagValue only"},
		{name: "tag prefix", in: "startswith(tagName, 'te')", wantErr: "resource groups are filtered by tagName and tagValue only"},
		{name: "tag value alone", in: "tagValue eq 'qa'", wantErr: "tagValue needs a tagName clause"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseGroupFilter(tt.in)
			if tt.wantErr != "" {
				ae, ok := err.(*arm.Error)
				if !ok || ae.Status != 400 || ae.Code != "InvalidFilterInQueryString" || ae.Target != "$filter" ||
					!strings.Contains(ae.Message, tt.wantErr) || !strings.Contains(ae.Message, "tagName eq '…', alone or with tagValue eq '…'") {
					t.Fatalf("ParseGroupFilter(%q) = %+v, %v; want a 400 InvalidFilterInQueryString saying %q and what is supported", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseGroupFilter(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
		})
	}
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
