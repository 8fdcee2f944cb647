package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mlfleet/mlfleet/internal/arm"
)

// decodeBody reads a JSON request body into v, answering bad input with 400
// InvalidRequestContent that says what is wrong and where: bad input is never a 500 (A3).
// Unknown fields are ignored: clients of newer api-versions send properties mlfleet does
// not know; but ARM's envelope (location, tags, properties) must have its types, and
// bodyRules adds what a body type requires (bodyrules.go).
func decodeBody(r *http.Request, v any) error {
	// One byte past the limit tells a body of exactly 4 MiB from a larger one without
	// reading the rest of an oversized upload.
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20+1))
	if err != nil {
		return arm.BadRequest(arm.CodeInvalidRequestContent, "The request body could not be read: %v", err)
	}
	if len(body) > 4<<20 {
		return arm.Errorf(http.StatusRequestEntityTooLarge, arm.CodeInvalidRequestContent, "The request body is larger than 4 MiB.")
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return arm.BadRequest(arm.CodeInvalidRequestContent, "The request body is empty; send a JSON object.")
	}
	// json.Unmarshal takes null for an object as "nothing to set", which would make a PUT
	// of null create a resource of defaults; refused like any other body that is not an
	// object ([] or "x").
	if strings.TrimSpace(string(body)) == "null" {
		return arm.BadRequest(arm.CodeInvalidRequestContent, "The request content must be a JSON object, not null.")
	}
	// JSON is UTF-8 (RFC 8259); the decoder would store each bad byte as U+FFFD, a tag
	// value other than the one sent. ARM refuses content it cannot deserialize.
	if !utf8.Valid(body) {
		return arm.BadRequest(arm.CodeInvalidRequestContent, "The request content was invalid and could not be deserialized: it is not valid UTF-8 text.")
	}
	// The decoder's own errors name Go types and struct paths; each case below says the
	// same in JSON's terms and names the property, which goes into the error's target.
	if json.Valid(body) {
		if err := checkEnvelope(body); err != nil {
			return err
		}
	}
	err = json.Unmarshal(body, v)
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case err == nil:
		if err := checkBody(body, v); err != nil {
			return err
		}
		// ARM checks a resource's tags before its provider sees the body, whatever the
		// type; a tags that is not an object of strings was the typed decode's to refuse.
		var envelope struct {
			Tags map[string]string `json:"tags"`
		}
		if json.Unmarshal(body, &envelope) != nil {
			return nil
		}
		return arm.CheckTags(envelope.Tags)
	case errors.As(err, &syn):
		return arm.BadRequest(arm.CodeInvalidRequestContent, "The request content is not valid JSON: %v (at byte %d).", syn, syn.Offset)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return arm.BadRequest(arm.CodeInvalidRequestContent, "The request content must be a JSON object, not a %s.", typ.Value)
		}
		if lo, hi, ok := integerRange(typ.Type); ok {
			return arm.BadRequest(arm.CodeInvalidRequestContent, "The property '%s' must be an integer%s.", field, notInteger(typ.Value, lo, hi)).WithTarget(field)
		}
		return wrongType(field, jsonType(typ.Type.Kind().String()), typ.Value)
	default:
		return arm.BadRequest(arm.CodeInvalidRequestContent, "The request content is not valid JSON: %v.", err)
	}
}

// integerRange returns the smallest and largest values of t when it is an integer type.
func integerRange(t reflect.Type) (lo, hi string, ok bool) {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		top := int64(math.MaxInt64) >> (64 - t.Bits())
		return strconv.FormatInt(-top-1, 10), strconv.FormatInt(top, 10), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "0", strconv.FormatUint(uint64(math.MaxUint64)>>(64-t.Bits()), 10), true
	}
	return "", "", false
}

// notInteger ends the message for value (as a json.UnmarshalTypeError spells it: "number
// 3.5", "string") given where an integer from lo to hi was expected: the number itself,
// not "number 3.5", and the range when the number is a whole one that does not fit.
func notInteger(value, lo, hi string) string {
	num, ok := strings.CutPrefix(value, "number ")
	switch {
	case !ok && value == "bool":
		return ", not a boolean"
	case !ok && (value == "object" || value == "array"):
		return ", not an " + value
	case !ok:
		return ", not a " + value
	case strings.ContainsAny(num, ".eE"):
		return ", not " + num
	default:
		return fmt.Sprintf(" from %s to %s, not %s", lo, hi, num)
	}
}

// jsonType names the JSON type a field of Go kind kind expects, for decodeBody's
// messages: a client sent JSON and should not read Go's "ptr" or "map".
func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "map", "struct":
		return "object"
	case "slice", "array":
		return "array"
	case "ptr":
		return "object"
	default:
		return "number"
	}
}
