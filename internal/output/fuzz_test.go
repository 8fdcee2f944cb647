package output

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	yamlv3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/yaml"
)

// The fuzz targets feed Print arbitrary --query expressions and JSON documents. Bad input
// never panics: an invalid query is a *QueryError, a query that fails on the data a plain
// error. Every format prints every document, and the json and yaml output read back as the
// data they print (the yaml under YAML 1.1 and 1.2 alike).
// Run one with: go test -run='^$' -fuzz='^FuzzPrint$' -fuzztime=60s ./internal/output

// seedDocuments adds the golden inputs, which cover the odd strings and numbers.
func seedDocuments(f *testing.F) []string {
	docs := []string{`null`, `true`, `1`, `-0`, `1e400`, `18446744073709551616`, `0.1`, `""`, `"yes"`, `[]`, `{}`,
		`[{"a": 1, "b": [1, 2], "c": {"d": null}}, "x", [true, false]]`,
		`{"b": 1, "a": 2, "b": 3}`, `{"k": "\u0000\u001b[31m\r\n\u2028"}`, `{"<<": "=", "~": "0o17"}`,
		// Strings go-yaml v2 (sigs.k8s.io/yaml) reads as other types when written plain.
		`["y", "N", "0o17", "0X1F", "1_0e5", ".5e3", "2001-1-2", "99999999999999999999", "-0b1_0"]`}
	for _, name := range []string{"orchestrators", "resources", "tricky"} {
		b, err := os.ReadFile(filepath.Join("testdata", name+".json"))
		if err != nil {
			f.Fatal(err)
		}
		docs = append(docs, string(b))
	}
	return docs
}

func FuzzQuery(f *testing.F) {
	queries := []string{"@", "[]", "[0]", "length(@)", "[?a > `0`].a", "[].{z: a, a: b}", "{a: a, b: b} | [a, b]",
		"sort_by(@, &a)", "merge(@, @)", "sum([].a)", "avg(x)", "max_by(@, &a)", "to_number('1e400')", "*.b[]", "[::-1]",
		"[?", "foo.[bar", "`{\"x\": 1}`", "'lit'", "not_null(a, b)", "join(',', @)", "[0:1000000000:100000000]"}
	docs := seedDocuments(f)
	for i, q := range queries {
		f.Add(q, docs[i%len(docs)])
	}
	f.Fuzz(func(t *testing.T, query, doc string) {
		if !json.Valid([]byte(doc)) {
			return
		}
		valid := ValidQuery(query)
		var qe *QueryError
		if valid != nil && !errors.As(valid, &qe) {
			t.Fatalf("ValidQuery(%q) = %v, want a *QueryError", query, valid)
		}
		for _, format := range formats {
			err := Print(&bytes.Buffer{}, json.RawMessage(doc), Options{Format: format, Query: query, Color: true})
			if valid != nil && !errors.As(err, &qe) {
				t.Fatalf("-o %s --query %q: got %v, want the *QueryError of ValidQuery", format, query, err)
			}
			if valid == nil && query != "" && errors.As(err, &qe) {
				t.Fatalf("-o %s --query %q: *QueryError %v for a query ValidQuery accepts", format, query, err)
			}
		}
	})
}

func FuzzPrint(f *testing.F) {
	for _, d := range seedDocuments(f) {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		var want any
		if json.Unmarshal([]byte(doc), &want) != nil {
			return // not JSON, or a number beyond float64, which no reader below can compare
		}
		out := map[string]string{}
		for _, format := range formats {
			var b bytes.Buffer
			if err := Print(&b, json.RawMessage(doc), Options{Format: format, Color: true}); err != nil {
				t.Fatalf("-o %s of %q: %v", format, doc, err)
			}
			out[format] = b.String()
		}
		if want == nil {
			for format, s := range out {
				if s != "" {
					t.Fatalf("-o %s of null printed %q, want nothing", format, s)
				}
			}
			return
		}
		sameData(t, "json", doc, []byte(out["json"]), want)
		j, err := yaml.YAMLToJSON([]byte(out["yaml"]))
		if err != nil {
			t.Fatalf("-o yaml of %q is not YAML: %v\n%s", doc, err, out["yaml"])
		}
		sameData(t, "yaml", doc, j, want)
		// And under YAML 1.2, with go-yaml v3.
		var v3 any
		if err := yamlv3.Unmarshal([]byte(out["yaml"]), &v3); err != nil {
			t.Fatalf("-o yaml of %q is not YAML 1.2: %v\n%s", doc, err, out["yaml"])
		}
		j, err = json.Marshal(v3)
		if err != nil {
			t.Fatalf("-o yaml of %q reads back (go-yaml v3) as %#v, which is not JSON data: %v", doc, v3, err)
		}
		sameData(t, "yaml (go-yaml v3)", doc, j, want)
	})
}

// sameData fails unless the JSON got decodes to want. Both sides decode numbers as float64.
func sameData(t *testing.T, format, doc string, got []byte, want any) {
	t.Helper()
	var g any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("-o %s of %q does not read back: %v\n%s", format, doc, err, got)
	}
	// DeepEqual compares numbers with ==, so -0 (which Python prints as 0) equals 0.
	if !reflect.DeepEqual(g, want) {
		t.Fatalf("-o %s of %q reads back as other data:\ngot  %#v\nwant %#v", format, doc, g, want)
	}
}
