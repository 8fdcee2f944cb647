package armapi

// Workspace is a Machine Learning workspace as ARM serves it.
type Workspace struct {
	ID         string              `json:"id"`
	Name       string              `json:"name"`
	Type       string              `json:"type"`
	Location   string              `json:"location"`
	Tags       map[string]string   `json:"tags"`
	SystemData *SystemData         `json:"systemData"`
	Properties WorkspaceProperties `json:"properties"`
}

// WorkspaceProperties are a workspace's properties.
type WorkspaceProperties struct {
	ProvisioningState string `json:"provisioningState"`
	// FriendlyName is the display name; the workspace's name when the PUT gives none.
	FriendlyName string `json:"friendlyName"`
	Description  string `json:"description"`
	// WorkspaceID is a GUID made at creation, as Azure ML gives every workspace; it never
	// changes, even when the workspace is updated.
	WorkspaceID string `json:"workspaceId"`
	// CreationTime is when the workspace was created, RFC 3339 in UTC.
	CreationTime string `json:"creationTime"`
}

// WorkspaceInput is the body of a workspace PUT.
type WorkspaceInput struct {
	Location   string                   `json:"location"`
	Tags       map[string]string        `json:"tags"`
	Properties WorkspaceInputProperties `json:"properties"`
}

// WorkspaceInputProperties are the properties a workspace PUT may set.
type WorkspaceInputProperties struct {
	FriendlyName string `json:"friendlyName"`
	Description  string `json:"description"`
}

// WorkspacePatch is the body of a workspace PATCH: only the fields sent change, and tags,
// when sent, replace the whole set.
type WorkspacePatch struct {
	Tags       map[string]string `json:"tags"`
	Properties *struct {
		FriendlyName *string `json:"friendlyName"`
		Description  *string `json:"description"`
	} `json:"properties"`
}
