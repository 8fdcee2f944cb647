package armapi

// PolicyAssignment is a subscription's policy assignment as ARM serves it
// (Microsoft.Authorization/policyAssignments).
type PolicyAssignment struct {
	ID         string                     `json:"id"`
	Name       string                     `json:"name"`
	Type       string                     `json:"type"`
	Properties PolicyAssignmentProperties `json:"properties"`
}

// PolicyAssignmentProperties are an assignment's properties.
type PolicyAssignmentProperties struct {
	DisplayName        string                          `json:"displayName"`
	PolicyDefinitionID string                          `json:"policyDefinitionId"`
	Scope              string                          `json:"scope"`
	Parameters         map[string]PolicyParameterValue `json:"parameters"`
	EnforcementMode    string                          `json:"enforcementMode"`
}

// PolicyParameterValue is the value of one policy parameter.
type PolicyParameterValue struct {
	Value any `json:"value"`
}

// PolicyAssignmentInput is the body of a policy assignment PUT.
type PolicyAssignmentInput struct {
	Properties PolicyAssignmentInputProperties `json:"properties"`
}

// PolicyAssignmentInputProperties are the properties a policy assignment PUT may set.
type PolicyAssignmentInputProperties struct {
	DisplayName        string                          `json:"displayName"`
	PolicyDefinitionID string                          `json:"policyDefinitionId"`
	Parameters         map[string]PolicyParameterValue `json:"parameters"`
	EnforcementMode    string                          `json:"enforcementMode"`
}
