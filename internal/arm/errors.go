package arm

import (
	"fmt"
	"net/http"

	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// Stable error codes. Clients match on these, so they never change once shipped.
const (
	CodeMissingAPIVersion          = "MissingApiVersionParameter"
	CodeInvalidAPIVersion          = "InvalidApiVersionParameter"
	CodeInvalidRequestContent      = "InvalidRequestContent"
	CodeInvalidResourceName        = "InvalidResourceName"
	CodeInvalidResourceID          = "InvalidResourceId"
	CodeInvalidLocation            = "InvalidLocation"
	CodeLocationRequired           = "LocationRequired"
	CodeUserError                  = "UserError"
	CodeResourceNotFound           = "ResourceNotFound"
	CodeResourceGroupNotFound      = "ResourceGroupNotFound"
	CodeWorkspaceNotFound          = "WorkspaceNotFound"
	CodeSubscriptionNotFound       = "SubscriptionNotFound"
	CodeInvalidSubscriptionID      = "InvalidSubscriptionId"
	CodeNotFound                   = "NotFound"
	CodeConflict                   = "Conflict"
	CodeResourceGroupBeingDeleted  = "ResourceGroupBeingDeleted"
	CodeOperationInProgress        = "AnotherOperationInProgress"
	CodeAuthenticationFailed       = "AuthenticationFailed"
	CodeInvalidAuthenticationToken = "InvalidAuthenticationToken"
	CodeExpiredAuthenticationToken = "ExpiredAuthenticationToken"
	CodeAuthorizationFailed        = "AuthorizationFailed"
	CodeMethodNotAllowed           = "MethodNotAllowed"
	CodeInternalServerError        = "InternalServerError"
	// CodeServiceUnavailable is a 503: the server cannot do what was asked until its
	// operator acts (its store is full or read-only); the message says what to do.
	CodeServiceUnavailable           = "ServiceUnavailable"
	CodeOperationInterrupted         = "OperationInterrupted"
	CodeUnsupportedKubernetesVersion = "UnsupportedKubernetesVersion"
	CodeRequestDisallowedByPolicy    = "RequestDisallowedByPolicy"
	CodePreconditionFailed           = "PreconditionFailed"
	CodeQuotaExceeded                = "QuotaExceeded"
	CodeTooManyRequests              = "TooManyRequests"
	CodeInvalidFilter                = "InvalidFilter"
	// CodeOperationNotSupported is a 400 for an operation ARM has and mlfleet does not
	// run; the message says what mlfleet does instead.
	CodeOperationNotSupported = "OperationNotSupported"
	// CodeNoRegisteredProviderFound is ARM's 400 for a location where a resource type is
	// not offered (an unknown region); the message lists the locations it is offered in.
	CodeNoRegisteredProviderFound = "NoRegisteredProviderFound"
)

// Error is an ARM error: it carries the HTTP status it is served with and the body
// {"error":{"code","message","target","details"}}. Domain packages return it for failures
// the user caused and can fix; the api package serves it (Wire). Its JSON, which operations
// store as their error, is armapi.Error's.
type Error struct {
	// Status is the HTTP status code (400, 404, 409, ...).
	Status int `json:"-"`
	// Code is a stable machine-readable code (the Code* constants).
	Code string `json:"code"`
	// Message says what is wrong and, where possible, what to do.
	Message string `json:"message"`
	// Target names the offending field or resource, when there is one.
	Target string `json:"target,omitempty"`
	// Details lists individual failures when several are reported together.
	Details []*Error `json:"details,omitempty"`
	// AdditionalInfo is always an empty list on the wire, as ARM clients expect it present.
	AdditionalInfo []any `json:"additionalInfo"`
}

func (e *Error) Error() string {
	if e.Target != "" {
		return fmt.Sprintf("(%s) %s [target %s]", e.Code, e.Message, e.Target)
	}
	return fmt.Sprintf("(%s) %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given status and code.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...), AdditionalInfo: []any{}}
}

// BadRequest returns a 400 *Error.
func BadRequest(code, format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, code, format, args...)
}

// NotFound returns a 404 *Error.
func NotFound(code, format string, args ...any) *Error {
	return Errorf(http.StatusNotFound, code, format, args...)
}

// Conflict returns a 409 *Error with code Conflict.
func Conflict(format string, args ...any) *Error {
	return Errorf(http.StatusConflict, CodeConflict, format, args...)
}

// WithTarget sets Target and returns e.
func (e *Error) WithTarget(target string) *Error {
	e.Target = target
	return e
}

// Wire returns e as the body of an ARM error, details included.
func (e *Error) Wire() *armapi.Error {
	if e == nil {
		return nil
	}
	w := &armapi.Error{Code: e.Code, Message: e.Message, Target: e.Target, AdditionalInfo: e.AdditionalInfo}
	if e.Details != nil {
		w.Details = make([]*armapi.Error, len(e.Details))
		for i, d := range e.Details {
			w.Details[i] = d.Wire()
		}
	}
	return w
}

// Body is the ARM error envelope {"error": ...}.
type Body = armapi.ErrorResponse

// InvalidSubscriptionIDMessage is the wording of ARM's 400 InvalidSubscriptionId for sub, a
// subscription id that is not a GUID, with where to find the right one. It ends without a
// full stop, so that a caller can add advice of its own.
func InvalidSubscriptionIDMessage(sub string) string {
	return fmt.Sprintf("The provided subscription identifier '%s' is malformed or invalid: a subscription id is a GUID. "+
		"'mlfleet account show --query id -o tsv' prints yours", sub)
}
