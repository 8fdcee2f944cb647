package api

import (
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/auth"
	"github.com/mlfleet/mlfleet/internal/store"
)

// Built-in role definitions, with Azure's ids, so that clients that look roles up by id
// (or by name with $filter=roleName eq '…') find the same ones.
var roleDefinitions = []roleDefinition{
	{id: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", name: auth.RoleOwner, description: "Grants full access to manage all resources, including the ability to assign roles.",
		actions: []string{"*"}},
	{id: "b24988ac-6180-42a0-ab88-20f7382dd24c", name: auth.RoleContributor, description: "Grants full access to manage all resources, but does not allow you to assign roles.",
		actions: []string{"*"}, notActions: []string{"Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write", "Microsoft.Authorization/elevateAccess/Action"}},
	{id: "acdd72a7-3385-48ef-bd42-f606fba81ae7", name: auth.RoleReader, description: "View all resources, but does not allow you to make any changes.",
		actions: []string{"*/read"}},
}

// roleDefinition is a built-in role. actions and notActions are for display in Azure's
// shape; what a role may do is decided by package auth, not by these lists.
type roleDefinition struct {
	id, name, description string
	actions, notActions   []string
}

// roleDefinitionByID finds a role by the last segment of a role definition id, or by its
// name: clients send the full id, under a subscription or the root, and the same GUID
// names the role at every scope.
func roleDefinitionByID(id string) (roleDefinition, bool) {
	last := id[strings.LastIndex(id, "/")+1:]
	for _, d := range roleDefinitions {
		if strings.EqualFold(d.id, last) || strings.EqualFold(d.name, last) {
			return d, true
		}
	}
	return roleDefinition{}, false
}

func roleDefinitionByName(name string) roleDefinition {
	for _, d := range roleDefinitions {
		if d.name == name {
			return d
		}
	}
	return roleDefinition{}
}

// roleDefinitionID is the ARM id of a role definition as seen from scope: under the
// scope's subscription, or at the root.
func roleDefinitionID(scope, defID string) string {
	prefix := ""
	if segs := split(scope); len(segs) >= 2 && strings.EqualFold(segs[0], "subscriptions") {
		prefix = "/subscriptions/" + segs[1]
	}
	return prefix + "/providers/Microsoft.Authorization/roleDefinitions/" + defID
}

type roleDefinitionBody struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Type       string `json:"type"`
	Properties struct {
		RoleName         string           `json:"roleName"`
		Type             string           `json:"type"`
		Description      string           `json:"description"`
		AssignableScopes []string         `json:"assignableScopes"`
		Permissions      []map[string]any `json:"permissions"`
	} `json:"properties"`
}

func newRoleDefinitionBody(scope string, d roleDefinition) roleDefinitionBody {
	var b roleDefinitionBody
	b.ID, b.Name, b.Type = roleDefinitionID(scope, d.id), d.id, "Microsoft.Authorization/roleDefinitions"
	b.Properties.RoleName, b.Properties.Type, b.Properties.Description = d.name, "BuiltInRole", d.description
	b.Properties.AssignableScopes = []string{"/"}
	notActions := d.notActions
	if notActions == nil {
		notActions = []string{}
	}
	b.Properties.Permissions = []map[string]any{{"actions": d.actions, "notActions": notActions, "dataActions": []string{}, "notDataActions": []string{}}}
	return b
}

// RoleAssignmentBody is a role assignment in ARM's shape.
type RoleAssignmentBody struct {
	ID         string                   `json:"id"`
	Name       string                   `json:"name"`
	Type       string                   `json:"type"`
	Properties RoleAssignmentProperties `json:"properties"`
}

// RoleAssignmentProperties are a role assignment's properties.
type RoleAssignmentProperties struct {
	RoleDefinitionID string     `json:"roleDefinitionId"`
	PrincipalID      string     `json:"principalId"`
	PrincipalType    string     `json:"principalType,omitempty"`
	Scope            string     `json:"scope"`
	CreatedOn        *time.Time `json:"createdOn,omitempty"`
	UpdatedOn        *time.Time `json:"updatedOn,omitempty"`
	CreatedBy        string     `json:"createdBy,omitempty"`
	UpdatedBy        string     `json:"updatedBy,omitempty"`
}

// roleAssignmentID is an assignment's ARM id: its scope's id (nothing for the root scope
// "/") followed by …/providers/Microsoft.Authorization/roleAssignments/{name}.
func roleAssignmentID(ra *store.RoleAssignment) string {
	return strings.TrimRight(ra.Scope, "/") + "/providers/Microsoft.Authorization/roleAssignments/" + ra.Name
}

