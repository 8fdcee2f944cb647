package output

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strings"
	"unicode/utf8"
)

// formatYAML is knack's format_yaml: yaml.safe_dump(result, default_flow_style=False,
// allow_unicode=True). PyYAML's rules for JSON-shaped data, as established by reading
// PyYAML's emitter/resolver/representer and checked against it output for output:
//
//   - block style, indent 2, keys sorted; a list under a key is not indented ("key:\n- a");
//     a mapping item starts on the "- " line; empty collections are [] and {};
//   - null, true/false, ints as digits, floats as repr() lower-cased with ".0" added before
//     an exponent that has no point (1.0e+21), .inf/-.inf/.nan;
//   - a string is plain unless it would read back as another type under YAML 1.1 (null, ~,
//     yes/no/on/off/true/false in three casings, ints incl. 0x/0o/0b/sexagesimal, floats,
//     timestamps, "=", "<<") or it has leading/trailing spaces, line breaks or YAML
//     indicators; then it is single-quoted, and double-quoted (with escapes) when it has
//     special characters (control characters, tab, BOM) or a space before a line break;
//   - plain and quoted scalars fold at spaces once past column 80; single-quoted line
//     breaks are written as blank lines; keys longer than 122 characters, empty or with
//     line breaks use the complex "? key\n: value" form;
//   - a top-level plain scalar is followed by the document end marker "...".
//
// The rendering is done here rather than by go-yaml, whose output differs (double quotes,
// literal blocks, "1e+21", which YAML 1.1 readers such as PyYAML take for a string).
func formatYAML(v any) string {
	e := &yamlEmitter{whitespace: true, indention: true}
	e.node(v, -1, yamlCtx{root: true})
	e.writeIndent(0) // document end
	if e.openEnded {
		e.writeIndicator("...", true, false, false)
		e.writeIndent(0)
	}
	return e.b.String()
}

const yamlWidth = 80

type yamlCtx struct {
	root, mapping, simpleKey bool
}

// yamlEmitter tracks what PyYAML's emitter tracks to decide spacing and folding: the
// column, whether the last character written is whitespace, and whether the line so far is
// only indentation and indicators.
type yamlEmitter struct {
	b          strings.Builder
	column     int
	whitespace bool
	indention  bool
	openEnded  bool
}

func (e *yamlEmitter) write(s string) {
	e.b.WriteString(s)
	e.column += utf8.RuneCountInString(s)
}

func (e *yamlEmitter) lineBreak(s string) {
	e.b.WriteString(s)
	e.whitespace, e.indention = true, true
	e.column = 0
}

// writeIndent moves to column indent, starting a new line unless the current line is still
// pure indentation short of (or exactly at, after whitespace) that column.
func (e *yamlEmitter) writeIndent(indent int) {
	if !e.indention || e.column > indent || (e.column == indent && !e.whitespace) {
		e.lineBreak("\n")
	}
	if e.column < indent {
		e.whitespace = true
		e.write(strings.Repeat(" ", indent-e.column))
	}
}

func (e *yamlEmitter) writeIndicator(ind string, needSpace, whitespace, indention bool) {
	if needSpace && !e.whitespace {
		ind = " " + ind
	}
	e.write(ind)
	e.whitespace = whitespace
	e.indention = e.indention && indention
	e.openEnded = false
}

