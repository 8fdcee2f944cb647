package mlfleet

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// computeNameRule and reservedComputeNames are the server's compute naming rule (S4; the
// server's internal/compute ValidateName), repeated here because the SDK imports no
// internal package. internal/compute's TestSDKComputeNameRule checks that both agree.
var (
	computeNameRule      = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$`)
	reservedComputeNames = []string{"amlcompute", "local", "containerinstance"}
)

// ValidationError reports every problem of a configuration found before anything is sent
// to the server: the checks azureml-core makes on the client side, and the compute naming
// rule. The server checks the request again, and more (name uniqueness, capacity, CIDRs,
// Kubernetes versions, certificates);
// those failures come back as *Error.
type ValidationError struct {
	// What names the configuration, e.g. "AKS provisioning configuration".
	What string
	// Problems lists each broken rule, in the order of the configuration's fields.
	Problems []*Problem
}

// Error says what is invalid and lists every problem on one line.
func (e *ValidationError) Error() string {
	if len(e.Problems) == 1 {
		return "invalid " + e.What + ": " + e.Problems[0].Message
	}
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.Message
	}
	return fmt.Sprintf("invalid %s (%d problems): %s", e.What, len(e.Problems), strings.Join(msgs, "; "))
}

// Problem is one broken rule of a configuration.
type Problem struct {
	// Fields names the fields the rule is about, the first one being the one to fix, as
	// the configuration's Go fields are spelled ("AgentCount", "SSL.Cname"). "SSL.Cert"
	// and "SSL.Key" stand for the PEM given either inline or as a file; "Name" stands for
	// the compute name given to CreateAKS or AttachAKS.
	Fields []string
	// Message says what is wrong and how to fix it, naming the fields as Fields does.
	Message string

	format string
	args   []any
}

// Describe returns the problem's message with every field named by name(field) instead
// of its Go name; a command line uses it to name its flags. A nil name keeps Go names.
func (p *Problem) Describe(name func(field string) string) string {
	if name == nil {
		name = func(f string) string { return f }
	}
	args := make([]any, len(p.args))
	for i, a := range p.args {
		switch v := a.(type) {
		case field:
			args[i] = name(string(v))
		case fieldList:
			names := make([]string, len(v))
			for j, f := range v {
				names[j] = name(f)
			}
			args[i] = joinAnd(names)
		default:
			args[i] = a
		}
	}
	return fmt.Sprintf(p.format, args...)
}

// FailedPreconditions returns the failures an error from the server lists: the details of
// an *Error (each failed precondition of a create or attach, reported together), or the
// error itself when it has no details. It returns nil when err is not an *Error.
func FailedPreconditions(err error) []*Error {
	var e *Error
	if !errors.As(err, &e) {
		return nil
	}
	if len(e.Details) == 0 {
		return []*Error{e}
	}
	return e.Details
}

// field is a reference to a configuration field in a problem's arguments; fieldList is
// several, rendered "A, B and C".
type (
	field     string
	fieldList []string
)

// Field names as problems spell them.
const (
	fieldName               field = "Name" // the compute name CreateAKS or AttachAKS is given
	fieldAgentCount         field = "AgentCount"
	fieldClusterPurpose     field = "ClusterPurpose"
	fieldLoadBalancerType   field = "LoadBalancerType"
	fieldLoadBalancerSubnet field = "LoadBalancerSubnet"
	fieldResourceID         field = "ResourceID"
	fieldResourceGroup      field = "ResourceGroup"
	fieldClusterName        field = "ClusterName"
	fieldSSL                field = "SSL"
	fieldDisableSSL         field = "DisableSSL"
	fieldSSLCname           field = "SSL.Cname"
	fieldSSLCert            field = "SSL.Cert"
	fieldSSLKey             field = "SSL.Key"
	fieldSSLCertFile        field = "SSL.CertFile"
	fieldSSLKeyFile         field = "SSL.KeyFile"
	fieldSSLLeaf            field = "SSL.LeafDomainLabel"
	fieldSSLOverwrite       field = "SSL.OverwriteExistingDomain"
)

// problems collects the broken rules of one configuration.
type problems []*Problem

// add records a problem; field and fieldList arguments name the fields it is about.
func (ps *problems) add(format string, args ...any) {
	p := &Problem{format: format, args: args}
	for _, a := range args {
		switch v := a.(type) {
		case field:
			p.Fields = append(p.Fields, string(v))
		case fieldList:
			p.Fields = append(p.Fields, v...)
		}
	}
	p.Message = p.Describe(nil)
	*ps = append(*ps, p)
}

// err is nil when nothing is wrong, else a *ValidationError.
func (ps problems) err(what string) error {
	if len(ps) == 0 {
		return nil
	}
	return &ValidationError{What: what, Problems: ps}
}

func joinAnd(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// canonical returns the allowed value v names, compared case-insensitively as the server
// does, or "" when it names none.
func canonical(v string, allowed []string) string {
	for _, a := range allowed {
		if strings.EqualFold(a, v) {
			return a
		}
	}
	return ""
}

// ClusterPurposes returns the values of a cluster purpose (S5): FastProd, DenseProd,
// DevTest.
func ClusterPurposes() []string { return []string{PurposeFastProd, PurposeDenseProd, PurposeDevTest} }

// LoadBalancerTypes returns the values of a load balancer type (S14): PublicIp,
// InternalLoadBalancer.
func LoadBalancerTypes() []string { return []string{LoadBalancerPublicIP, LoadBalancerInternal} }

// checkPurpose, checkLoadBalancer and SSLOptions.check are the rules the provisioning,
// attach and update configurations share.
func (ps *problems) checkPurpose(v string) {
	if v != "" && canonical(v, ClusterPurposes()) == "" {
		ps.add("invalid %s %q: allowed values are %s", fieldClusterPurpose, v, strings.Join(ClusterPurposes(), ", "))
	}
}

// checkLoadBalancer checks a load balancer type and subnet; when typeKnown is false an
// empty type means "unchanged" and the subnet is checked later against the current type.
func (ps *problems) checkLoadBalancer(lbType, subnet string, typeKnown bool) {
	t := lbType
	if lbType != "" {
		if t = canonical(lbType, LoadBalancerTypes()); t == "" {
			ps.add("invalid %s %q: allowed values are %s", fieldLoadBalancerType, lbType, strings.Join(LoadBalancerTypes(), ", "))
			return
		}
	}
	if subnet != "" && t != LoadBalancerInternal && (typeKnown || t != "") {
		ps.add("%s applies only with %s %s", fieldLoadBalancerSubnet, fieldLoadBalancerType, LoadBalancerInternal)
	}
}

// ValidateComputeName checks a compute name by the server's naming rules (S4): 3 to 24
// letters, digits or '-', starting with a letter and ending with a letter or digit, and
// none of the reserved names (amlcompute, local, containerinstance). Whether the name is
// free is the server's to say (Workspace.CheckComputeName). It returns nil or a *ValidationError; CreateAKS and
// AttachAKS report its problem together with those of their configuration.
func ValidateComputeName(name string) error {
	var ps problems
	ps.checkComputeName(name)
	return ps.err("compute name")
}

// checkComputeName adds the problem of a compute name, if it has one.
func (ps *problems) checkComputeName(name string) {
	switch {
	case name == "":
		ps.add("the compute name (%s) is empty: give 3 to 24 letters, digits or '-', starting with a letter and ending with a letter or digit", fieldName)
	case slices.Contains(reservedComputeNames, strings.ToLower(name)):
		ps.add("compute name (%s) %q is reserved; choose another name", fieldName, name)
	case !computeNameRule.MatchString(name):
		ps.add("compute name (%s) %q is invalid: use 3 to 24 letters, digits or '-', starting with a letter and ending with a letter or digit", fieldName, name)
	}
}

// ValidateAgentCount checks a node count given explicitly, as to Scale: it must be a
// positive integer. It returns nil or a *ValidationError.
func ValidateAgentCount(n int) error {
	var ps problems
	if n < 1 {
		ps.add("%s must be a positive integer", fieldAgentCount)
	}
	return ps.err("agent count")
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
