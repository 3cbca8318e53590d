package correlate

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the service's Prometheus metrics. Labels come from small
// fixed sets: verdicts, reasons, finding types and severities, the
// model's conduit ids ("none" without one), stage names.
type metrics struct {
	verdicts    *prometheus.CounterVec
	findings    *prometheus.CounterVec
	state       *prometheus.GaugeVec
	lag         *prometheus.GaugeVec
	latency     prometheus.Histogram
	undecodable prometheus.Counter
	leader      prometheus.Gauge
	restarts    *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		verdicts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "otsiem_correlate_verdicts_total",
			Help: "Events judged, by verdict, conduit and reason."}, []string{"verdict", "conduit", "reason"}),
		findings: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "otsiem_correlate_findings_total",
			Help: "New findings (first revisions), by type and severity."}, []string{"type", "severity"}),
		state: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "otsiem_correlate_state_entries",
			Help: "Entries in the findings state, by kind (folds, scan_sources, pairs, diodes)."}, []string{"kind"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "otsiem_correlate_consumer_lag_messages",
			Help: "Event messages not yet processed, by stage (verdicts, findings)."}, []string{"stage"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "otsiem_correlate_processing_latency_seconds",
			Help: "Time to judge and enrich one event message (a batch of events).", Buckets: prometheus.ExponentialBuckets(1e-5, 4, 10)}),
		undecodable: prometheus.NewCounter(prometheus.CounterOpts{Name: "otsiem_correlate_undecodable_events_total",
			Help: "Event records that did not decode and were skipped."}),
		leader: prometheus.NewGauge(prometheus.GaugeOpts{Name: "otsiem_correlate_findings_leader",
			Help: "1 while this process runs the findings stage."}),
		restarts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "otsiem_correlate_stage_restarts_total",
			Help: "Times a stage (verdicts, findings) failed and was started again."}, []string{"stage"}),
	}
	for _, stage := range []string{"verdicts", "findings"} {
		m.restarts.WithLabelValues(stage)
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.verdicts, m.findings, m.state, m.lag, m.latency, m.undecodable, m.leader, m.restarts} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("correlate metrics: %w", err)
			}
		}
	}
	return m, nil
}

func (m *metrics) verdict(j Judgement, conduit string) {
	if j.Verdict == None {
		return
	}
	if conduit == "" {
		conduit = "none"
	}
	reason := string(j.Reason)
	if reason == "" {
		reason = "none"
	}
	m.verdicts.WithLabelValues(string(j.Verdict), conduit, reason).Inc()
}
