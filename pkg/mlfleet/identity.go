package mlfleet

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// AuthorizationAPIVersion is the api-version of role assignments and definitions.
const AuthorizationAPIVersion = "2022-04-01"

// Built-in roles.
const (
	RoleOwner       = "Owner"
	RoleContributor = "Contributor"
	RoleReader      = "Reader"
)

// Principal is a user or a service principal (see package armapi).
type Principal = armapi.Principal

// NewPrincipal describes a principal to create. A service principal gets an appId and a
// secret from the server; a user needs UserPrincipalName and Password.
type NewPrincipal struct {
	Type              string   `json:"type"`
	DisplayName       string   `json:"displayName"`
	UserPrincipalName string   `json:"userPrincipalName,omitempty"`
	Password          string   `json:"password,omitempty"`
	Role              string   `json:"role,omitempty"`
	Scopes            []string `json:"scopes,omitempty"`
}

// Principal types.
const (
	PrincipalUser             = "User"
	PrincipalServicePrincipal = "ServicePrincipal"
)

// CreatePrincipal creates a principal, and its role assignments when Role is set.
func (c *Client) CreatePrincipal(ctx context.Context, in NewPrincipal) (*Principal, error) {
	var p Principal
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/mlfleet/v1/principals", body: in}, &p)
	return &p, err
}

// ListPrincipals returns the principals the caller may see.
func (c *Client) ListPrincipals(ctx context.Context) ([]*Principal, error) {
	var page List[*Principal]
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/mlfleet/v1/principals"}, &page)
	return page.Value, err
}

// GetPrincipal returns the principal whose object id, appId or user principal name is ref.
func (c *Client) GetPrincipal(ctx context.Context, ref string) (*Principal, error) {
	var p Principal
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/mlfleet/v1/principals/" + url.PathEscape(ref)}, &p)
	return &p, err
}

// DeletePrincipal deletes a principal; its tokens stop working at once.
func (c *Client) DeletePrincipal(ctx context.Context, ref string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: "/mlfleet/v1/principals/" + url.PathEscape(ref)}, nil)
	return err
}

// ResetCredential gives a service principal a new secret (returned in Password), or a user
// the password given; the principal's tokens stop working at once.
func (c *Client) ResetCredential(ctx context.Context, ref, password string) (*Principal, error) {
	var p Principal
	var body any
	if password != "" {
		body = map[string]string{"password": password}
	}
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/mlfleet/v1/principals/" + url.PathEscape(ref) + "/resetCredential", body: body}, &p)
	return &p, err
}

// RoleAssignment is a role assignment as ARM shows it.
type RoleAssignment struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Type       string `json:"type"`
	Properties struct {
		RoleDefinitionID string    `json:"roleDefinitionId"`
		PrincipalID      string    `json:"principalId"`
		PrincipalType    string    `json:"principalType"`
		Scope            string    `json:"scope"`
		CreatedOn        time.Time `json:"createdOn"`
		CreatedBy        string    `json:"createdBy"`
	} `json:"properties"`
}

// Built-in role definition ids (Azure's).
var roleDefinitionIDs = map[string]string{
	RoleOwner:       "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
	RoleContributor: "b24988ac-6180-42a0-ab88-20f7382dd24c",
	RoleReader:      "acdd72a7-3385-48ef-bd42-f606fba81ae7",
}

// RoleName returns the name of the assignment's role, e.g. "Reader".
func (ra *RoleAssignment) RoleName() string {
	id := ra.Properties.RoleDefinitionID
	id = id[strings.LastIndex(id, "/")+1:]
	for name, def := range roleDefinitionIDs {
		if strings.EqualFold(def, id) {
			return name
		}
	}
	return id
}

func canonicalRole(role string) (string, error) {
	for name := range roleDefinitionIDs {
		if strings.EqualFold(name, role) {
			return name, nil
		}
	}
	return "", &ValidationError{What: "role", Problems: []*Problem{{Fields: []string{"role"}, Message: fmt.Sprintf("'%s' is not a role: use Owner, Contributor or Reader", role)}}}
}

