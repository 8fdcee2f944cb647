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

// An AKS compute's properties.properties is ARM's AKSSchemaProperties, whose keys the
// generated clients (azure-mgmt-machinelearningservices, armmachinelearning, the npm
// client) and azureml-core send no more of than armapi.AKSProperties has. decodeBody
// ignores unknown keys, which there means a misspelt setting (agentCnt, sslConfig)
// silently dropped; the compute routes refuse them instead, naming each.

// aksKeys are the keys of properties.properties an AKS compute knows, and of its nested
// objects, by path: read from armapi's JSON tags, so that they follow the wire types.
var aksKeys = map[string][]string{
	"":                           jsonKeys(reflect.TypeFor[armapi.AKSProperties]()),
	"sslConfiguration":           jsonKeys(reflect.TypeFor[armapi.SSLConfiguration]()),
	"aksNetworkingConfiguration": jsonKeys(reflect.TypeFor[armapi.AKSNetworkingConfiguration]()),
}

// jsonKeys returns the JSON names of struct type t's fields.
func jsonKeys(t reflect.Type) []string {
	var keys []string
	for f := range t.Fields() {
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" && name != "-" {
			keys = append(keys, name)
		}
	}
	return keys
}

// checkAKSKeys refuses, into errs, the keys of an AKS compute's properties.properties
// (aks, as sent) and of its nested objects that the compute does not have, each named with
// its path and the keys it may have. scaleSettings, which Compute_Update's
// ClusterUpdateParameters carries for AmlCompute clusters, gets its own message: how an AKS
// compute is scaled.
func checkAKSKeys(aks json.RawMessage, errs *arm.Problems) {
	check := func(path string, raw json.RawMessage) map[string]json.RawMessage {
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return nil // not an object: the typed decode has said so
		}
		known := aksKeys[path]
		prefix := "properties.properties."
		if path != "" {
			prefix += path + "."
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			switch {
			case slices.ContainsFunc(known, func(x string) bool { return strings.EqualFold(x, k) }):
				// Keys match whatever their case, as the typed decode (and ARM) reads them.
			case path == "" && strings.EqualFold(k, "scaleSettings"):
				errs.Add(arm.CodeUserError, prefix+k, "scaleSettings applies to AmlCompute clusters; an AKS compute is scaled by its node count: send properties.properties.agentCount in a PUT or PATCH of the compute, or run 'mlfleet ml computetarget scale -n NAME --agent-count N'.")
			default:
				errs.Add(arm.CodeUserError, prefix+k, "'%s%s' is not a property of an AKS compute (check its spelling); it has %s.", prefix, k, strings.Join(known, ", "))
			}
		}
		return m
	}
	top := check("", aks)
	for _, nested := range []string{"sslConfiguration", "aksNetworkingConfiguration"} {
		if raw, ok := top[nested]; ok {
			check(nested, raw)
		}
	}
}

// computeKeys are the keys of a compute body and of its properties, read from armapi's
// JSON tags; identity and sku are ARM's, which a compute here never has (see
// checkOuterKeys).
var computeKeys = map[string][]string{
	"":            append(jsonKeys(reflect.TypeFor[armapi.Compute]()), "identity", "sku"),
	"properties.": jsonKeys(reflect.TypeFor[armapi.ComputeProperties]()),
}

// checkOuterKeys refuses, into errs, the keys of a compute body and of its properties that
// a compute does not have: a setting one level too high ({"properties": {"agentCount": 3}})
// or misspelt is not dropped in silence. A non-null identity or sku is refused too.
func checkOuterKeys(body json.RawMessage, errs *arm.Problems) {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return
	}
	check := func(prefix string, m map[string]json.RawMessage) {
		known := computeKeys[prefix]
		for _, k := range slices.Sorted(maps.Keys(m)) {
			switch {
			case strings.EqualFold(k, "identity") && prefix == "", strings.EqualFold(k, "sku") && prefix == "":
				if string(m[k]) != "null" {
					errs.Add(arm.CodeUserError, k, "An AKS compute of mlfleet has no %s; leave %s out.", k, k)
				}
			case slices.ContainsFunc(known, func(x string) bool { return strings.EqualFold(x, k) }):
			case prefix != "" && strings.EqualFold(k, "scaleSettings"):
				errs.Add(arm.CodeUserError, prefix+k, "scaleSettings applies to AmlCompute clusters; an AKS compute is scaled by its node count: send properties.properties.agentCount in a PUT or PATCH of the compute, or run 'mlfleet ml computetarget scale -n NAME --agent-count N'.")
			default:
				errs.Add(arm.CodeUserError, prefix+k, "'%s%s' is not a property of a compute (check its spelling and its level: AKS settings go in properties.properties); it has %s.", prefix, k, strings.Join(known, ", "))
			}
		}
	}
	check("", top)
	var props map[string]json.RawMessage
	if raw, ok := top["properties"]; ok && json.Unmarshal(raw, &props) == nil {
		check("properties.", props)
	}
}

// computeBody is a compute PUT or PATCH body: decoded into V, with the body, its
// computeType and properties.properties as sent kept for the key checks.
type computeBody[V any] struct {
	V    V
	raw  json.RawMessage
	sent struct {
		Properties struct {
			ComputeType string          `json:"computeType"`
			Properties  json.RawMessage `json:"properties"`
		} `json:"properties"`
	}
}

// UnmarshalJSON decodes data into b.V, whose errors are decodeBody's to report, then
// keeps what checkAKSKeys reads.
func (b *computeBody[V]) UnmarshalJSON(data []byte) error {
	if err := json.Unmarshal(data, &b.V); err != nil {
		return err
	}
	_ = json.Unmarshal(data, &b.sent) // V has the same fields: whatever is wrong, V said
	b.raw = append(json.RawMessage(nil), data...)
	return nil
}

// checkKeys refuses the keys a compute does not have, all together: those of the body and
// its properties (checkOuterKeys), and checkAKSKeys' of its properties.properties, for a
// compute of type AKS or of no type sent (a PATCH); another type is the service's to
// refuse.
func (b *computeBody[V]) checkKeys(what string) error {
	var errs arm.Problems
	checkOuterKeys(b.raw, &errs)
	p := b.sent.Properties
	if len(p.Properties) != 0 && (p.ComputeType == "" || strings.EqualFold(p.ComputeType, "AKS")) {
		checkAKSKeys(p.Properties, &errs)
	}
	return errs.Err(arm.CodeUserError, what)
}
