package activity

import (
	"fmt"
	"strings"
	"time"

	"github.com/mlfleet/mlfleet/internal/arm"
)

// Query is what a list of the activity log asks for, read from its $filter.
type Query struct {
	// From and To bound eventTimestamp, both included.
	From, To time.Time
	// The other fields keep events with that value (case-insensitive); "" keeps all.
	ResourceGroup, ResourceID, ResourceProvider, CorrelationID, Caller, Status string
}

// filterHelp says what a $filter may hold, for the 400 answers.
const filterHelp = "a $filter is conditions joined by 'and': eventTimestamp ge '<time>', eventTimestamp le '<time>', " +
	"and at most one each of resourceGroupName, resourceUri (or resourceId), resourceProvider, correlationId, caller and status eq '<value>', " +
	"e.g. eventTimestamp ge '2026-11-29T00:00:00Z' and eventTimestamp le '2026-11-30T00:00:00Z' and resourceGroupName eq 'rg1'"

// ParseFilter reads an activity log $filter as ARM (and az monitor activity-log list)
// writes it. Values may be single-quoted, a quote inside doubled, or not (az sends times unquoted); times are ISO
// 8601, UTC when they carry no offset. A missing lower time bound means now-maxAge, a
// missing upper one now. Anything else is a 400 InvalidFilter saying what is wrong.
func ParseFilter(filter string, now time.Time, maxAge time.Duration) (Query, error) {
	q := Query{}
	toks, err := tokenize(filter)
	if err != nil {
		return q, filterError(filter, err.Error())
	}
	seen := map[string]bool{}
	for i := 0; i < len(toks); {
		if i > 0 {
			if toks[i].quoted || !strings.EqualFold(toks[i].text, "and") {
				return q, filterError(filter, fmt.Sprintf("expected 'and' before '%s'", toks[i].text))
			}
			i++
		}
		if len(toks)-i < 3 {
			return q, filterError(filter, fmt.Sprintf("the condition starting at '%s' is incomplete: want <field> <operator> <value>", toks[min(i, len(toks)-1)].text))
		}
		field, op, value := toks[i], strings.ToLower(toks[i+1].text), toks[i+2].text
		i += 3
		name := strings.ToLower(field.text)
		if name == "eventtimestamp" {
			t, err := parseTime(value)
			if err != nil {
				return q, filterError(filter, err.Error())
			}
			switch op {
			case "ge", "gt":
				if !q.From.IsZero() {
					return q, filterError(filter, "eventTimestamp has two lower bounds")
				}
				q.From = t
				if op == "gt" {
					q.From = t.Add(time.Millisecond)
				}
			case "le", "lt":
				if !q.To.IsZero() {
					return q, filterError(filter, "eventTimestamp has two upper bounds")
				}
				q.To = t
				if op == "lt" {
					q.To = t.Add(-time.Millisecond)
				}
			default:
				return q, filterError(filter, fmt.Sprintf("eventTimestamp takes ge or le, not '%s'", op))
			}
			continue
		}
		var dst *string
		switch name {
		case "resourcegroupname":
			dst = &q.ResourceGroup
		case "resourceuri", "resourceid":
			dst, name = &q.ResourceID, "resourceuri"
		case "resourceprovider":
			dst = &q.ResourceProvider
		case "correlationid":
			dst = &q.CorrelationID
		case "caller":
			dst = &q.Caller
		case "status":
			dst = &q.Status
		case "eventchannels", "levels":
			// Sent by some clients (the portal, PowerShell); every event here is of the
			// Administrative channel, and the level follows the status.
			if op != "eq" {
				return q, filterError(filter, fmt.Sprintf("%s takes eq, not '%s'", field.text, op))
			}
			continue
		default:
			return q, filterError(filter, fmt.Sprintf("'%s' is not a field that can be filtered on", field.text))
		}
		if op != "eq" {
			return q, filterError(filter, fmt.Sprintf("%s takes eq, not '%s'", field.text, op))
		}
		if seen[name] {
			return q, filterError(filter, fmt.Sprintf("%s appears twice", field.text))
		}
		if value == "" {
			return q, filterError(filter, fmt.Sprintf("%s is compared with an empty value", field.text))
		}
		seen[name] = true
		*dst = value
	}
	if q.To.IsZero() {
		q.To = now
	}
	if q.From.IsZero() {
		q.From = now.Add(-maxAge)
	}
	if q.From.After(q.To) {
		return q, filterError(filter, fmt.Sprintf("the time range starts (%s) after it ends (%s)", q.From.Format(time.RFC3339Nano), q.To.Format(time.RFC3339Nano)))
	}
	return q, nil
}

func filterError(filter, problem string) *arm.Error {
	return arm.BadRequest(arm.CodeInvalidFilter, "The $filter \"%s\" is not valid: %s; %s.", filter, problem, filterHelp).WithTarget("$filter")
}

type token struct {
	text   string
	quoted bool
}

// tokenize splits a $filter into words and single-quoted strings, in which a doubled quote stands for one.
func tokenize(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(s) {
					return nil, fmt.Errorf("the quote opened at offset %d is not closed", i)
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			toks = append(toks, token{text: b.String(), quoted: true})
			i = j + 1
		case c == '(' || c == ')':
			return nil, fmt.Errorf("parentheses are not supported (offset %d)", i)
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n\r'()", rune(s[j])) {
				j++
			}
			toks = append(toks, token{text: s[i:j]})
			i = j
		}
	}
	return toks, nil
}

// timeLayouts are the ISO 8601 forms accepted; Go accepts a fractional second after the
// seconds of any of them.
var timeLayouts = []string{"2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05", "2006-01-02T15:04Z07:00", "2006-01-02T15:04", "2006-01-02"}

func parseTime(v string) (time.Time, error) {
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("'%s' is not an ISO 8601 time such as 2026-11-29T10:00:00Z", v)
}
