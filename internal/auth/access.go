package auth

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/store"
)

// Principal is the caller of a request: who it is, what its token allows and the roles it
// holds.
type Principal struct {
	// ID is the principal's object id ("" for the system).
	ID string
	// Name is what it signs in with: a user principal name or an appId.
	Name string
	// DisplayName is its display name.
	DisplayName string
	// Type is store.PrincipalUser or store.PrincipalServicePrincipal.
	Type string
	// Cap is the strongest role the token allows, whatever the assignments say.
	Cap string
	// ExpiresAt is when the token expires (zero: never).
	ExpiresAt time.Time

	assignments []*store.RoleAssignment
	// system marks background work, which may do anything.
	system bool
}

// System is the principal of background work (the operations engine, the sweeper).
var System = &Principal{Name: "system", Cap: RoleOwner, system: true}

// IsRootOwner reports whether p is Owner at the root scope: the tenant's administrator.
func (p *Principal) IsRootOwner() bool { return p.RoleAt("/") == RoleOwner }

// RoleAt returns p's effective role at scope: the strongest role assigned at scope or
// above it, capped by the token ("" for none).
func (p *Principal) RoleAt(scope string) string {
	if p.system {
		return RoleOwner
	}
	best := ""
	for _, a := range p.assignments {
		if Within(scope, a.Scope) && rank(a.Role) > rank(best) {
			best = a.Role
		}
	}
	if rank(best) > rank(p.Cap) {
		best = p.Cap
	}
	return best
}

// Allows reports whether p may perform action over scope.
func (p *Principal) Allows(action, scope string) bool {
	return RoleAllows(p.RoleAt(scope), action)
}

// Check returns nil when p may perform action over scope, else ARM's 403
// AuthorizationFailed naming the principal, the action and the scope.
func (p *Principal) Check(action, scope string) error {
	if p.Allows(action, scope) {
		return nil
	}
	return p.Forbidden(action, scope)
}

// Forbidden is ARM's 403 AuthorizationFailed for p, action and scope.
func (p *Principal) Forbidden(action, scope string) *arm.Error {
	who := fmt.Sprintf("The client '%s' with object id '%s'", p.Name, p.ID)
	why := "does not have authorization to perform action '%s' over scope '%s' or the scope is invalid."
	hint := " If access was recently granted, please refresh your credentials."
	if RoleAllows(p.roleAssignedAt(scope), action) {
		hint = fmt.Sprintf(" Its token is limited to the %s role: use a token minted without that limit.", p.Cap)
	}
	return arm.Errorf(http.StatusForbidden, arm.CodeAuthorizationFailed, who+" "+why+hint, action, scope)
}

// roleAssignedAt is RoleAt without the token's cap.
func (p *Principal) roleAssignedAt(scope string) string {
	q := *p
	q.Cap = RoleOwner
	return q.RoleAt(scope)
}

// strongestRole is the strongest role p holds at any scope, whatever its token's cap
// ("" for none).
func (p *Principal) strongestRole() string {
	if p.system {
		return RoleOwner
	}
	best := ""
	for _, a := range p.assignments {
		if rank(a.Role) > rank(best) {
			best = a.Role
		}
	}
	return best
}

// effectiveCap is the strongest role a token minted for p without a role may use: the
// weaker of its token's cap and the strongest role it holds at any scope, Reader when it
// holds none. A sign-in's token is capped at Owner, so a Reader's would otherwise say
// Owner, a role it neither holds nor can use.
func (p *Principal) effectiveCap() string {
	held := p.strongestRole()
	if held == "" {
		held = RoleReader
	}
	if rank(held) < rank(p.Cap) {
		return held
	}
	return p.Cap
}

// orNone is role, or "none" when there is none, for messages.
func orNone(role string) string {
	if role == "" {
		return "none"
	}
	return role
}

// SeesAnything reports whether p holds any role at scope, above it or below it: whether a
// list over scope may show it something.
func (p *Principal) SeesAnything(scope string) bool {
	if p.system || p.RoleAt(scope) != "" {
		return true
	}
	for _, a := range p.assignments {
		if Within(a.Scope, scope) {
			return true
		}
	}
	return false
}

// ReadableUnder says what p may read under scope: all of it (all is true), or only what
// lies at or under the returned scopes (possibly none).
func (p *Principal) ReadableUnder(scope string) (all bool, scopes []string) {
	if RoleAllows(p.RoleAt(scope), "read") {
		return true, nil
	}
	scopes = []string{}
	if p.Cap == "" {
		return false, scopes
	}
	for _, a := range p.assignments {
		if Within(a.Scope, scope) && !equalFold(a.Scope, scope) {
			scopes = append(scopes, a.Scope)
		}
	}
	return false, scopes
}

// CanRead reports whether p may read the resource with this id.
func (p *Principal) CanRead(id string) bool {
	return RoleAllows(p.RoleAt(id), "read")
}

// RoleAllows reports whether a built-in role allows an ARM action such as
// "Microsoft.ContainerService/managedClusters/write". Readers read; Contributors do
// everything but grant access (Microsoft.Authorization writes and deletes); Owners do all.
func RoleAllows(role, action string) bool {
	a := strings.ToLower(action)
	switch role {
	case RoleOwner:
		return true
	case RoleContributor:
		return !(strings.HasPrefix(a, "microsoft.authorization/") && (strings.HasSuffix(a, "/write") || strings.HasSuffix(a, "/delete")))
	case RoleReader:
		return a == "read" || strings.HasSuffix(a, "/read")
	}
	return false
}

// Within reports whether id is scope or lies under it (case-insensitively); everything
// lies under the root scope "/".
func Within(id, scope string) bool {
	s := strings.TrimRight(scope, "/")
	if s == "" {
		return true
	}
	id = strings.TrimRight(id, "/")
	return equalFold(id, s) || (len(id) > len(s) && id[len(s)] == '/' && equalFold(id[:len(s)], s))
}

func equalFold(a, b string) bool { return strings.EqualFold(a, b) }

// badInput is a 400 for a request the caller can fix.
func badInput(format string, args ...any) error {
	return arm.BadRequest(arm.CodeInvalidRequestContent, format, args...)
}
