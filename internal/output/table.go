package output

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// skipKeys are the object keys knack's table never shows (_TableOutput.SKIP_KEYS).
var skipKeys = map[string]bool{"id": true, "type": true, "etag": true}

// tableRow is one of knack's auto-table entries: ordered header names and their values.
type tableRow struct {
	cols []string
	vals map[string]any
}

func (r *tableRow) set(col string, v any) {
	if _, ok := r.vals[col]; !ok {
		r.cols = append(r.cols, col)
	}
	r.vals[col] = v
}

// autoTableItem is knack's _TableOutput._auto_table_item.
func autoTableItem(item any, keys func(map[string]any) []string) *tableRow {
	r := &tableRow{vals: map[string]any{}}
	switch t := item.(type) {
	case map[string]any:
		for _, k := range keys(t) {
			if skipKeys[k] {
				continue
			}
			switch t[k].(type) {
			case nil, map[string]any, []any:
				continue
			}
			r.set(capitalizeFirst(k), t[k])
		}
	case []any:
		for i, v := range t {
			r.set("Column"+strconv.Itoa(i+1), v)
		}
	default:
		r.set("Result", item)
	}
	return r
}

// capitalizeFirst is knack's _capitalize_first_char: x[0].upper() + x[1:].
func capitalizeFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return strings.ToUpper(string(r)) + s[n:]
}

// formatTable is knack's format_table: the auto-table entries rendered by tabulate with
// headers="keys", tablefmt="simple" and disable_numparse=True, plus a final newline.
//
// colKeys orders an object item's keys into columns; reprKeys orders the keys of objects
// printed inside cells (a Python dict's repr keeps its insertion order even when knack sorts
// the columns).
func formatTable(data any, colKeys, reprKeys func(map[string]any) []string) string {
	items, ok := data.([]any)
	if !ok {
		items = []any{data}
	}
	var headers []string
	seen := map[string]bool{}
	rows := make([]*tableRow, len(items))
	for i, item := range items {
		rows[i] = autoTableItem(item, colKeys)
		for _, c := range rows[i].cols {
			if !seen[c] {
				seen[c] = true
				headers = append(headers, c)
			}
		}
	}
	return tabulateSimple(headers, rows, reprKeys) + "\n"
}

// ansiCodes matches what tabulate treats as invisible: CSI sequences and OSC 8 hyperlinks
// (whose visible part is the link text, group 4).
var ansiCodes = regexp.MustCompile(`\x1b\[[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]|\x1b\]8;(\w+=\w+:?)*;([^\x1b]+)\x1b\\([^\x1b]+)\x1b\]8;;\x1b\\`)

// lineBreaks and headerBreaks are tabulate's splits for cell widths and multiline headers.
var (
	lineBreaks   = regexp.MustCompile(`[\r\n]`)
	headerBreaks = regexp.MustCompile(`\r|\n|\r\n`)
)

// tabulateSimple renders tabulate's "simple" format as knack calls it. Every column is a
// string column (number parsing is off and booleans print as text alike), so cells are
// trimmed and left-aligned; a column is as wide as its widest cell and at least its header
// plus tabulate's MIN_PADDING of 2. Lines are right-trimmed. A cell with a line break makes
// the whole table multiline: such rows span several lines.
func tabulateSimple(headers []string, rows []*tableRow, keys func(map[string]any) []string) string {
	if len(headers) == 0 {
		return "" // tabulate's "completely empty table"
	}
	cells := make([][]string, len(rows))
	invisible, multiline := false, false
	check := func(s string) {
		if !invisible && ansiCodes.MatchString(s) {
			invisible = true
		}
		if !multiline && strings.ContainsAny(s, "\r\n") {
			multiline = true
		}
	}
	for _, h := range headers {
		check(h)
	}
	for i, r := range rows {
		cells[i] = make([]string, len(headers))
		for c, h := range headers {
			v, ok := r.vals[h]
			if !ok || v == nil {
				check("None") // tabulate inspects str(None) of missing cells
				continue
			}
			cells[i][c] = pyStr(v, keys)
			check(cells[i][c])
		}
	}

	lineWidth := func(s string) int {
		if invisible {
			s = ansiCodes.ReplaceAllString(s, "$3")
		}
		return utf8.RuneCountInString(s)
	}
	width := func(s string) int {
		if !multiline {
			return lineWidth(s)
		}
		w := 0
		for _, l := range lineBreaks.Split(s, -1) {
			w = max(w, lineWidth(l))
		}
		return w
	}
	padRight := func(s string, w int) string {
		if n := w - lineWidth(s); n > 0 {
			return s + strings.Repeat(" ", n)
		}
		return s
	}
	pad := func(s string, w int) string {
		if !multiline {
			return padRight(s, w)
		}
		lines := pySplitLines(s, false)
		for i, l := range lines {
			lines[i] = padRight(l, w)
		}
		return strings.Join(lines, "\n")
	}

	widths := make([]int, len(headers))
	for c, h := range headers {
		w := width(h) + 2
		for i := range rows {
			cells[i][c] = pyStrip(cells[i][c])
			w = max(w, width(cells[i][c]))
		}
		widths[c] = w
		for i := range rows {
			cells[i][c] = pad(cells[i][c], w)
		}
	}
	head := make([]string, len(headers))
	for c, h := range headers {
		if multiline {
			parts := headerBreaks.Split(h, -1)
			for i, p := range parts {
				parts[i] = padRight(p, widths[c])
			}
			head[c] = strings.Join(parts, "\n")
		} else {
			head[c] = padRight(h, widths[c])
		}
	}

	var lines []string
	appendRow := func(cells []string) {
		if !multiline {
			lines = append(lines, pyRstrip(strings.Join(cells, "  ")))
			return
		}
		split := make([][]string, len(cells))
		n := 0
		for c, cell := range cells {
			split[c] = pySplitLines(cell, false)
			n = max(n, len(split[c]))
		}
		for l := 0; l < n; l++ {
			parts := make([]string, len(cells))
			for c := range cells {
				if l < len(split[c]) {
					parts[c] = split[c][l]
				} else {
					parts[c] = strings.Repeat(" ", widths[c])
				}
			}
			lines = append(lines, pyRstrip(strings.Join(parts, "  ")))
		}
	}
	appendRow(head)
	dashes := make([]string, len(widths))
	for c, w := range widths {
		dashes[c] = strings.Repeat("-", w)
	}
	lines = append(lines, strings.Join(dashes, "  "))
	for _, r := range cells {
		appendRow(r)
	}
	return strings.Join(lines, "\n")
}