// node writes one value whose parent collection sits at indent (-1 at the root).
func (e *yamlEmitter) node(v any, indent int, ctx yamlCtx) {
	switch t := v.(type) {
	case map[string]any:
		if len(t) == 0 {
			e.writeIndicator("{", true, true, false)
			e.writeIndicator("}", false, false, false)
			return
		}
		in := 0
		if indent >= 0 {
			in = indent + 2
		}
		for _, k := range (*orders)(nil).sortedKeys(t) {
			e.writeIndent(in)
			if yamlSimpleKey(k) {
				e.node(k, in, yamlCtx{mapping: true, simpleKey: true})
				e.writeIndicator(":", false, false, false)
			} else {
				e.writeIndicator("?", true, false, true)
				e.node(k, in, yamlCtx{mapping: true})
				e.writeIndent(in)
				e.writeIndicator(":", true, false, true)
			}
			e.node(t[k], in, yamlCtx{mapping: true})
		}
	case []any:
		if len(t) == 0 {
			e.writeIndicator("[", true, true, false)
			e.writeIndicator("]", false, false, false)
			return
		}
		in := 0
		switch {
		case ctx.mapping && !e.indention: // a list right after "key:" is not indented
			in = max(indent, 0)
		case indent >= 0:
			in = indent + 2
		}
		for _, item := range t {
			e.writeIndent(in)
			e.writeIndicator("-", true, false, true)
			e.node(item, in, yamlCtx{})
		}
	default:
		in := 2
		if indent >= 0 {
			in = indent + 2
		}
		text, isStr := yamlScalarText(t)
		e.scalar(text, isStr, in, ctx)
	}
}

