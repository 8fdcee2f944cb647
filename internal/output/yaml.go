package output

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// formatYAML renders v as knack's format_yaml does (yaml.safe_dump(result,
// default_flow_style=False)): block style, indent 2, a list under a key not indented,
// keys sorted, empty collections as [] and {}. The emitter is go-yaml's; mlfleet only
// decides what each scalar is, so that the document reads back as the same data under
// YAML 1.1 as well as 1.2 (PyYAML, which az users feed it to, reads YAML 1.1): strings are
// tagged !!str, which go-yaml quotes whenever a plain scalar would read as something else
// (123, yes, null, 1e3, …), and floats are written as Python's repr with a point before
// any exponent (1.0e+21), since "1e+21" is a string to a YAML 1.1 reader.
//
// Quoting and line folding differ from PyYAML's in places (go-yaml double-quotes and
// writes line breaks as literal blocks); the data and the key order do not.
func formatYAML(v any) (string, error) {
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	enc.CompactSeqIndent()
	if err := enc.Encode(yamlNode(v)); err != nil {
		return "", fmt.Errorf("format yaml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return "", fmt.Errorf("format yaml: %w", err)
	}
	return b.String(), nil
}

// yamlNode converts normalized JSON data (maps, slices, strings, json.Number, float64,
// bool, nil) to a go-yaml node tree with explicit tags.
func yamlNode(v any) *yaml.Node {
	switch t := v.(type) {
	case map[string]any:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		if len(t) == 0 {
			n.Style = yaml.FlowStyle
		}
		for _, k := range (*orders)(nil).sortedKeys(t) {
			n.Content = append(n.Content, yamlNode(k), yamlNode(t[k]))
		}
		return n
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		if len(t) == 0 {
			n.Style = yaml.FlowStyle
		}
		for _, item := range t {
			n.Content = append(n.Content, yamlNode(item))
		}
		return n
	case nil:
		return yamlScalar("", "null")
	case bool:
		return yamlScalar("", fmt.Sprint(t))
	case string:
		n := yamlScalar("!!str", t)
		if yaml11Implicit(t) {
			n.Style = yaml.DoubleQuotedStyle // go-yaml quotes what YAML 1.2 would misread
		}
		return n
	case json.Number:
		if isIntLiteral(string(t)) {
			return yamlScalar("", pyNumber(t, false))
		}
		return yamlScalar("", yamlFloat(pyNumber(t, false)))
	case float64:
		s := pyFloatValue(t, false)
		if t == math.Trunc(t) && math.Abs(t) < 1e21 {
			return yamlScalar("", s) // printed as the int Python would have read
		}
		return yamlScalar("", yamlFloat(s))
	default:
		return yamlScalar("!!str", fmt.Sprint(t))
	}
}

// yamlScalar is a scalar node; an empty tag leaves the value plain, for the non-strings,
// whose text is already what a reader resolves to the right type.
func yamlScalar(tag, value string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value}
}

// yamlFloat is PyYAML's represent_float on Python's repr of a float.
func yamlFloat(repr string) string {
	switch repr {
	case "nan":
		return ".nan"
	case "inf":
		return ".inf"
	case "-inf":
		return "-.inf"
	}
	s := strings.ToLower(repr)
	if !strings.Contains(s, ".") && strings.Contains(s, "e") {
		s = strings.Replace(s, "e", ".0e", 1)
	}
	return s
}

// yaml11Implicit reports whether s, written plain, would read back under YAML 1.1 as
// something other than a string. YAML 1.2's own cases (true, null, 123, 1e3, timestamps)
// go-yaml quotes by itself; YAML 1.1 has two readers that matter here:
//
//   - PyYAML's implicit resolvers (yaml11Resolvers): yes/no/on/off, sexagesimal and
//     underscored numbers, 0b/0 octal ints, "=", "<<";
//   - go-yaml v2, which sigs.k8s.io/yaml, and so kubectl and most Go tools, read YAML with
//     (goYAMLv2Implicit): y and n are booleans too, and a number is whatever Go's strconv
//     takes once underscores are removed.
func yaml11Implicit(s string) bool {
	return yaml11Resolvers.MatchString(s) || goYAMLv2Implicit(s)
}

// goYAMLv2Implicit reports whether go-yaml v2 reads s, written plain, as a non-string. It
// may say true for a few strings v2 still reads as strings (1e400); quoting those is
// harmless.
func goYAMLv2Implicit(s string) bool {
	if s == "" {
		return false
	}
	switch c := s[0]; {
	case c == 'y' || c == 'Y' || c == 'n' || c == 'N':
		return len(s) == 1
	case c == '.':
		_, err := strconv.ParseFloat(s, 64)
		return err == nil
	case c == '+' || c == '-' || c >= '0' && c <= '9':
		if goYAMLv2Timestamp(s) {
			return true
		}
		plain := strings.ReplaceAll(s, "_", "")
		if _, err := strconv.ParseInt(plain, 0, 64); err == nil {
			return true
		}
		if _, err := strconv.ParseUint(plain, 0, 64); err == nil {
			return true
		}
		return goYAMLv2Float.MatchString(plain)
	}
	return false
}

// goYAMLv2Float is the float syntax go-yaml v2 accepts.
var goYAMLv2Float = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)

// goYAMLv2Timestamp reports whether go-yaml v2 reads s as a timestamp: a date with
// one- or two-digit month and day, optionally with a time.
func goYAMLv2Timestamp(s string) bool {
	if len(s) < 5 || strings.IndexFunc(s[:4], func(r rune) bool { return r < '0' || r > '9' }) >= 0 || s[4] != '-' {
		return false
	}
	for _, layout := range []string{"2006-1-2T15:4:5.999999999Z07:00", "2006-1-2t15:4:5.999999999Z07:00", "2006-1-2 15:4:5.999999999", "2006-1-2"} {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}

// yaml11Resolvers joins the YAML 1.1 type repository's regular expressions for bool, float,
// int, merge, null, timestamp and value.
var yaml11Resolvers = regexp.MustCompile(`^(?:` + strings.Join([]string{
	`yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF`,
	`[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)`,
	`[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+`,
	`<<|~|null|Null|NULL|=`,
	`[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?`,
}, "|") + `)$`)
