package output

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	yamlv3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/yaml"
)

// goldenCases print testdata/<input>.json and compare with testdata/golden/<name>.golden.
// The golden files were produced by knack itself (knack/output.py at microsoft/knack
// e0c14114, tabulate 0.9.0, PyYAML 6.0.3, Pygments 2.20.0, Python jmespath 1.1.0 with
// OrderedDict as knack passes it), not by this package: do not regenerate them from Print.
var goldenCases = []struct {
	name, input, format, query string
}{
	// The seed example: a filtered projection of scalars gets the Result column.
	{"seed_table_query", "orchestrators", "table", "orchestrators[?default == `true`].orchestratorVersion"},
	{"orchestrators_table", "orchestrators", "table", ""},
	{"orchestrators_tsv", "orchestrators", "tsv", ""},
	{"orchestrators_json", "orchestrators", "json", ""},
	{"orchestrators_yaml", "orchestrators", "yaml", ""},

	{"resources_json", "resources", "json", ""},
	{"resources_jsonc", "resources", "jsonc", ""},
	{"resources_yaml", "resources", "yaml", ""},
	{"resources_table", "resources", "table", ""},
	{"resources_tsv", "resources", "tsv", ""},
	// A multiselect hash keeps the query's key order in table and tsv.
	{"resources_table_multiselect", "resources", "table", "[].{Name:name, Group:resourceGroup, State:properties.provisioningState, Replicas:properties.replicas, HBI:properties.hbiWorkspace, Bytes:properties.storageBytes}"},
	{"resources_tsv_multiselect", "resources", "tsv", "[].{Name:name, Group:resourceGroup, State:properties.provisioningState, Replicas:properties.replicas, HBI:properties.hbiWorkspace, Bytes:properties.storageBytes}"},
	// Input objects under a query keep their own order in table, are sorted in tsv.
	{"resources_table_filter", "resources", "table", "[?location=='westus']"},
	{"resources_tsv_filter", "resources", "tsv", "[?location=='westus']"},
	{"resources_table_lists", "resources", "table", "[].[name, tags, zones, sku, properties.ratio]"},
	{"resources_tsv_lists", "resources", "tsv", "[].[name, tags, zones, sku, properties.ratio]"},
	{"resources_table_properties", "resources", "table", "[].properties"},
	{"resources_table_length", "resources", "table", "length(@)"},
	{"resources_table_empty", "resources", "table", "[?location=='nowhere']"},
	{"resources_tsv_empty", "resources", "tsv", "[?location=='nowhere']"},
	{"resources_json_empty", "resources", "json", "[?location=='nowhere']"},
	{"resources_tsv_bool", "resources", "tsv", "[0].enabled"},
	{"resources_table_bool", "resources", "table", "[].enabled"},
	{"resources_yaml_query", "resources", "yaml", "[].{name: name, tags: tags, created: createdAt}"},
	{"resources_jsonc_query", "resources", "jsonc", "[0].properties"},
	{"resources_json_null_query", "resources", "json", "[0].missing"},
	{"resources_table_null_query", "resources", "table", "[0].missing"},
	{"resources_none", "resources", "none", ""},

	{"tricky_json", "tricky", "json", ""},
	{"tricky_jsonc", "tricky", "jsonc", ""},
	{"tricky_yaml", "tricky", "yaml", ""},
	{"tricky_table", "tricky", "table", ""},
	{"tricky_tsv", "tricky", "tsv", ""},
	{"tricky_table_nested", "tricky", "table", "nested.list"},
	{"tricky_tsv_nested", "tricky", "tsv", "nested.list"},
	{"tricky_yaml_scalar", "tricky", "yaml", "long"},
	{"tricky_yaml_quoted_scalar", "tricky", "yaml", "\"number-like\""},
}

func readInput(t *testing.T, name string) json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return json.RawMessage(b)
}

