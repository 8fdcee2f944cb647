package activity

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// The wire types are package armapi's, which the SDK and the CLI read too.
type (
	LocalizableString = armapi.LocalizableString
	Authorization     = armapi.EventAuthorization
	HTTPRequest       = armapi.EventHTTPRequest
	EventData         = armapi.EventData
)

func same(s string) LocalizableString { return LocalizableString{Value: s, LocalizedValue: s} }

// unixEpochTicks is 1970-01-01 in .NET ticks (100 ns since 0001-01-01), which ARM's event
// ids end with.
const unixEpochTicks = 621355968000000000

// toEventData renders a stored event in ARM's shape.
func toEventData(e *store.ActivityEvent) EventData {
	level := "Informational"
	if e.Status == StatusFailed {
		level = "Error"
	}
	d := EventData{
		Authorization:        Authorization{Action: e.OperationName, Scope: e.ResourceID},
		Caller:               e.Caller,
		Category:             same("Administrative"),
		CorrelationID:        e.CorrelationID,
		EventDataID:          e.ID,
		EventName:            LocalizableString{Value: "EndRequest", LocalizedValue: "End request"},
		EventTimestamp:       e.Time,
		ID:                   e.ResourceID + "/events/" + e.ID + "/ticks/" + strconv.FormatInt(unixEpochTicks+e.Time.UnixNano()/100, 10),
		Level:                level,
		OperationID:          e.OperationID,
		OperationName:        same(e.OperationName),
		Properties:           map[string]string{},
		ResourceGroupName:    e.ResourceGroup,
		ResourceProviderName: same(e.ResourceProvider),
		ResourceType:         same(resourceType(e.ResourceID)),
		ResourceID:           e.ResourceID,
		Status:               same(e.Status),
		SubmissionTimestamp:  e.Time,
		SubscriptionID:       e.SubscriptionID,
	}
	if e.Method != "" {
		d.HTTPRequest = &HTTPRequest{ClientRequestID: e.ClientRequestID, ClientIPAddress: e.ClientIP, Method: e.Method}
	}
	if e.HTTPStatus != 0 {
		text := http.StatusText(e.HTTPStatus)
		d.SubStatus = LocalizableString{Value: strings.ReplaceAll(text, " ", ""), LocalizedValue: fmt.Sprintf("%s (HTTP Status Code: %d)", text, e.HTTPStatus)}
		d.Properties["statusCode"] = d.SubStatus.Value
	}
	if e.ErrorCode != "" {
		// Only the code: messages can repeat what the request carried.
		msg, _ := json.Marshal(map[string]any{"error": map[string]string{"code": e.ErrorCode}})
		d.Properties["statusMessage"] = string(msg)
	}
	return d
}

// selectable are the EventData properties $select may name.
var selectable = []string{"authorization", "caller", "category", "correlationId", "description", "eventDataId",
	"eventName", "eventTimestamp", "httpRequest", "id", "level", "operationId", "operationName", "properties",
	"resourceGroupName", "resourceProviderName", "resourceType", "resourceId", "status", "subStatus",
	"submissionTimestamp", "subscriptionId"}

// ParseSelect reads $select, a comma-separated list of EventData properties (any case),
// into their exact names; "" selects everything (nil). An unknown name is a 400.
func ParseSelect(v string) ([]string, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	var fields []string
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		i := slices.IndexFunc(selectable, func(s string) bool { return strings.EqualFold(s, f) })
		if i < 0 {
			return nil, arm.BadRequest(arm.CodeInvalidRequestContent, "$select names '%s', which is not a property of an event; choose from %s.",
				f, strings.Join(selectable, ", ")).WithTarget("$select")
		}
		fields = append(fields, selectable[i])
	}
	return fields, nil
}

// project keeps only fields of each event (all of them when fields is nil).
func project(events []EventData, fields []string) []any {
	out := make([]any, 0, len(events))
	for _, e := range events {
		if fields == nil {
			out = append(out, e)
			continue
		}
		b, _ := json.Marshal(e)
		var all map[string]json.RawMessage
		_ = json.Unmarshal(b, &all)
		m := map[string]json.RawMessage{}
		for _, f := range fields {
			if v, ok := all[f]; ok {
				m[f] = v
			}
		}
		out = append(out, m)
	}
	return out
}
