package output

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
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
// expression, its keys in the order written, innermost hashes first. It walks go-jmespath's
// own parse tree, so keys are found exactly where its evaluator builds objects.
//
// go-jmespath v0.4 exports the tree's node types but not its fields (nodeType, value,
// children), so the walk reads them through reflection, which may read unexported fields;
// TestMultiselectKeys fails if a new version renames them.
func multiselectKeys(expr string) [][]string {
	tree, err := jmespath.NewParser().Parse(expr)
	if err != nil {
		return nil
	}
	var out [][]string
	var walk func(n reflect.Value)
	walk = func(n reflect.Value) {
		children := n.FieldByName("children")
		for i := 0; i < children.Len(); i++ {
			walk(children.Index(i))
		}
		if n.FieldByName("nodeType").Int() != int64(jmespath.ASTMultiSelectHash) {
			return
		}
		keys := make([]string, 0, children.Len())
		for i := 0; i < children.Len(); i++ {
			if k := children.Index(i).FieldByName("value"); k.Kind() == reflect.Interface && k.Elem().Kind() == reflect.String {
				keys = append(keys, k.Elem().String())
			}
		}
		out = append(out, keys)
	}
	walk(reflect.ValueOf(tree))
	return out
}
