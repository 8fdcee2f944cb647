package output

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// knack formats values with Python's str() and repr(); these helpers reproduce them for the
// normalised data (map[string]any, []any, string, json.Number, float64, bool, nil).

// pyStr is Python's str(v).
func pyStr(v any, keys func(map[string]any) []string) string {
	if s, ok := v.(string); ok {
		return s
	}
	return pyRepr(v, keys)
}

// pyRepr is Python's repr(v); keys gives the order of an object's keys (nil = sorted).
func pyRepr(v any, keys func(map[string]any) []string) string {
	var b strings.Builder
	writeRepr(&b, v, keys)
	return b.String()
}

func writeRepr(b *strings.Builder, v any, keys func(map[string]any) []string) {
	switch t := v.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		if t {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case string:
		b.WriteString(pyStrRepr(t))
	case json.Number:
		b.WriteString(pyNumber(t, false))
	case float64:
		b.WriteString(pyFloatValue(t, false))
	case map[string]any:
		var ks []string
		if keys != nil {
			ks = keys(t)
		} else {
			ks = (*orders)(nil).sortedKeys(t)
		}
		b.WriteByte('{')
		for i, k := range ks {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(pyStrRepr(k))
			b.WriteString(": ")
			writeRepr(b, t[k], keys)
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, e, keys)
		}
		b.WriteByte(']')
	default:
		fmt.Fprint(b, t)
	}
}

// pyStrRepr is repr() of a str: single quotes unless the text has a single quote and no
// double quote; backslash, the quote, \t \n \r and non-printable characters escaped.
func pyStrRepr(s string) string {
	quote := byte('\'')
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		quote = '"'
	}
	var b strings.Builder
	b.WriteByte(quote)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(quote):
			b.WriteByte('\\')
			b.WriteByte(quote)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r >= 0x20 && r < 0x7f, r >= 0x80 && unicode.IsPrint(r):
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x10000:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	b.WriteByte(quote)
	return b.String()
}

// pyNumber prints a JSON number the way Python prints it after json.loads: an integer
// literal as its digits, anything else as a float (repr; json=true spells the infinities as
// json.dumps does).
func pyNumber(n json.Number, json bool) string {
	s := string(n)
	if isIntLiteral(s) {
		if s == "-0" {
			return "0"
		}
		return s
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !math.IsInf(f, 0) {
		return s
	}
	return pyFloat(f, json)
}

// pyFloatValue prints a float64 that a query produced or converted: integral values below
// 1e21 are what Go's encoder writes as integer literals (which Python reads as int), so they
// print as integers; the rest print as Python floats.
func pyFloatValue(f float64, json bool) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		if f == 0 {
			return "0"
		}
		return strconv.FormatFloat(f, 'f', 0, 64)
	}
	return pyFloat(f, json)
}

// pyFloat is Python's repr(float): the shortest round-trip digits, in positional notation
// when the decimal exponent is in [-4, 16), otherwise as d.ddde±XX.
func pyFloat(f float64, json bool) string {
	switch {
	case math.IsNaN(f):
		if json {
			return "NaN"
		}
		return "nan"
	case math.IsInf(f, 1):
		if json {
			return "Infinity"
		}
		return "inf"
	case math.IsInf(f, -1):
		if json {
			return "-Infinity"
		}
		return "-inf"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // [-]d[.ddd]e±dd
	sign := ""
	if e[0] == '-' {
		sign, e = "-", e[1:]
	}
	mant, expStr, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	exp, _ := strconv.Atoi(expStr)
	decpt := exp + 1 // digits are 0.d1d2... × 10^decpt
	switch {
	case decpt <= -4 || decpt > 16:
		out := digits[:1]
		if len(digits) > 1 {
			out += "." + digits[1:]
		}
		es := "+"
		if exp < 0 {
			es, exp = "-", -exp
		}
		return fmt.Sprintf("%s%se%s%02d", sign, out, es, exp)
	case decpt <= 0:
		return sign + "0." + strings.Repeat("0", -decpt) + digits
	case decpt >= len(digits):
		return sign + digits + strings.Repeat("0", decpt-len(digits)) + ".0"
	default:
		return sign + digits[:decpt] + "." + digits[decpt:]
	}
}

// pyIsSpace is Python's str.isspace for one character.
func pyIsSpace(r rune) bool { return unicode.IsSpace(r) || r >= 0x1c && r <= 0x1f }

// pyStrip is Python's str.strip() with no argument.
func pyStrip(s string) string { return strings.TrimFunc(s, pyIsSpace) }

// pyRstrip is Python's str.rstrip() with no argument.
func pyRstrip(s string) string { return strings.TrimRightFunc(s, pyIsSpace) }

// pySplitLines is Python's str.splitlines(keepends).
func pySplitLines(s string, keepends bool) []string {
	var lines []string
	rs := []rune(s)
	var cur strings.Builder
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch r {
		case '\n', '\r', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
			end := string(r)
			if r == '\r' && i+1 < len(rs) && rs[i+1] == '\n' {
				end = "\r\n"
				i++
			}
			if keepends {
				cur.WriteString(end)
			}
			lines = append(lines, cur.String())
			cur.Reset()
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		lines = append(lines, cur.String())
	}
	return lines
}
