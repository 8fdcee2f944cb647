package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
)

// figure is one row of the table: a measured quantity, its samples and its goal.
type figure struct {
	Name string `json:"name"`
	// Unit is how the samples are counted: "s", "ms", "MB", "goroutines", "% of a core".
	Unit string `json:"unit"`
	// Goal is the largest median that meets the goal.
	Goal    float64   `json:"goal"`
	Samples []float64 `json:"samples"`
	// Note says what went wrong or what a sample is, "" without anything to say.
	Note string `json:"note,omitempty"`
}

// summary is a figure's samples reduced to min / median / max.
type summary struct {
	Min, Median, Max float64
}

// summarize returns min / median / max of the samples (the median of an even count is
// the mean of the middle two); ok is false without samples.
func (f *figure) summarize() (s summary, ok bool) {
	if len(f.Samples) == 0 {
		return s, false
	}
	v := slices.Clone(f.Samples)
	slices.Sort(v)
	mid := len(v) / 2
	s.Median = v[mid]
	if len(v)%2 == 0 {
		s.Median = (v[mid-1] + v[mid]) / 2
	}
	return summary{Min: v[0], Median: s.Median, Max: v[len(v)-1]}, true
}

// met says whether the median is within the goal; false without samples.
func (f *figure) met() bool {
	s, ok := f.summarize()
	return ok && s.Median <= f.Goal
}

// format renders a value in the figure's unit with the precision the unit deserves.
func (f *figure) format(v float64) string {
	switch f.Unit {
	case "s":
		return fmt.Sprintf("%.2f s", v)
	case "ms":
		return fmt.Sprintf("%.2f ms", v)
	case "MB":
		return fmt.Sprintf("%.0f MB", v)
	case "goroutines":
		return fmt.Sprintf("%.0f", v)
	case "% of a core":
		return fmt.Sprintf("%.3f %%", v)
	default:
		return fmt.Sprintf("%g %s", v, f.Unit)
	}
}

// machine describes where the figures were taken.
type machine struct {
	Date string `json:"date"`
	// Cores is the number of logical CPUs.
	Cores       int    `json:"cores"`
	LoadAverage string `json:"loadAverage"`
	Clusters    int    `json:"clusters"`
	Samples     int    `json:"samples"`
	Quick       bool   `json:"quick"`
	// Took is how long the whole benchmark ran, in seconds.
	Took float64 `json:"tookSeconds"`
}

// report is the benchmark's output: where it ran and the figures.
type report struct {
	Machine machine   `json:"machine"`
	Figures []*figure `json:"figures"`
}

// writeTable prints the report as a Markdown table, one row per figure.
func (r *report) writeTable(w io.Writer) error {
	var b strings.Builder
	m := r.Machine
	fmt.Fprintf(&b, "mlfleet benchmark, %s: %d cores, load average %s, %d clusters, %d samples a figure", m.Date, m.Cores, m.LoadAverage, m.Clusters, m.Samples)
	if m.Quick {
		b.WriteString(" (--quick)")
	}
	fmt.Fprintf(&b, ", took %.0f s\n\n", m.Took)
	b.WriteString("| figure | min | median | max | n | goal | met |\n|---|--:|--:|--:|--:|--:|:-:|\n")
	for _, f := range r.Figures {
		s, ok := f.summarize()
		lo, med, hi, met := "-", "-", "-", "no"
		if ok {
			lo, med, hi = f.format(s.Min), f.format(s.Median), f.format(s.Max)
		}
		if f.met() {
			met = "yes"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %d | ≤ %s | %s |\n", f.Name, lo, med, hi, len(f.Samples), f.format(f.Goal), met)
	}
	notes := false
	for _, f := range r.Figures {
		if f.Note != "" {
			if !notes {
				b.WriteString("\n")
				notes = true
			}
			fmt.Fprintf(&b, "- %s: %s\n", f.Name, f.Note)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeJSON prints the report as JSON.
func (r *report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