// roleAssignmentBody shows an assignment in ARM's shape. Assignments are never changed,
// only created and deleted, so updatedOn and updatedBy repeat their creation.
func (s *Server) roleAssignmentBody(r *http.Request, ra *store.RoleAssignment) RoleAssignmentBody {
	created := ra.CreatedAt
	return RoleAssignmentBody{
		ID: roleAssignmentID(ra), Name: ra.Name, Type: "Microsoft.Authorization/roleAssignments",
		Properties: RoleAssignmentProperties{
			RoleDefinitionID: roleDefinitionID(ra.Scope, roleDefinitionByName(ra.Role).id),
			PrincipalID:      ra.PrincipalID,
			PrincipalType:    s.cfg.Auth.PrincipalType(r.Context(), ra.PrincipalID),
			Scope:            ra.Scope,
			CreatedOn:        &created, UpdatedOn: &created,
			CreatedBy: ra.CreatedBy, UpdatedBy: ra.CreatedBy,
		},
	}
}

// replyRoleAssignment answers ra in ARM's shape with status, or err.
func (s *Server) replyRoleAssignment(w http.ResponseWriter, r *http.Request, status int, ra *store.RoleAssignment, err error) {
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, status, s.roleAssignmentBody(r, ra))
}

// authorizationPath recognises {scope}/providers/Microsoft.Authorization/roleAssignments[/{name}]
// and …/roleDefinitions[/{id}], whose scope may be "/", a subscription, a resource group
// or any resource.
func authorizationPath(path string) (scope, kind, name string, ok bool) {
	segs := split(path)
	for i := 0; i+2 < len(segs); i++ {
		if !strings.EqualFold(segs[i], "providers") || !strings.EqualFold(segs[i+1], "Microsoft.Authorization") {
			continue
		}
		kind = segs[i+2]
		// The namespace's other types (policyAssignments) are fixed routes under a
		// subscription and go through the route table.
		if !strings.EqualFold(kind, "roleAssignments") && !strings.EqualFold(kind, "roleDefinitions") {
			return "", "", "", false
		}
		switch len(segs) {
		case i + 3:
		case i + 4:
			name = segs[i+3]
		default:
			return "", "", "", false
		}
		return "/" + strings.Join(segs[:i], "/"), strings.ToLower(kind), name, true
	}
	return "", "", "", false
}

var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// serveAuthorization serves role assignments and role definitions at any scope. It runs
// outside the route table, so it checks the api-version itself, and what the caller may
// do is checked by auth for each call (reading assignments, writing them) rather than by
// authorize.
func (s *Server) serveAuthorization(w http.ResponseWriter, r *http.Request, scope, kind, name string) {
	if err := checkAPIVersion(r); err != nil {
		writeError(w, r, err)
		return
	}
	if err := checkScope(scope); err != nil {
		writeError(w, r, err)
		return
	}
	if kind == "roledefinitions" {
		s.serveRoleDefinitions(w, r, scope, name)
		return
	}
	caller := auth.PrincipalFrom(r.Context())
	switch {
	case name == "" && r.Method == http.MethodGet:
		s.listRoleAssignments(w, r, caller, scope)
	case name == "":
		writeError(w, r, arm.Errorf(http.StatusMethodNotAllowed, arm.CodeMethodNotAllowed, "The method %s is not supported on %s.", r.Method, r.URL.Path))
	// ARM names assignments by GUID, which the client generates.
	case !guidPattern.MatchString(name):
		writeError(w, r, arm.BadRequest("InvalidRoleAssignmentId", "The role assignment ID '%s' is not valid. The role assignment ID must be a GUID.", name))
	case r.Method == http.MethodPut:
		s.putRoleAssignment(w, r, caller, scope, name)
	case r.Method == http.MethodGet:
		ra, err := s.cfg.Auth.GetRoleAssignment(r.Context(), caller, scope, name)
		s.replyRoleAssignment(w, r, http.StatusOK, ra, err)
	case r.Method == http.MethodDelete:
		ra, err := s.cfg.Auth.DeleteRoleAssignment(r.Context(), caller, scope, name)
		// ARM answers a deleted assignment with its body (200), a missing one with 204.
		if err == nil && ra == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		s.replyRoleAssignment(w, r, http.StatusOK, ra, err)
	default:
		writeError(w, r, arm.Errorf(http.StatusMethodNotAllowed, arm.CodeMethodNotAllowed, "The method %s is not supported on %s.", r.Method, r.URL.Path))
	}
}

// roleAssignmentRequest is the body of a role assignment PUT.
type roleAssignmentRequest struct {
	Properties struct {
		RoleDefinitionID string `json:"roleDefinitionId"`
		PrincipalID      string `json:"principalId"`
		PrincipalType    string `json:"principalType"`
	} `json:"properties"`
}

