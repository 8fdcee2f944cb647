package arm

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
)

// TestCheckTags: ARM's tag rules, each with ARM's code; what is within them passes.
func TestCheckTags(t *testing.T) {
	many := map[string]string{}
	for i := range MaxTags + 1 {
		many[fmt.Sprintf("t%d", i)] = "v"
	}
	delete(many, "t0")
	tests := []struct {
		name string
		tags map[string]string
		code string
	}{
		{"none", nil, ""},
		{"ordinary", map[string]string{"team": "ml", "cost center": "42", "kubernetes.io-cluster": "", "ünïcode": strings.Repeat("é", MaxTagValueLength)}, ""},
		{"fifty", many, ""},
		{"fifty-one", func() map[string]string { m := maps.Clone(many); m["t0"] = "v"; return m }(), "InvalidTagCount"},
		{"empty name", map[string]string{"": "v"}, "InvalidTagName"},
		{"long name", map[string]string{strings.Repeat("n", MaxTagNameLength+1): "v"}, "InvalidTagNameLength"},
		{"longest name", map[string]string{strings.Repeat("n", MaxTagNameLength): "v"}, ""},
		{"slash", map[string]string{"kubernetes.io/cluster": "owned"}, "InvalidTagNameCharacters"},
		{"percent", map[string]string{"50%": "v"}, "InvalidTagNameCharacters"},
		{"control", map[string]string{"a\tb": "v"}, "InvalidTagNameCharacters"},
		{"reserved in a value", map[string]string{"url": "https://example.com/?a=1&b=<2>"}, ""},
		{"long value", map[string]string{"k": strings.Repeat("v", MaxTagValueLength+1)}, "InvalidTagValueLength"},
		{"one name in two cases", map[string]string{"team": "ml", "Team": "dup"}, "InvalidTagName"},
	}
	for _, tt := range tests {
		err := CheckTags(tt.tags)
		var ae *Error
		switch {
		case tt.code == "" && err != nil:
			t.Errorf("%s: %v, want no error", tt.name, err)
		case tt.code != "" && (!errors.As(err, &ae) || ae.Code != tt.code || ae.Status != 400 || ae.Target != "tags"):
			t.Errorf("%s: %v, want a 400 %s on tags", tt.name, err, tt.code)
		}
	}
}
