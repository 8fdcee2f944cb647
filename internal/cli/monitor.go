package cli

import (
	"math"
	"regexp"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

func newMonitorCommand(streams Streams, g *globals) *cobra.Command {
	return parent("monitor", "Monitor the control plane",
		parent("activity-log", "Read the activity log: every write, who made it and how it ended", newActivityLogList(streams, g)))
}

// activityLogFlags are az monitor activity-log list's flags (N8); the times and the
// offset are strings because they are read by az's rules (filter), not by pflag's.
type activityLogFlags struct {
	group, resourceID, provider, correlation, caller, status string
	start, end, offset                                       string
	maxEvents                                                int
}

func newActivityLogList(streams Streams, g *globals) *cobra.Command {
	f := &activityLogFlags{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the events of the activity log, newest first",
		Long: `List the events of the subscription's activity log, newest first.

The time range is --start-time to --end-time; when one is missing it is --offset (default 6h)
from the other, and when both are, the range ends now.`,
		Example: `  # the writes of the last day in resource group rg1
  mlfleet monitor activity-log list -g rg1 --offset 1d -o table

  # everything one client call did (the x-ms-correlation-request-id of its answers)
  mlfleet monitor activity-log list --correlation-id 6f1b… --offset 7d`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			filter, err := f.filter(time.Now())
			if err != nil {
				return err
			}
			return g.call(streams, activityTable, func(c *mlfleet.Client) (any, error) { return c.ListActivityLog(cmd.Context(), filter) })
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.group, "resource-group", "g", "", "Only events in this resource group")
	fl.StringVar(&f.resourceID, "resource-id", "", "Only events on this resource id")
	fl.StringVar(&f.provider, "resource-provider", "", "Only events of this resource provider, e.g. Microsoft.ContainerService")
	fl.StringVar(&f.correlation, "correlation-id", "", "Only events with this correlation id")
	fl.StringVar(&f.caller, "caller", "", "Only events of this caller")
	fl.StringVar(&f.status, "status", "", "Only events with this status: Accepted, Succeeded, Failed")
	fl.StringVar(&f.start, "start-time", "", "Start of the time range, ISO 8601 (UTC unless it has an offset), e.g. 2026-11-29T08:00:00Z")
	fl.StringVar(&f.end, "end-time", "", "End of the time range, ISO 8601; default now")
	fl.StringVar(&f.offset, "offset", "6h", "Length of the time range when --start-time or --end-time is missing, in ##d##h format (also ##m)")
	fl.IntVar(&f.maxEvents, "max-events", 50, "Maximum number of events to list (0 = all)")
	return cmd
}

// filter turns the flags into the SDK's filter, filling in the time range as az does: a
// range is always sent, never an open one.
func (f *activityLogFlags) filter(now time.Time) (mlfleet.ActivityLogFilter, error) {
	out := mlfleet.ActivityLogFilter{ResourceGroup: f.group, ResourceID: f.resourceID, ResourceProvider: f.provider,
		CorrelationID: f.correlation, Caller: f.caller, Status: f.status, MaxEvents: f.maxEvents}
	if f.maxEvents < 0 {
		return out, usagef("--max-events must be 0 or more")
	}
	offset, err := parseOffset(f.offset)
	if err != nil {
		return out, err
	}
	var start, end time.Time
	if f.start != "" {
		if start, err = parseISOTime(f.start); err != nil {
			return out, usagef("--start-time: %v", err)
		}
	}
	if f.end != "" {
		if end, err = parseISOTime(f.end); err != nil {
			return out, usagef("--end-time: %v", err)
		}
	}
	// A missing end is start+offset, a missing start end-offset, both missing the offset
	// up to now: az's rules, so that a script's time range means the same here.
	switch {
	case start.IsZero() && end.IsZero():
		end = now.UTC()
		start = end.Add(-offset)
	case start.IsZero():
		start = end.Add(-offset)
	case end.IsZero():
		end = start.Add(offset)
	}
	if start.After(end) {
		return out, usagef("--start-time %s is after --end-time %s", start.Format(time.RFC3339), end.Format(time.RFC3339))
	}
	out.StartTime, out.EndTime = start, end
	return out, nil
}

// offsetPattern is az's ##d##h offset, with minutes as mlfleet's addition; every part is
// optional, so an empty string matches and is refused by parseOffset itself.
var offsetPattern = regexp.MustCompile(`^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$`)

// parseOffset reads az's ##d##h offsets (6h, 1d, 1d12h; minutes too).
func parseOffset(v string) (time.Duration, error) {
	m := offsetPattern.FindStringSubmatch(v)
	if v == "" || m == nil {
		return 0, usagef("--offset %q is not in ##d##h format, e.g. 6h, 1d or 1d12h", v)
	}
	var d time.Duration
	for i, unit := range []time.Duration{24 * time.Hour, time.Hour, time.Minute} {
		if m[i+1] != "" {
			// The sum must fit a Duration: 9223372036854775807m used to wrap to -1m.
			n, err := strconv.ParseInt(m[i+1], 10, 64)
			if err != nil || time.Duration(n) > (math.MaxInt64-d)/unit {
				return 0, usagef("--offset %q is too long: it can be at most %dd", v, math.MaxInt64/int64(24*time.Hour))
			}
			d += time.Duration(n) * unit
		}
	}
	return d, nil
}

// parseISOTime reads an ISO 8601 time; one without an offset is UTC, and a date alone is
// its midnight.
func parseISOTime(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, usagef("%q is not an ISO 8601 time such as 2026-11-29T08:00:00Z", v)
}

// activityTable shows one line per event: when, who, what, how it ended, where, and the
// correlation id that ties a call's events together.
func activityTable(v any) any {
	return rows(v, func(m map[string]any) row {
		return row{{"EventTimestamp", m["eventTimestamp"]}, {"Caller", m["caller"]}, {"OperationName", dig(m, "operationName", "value")},
			{"Status", dig(m, "status", "value")}, {"ResourceGroup", m["resourceGroupName"]}, {"CorrelationId", m["correlationId"]}}
	})
}