func (s *Server) putRoleAssignment(w http.ResponseWriter, r *http.Request, caller *auth.Principal, scope, name string) {
	// Who may not assign roles here learns nothing about the scope or the body.
	if err := caller.Check(auth.ActionRoleAssignmentWrite, scope); err != nil {
		writeError(w, r, err)
		return
	}
	var in roleAssignmentRequest
	if err := decodeBody(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	def, ok := roleDefinitionByID(in.Properties.RoleDefinitionID)
	if in.Properties.RoleDefinitionID == "" || !ok {
		writeError(w, r, arm.BadRequest("RoleDefinitionDoesNotExist", "The role definition '%s' does not exist: use the id of Owner, Contributor or Reader (GET %s/providers/Microsoft.Authorization/roleDefinitions lists them).",
			in.Properties.RoleDefinitionID, strings.TrimRight(scope, "/")).WithTarget("properties.roleDefinitionId"))
		return
	}
	if in.Properties.PrincipalID == "" {
		writeError(w, r, arm.BadRequest(arm.CodeInvalidRequestContent, "properties.principalId is required: the object id of a user or service principal.").WithTarget("properties.principalId"))
		return
	}
	// The scope is stored as the resource spells it, which is how the assignment's id and
	// scope are shown afterwards, whatever case the request's path used.
	canonical, err := s.existingScope(r, scope)
	if err != nil {
		writeError(w, r, err)
		return
	}
	ra, created, err := s.cfg.Auth.AssignRole(r.Context(), caller, name, canonical, in.Properties.PrincipalID, def.name)
	s.replyRoleAssignment(w, r, createdStatus(created), ra, err)
}

// listRoleAssignments serves GET {scope}/providers/Microsoft.Authorization/roleAssignments
// with ARM's filters: atScope(), principalId eq '{id}', assignedTo('{id}'). A filter it
// does not know is a 400 rather than ignored: a caller that filtered must not receive
// every assignment believing they match. (assignedTo is taken as principalId here:
// mlfleet has no groups a principal could be a member of.)
func (s *Server) listRoleAssignments(w http.ResponseWriter, r *http.Request, caller *auth.Principal, scope string) {
	atScope, principal := false, ""
	if f := strings.TrimSpace(r.URL.Query().Get("$filter")); f != "" {
		for _, term := range splitAnd(f) {
			switch {
			case strings.EqualFold(term, "atScope()"):
				atScope = true
			case quotedArg(term, "principalId eq ") != "":
				principal = quotedArg(term, "principalId eq ")
			case quotedArg(term, "assignedTo(") != "":
				principal = quotedArg(term, "assignedTo(")
			default:
				writeError(w, r, arm.BadRequest("InvalidFilter", "The $filter '%s' is not supported: use atScope(), principalId eq '{id}' or assignedTo('{id}'), joined by 'and'.", f))
				return
			}
		}
	}
	list, err := s.cfg.Auth.ListRoleAssignments(r.Context(), caller, scope, principal, atScope)
	if err != nil {
		writeError(w, r, err)
		return
	}
	out := []RoleAssignmentBody{}
	for _, ra := range list {
		out = append(out, s.roleAssignmentBody(r, ra))
	}
	writeJSON(w, http.StatusOK, listBody{Value: out})
}

// serveRoleDefinitions lists the built-in roles (optionally $filter=roleName eq '…') or
// shows one. Every caller may read them.
func (s *Server) serveRoleDefinitions(w http.ResponseWriter, r *http.Request, scope, id string) {
	if r.Method != http.MethodGet {
		writeError(w, r, arm.Errorf(http.StatusMethodNotAllowed, arm.CodeMethodNotAllowed, "Role definitions are built in: only GET is supported on %s.", r.URL.Path))
		return
	}
	if id != "" {
		d, ok := roleDefinitionByID(id)
		if !ok {
			writeError(w, r, arm.NotFound("RoleDefinitionDoesNotExist", "The role definition '%s' does not exist: mlfleet has Owner, Contributor and Reader.", id))
			return
		}
		writeJSON(w, http.StatusOK, newRoleDefinitionBody(scope, d))
		return
	}
	want := ""
	if f := strings.TrimSpace(r.URL.Query().Get("$filter")); f != "" {
		want = quotedArg(f, "roleName eq ")
		if want == "" {
			writeError(w, r, arm.BadRequest("InvalidFilter", "The $filter '%s' is not supported: use roleName eq '{name}'.", f))
			return
		}
	}
	out := []roleDefinitionBody{}
	for _, d := range roleDefinitions {
		if want == "" || strings.EqualFold(want, d.name) {
			out = append(out, newRoleDefinitionBody(scope, d))
		}
	}
	writeJSON(w, http.StatusOK, listBody{Value: out})
}

// splitAnd splits an OData filter on " and " (any case). It looks for the separator in f
// itself: an index into strings.ToLower(f) is not one into f when lowering changes a
// character's length (İ, or a byte that is not UTF-8, which becomes U+FFFD).
func splitAnd(f string) []string {
	var out []string
	start := 0
	for i := 0; i+5 <= len(f); i++ {
		if strings.EqualFold(f[i:i+5], " and ") {
			out = append(out, strings.TrimSpace(f[start:i]))
			start = i + 5
			i += 4
		}
	}
	return append(out, strings.TrimSpace(f[start:]))
}

// quotedArg returns X from a term prefix'X' (or prefix'X') for a function), or "".
func quotedArg(term, prefix string) string {
	if len(term) < len(prefix) || !strings.EqualFold(term[:len(prefix)], prefix) {
		return ""
	}
	rest := strings.TrimSuffix(strings.TrimSpace(term[len(prefix):]), ")")
	if len(rest) < 3 || rest[0] != '\'' || rest[len(rest)-1] != '\'' {
		return ""
	}
	return rest[1 : len(rest)-1]
}
