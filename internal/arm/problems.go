package arm

import (
	"fmt"
	"strings"
)

// Problems collects the validation failures of one request, so that the request is
// refused once with all of them rather than one at a time.
type Problems []*Error

// Add records a 400 failure with its code and target (the JSON path of the field).
func (p *Problems) Add(code, target, format string, args ...any) {
	*p = append(*p, BadRequest(code, format, args...).WithTarget(target))
}

// Err returns nil when nothing failed, else one 400 whose details are the failures and
// whose message is theirs (several: "<subject>: N checks failed. <each message>").
//
// code is the error code of the whole: Azure ML answers UserError even for one failure;
// ARM resource providers such as AKS answer a single failure with its own code, which an
// empty code asks for, and several with InvalidParameter.
func (p Problems) Err(code, subject string) error {
	switch {
	case len(p) == 0:
		return nil
	case len(p) == 1 && code == "":
		return p[0]
	case code == "":
		code = "InvalidParameter"
	}
	msg := p[0].Message
	if len(p) > 1 {
		msgs := make([]string, len(p))
		for i, e := range p {
			msgs[i] = e.Message
		}
		msg = fmt.Sprintf("%s: %d checks failed. %s", subject, len(p), strings.Join(msgs, " "))
	}
	e := BadRequest(code, "%s", msg)
	e.Details = p
	return e
}