func roleAssignmentsPath(scope string) string {
	return strings.TrimRight(scope, "/") + "/providers/Microsoft.Authorization/roleAssignments"
}

// AssignRole grants role to the principal assignee (object id, appId or user name) at
// scope ("/", a subscription, a resource group or a resource id).
func (c *Client) AssignRole(ctx context.Context, assignee, role, scope string) (*RoleAssignment, error) {
	role, err := canonicalRole(role)
	if err != nil {
		return nil, err
	}
	p, err := c.GetPrincipal(ctx, assignee)
	if err != nil {
		return nil, err
	}
	sub := c.subscription
	if segs := strings.Split(strings.Trim(scope, "/"), "/"); len(segs) >= 2 && strings.EqualFold(segs[0], "subscriptions") {
		sub = segs[1]
	}
	body := map[string]any{"properties": map[string]any{
		"roleDefinitionId": "/subscriptions/" + sub + "/providers/Microsoft.Authorization/roleDefinitions/" + roleDefinitionIDs[role],
		"principalId":      p.ID,
		"principalType":    p.Type,
	}}
	var ra RoleAssignment
	_, err = c.do(ctx, request{method: http.MethodPut, path: roleAssignmentsPath(scope) + "/" + newGUID(), apiVersion: AuthorizationAPIVersion, body: body}, &ra)
	return &ra, err
}

// ListRoleAssignments returns the role assignments at, above and below scope that the
// caller may read, of one principal when assignee is set.
func (c *Client) ListRoleAssignments(ctx context.Context, scope, assignee string) ([]*RoleAssignment, error) {
	path := roleAssignmentsPath(scope)
	if assignee != "" {
		p, err := c.GetPrincipal(ctx, assignee)
		if err != nil {
			return nil, err
		}
		path += "?$filter=" + url.QueryEscape("principalId eq '"+p.ID+"'")
	}
	return listAll[RoleAssignment](ctx, c, path, AuthorizationAPIVersion)
}

// DeleteRoleAssignment deletes the role assignment with this ARM id.
func (c *Client) DeleteRoleAssignment(ctx context.Context, id string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: id, apiVersion: AuthorizationAPIVersion}, nil)
	return err
}

func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// SignIn asks the server's token endpoint (/adfs/oauth2/token) for an access token: with
// servicePrincipal, username is an appId and secret its client secret; otherwise they are a
// user's name and password. hc must trust the server's certificate.
func SignIn(ctx context.Context, hc *http.Client, server string, servicePrincipal bool, username, secret string) (token string, expiresOn time.Time, err error) {
	form := url.Values{"scope": {strings.TrimRight(server, "/") + "/.default"}}
	if servicePrincipal {
		form.Set("grant_type", "client_credentials")
		form.Set("client_id", username)
		form.Set("client_secret", secret)
	} else {
		form.Set("grant_type", "password")
		form.Set("username", username)
		form.Set("password", secret)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(server, "/")+"/adfs/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", time.Time{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hc.Do(req)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign in: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign in: %w", err)
	}
	var answer struct {
		AccessToken      string `json:"access_token"`
		ExpiresIn        int64  `json:"expires_in"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if err := json.Unmarshal(data, &answer); err != nil {
		return "", time.Time{}, fmt.Errorf("sign in: the server answered %s with no token", resp.Status)
	}
	if answer.AccessToken == "" {
		return "", time.Time{}, fmt.Errorf("sign in failed (%s): %s", answer.Error, answer.ErrorDescription)
	}
	return answer.AccessToken, time.Now().Add(time.Duration(answer.ExpiresIn) * time.Second), nil
}

// HTTPClient returns the HTTP client the Client uses (it trusts the server's CA).
func (c *Client) HTTPClient() *http.Client { return c.http }