func TestPrintGolden(t *testing.T) {
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join("testdata", "golden", c.name+".golden"))
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := Print(&b, readInput(t, c.input), Options{Format: c.format, Query: c.query, Color: true}); err != nil {
				t.Fatalf("Print: %v", err)
			}
			got := b.String()
			if c.format == "yaml" {
				// Our YAML is go-yaml's, not PyYAML's: it must read back as the same data
				// with the keys in the same order as knack's document.
				if diff := sameYAML(t, []byte(got), want); diff != "" {
					t.Errorf("-o yaml --query %q: %s\ngot:\n%s\nknack:\n%s", c.query, diff, got, want)
				}
				return
			}
			if got != string(want) {
				t.Errorf("-o %s --query %q\ngot:\n%s\nwant:\n%s\ngot  %q\nwant %q", c.format, c.query, got, want, got, want)
			}
		})
	}
}

// sameYAML compares two YAML documents node by node: the same kinds, mapping keys in the same
// order, scalars that decode to the same value. It returns "" or the first difference.
func sameYAML(t *testing.T, got, want []byte) string {
	t.Helper()
	var g, w yamlv3.Node
	if err := yamlv3.Unmarshal(got, &g); err != nil {
		return "ours is not YAML: " + err.Error()
	}
	if err := yamlv3.Unmarshal(want, &w); err != nil {
		t.Fatalf("golden is not YAML: %v", err)
	}
	return diffYAMLNode("$", &g, &w)
}

func diffYAMLNode(path string, g, w *yamlv3.Node) string {
	if g.Kind != w.Kind || len(g.Content) != len(w.Content) {
		return fmt.Sprintf("%s: kind %v with %d children, knack's %v with %d", path, g.Kind, len(g.Content), w.Kind, len(w.Content))
	}
	if g.Kind == yamlv3.ScalarNode {
		var gv, wv any
		if err := g.Decode(&gv); err != nil {
			return fmt.Sprintf("%s: %v", path, err)
		}
		if err := w.Decode(&wv); err != nil {
			return fmt.Sprintf("%s: knack's: %v", path, err)
		}
		if fmt.Sprintf("%T %v", gv, gv) != fmt.Sprintf("%T %v", wv, wv) {
			return fmt.Sprintf("%s: %T %q, knack's %T %q", path, gv, g.Value, wv, w.Value)
		}
		return ""
	}
	for i := range g.Content {
		sub := fmt.Sprintf("%s[%d]", path, i)
		if g.Kind == yamlv3.MappingNode && i%2 == 1 {
			sub = path + "." + g.Content[i-1].Value
		}
		if d := diffYAMLNode(sub, g.Content[i], w.Content[i]); d != "" {
			return d
		}
	}
	return ""
}

