package activity

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/arm"
)

// FuzzParseFilter: any activity log $filter is read into a query whose time range does not
// run backwards, or refused with a 400 InvalidFilter on $filter, never a panic.
//
//	go test -run='^$' -fuzz='^FuzzParseFilter$' -fuzztime=90s -parallel=1 ./internal/activity
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		"",
		"eventTimestamp ge '2026-11-28T00:00:00Z' and eventTimestamp le '2026-11-29T00:00:00Z' and resourceGroupName eq 'rg'",
		"eventTimestamp ge 2026-11-29T04:00:00.123456 and eventTimestamp le 2026-11-29T10:00:00.123456 and correlationId eq 'c-1'",
		"eventTimestamp gt '2026-11-29T06:00:00.6407898+02:00' and eventTimestamp lt 2026-11-29T10:00:00-0100",
		"resourceUri eq '/subscriptions/s/resourceGroups/it''s' and caller eq 'admin' and status eq 'Failed' and eventChannels eq 'Admin, Operation'",
		"eventTimestamp ge '9999-12-31T23:59:59.999999999Z'",
		"eventTimestamp le '0001-01-01'",
		"status eq",
		"and",
		"'",
		"(x)",
	} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, filter string) {
		q, err := ParseFilter(filter, now, DefaultRetention)
		if err != nil {
			var ae *arm.Error
			if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || ae.Code != arm.CodeInvalidFilter || ae.Target != "$filter" || ae.Message == "" {
				t.Fatalf("ParseFilter(%q) = %#v, want a 400 InvalidFilter", filter, err)
			}
			return
		}
		if q.From.After(q.To) {
			t.Fatalf("ParseFilter(%q) = from %s to %s", filter, q.From, q.To)
		}
	})
}
