package output

import (
	"encoding/json"
	"fmt"
	"strings"
)

// formatJSON is knack's format_json: json.dumps(result, ensure_ascii=False, indent=2,
// sort_keys=True, separators=(',', ': ')) + '\n'. With color it is format_json_color:
// Pygments' JsonLexer tokens through TerminalFormatter (light background).
func formatJSON(v any, color bool) string {
	j := &jsonWriter{color: color}
	j.value(v, 0)
	j.tok(tokSpace, "\n")
	return j.b.String()
}

type tokKind int

const (
	tokPunct  tokKind = iota // { } [ ] , :  (no colour)
	tokSpace                 // whitespace runs: gray
	tokKey                   // object keys (Name.Tag): brightblue
	tokString                // String.Double: yellow
	tokNumber                // Number: blue
	tokConst                 // true false null (Keyword.Constant): blue
)

// ANSI codes of Pygments' TerminalFormatter for the token kinds above.
var tokColor = [...]string{
	tokPunct:  "",
	tokSpace:  "\x1b[37m",
	tokKey:    "\x1b[94m",
	tokString: "\x1b[33m",
	tokNumber: "\x1b[34m",
	tokConst:  "\x1b[34m",
}

const ansiReset = "\x1b[39;49;00m"

type jsonWriter struct {
	b     strings.Builder
	color bool
}

// tok writes one token. Coloured, each line of the token is wrapped separately, as
// TerminalFormatter does with value.splitlines(True).
func (j *jsonWriter) tok(k tokKind, s string) {
	c := tokColor[k]
	if !j.color || c == "" {
		j.b.WriteString(s)
		return
	}
	for _, line := range pySplitLines(s, true) {
		nl := strings.HasSuffix(line, "\n")
		j.b.WriteString(c)
		j.b.WriteString(strings.TrimRight(line, "\n"))
		j.b.WriteString(ansiReset)
		if nl {
			j.b.WriteByte('\n')
		}
	}
}

func (j *jsonWriter) value(v any, depth int) {
	switch t := v.(type) {
	case nil:
		j.tok(tokConst, "null")
	case bool:
		if t {
			j.tok(tokConst, "true")
		} else {
			j.tok(tokConst, "false")
		}
	case string:
		j.tok(tokString, jsonQuote(t))
	case json.Number:
		j.tok(tokNumber, pyNumber(t, true))
	case float64:
		j.tok(tokNumber, pyFloatValue(t, true))
	case map[string]any:
		if len(t) == 0 {
			j.tok(tokPunct, "{}")
			return
		}
		j.tok(tokPunct, "{")
		for i, k := range (*orders)(nil).sortedKeys(t) {
			if i > 0 {
				j.tok(tokPunct, ",")
			}
			j.tok(tokSpace, "\n"+strings.Repeat("  ", depth+1))
			j.tok(tokKey, jsonQuote(k))
			j.tok(tokPunct, ":")
			j.tok(tokSpace, " ")
			j.value(t[k], depth+1)
		}
		j.tok(tokSpace, "\n"+strings.Repeat("  ", depth))
		j.tok(tokPunct, "}")
	case []any:
		if len(t) == 0 {
			j.tok(tokPunct, "[]")
			return
		}
		j.tok(tokPunct, "[")
		for i, e := range t {
			if i > 0 {
				j.tok(tokPunct, ",")
			}
			j.tok(tokSpace, "\n"+strings.Repeat("  ", depth+1))
			j.value(e, depth+1)
		}
		j.tok(tokSpace, "\n"+strings.Repeat("  ", depth))
		j.tok(tokPunct, "]")
	default:
		j.tok(tokString, jsonQuote(fmt.Sprint(t)))
	}
}

// jsonQuote is Python's json string encoding with ensure_ascii=False: only '"', '\\' and
// control characters below 0x20 are escaped (\b \f \n \r \t, else \u00xx).
func jsonQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