// The seed's example, spelled out: the dashes are the header's width plus tabulate's
// MIN_PADDING of 2 ("Result" is 6, the column 8), which also covers "1.16.13" (7).
func TestSeedExample(t *testing.T) {
	data := map[string]any{"orchestrators": []any{
		map[string]any{"orchestratorVersion": "1.16.13", "default": true, "isPreview": nil},
		map[string]any{"orchestratorVersion": "1.17.9", "default": nil, "isPreview": nil},
	}}
	var b bytes.Buffer
	err := Print(&b, data, Options{Format: "table", Query: "orchestrators[?default == `true`].orchestratorVersion"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "Result\n--------\n1.16.13\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

type workspaceRow struct {
	Name     string `json:"Name"`
	Location string `json:"Location"`
	Replicas int    `json:"Replicas"`
}

func TestPrintCases(t *testing.T) {
	type ws struct {
		Name       string            `json:"name"`
		Location   string            `json:"location"`
		Tags       map[string]string `json:"tags,omitempty"`
		Replicas   int               `json:"replicas"`
		ID         string            `json:"id"`
		Enabled    *bool             `json:"enabled"`
		BigCounter uint64            `json:"bigCounter"`
	}
	yes := true
	list := []ws{
		{Name: "b", Location: "westus", Tags: map[string]string{"a": "1"}, Replicas: 2, ID: "/x/b", Enabled: &yes, BigCounter: 18446744073709551615},
		{Name: "a", Location: "eastus", Replicas: 10, ID: "/x/a"},
	}
	toRows := func(v any) any {
		var rows []workspaceRow
		for _, item := range v.([]any) {
			m := item.(map[string]any)
			n, _ := m["replicas"].(json.Number).Int64()
			rows = append(rows, workspaceRow{Name: m["name"].(string), Location: m["location"].(string), Replicas: int(n)})
		}
		return rows
	}
	tests := []struct {
		name string
		v    any
		o    Options
		want string
	}{
		{"default format is json", map[string]any{"b": 1, "a": "<&>"}, Options{},
			"{\n  \"a\": \"<&>\",\n  \"b\": 1\n}\n"},
		{"format is case-insensitive", []int{}, Options{Format: "JSON"}, "[]\n"},
		{"null prints nothing", nil, Options{Format: "json"}, ""},
		{"null prints nothing in table", nil, Options{Format: "table"}, ""},
		{"null prints nothing in tsv", nil, Options{Format: "tsv"}, ""},
		{"null prints nothing in yaml", nil, Options{Format: "yaml"}, ""},
		{"empty list json", []string{}, Options{Format: "json"}, "[]\n"},
		{"empty list table is one empty line", []string{}, Options{Format: "table"}, "\n"},
		{"empty list tsv is nothing", []string{}, Options{Format: "tsv"}, ""},
		{"empty list yaml", []string{}, Options{Format: "yaml"}, "[]\n"},
		{"none prints nothing", list, Options{Format: "none"}, ""},
		{"jsonc without color is json", map[string]any{"k": true}, Options{Format: "jsonc"},
			"{\n  \"k\": true\n}\n"},
		{"jsonc colors", map[string]any{"k": []any{1, "s", nil}}, Options{Format: "jsonc", Color: true},
			"{\x1b[37m\x1b[39;49;00m\n\x1b[37m  \x1b[39;49;00m\x1b[94m\"k\"\x1b[39;49;00m:\x1b[37m \x1b[39;49;00m[\x1b[37m\x1b[39;49;00m\n" +
				"\x1b[37m    \x1b[39;49;00m\x1b[34m1\x1b[39;49;00m,\x1b[37m\x1b[39;49;00m\n" +
				"\x1b[37m    \x1b[39;49;00m\x1b[33m\"s\"\x1b[39;49;00m,\x1b[37m\x1b[39;49;00m\n" +
				"\x1b[37m    \x1b[39;49;00m\x1b[34mnull\x1b[39;49;00m\x1b[37m\x1b[39;49;00m\n" +
				"\x1b[37m  \x1b[39;49;00m]\x1b[37m\x1b[39;49;00m\n}\x1b[37m\x1b[39;49;00m\n"},
		{"struct fields sorted in json, big uint kept", list[0], Options{},
			"{\n  \"bigCounter\": 18446744073709551615,\n  \"enabled\": true,\n  \"id\": \"/x/b\",\n  \"location\": \"westus\",\n  \"name\": \"b\",\n  \"replicas\": 2,\n  \"tags\": {\n    \"a\": \"1\"\n  }\n}\n"},
		{"table without query sorts columns and skips id, nulls and nested", list, Options{Format: "table"},
			"BigCounter            Enabled    Location    Name    Replicas\n" +
				"--------------------  ---------  ----------  ------  ----------\n" +
				"18446744073709551615  True       westus      b       2\n" +
				"0                                eastus      a       10\n"},
		{"table with query keeps struct order", list, Options{Format: "table", Query: "[]"},
			"Name    Location    Replicas    Enabled    BigCounter\n" +
				"------  ----------  ----------  ---------  --------------------\n" +
				"b       westus      2           True       18446744073709551615\n" +
				"a       eastus      10                     0\n"},
		{"table transformer rows keep struct field order", list, Options{Format: "table", Table: toRows},
			"Name    Location    Replicas\n------  ----------  ----------\nb       westus      2\na       eastus      10\n"},
		{"table transformer not used with a query", list, Options{Format: "table", Table: toRows, Query: "[].{n: name}"},
			"N\n---\nb\na\n"},
		{"table transformer not used for json", []int{1}, Options{Format: "json", Table: toRows}, "[\n  1\n]\n"},
		{"table transformer returning nil", list, Options{Format: "table", Table: func(any) any { return nil }},
			"Result\n--------\n\n"},
		{"table of a scalar", "hello", Options{Format: "table"}, "Result\n--------\nhello\n"},
		{"table of mixed rows unions columns in first-seen order", []any{map[string]any{"b": 1, "d": 2}, map[string]any{"a": 3, "b": 4}, "x"},
			Options{Format: "table"},
			"B    D    A    Result\n---  ---  ---  --------\n1    2\n4         3\n               x\n"},
		{"tsv scalar bool is lower-case", true, Options{Format: "tsv"}, "true\n"},
		{"tsv nested bool and null", []any{map[string]any{"b": true, "a": nil, "c": []int{1, 2}, "d": map[string]any{}}}, Options{Format: "tsv"},
			"None\tTrue\t2\t\n"},
		{"tsv multiselect order", list, Options{Format: "tsv", Query: "[].{z: name, a: replicas}"}, "b\t2\na\t10\n"},
		{"query comparisons on numbers", list, Options{Format: "tsv", Query: "[?replicas > `5`].name"}, "a\n"},
		{"query keeps ints beyond 2^53 exact", list, Options{Format: "json", Query: "[0].bigCounter"}, "18446744073709551615\n"},
		{"query result of a function is an int", list, Options{Format: "json", Query: "sum([].replicas)"}, "12\n"},
		{"query float", map[string]any{"x": []float64{1, 2}}, Options{Format: "json", Query: "avg(x)"}, "1.5\n"},
		{"python float repr", []float64{0.00001, 1e16, 1e21, 123456789.25, 0.1}, Options{Format: "json"},
			"[\n  1e-05,\n  10000000000000000,\n  1e+21,\n  123456789.25,\n  0.1\n]\n"},
		{"yaml", map[string]any{"b": []any{"x", map[string]any{"k": "123"}}, "a": 1e21, "c": "multi\nline", "d": "on", "e": "1_000"}, Options{Format: "yaml"},
			"a: 1.0e+21\nb:\n- x\n- k: \"123\"\nc: |-\n  multi\n  line\nd: \"on\"\ne: \"1_000\"\n"},
		{"yaml top-level scalar", "abc", Options{Format: "yaml"}, "abc\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Print(&b, tc.v, tc.o); err != nil {
				t.Fatalf("Print: %v", err)
			}
			if b.String() != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s\ngot  %q\nwant %q", b.String(), tc.want, b.String(), tc.want)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	t.Run("invalid query", func(t *testing.T) {
		for expr, msg := range map[string]string{
			"[?":                `argument --query: invalid jmespath_type value: '[?'`,
			"[?name=='x'":       `argument --query: invalid jmespath_type value: "[?name=='x'"`,
			"foo.[bar":          `argument --query: invalid jmespath_type value: 'foo.[bar'`,
			`a."b` + "\n" + `"`: `argument --query: invalid jmespath_type value: 'a."b\n"'`,
		} {
			err := Print(&bytes.Buffer{}, map[string]any{}, Options{Query: expr})
			var qe *QueryError
			if !errors.As(err, &qe) || qe.Query != expr {
				t.Fatalf("Print(query %q) = %v, want a *QueryError", expr, err)
			}
			if err.Error() != msg {
				t.Errorf("message %q, want %q", err.Error(), msg)
			}
			if err := ValidQuery(expr); err == nil || err.Error() != msg {
				t.Errorf("ValidQuery(%q) = %v", expr, err)
			}
		}
		if err := ValidQuery(""); err != nil {
			t.Errorf("ValidQuery(\"\") = %v", err)
		}
		if err := ValidQuery("[].{a: b}"); err != nil {
			t.Errorf("ValidQuery = %v", err)
		}
	})
	t.Run("runtime query errors are not QueryErrors", func(t *testing.T) {
		for _, expr := range []string{"length(`1`)", "merge(missing, missing)"} {
			err := Print(&bytes.Buffer{}, map[string]any{"a": 1}, Options{Query: expr})
			var qe *QueryError
			if err == nil || errors.As(err, &qe) {
				t.Errorf("query %q: got %v, want a plain error", expr, err)
			}
		}
	})
	t.Run("formats", func(t *testing.T) {
		for _, f := range []string{"json", "jsonc", "yaml", "table", "tsv", "none", "TSV"} {
			if err := ValidFormat(f); err != nil {
				t.Errorf("ValidFormat(%q) = %v", f, err)
			}
		}
		err := ValidFormat("xml")
		want := "'xml' is not a valid value for '--output'. Allowed values: json, jsonc, none, table, tsv, yaml."
		if err == nil || err.Error() != want {
			t.Errorf("ValidFormat(xml) = %v, want %q", err, want)
		}
		if err := Print(&bytes.Buffer{}, 1, Options{Format: "xml"}); err == nil || err.Error() != want {
			t.Errorf("Print(-o xml) = %v", err)
		}
	})
	t.Run("failing table transformer", func(t *testing.T) {
		boom := func(v any) any { return v.(map[string]any)["x"] }
		err := Print(&bytes.Buffer{}, []int{1}, Options{Format: "table", Table: boom})
		if !errors.Is(err, ErrTableUnavailable) {
			t.Errorf("got %v, want ErrTableUnavailable", err)
		}
		if got := Formats(); strings.Join(got, ",") != "json,jsonc,none,table,tsv,yaml" {
			t.Errorf("Formats() = %v", got)
		}
	})
	t.Run("unmarshalable value", func(t *testing.T) {
		if err := Print(&bytes.Buffer{}, func() {}, Options{}); err == nil {
			t.Error("want an error")
		}
	})
}

// YAML output must read back as the same data (checked with sigs.k8s.io/yaml).
func TestYAMLRoundTrip(t *testing.T) {
	for _, input := range []string{"orchestrators", "resources", "tricky"} {
		t.Run(input, func(t *testing.T) {
			raw := readInput(t, input)
			var b bytes.Buffer
			if err := Print(&b, raw, Options{Format: "yaml"}); err != nil {
				t.Fatal(err)
			}
			j, err := yaml.YAMLToJSON(b.Bytes())
			if err != nil {
				t.Fatalf("output is not YAML: %v\n%s", err, b.String())
			}
			var got, want any
			if err := json.Unmarshal(j, &got); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			// Both sides decode numbers as float64 (go-yaml reads integers beyond 64 bits
			// as floats anyway).
			gotJ, _ := json.Marshal(got)
			wantJ, _ := json.Marshal(want)
			if string(gotJ) != string(wantJ) {
				t.Errorf("round trip differs:\ngot  %s\nwant %s", gotJ, wantJ)
			}
		})
	}
}

func TestMultiselectKeys(t *testing.T) {
	got := multiselectKeys("[?a == `{\"x\": 1}`].{b: f(c, d), \"e f\": g.{h: i, j: 'k,l'}, m: [n, o]} | {p: q}")
	want := [][]string{{"h", "j"}, {"b", "e f", "m"}, {"p"}}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range want {
		if strings.Join(got[i], ",") != strings.Join(want[i], ",") {
			t.Errorf("hash %d: got %q, want %q", i, got[i], want[i])
		}
	}
}

// TestTSVExtensions: tsv leaves Options.Extensions out of the result's objects, so that the
// columns are az's, but not out of an object the query's multiselect hash built.
func TestTSVExtensions(t *testing.T) {
	in := json.RawMessage(`[{"b": "2", "mlfleet": {"provider": "embedded"}, "a": null, "c": [1, 2]}]`)
	cases := []struct {
		name, query, want string
	}{
		{"objects of the result", "", "None\t2\t2\n"},
		{"under a query", "[0]", "None\t2\t2\n"},
		{"a multiselect hash", "[].{a: a, mlfleet: mlfleet.provider}", "None\tembedded\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Print(&b, in, Options{Format: "tsv", Query: c.query, Extensions: []string{"mlfleet"}}); err != nil {
				t.Fatal(err)
			}
			if b.String() != c.want {
				t.Errorf("got %q, want %q", b.String(), c.want)
			}
		})
	}
}
