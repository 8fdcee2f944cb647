package procstat

import (
	"io"
	"net/http"
	"strconv"
	"strings"
)

// NoMetricError is ServerMetric's error when the server's /metrics does not have the
// metric asked for.
type NoMetricError struct {
	Name string
}

func (e *NoMetricError) Error() string { return "the server's /metrics has no " + e.Name }

// ServerMetric reads the value of an unlabelled metric (go_goroutines,
// process_cpu_seconds_total) from the /metrics of the mlfleet server at the URL server,
// through hc.
func ServerMetric(hc *http.Client, server, name string) (float64, error) {
	resp, err := hc.Get(strings.TrimSuffix(server, "/") + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, &NoMetricError{Name: name}
}
