package arm

import (
	"fmt"
	"strings"
)

// Well-known resource types.
const (
	TypeSubscription  = "Microsoft.Resources/subscriptions"
	TypeResourceGroup = "Microsoft.Resources/resourceGroups"
	TypeWorkspace     = "Microsoft.MachineLearningServices/workspaces"
)

// ID is a parsed ARM resource id:
// /subscriptions/{sub}/resourceGroups/{rg}/providers/{namespace}/{type}/{name}[/{type}/{name}]...
type ID struct {
	SubscriptionID string
	ResourceGroup  string
	// Namespace is the provider namespace, e.g. Microsoft.ContainerService ("" for groups).
	Namespace string
	// Types and Names are the type/name pairs after the namespace, outermost first.
	Types []string
	Names []string
}

// SubscriptionPath returns /subscriptions/{sub}.
func SubscriptionPath(sub string) string { return "/subscriptions/" + sub }

// IsSubscriptionID reports whether s has the shape of a subscription id: a GUID in its
// 36-character form (8-4-4-4-12 hexadecimal digits), which is the only form ARM accepts in
// a path.
func IsSubscriptionID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f', 'A' <= c && c <= 'F':
		default:
			return false
		}
	}
	return true
}

// ResourceGroupPath returns /subscriptions/{sub}/resourceGroups/{rg}.
func ResourceGroupPath(sub, rg string) string {
	return SubscriptionPath(sub) + "/resourceGroups/" + rg
}

// ResourcePath returns the id of a provider resource in a resource group; typesAndNames
// alternates type and name, e.g. "workspaces", "ws1", "computes", "aks1".
func ResourcePath(sub, rg, namespace string, typesAndNames ...string) string {
	return ResourceGroupPath(sub, rg) + "/providers/" + namespace + "/" + strings.Join(typesAndNames, "/")
}

// ChildID returns the id of a resource under the stored resource parentID, typesAndNames
// alternating type and name, e.g. ChildID(workspace.ID, "computes", "aks1"). Names are
// case-insensitive and case-preserving (A1): the segments of the parent, its resource group
// included, keep the case the parent's own id has, whatever case the request that names the
// child spelled them in. parentID must therefore be the id as stored (a row's ID, or the id
// in its body), never one rebuilt from a request's path.
func ChildID(parentID string, typesAndNames ...string) string {
	return strings.TrimSuffix(parentID, "/") + "/" + strings.Join(typesAndNames, "/")
}

// GroupOf returns the resource group segment of the id s, as s spells it ("" when s names
// no resource group or is no resource id).
func GroupOf(s string) string {
	id, _ := ParseID(s)
	return id.ResourceGroup
}

// ParseID parses an ARM resource id. Literal segments ("subscriptions", "resourceGroups",
// "providers") match case-insensitively.
func ParseID(s string) (ID, error) {
	var id ID
	parts := strings.Split(strings.Trim(s, "/"), "/")
	if !strings.HasPrefix(s, "/") || len(parts) < 2 || !strings.EqualFold(parts[0], "subscriptions") || parts[1] == "" {
		return id, fmt.Errorf("resource id %q must start with /subscriptions/{subscriptionId}", s)
	}
	id.SubscriptionID = parts[1]
	rest := parts[2:]
	if len(rest) == 0 {
		return id, nil
	}
	if len(rest) < 2 || !strings.EqualFold(rest[0], "resourceGroups") || rest[1] == "" {
		return id, fmt.Errorf("resource id %q: expected /resourceGroups/{name} after the subscription", s)
	}
	id.ResourceGroup = rest[1]
	rest = rest[2:]
	if len(rest) == 0 {
		return id, nil
	}
	if len(rest) < 4 || !strings.EqualFold(rest[0], "providers") || rest[1] == "" || len(rest[2:])%2 != 0 {
		return id, fmt.Errorf("resource id %q: expected /providers/{namespace}/{type}/{name} after the resource group", s)
	}
	id.Namespace = rest[1]
	for i := 2; i < len(rest); i += 2 {
		if rest[i] == "" || rest[i+1] == "" {
			return id, fmt.Errorf("resource id %q has an empty segment", s)
		}
		id.Types = append(id.Types, rest[i])
		id.Names = append(id.Names, rest[i+1])
	}
	return id, nil
}

// Type returns the full ARM type, e.g. Microsoft.ContainerService/managedClusters.
func (id ID) Type() string {
	switch {
	case id.Namespace != "":
		return id.Namespace + "/" + strings.Join(id.Types, "/")
	case id.ResourceGroup != "":
		return TypeResourceGroup
	default:
		return TypeSubscription
	}
}

// Name returns the last name in the id.
func (id ID) Name() string {
	switch {
	case len(id.Names) > 0:
		return id.Names[len(id.Names)-1]
	case id.ResourceGroup != "":
		return id.ResourceGroup
	default:
		return id.SubscriptionID
	}
}

// String returns the canonical id.
func (id ID) String() string {
	s := SubscriptionPath(id.SubscriptionID)
	if id.ResourceGroup == "" {
		return s
	}
	s = ResourceGroupPath(id.SubscriptionID, id.ResourceGroup)
	if id.Namespace == "" {
		return s
	}
	s += "/providers/" + id.Namespace
	for i := range id.Types {
		s += "/" + id.Types[i] + "/" + id.Names[i]
	}
	return s
}

// Parent returns the id of the enclosing resource: the previous type/name pair, else the
// resource group, else the subscription. The parent of a subscription is "".
func (id ID) Parent() string {
	switch {
	case len(id.Types) > 1:
		p := id
		p.Types, p.Names = id.Types[:len(id.Types)-1], id.Names[:len(id.Names)-1]
		return p.String()
	case len(id.Types) == 1:
		return ResourceGroupPath(id.SubscriptionID, id.ResourceGroup)
	case id.ResourceGroup != "":
		return SubscriptionPath(id.SubscriptionID)
	default:
		return ""
	}
}
