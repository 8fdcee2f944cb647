package cli

import (
	"strings"

	"github.com/mlfleet/mlfleet/internal/endpoints"
)

// az ml (the v2 extension) does not print the ARM resource either, but the azure-ai-ml
// SDK's entity as its YAML schema dumps it: flat, snake_case keys (scoring_uri,
// provisioning_state, instance_count), az ml's spellings of values (auth_mode key or
// aml_token, identity type system_assigned), references as azureml:<ARM id>, durations in
// milliseconds or seconds as in its YAML files. The ml commands print that shape, so that
// a --query written for az ml (`--query scoring_uri -o tsv`, the Azure ML docs' idiom)
// works unchanged. As for every az command, az's core adds resourceGroup from the id.
//
// mlfleet's own status (properties.mlfleet) is kept at the top level under mlfleet; -o
// tsv leaves it out (azExtensions), as it does for clusters. The ARM shape is what the
// API, the Go SDK and `az rest` return.

// azmlEndpoints returns v, an online endpoint or a list of them, as az ml prints it.
func azmlEndpoints(v any) (any, error) {
	return azmlShape(v, func(m map[string]any) map[string]any {
		p, _ := m["properties"].(map[string]any)
		out := map[string]any{
			"id": m["id"], "name": m["name"], "location": m["location"], "kind": m["kind"],
			"tags":               orEmpty(m["tags"]),
			"description":        p["description"],
			"properties":         orEmpty(p["properties"]),
			"auth_mode":          snakeValue(p["authMode"]),
			"scoring_uri":        p["scoringUri"],
			"openapi_uri":        p["swaggerUri"],
			"provisioning_state": p["provisioningState"],
			"traffic":            orEmpty(p["traffic"]),
			"mirror_traffic":     orEmpty(p["mirrorTraffic"]),
			"identity":           snakeKeys(m["identity"]),
		}
		if c := armRefOf(p["compute"]); c != nil {
			out["compute"] = c
		}
		if pna, ok := p["publicNetworkAccess"].(string); ok && pna != "" {
			out["public_network_access"] = strings.ToLower(pna)
		}
		if id, ok := out["identity"].(map[string]any); ok {
			id["type"] = snakeValue(id["type"])
		}
		extension(out, p)
		return out
	})
}

// azmlDeployments returns v, an online deployment or a list of them, as az ml prints
// it. The endpoint's name is read from the id (…/onlineEndpoints/{ep}/deployments/{d}).
func azmlDeployments(v any) (any, error) {
	return azmlShape(v, func(m map[string]any) map[string]any {
		p, _ := m["properties"].(map[string]any)
		out := map[string]any{
			"id": m["id"], "name": m["name"],
			"endpoint_name":         endpointOf(m["id"]),
			"type":                  snakeValue(p["endpointComputeType"]),
			"tags":                  orEmpty(m["tags"]),
			"description":           p["description"],
			"properties":            orEmpty(p["properties"]),
			"model":                 armRefOf(p["model"]),
			"environment":           armRefOf(p["environmentId"]),
			"environment_variables": orEmpty(p["environmentVariables"]),
			"instance_type":         p["instanceType"],
			"instance_count":        dig(m, "sku", "capacity"),
			"app_insights_enabled":  p["appInsightsEnabled"],
			"provisioning_state":    p["provisioningState"],
			"liveness_probe":        probeOf(p["livenessProbe"]),
			"readiness_probe":       probeOf(p["readinessProbe"]),
			"request_settings":      requestSettingsOf(p["requestSettings"]),
			"scale_settings":        map[string]any{"type": "default"},
		}
		if cc, ok := p["codeConfiguration"].(map[string]any); ok {
			out["code_configuration"] = map[string]any{"code": armRefOf(cc["codeId"]), "scoring_script": cc["scoringScript"]}
		}
		if c := armRefOf(p["compute"]); c != nil {
			out["compute"] = c
		}
		if out["instance_count"] == nil {
			out["instance_count"] = dig(p, "scaleSettings", "instanceCount")
		}
		if st, ok := dig(p, "scaleSettings", "scaleType").(string); ok && st != "" {
			out["scale_settings"] = map[string]any{"type": snakeValue(st)}
		}
		extension(out, p)
		return out
	})
}

