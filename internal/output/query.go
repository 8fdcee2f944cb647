package output

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/jmespath/go-jmespath"
)

// QueryError reports a --query expression that is not valid JMESPath. Its message is the one
// az prints (argparse's type error); az exits with status 2 on it.
type QueryError struct {
	Query string // the expression as given
	Err   error  // the parser's error
}

func (e *QueryError) Error() string {
	return "argument --query: invalid jmespath_type value: " + pyRepr(e.Query, nil)
}

func (e *QueryError) Unwrap() error { return e.Err }

type query struct {
	expr      string
	jp        *jmespath.JMESPath
	keyOrders [][]string
}

func compileQuery(expr string) (*query, error) {
	jp, err := jmespath.Compile(expr)
	if err != nil {
		return nil, &QueryError{Query: expr, Err: err}
	}
	return &query{expr: expr, jp: jp, keyOrders: multiselectKeys(expr)}, nil
}

// search runs the query. go-jmespath compares and computes only with float64 numbers, so
// numbers that float64 holds exactly are converted first (in place, keeping map identity
// for key order); integers beyond 2^53 stay json.Number so they still print unchanged (the
// query then sees them as non-numbers: comparisons with them are null, as for any type
// mismatch).
// go-jmespath panics on some type errors (merge() of a null, for one); those come back as
// errors too.
func (q *query) search(data any) (result any, err error) {
	defer func() {
		if r := recover(); r != nil {
			result, err = nil, fmt.Errorf("query %s failed: %v", pyRepr(q.expr, nil), r)
		}
	}()
	return q.jp.Search(numbersToFloat(data))
}

func numbersToFloat(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = numbersToFloat(e)
		}
	case []any:
		for i, e := range t {
			t[i] = numbersToFloat(e)
		}
	case json.Number:
		s := string(t)
		if isIntLiteral(s) {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= -(1<<53) && n <= 1<<53 {
				return float64(n)
			}
			return t
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) {
			return f
		}
	}
	return v
}

func isIntLiteral(s string) bool { return !strings.ContainsAny(s, ".eE") }

// multiselectKeys lists, for each multiselect hash ({key: expr, ...}) in a valid JMESPath
// expression, its keys in the order written. It only scans tokens to find keys; evaluation is
// go-jmespath's.
func multiselectKeys(expr string) [][]string {
	type frame struct {
		open byte
		keys []string
	}
	var (
		stack  []frame
		out    [][]string
		keyPos bool // at the start of a key in a multiselect hash
	)
	src := expr
	// colonNext reports whether the next non-space character from i is ':'.
	colonNext := func(i int) bool {
		for ; i < len(src); i++ {
			switch src[i] {
			case ' ', '\t', '\n', '\r':
				continue
			case ':':
				return true
			}
			return false
		}
		return false
	}
	// skipQuoted returns the index just past the closing q of a token opened at i.
	skipQuoted := func(i int, q byte) int {
		for j := i + 1; j < len(src); j++ {
			if src[j] == '\\' {
				j++
				continue
			}
			if src[j] == q {
				return j + 1
			}
		}
		return len(src)
	}
	addKey := func(k string) {
		if len(stack) > 0 && stack[len(stack)-1].open == '{' {
			stack[len(stack)-1].keys = append(stack[len(stack)-1].keys, k)
		}
	}
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case c == '`' || c == '\'':
			i = skipQuoted(i, c)
		case c == '"':
			end := skipQuoted(i, '"')
			if keyPos && colonNext(end) {
				var k string
				if json.Unmarshal([]byte(src[i:end]), &k) == nil {
					addKey(k)
				}
			}
			i = end
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i + 1
			for j < len(src) && (src[j] == '_' || src[j] >= 'a' && src[j] <= 'z' || src[j] >= 'A' && src[j] <= 'Z' || src[j] >= '0' && src[j] <= '9') {
				j++
			}
			if keyPos && colonNext(j) {
				addKey(src[i:j])
			}
			i = j
		case c == '{' || c == '[' || c == '(':
			stack = append(stack, frame{open: c})
			i++
			keyPos = c == '{'
			continue
		case c == '}' || c == ']' || c == ')':
			if len(stack) > 0 {
				top := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				if top.open == '{' {
					out = append(out, top.keys)
				}
			}
			i++
		case c == ',':
			i++
			keyPos = len(stack) > 0 && stack[len(stack)-1].open == '{'
			continue
		default:
			i++
		}
		keyPos = false
	}
	return out
}
