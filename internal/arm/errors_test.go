package arm

import (
	"encoding/json"
	"testing"
)

// TestErrorWire checks that an error is served with the JSON it has (which operations store
// as their error), details and their additionalInfo (null when a detail has none) included.
func TestErrorWire(t *testing.T) {
	detail := &Error{Code: "InvalidParameter", Message: "Count 0 is out of range.", Target: "properties.count"}
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{name: "plain", err: NotFound(CodeNotFound, "No %s.", "x"),
			want: `{"code":"NotFound","message":"No x.","additionalInfo":[]}`},
		{name: "target", err: BadRequest(CodeInvalidLocation, "Bad.").WithTarget("location"),
			want: `{"code":"InvalidLocation","message":"Bad.","target":"location","additionalInfo":[]}`},
		{name: "details", err: &Error{Status: 400, Code: CodeUserError, Message: "1 check failed.", Details: []*Error{detail}, AdditionalInfo: []any{}},
			want: `{"code":"UserError","message":"1 check failed.","details":[{"code":"InvalidParameter","message":"Count 0 is out of range.","target":"properties.count","additionalInfo":null}],"additionalInfo":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			own, _ := json.Marshal(tt.err)
			wire, _ := json.Marshal(tt.err.Wire())
			if string(wire) != tt.want || string(own) != tt.want {
				t.Errorf("served %s, stored %s; want both %s", wire, own, tt.want)
			}
		})
	}
	if (*Error)(nil).Wire() != nil {
		t.Error("nil error served as a body")
	}
}
