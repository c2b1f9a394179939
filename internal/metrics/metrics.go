// Package metrics defines Offsite's Prometheus metrics for the worker and the API.
package metrics

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the collectors of one process, on a registry of its own.
type Metrics struct {
	Registry *prometheus.Registry

	Tasks        *prometheus.CounterVec   // offsite_tasks_total{type,outcome}
	TaskSeconds  *prometheus.HistogramVec // offsite_task_duration_seconds{type}
	Decoded      prometheus.Counter       // offsite_raster_bytes_decoded_total
	BytesFetched prometheus.Counter       // offsite_raster_bytes_fetched_total
	Requests     *prometheus.CounterVec   // offsite_http_requests_total{route,method,code}
	ReqSeconds   *prometheus.HistogramVec // offsite_http_request_duration_seconds{route,method}
	Phases       *prometheus.CounterVec   // offsite_pipeline_phase_seconds_total{phase}
	// CaptureStages times each stage of each capture's ingest and clipping.
	CaptureStages *prometheus.HistogramVec // offsite_capture_stage_seconds{stage}
	IngestBytes   *prometheus.CounterVec   // offsite_ingest_bytes_total{what}
	Conversions   *prometheus.CounterVec   // offsite_ingest_conversions_total{conversion}
}

// New returns the metrics with the Go runtime and process collectors registered.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Tasks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "offsite_tasks_total", Help: "Tasks handled, by type and outcome (ok, retry, failed).",
		}, []string{"type", "outcome"}),
		TaskSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "offsite_task_duration_seconds", Help: "Task handling time, by type.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 16),
		}, []string{"type"}),
		Decoded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "offsite_raster_bytes_decoded_total", Help: "Bytes of scene pixels decoded (all bands): pixels read times the sample size.",
		}),
		BytesFetched: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "offsite_raster_bytes_fetched_total", Help: "Bytes fetched from object storage by raster reads.",
		}),
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "offsite_http_requests_total", Help: "HTTP requests, by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		ReqSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "offsite_http_request_duration_seconds", Help: "HTTP request time, by route pattern and method.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}, []string{"route", "method"}),
		Phases: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "offsite_pipeline_phase_seconds_total", Help: "Time pipeline runs spent in each phase (load, hash, read, detect, clips, store, uploads, record).",
		}, []string{"phase"}),
	}
	m.CaptureStages = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "offsite_capture_stage_seconds", Help: "Time of each stage of a capture's arrival: fetch (one streaming read, hashed), hash, inspect (checks, footprint, statistics), convert, store (the converted copy), clip, record.",
		Buckets: prometheus.ExponentialBuckets(0.01, 2, 16),
	}, []string{"stage"})
	m.IngestBytes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "offsite_ingest_bytes_total", Help: "Bytes ingest fetched from object storage (fetched) and wrote as converted copies (converted).",
	}, []string{"what"})
	m.Conversions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "offsite_ingest_conversions_total", Help: "Captures ingested, by the conversion they needed (none, cog).",
	}, []string{"conversion"})
	m.Registry.MustRegister(m.Tasks, m.TaskSeconds, m.Decoded, m.BytesFetched, m.Requests, m.ReqSeconds, m.Phases,
		m.CaptureStages, m.IngestBytes, m.Conversions,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// Middleware counts and times every task. A nil *Metrics passes tasks through.
func (m *Metrics) Middleware(next asynq.Handler) asynq.Handler {
	if m == nil {
		return next
	}
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		start := time.Now()
		err := next.ProcessTask(ctx, t)
		m.TaskSeconds.WithLabelValues(t.Type()).Observe(time.Since(start).Seconds())
		outcome := "ok"
		switch {
		case errors.Is(err, asynq.SkipRetry):
			outcome = "failed"
		case err != nil:
			outcome = "retry"
		}
		m.Tasks.WithLabelValues(t.Type(), outcome).Inc()
		return err
	})
}

// AddRead records the pixel bytes decoded and the bytes fetched from object storage by one
// raster operation; negative counts (not counted) are ignored. Safe on a nil *Metrics.
func (m *Metrics) AddRead(decoded, fetched int64) {
	if m == nil {
		return
	}
	if decoded > 0 {
		m.Decoded.Add(float64(decoded))
	}
	if fetched > 0 {
		m.BytesFetched.Add(float64(fetched))
	}
}

// AddPhase adds d to the time pipeline runs spent in phase. Safe on a nil *Metrics.
func (m *Metrics) AddPhase(phase string, d time.Duration) {
	if m == nil {
		return
	}
	m.Phases.WithLabelValues(phase).Add(d.Seconds())
}

// ObserveCaptureStage records the time of one stage of one capture's arrival; zero
// durations (a stage that did not run) are not recorded. Safe on a nil *Metrics.
func (m *Metrics) ObserveCaptureStage(stage string, d time.Duration) {
	if m == nil || d <= 0 {
		return
	}
	m.CaptureStages.WithLabelValues(stage).Observe(d.Seconds())
}

// AddIngest counts one ingested capture: its conversion ("" counts as "none"), the bytes
// fetched and the bytes of the converted copy. Safe on a nil *Metrics.
func (m *Metrics) AddIngest(conversion string, fetched, converted int64) {
	if m == nil {
		return
	}
	if conversion == "" {
		conversion = "none"
	}
	m.Conversions.WithLabelValues(conversion).Inc()
	m.IngestBytes.WithLabelValues("fetched").Add(float64(max(0, fetched)))
	m.IngestBytes.WithLabelValues("converted").Add(float64(max(0, converted)))
}

// ObserveRequest records one HTTP request. Safe on a nil *Metrics.
func (m *Metrics) ObserveRequest(route, method string, code int, d time.Duration) {
	if m == nil {
		return
	}
	m.Requests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	m.ReqSeconds.WithLabelValues(route, method).Observe(d.Seconds())
}

// QueueCollector reports the depth of every asynq queue by state when scraped.
type QueueCollector struct {
	Inspector *asynq.Inspector
	desc      *prometheus.Desc
}

// NewQueueCollector returns a collector of queue depths read through insp.
func NewQueueCollector(insp *asynq.Inspector) *QueueCollector {
	return &QueueCollector{Inspector: insp, desc: prometheus.NewDesc("offsite_queue_tasks",
		"Tasks in each asynq queue, by state.", []string{"queue", "state"}, nil)}
}

// Describe implements prometheus.Collector.
func (c *QueueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *QueueCollector) Collect(ch chan<- prometheus.Metric) {
	queues, err := c.Inspector.Queues()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for _, q := range queues {
		info, err := c.Inspector.GetQueueInfo(q)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(c.desc, err)
			continue
		}
		for state, n := range map[string]int{
			"pending": info.Pending, "active": info.Active, "scheduled": info.Scheduled,
			"retry": info.Retry, "archived": info.Archived, "completed": info.Completed,
		} {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), q, state)
		}
	}
}
