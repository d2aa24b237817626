package ingest

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the ingest path's Prometheus series.
type Metrics struct {
	pushes      *prometheus.CounterVec   // by source and result/problem code
	rejected    *prometheus.CounterVec   // by source and reason
	pushLatency *prometheus.HistogramVec // by source
	batchSize   prometheus.Histogram
	commitTime  prometheus.Histogram
	commitFails prometheus.Counter
	events      *prometheus.CounterVec // by event type
	warnings    *prometheus.CounterVec // by source and warning code
}

// NewMetrics registers the ingest series with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		pushes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orderhub_push_requests_total", Help: "Pushes answered, by source and outcome (created, updated, duplicate, stale, or the problem code).",
		}, []string{"source", "outcome"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orderhub_push_rejected_total", Help: "Pushes refused for bad input, by source and reason (the problem code).",
		}, []string{"source", "reason"}),
		pushLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "orderhub_push_duration_seconds", Help: "Time from reading a push to answering it.",
			Buckets: []float64{.001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"source"}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "orderhub_ingest_batch_size", Help: "Documents committed per ingest transaction.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512},
		}),
		commitTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "orderhub_ingest_commit_seconds", Help: "Duration of one ingest transaction.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, 1},
		}),
		commitFails: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "orderhub_ingest_commit_failures_total", Help: "Ingest transactions that failed.",
		}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orderhub_order_events_total", Help: "Order events recorded, by type.",
		}, []string{"type"}),
		warnings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orderhub_push_warnings_total", Help: "Pushes accepted with a warning (such as totals_mismatch), by source and warning code.",
		}, []string{"source", "code"}),
	}
	reg.MustRegister(m.pushes, m.rejected, m.pushLatency, m.batchSize, m.commitTime, m.commitFails, m.events, m.warnings)
	return m
}

func (m *Metrics) observeBatch(n int, d time.Duration, err error) {
	if m == nil {
		return
	}
	m.batchSize.Observe(float64(n))
	m.commitTime.Observe(d.Seconds())
	if err != nil {
		m.commitFails.Inc()
	}
}
