package resources

import (
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// Filter is a parsed $filter of a generic resource list (GET …/resources): the clauses
// az resource list and the SDKs send, joined by "and". Zero fields do not filter.
type Filter struct {
	// ResourceType is "resourceType eq '…'" (namespace/type, case-insensitive).
	ResourceType string
	// ResourceGroup is "resourceGroup eq '…'".
	ResourceGroup string
	// Name is "name eq '…'"; NameContains is "substringof('…', name)".
	Name         string
	NameContains string
	// Location is "location eq '…'".
	Location string
	// TagName is "tagName eq '…'" (TagPrefix: "startswith(tagName, '…')"); TagValue,
	// "tagValue eq '…'", needs one of them.
	TagName   string
	TagPrefix string
	TagValue  string
}

// ParseFilter parses a $filter; "" is the empty filter. Anything else than the clauses of
// Filter is a 400 that names what is supported.
func ParseFilter(s string) (Filter, error) {
	var f Filter
	if strings.TrimSpace(s) == "" {
		return f, nil
	}
	clauses, err := splitAnd(s)
	if err != nil {
		return f, err
	}
	for _, c := range clauses {
		if err := f.add(c); err != nil {
			return f, err
		}
	}
	if f.TagValue != "" && f.TagName == "" && f.TagPrefix == "" {
		return f, invalidFilter(s, "tagValue needs a tagName clause")
	}
	return f, nil
}

func (f *Filter) add(clause string) error {
	c := strings.TrimSpace(clause)
	lower := strings.ToLower(c)
	if fn, ok := strings.CutPrefix(lower, "substringof("); ok && strings.HasSuffix(fn, ")") {
		// substringof('value', name)
		value, rest, err := quoted(c[len("substringof("):])
		if err != nil {
			return invalidFilter(clause, err.Error())
		}
		if field := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(rest), ","), ")")); !strings.EqualFold(field, "name") {
			return invalidFilter(clause, "substringof works on name only")
		}
		f.NameContains = value
		return nil
	}
	if fn, ok := strings.CutPrefix(lower, "startswith("); ok && strings.HasSuffix(fn, ")") {
		// startswith(tagName, 'value')
		field, rest, ok := strings.Cut(c[len("startswith("):], ",")
		if !ok || !strings.EqualFold(strings.TrimSpace(field), "tagName") {
			return invalidFilter(clause, "startswith works on tagName only")
		}
		value, tail, err := quoted(rest)
		if err != nil || strings.TrimSpace(tail) != ")" {
			return invalidFilter(clause, "expected startswith(tagName, 'prefix')")
		}
		f.TagPrefix = value
		return nil
	}
	field, rest, ok := strings.Cut(c, " ")
	rest = strings.TrimSpace(rest)
	op, rest, _ := strings.Cut(rest, " ")
	if !ok || !strings.EqualFold(op, "eq") {
		return invalidFilter(clause, "expected FIELD eq 'value'")
	}
	value, tail, err := quoted(rest)
	if err != nil || strings.TrimSpace(tail) != "" {
		return invalidFilter(clause, "expected FIELD eq 'value'")
	}
	fields := map[string]*string{
		"resourcetype":  &f.ResourceType,
		"resourcegroup": &f.ResourceGroup,
		"name":          &f.Name,
		"location":      &f.Location,
		"tagname":       &f.TagName,
		"tagvalue":      &f.TagValue,
	}
	into, ok := fields[strings.ToLower(field)]
	if !ok {
		return invalidFilter(clause, "'"+field+"' cannot be filtered on")
	}
	*into = value
	return nil
}

// Matches reports whether r passes the clauses that are not resource type or group (the
// store selects by those).
func (f Filter) Matches(r *armapi.GenericResource) bool {
	if f.Name != "" && !strings.EqualFold(r.Name, f.Name) {
		return false
	}
	if f.NameContains != "" && !strings.Contains(strings.ToLower(r.Name), strings.ToLower(f.NameContains)) {
		return false
	}
	if f.Location != "" {
		want, _ := arm.NormalizeLocation(f.Location)
		if have, _ := arm.NormalizeLocation(r.Location); want == "" || !strings.EqualFold(have, want) {
			return false
		}
	}
	if f.TagName == "" && f.TagPrefix == "" {
		return true
	}
	for k, v := range r.Tags {
		nameOK := f.TagName != "" && strings.EqualFold(k, f.TagName) ||
			f.TagPrefix != "" && strings.HasPrefix(strings.ToLower(k), strings.ToLower(f.TagPrefix))
		if nameOK && (f.TagValue == "" || v == f.TagValue) {
			return true
		}
	}
	return false
}

// splitAnd splits s at the "and"s that are outside quotes.
func splitAnd(s string) ([]string, error) {
	var out []string
	start, inQuote := 0, false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\'':
			inQuote = !inQuote // '' inside a value toggles twice
		case !inQuote && i+5 <= len(s) && strings.EqualFold(s[i:i+5], " and "):
			out = append(out, s[start:i])
			start = i + 5
			i += 4
		}
	}
	if inQuote {
		return nil, invalidFilter(s, "a quote is not closed")
	}
	return append(out, s[start:]), nil
}

// quoted reads a single-quoted OData string at the start of s (a doubled quote stands for
// one) and returns it and what follows.
func quoted(s string) (value, rest string, err error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "'") {
		return "", "", errString("expected a quoted value")
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] != '\'' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '\'' {
			b.WriteByte('\'')
			i++
			continue
		}
		return b.String(), s[i+1:], nil
	}
	return "", "", errString("a quote is not closed")
}

type errString string

func (e errString) Error() string { return string(e) }

func invalidFilter(clause, why string) error {
	return arm.BadRequest("InvalidFilterInQueryString",
		"The $filter '%s' is not supported: %s. Use clauses joined by 'and': resourceType eq '…', resourceGroup eq '…', name eq '…', location eq '…', substringof('…', name), tagName eq '…' (or startswith(tagName, '…')) with tagValue eq '…'.",
		strings.TrimSpace(clause), why).WithTarget("$filter")
}
