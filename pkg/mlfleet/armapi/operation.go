package armapi

import "time"

// Operation status values.
const (
	StatusInProgress = "InProgress"
	StatusSucceeded  = "Succeeded"
	StatusFailed     = "Failed"
	StatusCanceled   = "Canceled"
)

// OperationStatus is the body of an operation-status URL (Azure-AsyncOperation): the state
// of one long-running operation.
type OperationStatus struct {
	OperationStatusBase
	// Error says why the operation failed; nil unless Status is Failed.
	Error *Error `json:"error"`
}

// OperationStatusBase is what an operation status holds besides its error: which operation,
// of which resource, its status and when it ran. The SDK's OperationStatus shares it and
// reads the error as its own type.
type OperationStatusBase struct {
	ID              string     `json:"id"`
	Name            string     `json:"name"`
	ResourceID      string     `json:"resourceId"`
	Status          string     `json:"status"`
	StartTime       time.Time  `json:"startTime"`
	EndTime         *time.Time `json:"endTime"`
	PercentComplete float64    `json:"percentComplete"`
}

// ErrorResponse is ARM's error envelope, the body of every failed request.
type ErrorResponse struct {
	Error *Error `json:"error"`
}

// Error is ARM's error body: {"code","message","target","details","additionalInfo"}.
type Error struct {
	// Code is a stable machine-readable code, e.g. ResourceGroupNotFound.
	Code string `json:"code"`
	// Message says what is wrong and, where possible, what to do.
	Message string `json:"message"`
	// Target names the offending field or resource, when there is one.
	Target string `json:"target,omitempty"`
	// Details lists individual failures when several are reported together.
	Details []*Error `json:"details,omitempty"`
	// AdditionalInfo is always a list on the wire (empty here), as ARM clients expect it.
	AdditionalInfo []any `json:"additionalInfo"`
}
