package router

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the router's Prometheus series, in a registry of its own.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	errors   *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mlfleet_endpoint_requests_total",
			Help: "Scoring requests by endpoint, deployment and HTTP status."}, []string{"endpoint", "deployment", "code"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mlfleet_endpoint_request_errors_total",
			Help: "Scoring requests that failed, by endpoint, deployment and reason."}, []string{"endpoint", "deployment", "reason"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "mlfleet_endpoint_request_duration_seconds",
			Help:    "Time to answer a scoring request, by endpoint and deployment.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}}, []string{"endpoint", "deployment"}),
	}
	m.registry.MustRegister(m.requests, m.errors, m.latency)
	return m
}

func (m *metrics) observe(endpoint, deployment string, status int, reason string, took time.Duration) {
	m.requests.WithLabelValues(endpoint, deployment, strconv.Itoa(status)).Inc()
	if reason != "" {
		m.errors.WithLabelValues(endpoint, deployment, reason).Inc()
	}
	m.latency.WithLabelValues(endpoint, deployment).Observe(took.Seconds())
}
