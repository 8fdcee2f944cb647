package quota

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// FuzzParse feeds Parse arbitrary quota files: a bad one is an error that says what the file
// should hold or names the entry that is wrong, never a panic, and a good one gives limits
// that are never negative.
// Run with: go test -run='^$' -fuzz='^FuzzParse$' -fuzztime=60s ./internal/quota
func FuzzParse(f *testing.F) {
	b, err := os.ReadFile("testdata/quotas.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	for _, s := range []string{``, `{}`, `null`, `[]`, `{"default":`, `{"default":{"cores":-1}}`, `{"default":{"cores":1e99}}`,
		`{"default":{"cores":9223372036854775807}}`, `{"subscriptions":{"":{}}}`, `{"subscriptions":{"A":{},"a":{}}}`,
		`{"subscriptions":{"s1":{"locations":{"West US":{"cores":1},"westus":{"cores":2}}}}}`, `{} {}`, `{"x":1}`,
		`{"subscriptions":{"s1":null}}`, `{"subscriptions":{"s1":{"locations":{"westus":null}}}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		q, err := Parse(b, families)
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("Parse(%q): empty error", b)
			}
			return
		}
		// Look the limits up for every subscription and location the file names.
		var raw struct {
			Subscriptions map[string]struct {
				Locations map[string]json.RawMessage `json:"locations"`
			} `json:"subscriptions"`
		}
		_ = json.Unmarshal(b, &raw)
		check := func(sub, loc string) {
			for name, n := range q.For(sub, loc) {
				if n < 0 {
					t.Fatalf("For(%q, %q)[%s] = %d, negative", sub, loc, name, n)
				}
			}
		}
		check(sub, "westus")
		for s, sf := range raw.Subscriptions {
			check(strings.ToUpper(s), "westus")
			for loc := range sf.Locations {
				check(s, loc)
			}
		}
	})
}
