package api

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// The typed decode checks the fields a body's Go type declares; what it does not declare
// it drops, and a missing or null object decodes as one of zero values. So decodeBody adds
// three rules that hold whatever the handler: ARM's resource envelope has its types
// (checkEnvelope), the properties a swagger marks required are there (checkRequired), and
// mlfleet's own bodies take only their keys (checkClosed).

// bodyRule is what decodeBody checks of a body beyond its Go type.
type bodyRule struct {
	// required are the dotted paths a body must carry, not null: what the operation's
	// swagger marks required and which a PUT cannot do without.
	required []string
	// closed refuses keys the Go type does not have: mlfleet's own API, which no newer
	// api-version extends, so an unknown key is a typo.
	closed bool
}

// bodyRules are the rules by the Go type a body decodes into.
//
//   - OnlineEndpoint: properties and properties.authMode are required
//     (machineLearningServices.json OnlineEndpointTrackedResource, OnlineEndpoint); a PUT
//     without them would replace the endpoint's traffic and compute with nothing.
//   - OnlineDeployment, AssetVersion: properties required
//     (OnlineDeploymentTrackedResource, ModelVersion/CodeVersion/EnvironmentVersion).
//   - Tags: properties required (resources.json TagsResource, Tags_CreateOrUpdateAtScope):
//     a PUT without them would delete every tag.
//   - AgentPoolPut: a PUT replaces the pool's profile, and mlfleet changes only pools that
//     exist, so a body with no profile has nothing to apply.
var bodyRules = map[reflect.Type]bodyRule{
	reflect.TypeFor[armapi.OnlineEndpoint]():   {required: []string{"properties", "properties.authMode"}},
	reflect.TypeFor[armapi.OnlineDeployment](): {required: []string{"properties"}},
	reflect.TypeFor[armapi.AssetVersion]():     {required: []string{"properties"}},
	reflect.TypeFor[armapi.Tags]():             {required: []string{"properties"}},
	reflect.TypeFor[armapi.AgentPoolPut]():     {required: []string{"properties"}},
	reflect.TypeFor[tokenRequest]():            {closed: true},
}

// envelopeTypes are the JSON types of the keys every ARM resource body shares, which ARM
// reads before the resource provider does: a body that has them of another type "could
// not be deserialized" (InvalidRequestContent), whether or not the handler's type has them.
var envelopeTypes = map[string]string{
	"location":   "string",
	"tags":       "object",
	"properties": "object",
}

// checkBody applies v's bodyRule to body, which decoded into v without error.
func checkBody(body []byte, v any) error {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return nil // not an object: the typed decode took it (v is not a struct)
	}
	t := reflect.TypeOf(v)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	rule := bodyRules[t]
	if err := checkRequired(top, rule.required); err != nil {
		return err
	}
	if rule.closed {
		return checkClosed(top, t)
	}
	return nil
}

// checkEnvelope refuses a location, tags or properties of the wrong JSON type, and a tag
// whose value is not a string, in body, valid JSON. null stands for "not sent", as the
// SDKs send it. It runs before the typed decode, whose message for a tag would name only
// "tags".
func checkEnvelope(body []byte) error {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return nil // not an object: the typed decode says so
	}
	for _, k := range slices.Sorted(maps.Keys(top)) {
		want, ok := envelopeTypes[strings.ToLower(k)]
		if !ok {
			continue
		}
		got := rawType(top[k])
		if got != want && got != "null" {
			return wrongType(k, want, got)
		}
		if want != "object" || got != "object" || !strings.EqualFold(k, "tags") {
			continue
		}
		var tags map[string]json.RawMessage
		_ = json.Unmarshal(top[k], &tags) // an object: rawType said so
		for _, name := range slices.Sorted(maps.Keys(tags)) {
			if got := rawType(tags[name]); got != "string" && got != "null" {
				return wrongType(k+"."+name, "string", got)
			}
		}
	}
	return nil
}

// checkRequired refuses a body that lacks one of the paths, or has it null, naming the
// first one missing.
func checkRequired(top map[string]json.RawMessage, paths []string) error {
	for _, path := range paths {
		obj, raw := top, json.RawMessage(nil)
		for part := range strings.SplitSeq(path, ".") {
			raw = lookupFold(obj, part)
			obj = nil
			if rawType(raw) == "object" {
				_ = json.Unmarshal(raw, &obj)
			}
		}
		if t := rawType(raw); t == "" || t == "null" {
			return arm.BadRequest(arm.CodeInvalidRequestContent, "The property '%s' is required: send it (not null); a PUT sets the whole resource, and without it there is nothing to set.", path).WithTarget(path)
		}
	}
	return nil
}

// checkClosed refuses a key of top that type t does not have, naming the keys it has.
func checkClosed(top map[string]json.RawMessage, t reflect.Type) error {
	known := jsonKeys(t)
	for _, k := range slices.Sorted(maps.Keys(top)) {
		if !slices.ContainsFunc(known, func(x string) bool { return strings.EqualFold(x, k) }) {
			return arm.BadRequest(arm.CodeInvalidRequestContent, "The property '%s' is not known (check its spelling); the body takes %s.", k, strings.Join(known, ", ")).WithTarget(k)
		}
	}
	return nil
}

// lookupFold returns m's value for key, matched without case as the typed decode (and
// ARM) match keys; nil when m has none.
func lookupFold(m map[string]json.RawMessage, key string) json.RawMessage {
	if v, ok := m[key]; ok {
		return v
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

// rawType names the JSON type of a valid JSON value, "" for none.
func rawType(raw json.RawMessage) string {
	s := strings.TrimSpace(string(raw))
	if s == "" {
		return ""
	}
	switch s[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// wrongType is the 400 for a property of the wrong JSON type, worded as decodeBody words
// the typed decode's.
func wrongType(field, want, got string) error {
	return arm.BadRequest(arm.CodeInvalidRequestContent, "The property '%s' must be of type %s, not %s.", field, want, got).WithTarget(field)
}
