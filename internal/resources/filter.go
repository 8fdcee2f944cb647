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

// The clauses each list accepts, as its 400 names them.
const (
	resourceFilterHelp = "resourceType eq '…', resourceGroup eq '…', name eq '…', location eq '…', substringof('…', name), tagName eq '…' (or startswith(tagName, '…')) with tagValue eq '…'"
	groupFilterHelp    = "tagName eq '…', alone or with tagValue eq '…'"
)

// ParseFilter parses a $filter; "" is the empty filter. Anything else than the clauses of
// Filter is a 400 that names what is supported.
func ParseFilter(s string) (Filter, error) {
	f, err := parseFilter(s, func(Filter) string { return "" })
	if err != nil {
		return f, err.armError(resourceFilterHelp)
	}
	return f, nil
}

// ParseGroupFilter parses the $filter of a resource group list. ARM filters groups by tag
// only: "tagName eq '…'", alone or with "and tagValue eq '…'" (what az group list --tag
// sends). Any other clause is a 400 that names what is supported.
func ParseGroupFilter(s string) (Filter, error) {
	f, err := parseFilter(s, func(c Filter) string {
		if c != (Filter{TagName: c.TagName, TagValue: c.TagValue}) {
			return "resource groups are filtered by tagName and tagValue only"
		}
		return ""
	})
	if err != nil {
		return f, err.armError(groupFilterHelp)
	}
	return f, nil
}

// parseFilter parses s clause by clause; refuse says why the list does not take a clause
// (given as the Filter it alone parses to), "" when it does.
func parseFilter(s string, refuse func(Filter) string) (Filter, *filterError) {
	var f Filter
	if strings.TrimSpace(s) == "" {
		return f, nil
	}
	clauses, err := splitAnd(s)
	if err != nil {
		return f, err
	}
	for _, c := range clauses {
		var one Filter
		if err := one.add(c); err != nil {
			return f, err
		}
		if why := refuse(one); why != "" {
			return f, &filterError{clause: c, why: why}
		}
		if err := f.add(c); err != nil {
			return f, err
		}
	}
	if f.TagValue != "" && f.TagName == "" && f.TagPrefix == "" {
		return f, &filterError{clause: s, why: "tagValue needs a tagName clause"}
	}
	return f, nil
}

func (f *Filter) add(clause string) *filterError {
	c := strings.TrimSpace(clause)
	lower := strings.ToLower(c)
	if fn, ok := strings.CutPrefix(lower, "substringof("); ok && strings.HasSuffix(fn, ")") {
		// substringof('value', name)
		value, rest, err := quoted(c[len("substringof("):])
		if err != nil {
			return &filterError{clause: clause, why: err.Error()}
		}
		if field := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(rest), ","), ")")); !strings.EqualFold(field, "name") {
			return &filterError{clause: clause, why: "substringof works on name only"}
		}
		f.NameContains = value
		return nil
	}
	if fn, ok := strings.CutPrefix(lower, "startswith("); ok && strings.HasSuffix(fn, ")") {
		// startswith(tagName, 'value')
		field, rest, ok := strings.Cut(c[len("startswith("):], ",")
		if !ok || !strings.EqualFold(strings.TrimSpace(field), "tagName") {
			return &filterError{clause: clause, why: "startswith works on tagName only"}
		}
		value, tail, err := quoted(rest)
		if err != nil || strings.TrimSpace(tail) != ")" {
			return &filterError{clause: clause, why: "expected startswith(tagName, 'prefix')"}
		}
		f.TagPrefix = value
		return nil
	}
	field, rest, ok := strings.Cut(c, " ")
	rest = strings.TrimSpace(rest)
	op, rest, _ := strings.Cut(rest, " ")
	if !ok || !strings.EqualFold(op, "eq") {
		return &filterError{clause: clause, why: "expected FIELD eq 'value'"}
	}
	value, tail, err := quoted(rest)
	if err != nil || strings.TrimSpace(tail) != "" {
		return &filterError{clause: clause, why: "expected FIELD eq 'value'"}
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
		return &filterError{clause: clause, why: "'" + field + "' cannot be filtered on"}
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
	return f.MatchesTags(r.Tags)
}

// MatchesTags reports whether tags pass the tag clauses: a tag whose name is TagName (any
// case) or starts with TagPrefix and, when TagValue is set, whose value is TagValue.
func (f Filter) MatchesTags(tags map[string]string) bool {
	if f.TagName == "" && f.TagPrefix == "" {
		return true
	}
	for k, v := range tags {
		nameOK := f.TagName != "" && strings.EqualFold(k, f.TagName) ||
			f.TagPrefix != "" && strings.HasPrefix(strings.ToLower(k), strings.ToLower(f.TagPrefix))
		if nameOK && (f.TagValue == "" || v == f.TagValue) {
			return true
		}
	}
	return false
}

// splitAnd splits s at the "and"s that are outside quotes.
func splitAnd(s string) ([]string, *filterError) {
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
		return nil, &filterError{clause: s, why: "a quote is not closed"}
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

// filterError is a $filter clause a list does not take, and why.
type filterError struct {
	clause, why string
}

// armError is the 400 InvalidFilterInQueryString (ARM's code) that says what is wrong and
// names the clauses the list takes (help).
func (e *filterError) armError(help string) error {
	return arm.BadRequest("InvalidFilterInQueryString",
		"The $filter '%s' is not supported: %s. Use clauses joined by 'and': %s.",
		strings.TrimSpace(e.clause), e.why, help).WithTarget("$filter")
}
