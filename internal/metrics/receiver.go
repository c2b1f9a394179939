package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Receiver holds the collectors of the HJ 212 receiver (cmd/receiver), on a registry of its
// own. All methods of hj212.Server tolerate a nil *Receiver.
type Receiver struct {
	Registry *prometheus.Registry

	Frames        *prometheus.CounterVec // offsite_receiver_frames_total{outcome}
	Refused       *prometheus.CounterVec // offsite_receiver_refused_frames_total{kind}
	Deviations    *prometheus.CounterVec // offsite_receiver_deviations_total{deviation}
	Connections   prometheus.Gauge       // offsite_receiver_connections
	ConnsRejected *prometheus.CounterVec // offsite_receiver_connections_rejected_total{reason}
	AckSeconds    prometheus.Histogram   // offsite_receiver_ack_seconds
	BatchFrames   prometheus.Histogram   // offsite_receiver_batch_frames
	BatchSeconds  prometheus.Histogram   // offsite_receiver_batch_seconds
	Values        prometheus.Counter     // offsite_receiver_values_total
	SkippedBytes  prometheus.Counter     // offsite_receiver_skipped_bytes_total
}

// NewReceiver returns the receiver's metrics with the Go runtime and process collectors.
func NewReceiver() *Receiver {
	m := &Receiver{
		Registry: prometheus.NewRegistry(),
		Frames: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "offsite_receiver_frames_total", Help: "Frames read, by outcome (stored, quarantined, refused, store_failed).",
		}, []string{"outcome"}),
		Refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "offsite_receiver_refused_frames_total", Help: "Frames refused, by kind (length, crc, format, truncated).",
		}, []string{"kind"}),
		Deviations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "offsite_receiver_deviations_total", Help: "Accepted departures from HJ 212-2017, by deviation.",
		}, []string{"deviation"}),
		Connections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "offsite_receiver_connections", Help: "Data logger connections open.",
		}),
		ConnsRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "offsite_receiver_connections_rejected_total", Help: "Connections closed at once, by reason (per_address, total).",
		}, []string{"reason"}),
		AckSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "offsite_receiver_ack_seconds", Help: "Time from a frame's last byte to its acknowledgement, the data durable in between.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
		BatchFrames: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "offsite_receiver_batch_frames", Help: "Frames written per database transaction.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 12),
		}),
		BatchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "offsite_receiver_batch_seconds", Help: "Time of one batch's database transaction.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
		Values: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "offsite_receiver_values_total", Help: "Values (one factor of one frame) written, retransmissions included.",
		}),
		SkippedBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "offsite_receiver_skipped_bytes_total", Help: "Bytes received outside any frame.",
		}),
	}
	m.Registry.MustRegister(m.Frames, m.Refused, m.Deviations, m.Connections, m.ConnsRejected, m.AckSeconds,
		m.BatchFrames, m.BatchSeconds, m.Values, m.SkippedBytes,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Receiver) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}