// azmlAssets returns v, a model, code or environment version or container (or a list of
// them), as az ml prints it: a version with its asset's name and its version, a container
// (list without -n) with its latest_version.
func azmlAssets(v any) (any, error) {
	return azmlShape(v, func(m map[string]any) map[string]any {
		p, _ := m["properties"].(map[string]any)
		out := map[string]any{
			"id": m["id"], "name": m["name"],
			"description":      p["description"],
			"tags":             orEmpty(p["tags"]),
			"properties":       orEmpty(p["properties"]),
			"creation_context": creationContext(m["systemData"]),
		}
		id, _ := m["id"].(string)
		parts := splitID(id)
		if len(parts) >= 3 && equalFold(parts[len(parts)-2], "versions") {
			out["name"], out["version"] = parts[len(parts)-3], m["name"]
		} else {
			out["latest_version"] = p["latestVersion"]
			return out
		}
		switch kind := strings.ToLower(parts[len(parts)-4]); kind {
		case "models":
			out["type"], out["path"] = p["modelType"], p["modelUri"]
			out["stage"] = nil
		case "codes":
			out["path"] = p["codeUri"]
		case "environments":
			out["image"], out["os_type"] = p["image"], strings.ToLower(str(p["osType"]))
			if out["os_type"] == "" {
				out["os_type"] = "linux"
			}
			if p["condaFile"] != nil {
				out["conda_file"] = p["condaFile"]
			}
			if ic, ok := p["inferenceConfig"].(map[string]any); ok {
				out["inference_config"] = snakeKeys(ic)
			}
		}
		return out
	})
}

// azmlShape turns v into generic JSON values and replaces each object of it (v itself,
// or the items of a list) by reshape's answer, with resourceGroup from its id.
func azmlShape(v any, reshape func(map[string]any) map[string]any) (any, error) {
	generic, err := azShape(v, func(map[string]any) {})
	if err != nil {
		return nil, err
	}
	one := func(o any) any {
		m, ok := o.(map[string]any)
		if !ok {
			return o
		}
		out := reshape(m)
		if g, ok := m["resourceGroup"]; ok {
			out["resourceGroup"] = g
		}
		return out
	}
	if list, ok := generic.([]any); ok {
		for i, o := range list {
			list[i] = one(o)
		}
		return list, nil
	}
	return one(generic), nil
}

// extension keeps mlfleet's own status (properties.mlfleet) at the top level.
func extension(out, props map[string]any) {
	if x, ok := props["mlfleet"]; ok {
		out["mlfleet"] = x
	}
}

// orEmpty returns v, or an empty object for a missing one: az ml prints {} for empty
// tags, traffic and the like.
func orEmpty(v any) any {
	if v == nil {
		return map[string]any{}
	}
	return v
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// snakeValue spells an ARM enum value as az ml does: Key is key, AMLToken aml_token,
// SystemAssigned system_assigned, Kubernetes kubernetes.
func snakeValue(v any) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	if strings.EqualFold(s, "AMLToken") {
		return "aml_token"
	}
	return snake(s)
}

// snake turns camelCase or PascalCase into snake_case.
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 && s[i-1] != '_' && s[i-1] != ',' {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// snakeKeys returns a copy of v, an object, with snake_case keys at every level.
func snakeKeys(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := make(map[string]any, len(m))
	for k, val := range m {
		out[snake(k)] = snakeKeys(val)
	}
	return out
}

// armRefOf returns az ml's spelling of a reference to an asset, azureml:<ARM id>.
func armRefOf(v any) any {
	s, ok := v.(string)
	if !ok || s == "" {
		return nil
	}
	if strings.HasPrefix(s, "/") {
		return "azureml:" + s
	}
	return s
}

// endpointOf returns the endpoint's name in a deployment's id.
func endpointOf(v any) any {
	parts := splitID(str(v))
	if len(parts) >= 3 {
		return parts[len(parts)-3]
	}
	return nil
}

// seconds returns an ISO 8601 duration in seconds (as a JSON number), nil when it is none.
func seconds(v any) any {
	d, err := endpoints.ParseDuration(str(v))
	if err != nil {
		return nil
	}
	return d.Seconds()
}

// millis returns an ISO 8601 duration in milliseconds, nil when it is none.
func millis(v any) any {
	d, err := endpoints.ParseDuration(str(v))
	if err != nil {
		return nil
	}
	return d.Milliseconds()
}

// probeOf returns a probe as az ml's YAML has it: times in seconds.
func probeOf(v any) any {
	p, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	return map[string]any{
		"initial_delay": seconds(p["initialDelay"]), "period": seconds(p["period"]), "timeout": seconds(p["timeout"]),
		"success_threshold": p["successThreshold"], "failure_threshold": p["failureThreshold"],
	}
}

// requestSettingsOf returns request settings as az ml's YAML has them: times in
// milliseconds.
func requestSettingsOf(v any) any {
	r, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	return map[string]any{
		"request_timeout_ms":                   millis(r["requestTimeout"]),
		"max_concurrent_requests_per_instance": r["maxConcurrentRequestsPerInstance"],
		"max_queue_wait_ms":                    millis(r["maxQueueWait"]),
	}
}

// creationContext returns ARM's systemData as az ml's creation_context.
func creationContext(v any) any {
	sd, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	return map[string]any{
		"created_at": sd["createdAt"], "created_by": sd["createdBy"], "created_by_type": sd["createdByType"],
		"last_modified_at": sd["lastModifiedAt"], "last_modified_by": sd["lastModifiedBy"], "last_modified_by_type": sd["lastModifiedByType"],
	}
}
