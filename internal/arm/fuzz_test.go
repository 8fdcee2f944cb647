package arm_test

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mlfleet/mlfleet/internal/arm"
)

// FuzzParseID: any string either parses or is refused with an error, never a panic; an id
// that parses is canonical after one String (it parses back to the same ID, whose String is
// the same text), and its parent, when it has one, parses too.
func FuzzParseID(f *testing.F) {
	for _, s := range []string{
		"",
		"/",
		"/subscriptions/" + testSub,
		"/SUBSCRIPTIONS/" + testSub + "/resourcegroups/My-RG",
		"/subscriptions/" + testSub + "/resourceGroups/rg/providers/" + mlNS + "/workspaces/ws/computes/aks",
		"/subscriptions/" + testSub + "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/mc",
		"//subscriptions//x",
		"/subscriptions/x/resourceGroups/rg/providers/ns//t/n",
		"/subscriptions/x/resourceGroups/rg/providers/ns/t",
		"/subscriptions/%2F/resourceGroups/..",
		"/subscriptions/ü/resourceGroups/\x00/providers/\xff/t/n",
		"subscriptions/x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := arm.ParseID(s)
		if err != nil {
			if !strings.Contains(err.Error(), "resource id") {
				t.Errorf("ParseID(%q) error %q does not say what it refused", s, err)
			}
			return
		}
		if id.SubscriptionID == "" || len(id.Types) != len(id.Names) {
			t.Fatalf("ParseID(%q) = %+v: no subscription, or types and names unpaired", s, id)
		}
		canonical := id.String()
		again, err := arm.ParseID(canonical)
		if err != nil {
			t.Fatalf("ParseID(%q).String() = %q, which does not parse: %v", s, canonical, err)
		}
		if !reflect.DeepEqual(again, id) {
			t.Fatalf("ParseID(%q) = %+v, but its String %q parses to %+v", s, id, canonical, again)
		}
		if again.String() != canonical {
			t.Fatalf("String is not stable: %q, then %q", canonical, again.String())
		}
		_, _ = id.Type(), id.Name()
		if parent := id.Parent(); parent != "" {
			if _, err := arm.ParseID(parent); err != nil {
				t.Fatalf("the parent %q of %q does not parse: %v", parent, canonical, err)
			}
		}
	})
}

// FuzzCheckTags: tags of any names, values and number are accepted or refused with a 400
// that has a code and a message, never a panic; what is accepted keeps ARM's limits.
func FuzzCheckTags(f *testing.F) {
	f.Add("env", "prod", uint8(1))
	f.Add("", "", uint8(1))
	f.Add("a/b", "v", uint8(1))
	f.Add("tag", strings.Repeat("v", arm.MaxTagValueLength+1), uint8(1))
	f.Add(strings.Repeat("n", arm.MaxTagNameLength+1), "v", uint8(1))
	f.Add("ü\x00\xff", "\xff\xfe", uint8(2))
	f.Add("t", "v", uint8(arm.MaxTags+1))
	f.Fuzz(func(t *testing.T, name, value string, n uint8) {
		tags := map[string]string{}
		for i := range int(n) {
			k := name
			if i > 0 {
				k = name + strings.Repeat("x", i)
			}
			tags[k] = value
		}
		err := arm.CheckTags(tags)
		if err == nil {
			if len(tags) > arm.MaxTags {
				t.Fatalf("%d tags accepted", len(tags))
			}
			for k, v := range tags {
				if k == "" || utf8.RuneCountInString(k) > arm.MaxTagNameLength || utf8.RuneCountInString(v) > arm.MaxTagValueLength ||
					strings.ContainsAny(k, `<>%&\?/`) {
					t.Fatalf("tag %q=%q accepted", k, v)
				}
			}
			return
		}
		var ae *arm.Error
		if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || ae.Code == "" || ae.Message == "" {
			t.Fatalf("CheckTags refused with %#v, want a 400 with a code and a message", err)
		}
	})
}

// FuzzNormalizeLocation: a name NormalizeLocation accepts is a region, and its canonical
// name is accepted as itself.
func FuzzNormalizeLocation(f *testing.F) {
	for _, s := range []string{"westus", "West US", " EAST us 2 ", "", "nowhere", "west\x00us", "ＷｅｓｔＵＳ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, ok := arm.NormalizeLocation(s)
		if !ok {
			if name != "" {
				t.Fatalf("NormalizeLocation(%q) = %q, false", s, name)
			}
			return
		}
		if again, ok := arm.NormalizeLocation(name); !ok || again != name {
			t.Fatalf("NormalizeLocation(%q) = %q, which normalizes to %q, %v", s, name, again, ok)
		}
	})
}
