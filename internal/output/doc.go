// Package output is the single place where mlfleet's CLI prints command results. It mirrors
// the Azure CLI (`az`), whose output is produced by Microsoft's knack library (knack/output.py,
// knack/query.py, knack/cli.py) on top of tabulate ("simple" table format), PyYAML and Pygments.
//
// Print takes any JSON-marshalable value, normalises it through a JSON round trip (numbers kept
// as json.Number, so big integers print unchanged), applies an optional JMESPath query
// (github.com/jmespath/go-jmespath) and writes one of these formats:
//
//   - json: indent 2, keys sorted, non-ASCII kept, "<>&" not escaped, trailing newline;
//     numbers print as Python prints them after json.loads (ints unchanged, floats in Python's
//     repr: 1e-05, 1e+16, 2.5).
//   - jsonc: json with Pygments' TerminalFormatter colours (keys bright blue, strings yellow,
//     numbers/true/false/null blue, whitespace grey). With Options.Color false it is plain json,
//     as az does when stdout is not a terminal.
//   - yaml: what PyYAML's safe_dump(default_flow_style=False, allow_unicode=True) writes, as
//     data: block style, sorted keys, Python's float forms, strings quoted wherever YAML 1.1
//     or 1.2 would read them as another type; emitted by go-yaml, whose quoting and line
//     breaks differ from PyYAML's (see yaml.go).
//   - table: knack's table. A list gives one row per item (anything else is a one-item
//     list). For an object item the columns are its keys whose values are neither null nor
//     an object/array, skipping the keys "id", "type" and "etag"; headers are the keys with
//     the first character upper-cased. An array item gives Column1..ColumnN; a scalar item
//     gives the column Result. Column order is the first-seen order over the rows: keys are
//     sorted when there is neither a query nor a table transformer, otherwise they keep the
//     item's own order (the query's order for objects built by a multiselect hash). Each
//     column is as wide as its widest cell, and at least its header plus two; columns are
//     separated by two spaces, the underline is one run of dashes per column, every line is
//     right-trimmed, cells are trimmed and left-aligned, null is an empty cell, booleans are
//     True/False, nested values print as Python reprs. An empty list prints one empty line.
//   - tsv: one line per item, no header. An object gives its values tab-separated (sorted
//     by key, except objects built by a query multiselect hash, which keep the query's
//     order); an array value prints its length, an object value prints nothing, null prints
//     None and a nested boolean True/False, while a top-level boolean item prints true/false.
//     Options.Extensions names keys that mlfleet adds to az's objects; tsv leaves them out
//     (but not of a multiselect hash's objects), so that the columns are az's.
//   - none: nothing.
//
// As in az, a null result (including a query that yields null) prints nothing in every
// format. A query that is not valid JMESPath is a *QueryError whose message is argparse's
// "argument --query: invalid jmespath_type value: '<expr>'" (az exits 2 on it; ValidQuery
// checks a query up front); errors raised while evaluating a valid query are returned as
// they are (az exits 1). A table transformer that panics gives ErrTableUnavailable, knack's
// "Table output unavailable..." message. ValidFormat and Formats serve the --output flag.
//
// The behaviour was established by reading knack/output.py, knack/query.py and knack/cli.py
// (microsoft/knack e0c14114), tabulate 0.9.0 and PyYAML's emitter, and checked by running
// them: the golden files in testdata were produced by knack itself (the YAML ones are compared
// as data and key order).
package output
