package output

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Options say how to print a result.
type Options struct {
	// Format is one of Formats; "" means json. Case is ignored, as az lower-cases --output.
	Format string
	// Query is a JMESPath expression applied before formatting ("" = none).
	Query string
	// Table optionally reshapes the result for table output, like az's table_transformer.
	// It gets the normalised result (map[string]any, []any, string, json.Number, bool, nil)
	// and is used only for table format when Query is "". Its return value is normalised
	// again; struct fields keep their declaration order as columns, map keys are sorted.
	Table func(any) any
	// Color turns on ANSI colours for jsonc. Without it jsonc prints plain json.
	Color bool
	// Extensions are keys that mlfleet adds to the objects az prints (a cluster's
	// "mlfleet"). tsv leaves them out of the objects of the result, so that a row has az's
	// columns and `cut -f N` picks the same field from both; an object built by the query's
	// multiselect hash keeps them, since the user named them. nil leaves every key in.
	Extensions []string
}

// formats are the accepted output formats, sorted as az's help lists them.
var formats = []string{"json", "jsonc", "none", "table", "tsv", "yaml"}

// Formats returns the accepted output formats (for flag help and completion).
func Formats() []string { return slices.Clone(formats) }

// ValidFormat reports whether s names an output format (case-insensitively); the error
// lists the allowed values.
func ValidFormat(s string) error {
	if slices.Contains(formats, strings.ToLower(s)) {
		return nil
	}
	//lint:ignore ST1005 az's own message, printed as it is
	return fmt.Errorf("'%s' is not a valid value for '--output'. Allowed values: %s.", s, strings.Join(formats, ", "))
}

// ErrTableUnavailable is knack's error when the table transformer fails.
//
//lint:ignore ST1005 knack's own message, printed as it is
var ErrTableUnavailable = errors.New("Table output unavailable. Use the --query option to specify an appropriate query. Use --debug for more info.")

// ValidQuery reports whether expr is a valid JMESPath expression; the error is a *QueryError.
// "" is valid (no query).
func ValidQuery(expr string) error {
	if expr == "" {
		return nil
	}
	_, err := compileQuery(expr)
	return err
}

// Print writes v in the format o asks for. v is any JSON-marshalable value.
func Print(w io.Writer, v any, o Options) error {
	format := strings.ToLower(o.Format)
	if format == "" {
		format = "json"
	}
	if err := ValidFormat(format); err != nil {
		return err
	}
	var q *query
	if o.Query != "" {
		var err error
		if q, err = compileQuery(o.Query); err != nil {
			return err
		}
	}
	data, ord, err := normalize(v)
	if err != nil {
		return fmt.Errorf("output: %w", err)
	}
	if q != nil {
		if data, err = q.search(data); err != nil {
			return err
		}
		ord.hints = q.keyOrders
	}
	// knack prints nothing at all for a None result, whatever the format.
	if data == nil {
		return nil
	}

	var out string
	switch format {
	case "json":
		out = formatJSON(data, false)
	case "jsonc":
		out = formatJSON(data, o.Color)
	case "yaml":
		if out, err = formatYAML(data); err != nil {
			return err
		}
	case "table":
		keys := ord.sortedKeys
		if q != nil {
			keys = ord.itemKeys
		} else if o.Table != nil {
			if data, ord, err = transform(o.Table, data); err != nil {
				return err
			}
			keys = ord.itemKeys
		}
		out = formatTable(data, keys, ord.itemKeys)
	case "tsv":
		out = formatTSV(data, func(m map[string]any) []string { return ord.tsvKeys(m, o.Extensions) })
	case "none":
		return nil
	}
	_, err = io.WriteString(w, out)
	return err
}

// transform applies a table transformer; like knack, a transformer that fails (here: panics)
// or returns something unprintable gives ErrTableUnavailable.
func transform(f func(any) any, data any) (out any, ord *orders, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, ord, err = nil, nil, ErrTableUnavailable
		}
	}()
	if out, ord, err = normalize(f(data)); err != nil {
		return nil, nil, ErrTableUnavailable
	}
	return out, ord, nil
}
