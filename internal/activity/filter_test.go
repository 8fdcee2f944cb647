package activity

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/arm"
)

func TestParseFilter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	day := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, time.UTC) }
	tests := []struct {
		name, filter string
		want         Query
		wantErr      string // part of the 400's message
	}{
		{name: "ARM's example", filter: "eventTimestamp ge '2026-11-28T00:00:00Z' and eventTimestamp le '2026-11-29T00:00:00Z' and resourceGroupName eq 'MSSupportGroup'",
			want: Query{From: day(28, 0), To: day(29, 0), ResourceGroup: "MSSupportGroup"}},
		{name: "az: unquoted times without a zone", filter: "eventTimestamp ge 2026-11-29T04:00:00.123456 and eventTimestamp le 2026-11-29T10:00:00.123456 and correlationId eq 'c-1'",
			want: Query{From: day(29, 4).Add(123456 * time.Microsecond), To: day(29, 10).Add(123456 * time.Microsecond), CorrelationID: "c-1"}},
		{name: "offsets and 7-digit fractions", filter: "eventTimestamp ge '2026-11-29T06:00:00.6407898+02:00' and eventTimestamp le 2026-11-29T10:00:00-0100",
			want: Query{From: day(29, 4).Add(640789800 * time.Nanosecond), To: day(29, 11)}},
		{name: "no filter: the retention up to now", filter: "", want: Query{From: now.Add(-DefaultRetention), To: now}},
		{name: "only a start", filter: "eventTimestamp ge '2026-11-29T00:00:00Z'", want: Query{From: day(29, 0), To: now}},
		{name: "every field, any case, quotes doubled", filter: "EventTimestamp GE '2026-11-29' AND resourceUri eq '/subscriptions/s/resourceGroups/it''s' and resourceProvider eq 'Microsoft.ContainerService' and caller eq 'admin' and status eq 'Failed' and eventChannels eq 'Admin, Operation'",
			want: Query{From: day(29, 0), To: now, ResourceID: "/subscriptions/s/resourceGroups/it's", ResourceProvider: "Microsoft.ContainerService", Caller: "admin", Status: "Failed"}},
		{name: "resourceId is resourceUri", filter: "resourceId eq '/subscriptions/s'", want: Query{From: now.Add(-DefaultRetention), To: now, ResourceID: "/subscriptions/s"}},
		{name: "unknown field", filter: "eventTimestamp ge '2026-11-29' and operationName eq 'x'", wantErr: "'operationName' is not a field"},
		{name: "bad time", filter: "eventTimestamp ge 'yesterday'", wantErr: "'yesterday' is not an ISO 8601 time"},
		{name: "bad operator", filter: "eventTimestamp eq '2026-11-29'", wantErr: "eventTimestamp takes ge or le"},
		{name: "eq only", filter: "resourceGroupName ne 'rg'", wantErr: "resourceGroupName takes eq"},
		{name: "or", filter: "resourceGroupName eq 'a' or resourceGroupName eq 'b'", wantErr: "expected 'and' before 'or'"},
		{name: "incomplete", filter: "eventTimestamp ge '2026-11-29' and resourceGroupName eq", wantErr: "incomplete"},
		{name: "unclosed quote", filter: "resourceGroupName eq 'rg", wantErr: "not closed"},
		{name: "parentheses", filter: "(resourceGroupName eq 'rg')", wantErr: "parentheses"},
		{name: "twice", filter: "resourceGroupName eq 'a' and resourceGroupName eq 'b'", wantErr: "appears twice"},
		{name: "empty value", filter: "caller eq ''", wantErr: "empty value"},
		{name: "reversed range", filter: "eventTimestamp ge '2026-11-29T10:00:00Z' and eventTimestamp le '2026-11-29T09:00:00Z'", wantErr: "starts"},
		{name: "only spaces", filter: "   ", want: Query{From: now.Add(-DefaultRetention), To: now}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFilter(tt.filter, now, DefaultRetention)
			if tt.wantErr != "" {
				var ae *arm.Error
				if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || ae.Code != "InvalidFilter" || ae.Target != "$filter" || !strings.Contains(ae.Message, tt.wantErr) {
					t.Fatalf("ParseFilter(%q) = %+v, %v; want a 400 InvalidFilter saying %q", tt.filter, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseFilter(%q): %v", tt.filter, err)
			}
			if !got.From.Equal(tt.want.From) || !got.To.Equal(tt.want.To) {
				t.Errorf("time range %v .. %v, want %v .. %v", got.From, got.To, tt.want.From, tt.want.To)
			}
			got.From, got.To, tt.want.From, tt.want.To = time.Time{}, time.Time{}, time.Time{}, time.Time{}
			if got != tt.want {
				t.Errorf("ParseFilter(%q) = %+v, want %+v", tt.filter, got, tt.want)
			}
		})
	}
}
