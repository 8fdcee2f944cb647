package arm

import (
	"errors"
	"testing"
)

func TestProblems(t *testing.T) {
	var none Problems
	if err := none.Err(CodeUserError, "x"); err != nil {
		t.Fatalf("no problems: %v", err)
	}

	var one Problems
	one.Add("InvalidParameter", "properties.count", "Count %d is out of range.", 0)
	var e *Error
	if !errors.As(one.Err("", "The request"), &e) || e != one[0] || e.Target != "properties.count" {
		t.Errorf("one problem, no code: %+v, want the problem itself", e)
	}
	if !errors.As(one.Err(CodeUserError, "The compute"), &e) || e.Code != CodeUserError || e.Message != "Count 0 is out of range." || len(e.Details) != 1 {
		t.Errorf("one problem under UserError: %+v", e)
	}

	two := append(one, BadRequest("Other", "Name is bad.").WithTarget("name"))
	if !errors.As(two.Err("", "The request"), &e) || e.Code != "InvalidParameter" || e.Status != 400 ||
		e.Message != "The request: 2 checks failed. Count 0 is out of range. Name is bad." || len(e.Details) != 2 || e.Details[1].Target != "name" {
		t.Errorf("two problems: %+v", e)
	}
}
