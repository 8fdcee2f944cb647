package armapi

import "time"

// LocalizableString is ARM's {value, localizedValue} pair.
type LocalizableString struct {
	Value          string `json:"value"`
	LocalizedValue string `json:"localizedValue"`
}

// EventAuthorization is the permission the caller used: the action on the scope.
type EventAuthorization struct {
	Action string `json:"action"`
	Scope  string `json:"scope"`
}

// EventHTTPRequest describes the request behind an event.
type EventHTTPRequest struct {
	ClientRequestID string `json:"clientRequestId"`
	ClientIPAddress string `json:"clientIpAddress"`
	Method          string `json:"method"`
}

// EventData is one activity log entry as ARM serves it (Microsoft.Insights EventData,
// api-version 2015-04-01).
type EventData struct {
	Authorization        EventAuthorization `json:"authorization"`
	Caller               string             `json:"caller"`
	Category             LocalizableString  `json:"category"`
	CorrelationID        string             `json:"correlationId"`
	Description          string             `json:"description"`
	EventDataID          string             `json:"eventDataId"`
	EventName            LocalizableString  `json:"eventName"`
	EventTimestamp       time.Time          `json:"eventTimestamp"`
	HTTPRequest          *EventHTTPRequest  `json:"httpRequest,omitempty"`
	ID                   string             `json:"id"`
	Level                string             `json:"level"`
	OperationID          string             `json:"operationId"`
	OperationName        LocalizableString  `json:"operationName"`
	Properties           map[string]string  `json:"properties"`
	ResourceGroupName    string             `json:"resourceGroupName"`
	ResourceProviderName LocalizableString  `json:"resourceProviderName"`
	ResourceType         LocalizableString  `json:"resourceType"`
	ResourceID           string             `json:"resourceId"`
	Status               LocalizableString  `json:"status"`
	SubStatus            LocalizableString  `json:"subStatus"`
	SubmissionTimestamp  time.Time          `json:"submissionTimestamp"`
	SubscriptionID       string             `json:"subscriptionId"`
}