// yamlScalarText is the text PyYAML's representer gives a scalar, and whether it is a str.
func yamlScalarText(v any) (string, bool) {
	switch t := v.(type) {
	case nil:
		return "null", false
	case bool:
		if t {
			return "true", false
		}
		return "false", false
	case string:
		return t, true
	case json.Number:
		if isIntLiteral(string(t)) {
			return pyNumber(t, false), false
		}
		return yamlFloat(pyNumber(t, false)), false
	case float64:
		s := pyFloatValue(t, false)
		if t == math.Trunc(t) && math.Abs(t) < 1e21 {
			return s, false // printed as the int Python would have read
		}
		return yamlFloat(s), false
	default:
		return fmt.Sprint(t), true
	}
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

// yamlSimpleKey is PyYAML's check_simple_key for a str key: not empty, no line break, and
// shorter than 128 characters counting the "!!str" tag it measures along.
func yamlSimpleKey(k string) bool {
	a := analyzeYAMLScalar(k)
	return len("!!str")+utf8.RuneCountInString(k) < 128 && !a.empty && !a.multiline
}

// yamlImplicit are PyYAML's YAML 1.1 implicit resolvers: a plain scalar matching one of them
// reads back as that type, not as a string. Each applies only to scalars starting with one
// of its first characters.
var yamlImplicit = []struct {
	first string
	re    *regexp.Regexp
}{
	{"yYnNtTfFoO", regexp.MustCompile(`^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$`)},
	{"-+0123456789.", regexp.MustCompile(`^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$`)},
	{"-+0123456789", regexp.MustCompile(`^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$`)},
	{"<", regexp.MustCompile(`^(?:<<)$`)},
	{"~nN", regexp.MustCompile(`^(?:~|null|Null|NULL)$`)},
	{"0123456789", regexp.MustCompile(`^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$`)},
	{"=", regexp.MustCompile(`^(?:=)$`)},
	{"!&*", regexp.MustCompile(`^(?:!|&|\*)$`)},
}

// yamlPlainIsStr reports whether s written plain would read back as a string.
func yamlPlainIsStr(s string) bool {
	if s == "" {
		return false // the empty plain scalar is null
	}
	r, _ := utf8.DecodeRuneInString(s)
	for _, ir := range yamlImplicit {
		if strings.ContainsRune(ir.first, r) && ir.re.MatchString(s) {
			return false
		}
	}
	return true
}

type yamlAnalysis struct {
	empty, multiline                    bool
	allowPlain, allowSingle, onlyDouble bool
}

func isYAMLBreak(r rune) bool { return r == '\n' || r == 0x85 || r == 0x2028 || r == 0x2029 }

func isYAMLSpaceOrBreak(r rune) bool {
	return r == 0 || r == ' ' || r == '\t' || r == '\r' || isYAMLBreak(r)
}

// analyzeYAMLScalar finds what in s rules out the plain and single-quoted styles (block
// context, allow_unicode=True).
func analyzeYAMLScalar(s string) yamlAnalysis {
	if s == "" {
		return yamlAnalysis{empty: true, allowPlain: true, allowSingle: true}
	}
	rs := []rune(s)
	n := len(rs)
	indicators := strings.HasPrefix(s, "---") || strings.HasPrefix(s, "...")
	var lineBreaks, special, leadSpace, leadBreak, trailSpace, trailBreak, breakSpace, spaceBreak bool
	prevSpace, prevBreak := false, false
	for i, r := range rs {
		before := i == 0 || isYAMLSpaceOrBreak(rs[i-1])
		after := i+1 >= n || isYAMLSpaceOrBreak(rs[i+1])
		if i == 0 {
			switch {
			case strings.ContainsRune("#,[]{}&*!|>'\"%@`", r):
				indicators = true
			case (r == '?' || r == ':' || r == '-') && after:
				indicators = true
			}
		} else if (r == ':' && after) || (r == '#' && before) {
			indicators = true
		}
		if isYAMLBreak(r) {
			lineBreaks = true
		}
		if r != '\n' && (r < 0x20 || r > 0x7e) {
			printable := r == 0x85 || (r >= 0xa0 && r <= 0xd7ff) || (r >= 0xe000 && r <= 0xfffd) ||
				(r >= 0x10000 && r < 0x10ffff)
			if !printable || r == 0xfeff {
				special = true
			}
		}
		switch {
		case r == ' ':
			leadSpace = leadSpace || i == 0
			trailSpace = trailSpace || i == n-1
			breakSpace = breakSpace || prevBreak
			prevSpace, prevBreak = true, false
		case isYAMLBreak(r):
			leadBreak = leadBreak || i == 0
			trailBreak = trailBreak || i == n-1
			spaceBreak = spaceBreak || prevSpace
			prevSpace, prevBreak = false, true
		default:
			prevSpace, prevBreak = false, false
		}
	}
	a := yamlAnalysis{multiline: lineBreaks, allowPlain: true, allowSingle: true}
	if leadSpace || leadBreak || trailSpace || trailBreak || lineBreaks || indicators {
		a.allowPlain = false
	}
	if breakSpace {
		a.allowPlain, a.allowSingle = false, false
	}
	if spaceBreak || special {
		a.allowPlain, a.allowSingle, a.onlyDouble = false, false, true
	}
	return a
}

// scalar chooses the style (PyYAML's choose_scalar_style) and writes the scalar; indent is
// where folded lines continue.
func (e *yamlEmitter) scalar(text string, isStr bool, indent int, ctx yamlCtx) {
	a := analyzeYAMLScalar(text)
	implicit := !isStr || yamlPlainIsStr(text)
	split := !ctx.simpleKey
	switch {
	case implicit && !(ctx.simpleKey && (a.empty || a.multiline)) && a.allowPlain:
		e.plain(text, indent, split, ctx.root)
	case a.allowSingle && !(ctx.simpleKey && a.multiline):
		e.singleQuoted(text, indent, split)
	default:
		e.doubleQuoted(text, indent, split)
	}
}

// yamlRuns splits s into runs of spaces, runs of line breaks and runs of other characters.
func yamlRuns(s string) []string {
	kind := func(r rune) int {
		switch {
		case r == ' ':
			return 1
		case isYAMLBreak(r):
			return 2
		}
		return 0
	}
	var runs []string
	rs := []rune(s)
	for i := 0; i < len(rs); {
		j := i + 1
		for j < len(rs) && kind(rs[j]) == kind(rs[i]) {
			j++
		}
		runs = append(runs, string(rs[i:j]))
		i = j
	}
	return runs
}

func (e *yamlEmitter) plain(text string, indent int, split, root bool) {
	if root {
		e.openEnded = true
	}
	if text == "" {
		return
	}
	if !e.whitespace {
		e.write(" ")
	}
	e.whitespace, e.indention = false, false
	// A plain scalar has no line breaks and no leading or trailing spaces: words and gaps.
	for _, run := range yamlRuns(text) {
		if run[0] == ' ' && len(run) == 1 && e.column > yamlWidth && split {
			e.writeIndent(indent)
			e.whitespace, e.indention = false, false
			continue
		}
		e.write(run)
	}
}

// writeBreaks writes a run of line breaks inside a quoted scalar: a "\n" run gets one extra
// newline (a lone line break would read back as a space), other breaks are written as they
// are, then the continuation indent.
func (e *yamlEmitter) writeBreaks(run string, indent int) {
	if run[0] == '\n' {
		e.lineBreak("\n")
	}
	for _, r := range run {
		e.lineBreak(string(r))
	}
	e.writeIndent(indent)
}

func (e *yamlEmitter) singleQuoted(text string, indent int, split bool) {
	e.writeIndicator("'", true, false, false)
	runs := yamlRuns(text)
	for i, run := range runs {
		switch {
		case run[0] == ' ':
			if len(run) == 1 && e.column > yamlWidth && split && i > 0 && i < len(runs)-1 {
				e.writeIndent(indent)
			} else {
				e.write(run)
			}
		case isYAMLBreak([]rune(run)[0]):
			e.writeBreaks(run, indent)
		default:
			e.write(strings.ReplaceAll(run, "'", "''"))
		}
	}
	e.writeIndicator("'", false, false, false)
}

// yamlEscapes are the short escapes of YAML double-quoted scalars.
var yamlEscapes = map[rune]string{
	0: `\0`, 0x07: `\a`, 0x08: `\b`, 0x09: `\t`, 0x0a: `\n`, 0x0b: `\v`, 0x0c: `\f`,
	0x0d: `\r`, 0x1b: `\e`, '"': `\"`, '\\': `\\`, 0x85: `\N`, 0xa0: `\_`, 0x2028: `\L`,
	0x2029: `\P`,
}

func yamlNeedsEscape(r rune) bool {
	switch r {
	case '"', '\\', 0x85, 0x2028, 0x2029, 0xfeff:
		return true
	}
	return !(r >= 0x20 && r <= 0x7e || r >= 0xa0 && r <= 0xd7ff || r >= 0xe000 && r <= 0xfffd)
}

func yamlEscape(r rune) string {
	if s, ok := yamlEscapes[r]; ok {
		return s
	}
	switch {
	case r <= 0xff:
		return fmt.Sprintf(`\x%02X`, r)
	case r <= 0xffff:
		return fmt.Sprintf(`\u%04X`, r)
	}
	return fmt.Sprintf(`\U%08X`, r)
}

// doubleQuoted writes s escaped. Past column 80 it folds: at a space, or right after an
// escape, the line ends with "\" and continues at indent (a continuation line that starts
// with a space gets a leading "\" so the space survives).
func (e *yamlEmitter) doubleQuoted(text string, indent int, split bool) {
	e.writeIndicator(`"`, true, false, false)
	rs := []rune(text)
	start := 0 // first rune not yet written
	for end := 0; end <= len(rs); end++ {
		if end < len(rs) && yamlNeedsEscape(rs[end]) || end == len(rs) {
			if start < end {
				e.write(string(rs[start:end]))
				start = end
			}
			if end < len(rs) {
				e.write(yamlEscape(rs[end]))
				start = end + 1
			}
		}
		if end > 0 && end < len(rs)-1 && (rs[end] == ' ' || start >= end) &&
			e.column+(end-start) > yamlWidth && split {
			pending := ""
			if start < end {
				pending = string(rs[start:end])
				start = end
			}
			e.write(pending + `\`)
			e.writeIndent(indent)
			e.whitespace, e.indention = false, false
			if rs[start] == ' ' {
				e.write(`\`)
			}
		}
	}
	e.writeIndicator(`"`, false, false, false)
}
