// Package watch runs firewarden as a daemon: live sensors feed one engine,
// whose alerts go to the configured sinks, with Prometheus metrics on a
// local port. It only watches: nothing here changes the firewall.
package watch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/firewarden/firewarden/alert"
	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/hunt"
	"github.com/firewarden/firewarden/rule"
	"github.com/firewarden/firewarden/source/process"
)

// Sensor is a live source of events: exec (eBPF), nftables netlink, audit
// multicast, configuration files.
type Sensor interface {
	// Name is how metrics and logs name the sensor ("exec", "nft"…).
	Name() string
	// Run emits events until ctx ends or the sensor fails.
	Run(ctx context.Context, emit func(*event.Event) error) error
	// Drops reports the events the sensor lost (ring buffer overruns,
	// netlink overflows): never silent.
	Drops() int64
}

// Config is what a watcher runs.
type Config struct {
	Sensors []Sensor
	Engine  *hunt.Engine
	Sink    alert.Sink
	// Events, when set, receives every sensor event (ECS NDJSON), so a
	// capture can be replayed with `firewarden hunt`.
	Events func(*event.Event) error
	// MetricsAddr is where Prometheus metrics are served ("" for none);
	// it must be a loopback address.
	MetricsAddr string
	Log         *slog.Logger
	// Buffer is how many sensor events may wait for the engine (default
	// 65,536); when it is full, sensors block rather than lose events.
	Buffer int
	// Processes links events to the exec that started their process: a
	// firewall change (nft, audit) carrying only a pid gets the culprit's
	// executable, command line and parent from the exec sensor's events.
	// nil: a table of process.DefaultCapacity.
	Processes *process.Table
	// Host names events that carry no host.name (default: os.Hostname).
	Host string
}

// Metrics are the watcher's Prometheus metrics.
type Metrics struct {
	Events     *prometheus.CounterVec // by sensor
	Drops      *prometheus.GaugeVec   // by sensor (the sensor's own running count)
	Alerts     *prometheus.CounterVec // by rule
	RuleErrors prometheus.Counter
	SinkErrors prometheus.Counter
	Latency    prometheus.Histogram // event time to alert
	reg        *prometheus.Registry
}

func newMetrics() *Metrics {
	m := &Metrics{
		Events:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "firewarden_events_total", Help: "Events read, by sensor."}, []string{"sensor"}),
		Drops:      prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "firewarden_sensor_drops", Help: "Events a sensor lost (ring buffer or netlink overflow), by sensor."}, []string{"sensor"}),
		Alerts:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "firewarden_alerts_total", Help: "Alerts raised, by rule."}, []string{"rule"}),
		RuleErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "firewarden_rule_errors_total", Help: "Errors while matching rules."}),
		SinkErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "firewarden_sink_errors_total", Help: "Alerts a sink failed to take."}),
		Latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "firewarden_alert_latency_seconds", Help: "From the event's time to its alert.",
			Buckets: []float64{.001, .005, .01, .05, .1, .25, .5, 1, 2, 5}}),
		reg: prometheus.NewRegistry(),
	}
	m.reg.MustRegister(m.Events, m.Drops, m.Alerts, m.RuleErrors, m.SinkErrors, m.Latency)
	return m
}

// Watcher is a running daemon.
type Watcher struct {
	cfg     Config
	Metrics *Metrics
	addr    net.Addr
}

// New checks the configuration and prepares a watcher.
func New(cfg Config) (*Watcher, error) {
	if cfg.Engine == nil || cfg.Sink == nil {
		return nil, errors.New("watch: an engine and a sink are needed")
	}
	if len(cfg.Sensors) == 0 {
		return nil, errors.New("watch: no sensor can run")
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Buffer <= 0 {
		cfg.Buffer = 1 << 16
	}
	if cfg.Processes == nil {
		cfg.Processes = process.NewTable(0)
	}
	if cfg.Host == "" {
		cfg.Host, _ = os.Hostname()
	}
	return &Watcher{cfg: cfg, Metrics: newMetrics()}, nil
}

// MetricsAddr is where metrics are served once Run has started (nil
// before, or without metrics).
func (w *Watcher) MetricsAddr() net.Addr { return w.addr }

// Run runs the sensors and the engine until ctx ends (SIGTERM) or every
// sensor has stopped; it then flushes the engine and returns the sensors'
// errors.
func (w *Watcher) Run(ctx context.Context) error {
	log := w.cfg.Log
	if w.cfg.MetricsAddr != "" {
		srv, err := w.serveMetrics(w.cfg.MetricsAddr)
		if err != nil {
			return err
		}
		defer srv.Close()
	}
	type item struct {
		ev     *event.Event
		sensor string
	}
	events := make(chan item, w.cfg.Buffer)
	var wg sync.WaitGroup
	errs := make([]error, len(w.cfg.Sensors))
	for i, s := range w.cfg.Sensors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			counter := w.Metrics.Events.WithLabelValues(s.Name())
			err := s.Run(ctx, func(ev *event.Event) error {
				// The engine may keep the event (a sequence step, an
				// alert); the sensor must not reuse it.
				ev.Retain()
				counter.Inc()
				select {
				case events <- item{ev, s.Name()}:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			})
			if err != nil && !errors.Is(err, context.Canceled) {
				errs[i] = fmt.Errorf("sensor %s: %w", s.Name(), err)
				log.Error("sensor stopped", "sensor", s.Name(), "err", err)
			}
		}()
	}
	go func() { wg.Wait(); close(events) }()

	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	emit := w.emitter()
	for {
		select {
		case it, ok := <-events:
			if !ok {
				if err := w.cfg.Engine.Flush(emit); err != nil {
					w.Metrics.RuleErrors.Inc()
				}
				w.updateDrops()
				return errors.Join(errs...)
			}
			w.link(it.ev)
			if w.cfg.Events != nil {
				if err := w.cfg.Events(it.ev); err != nil {
					log.Error("writing the event capture", "err", err)
				}
			}
			if err := w.cfg.Engine.Match(it.ev, emit); err != nil {
				w.Metrics.RuleErrors.Inc()
				log.Error("matching", "sensor", it.sensor, "err", err)
			}
		case <-tick.C:
			w.updateDrops()
		}
	}
}

// link names the host and fills what an event lacks from the process
// table (which remembers every exec the sensors saw): the culprit of a
// firewall change, its command line and its parent.
func (w *Watcher) link(ev *event.Event) {
	if !ev.Has("host.name") && w.cfg.Host != "" {
		ev.SetStr("host.name", w.cfg.Host)
	}
	w.cfg.Processes.Derive(ev, process.ShellSplit)
}

func (w *Watcher) updateDrops() {
	for _, s := range w.cfg.Sensors {
		w.Metrics.Drops.WithLabelValues(s.Name()).Set(float64(s.Drops()))
	}
}

func (w *Watcher) emitter() func(*rule.Rule, *alert.Alert) error {
	return func(r *rule.Rule, a *alert.Alert) error {
		w.Metrics.Alerts.WithLabelValues(r.Name).Inc()
		if len(a.Events) > 0 && !a.Events[0].Time.IsZero() {
			w.Metrics.Latency.Observe(time.Since(a.Events[0].Time).Seconds())
		}
		if err := w.cfg.Sink.Write(a); err != nil {
			w.Metrics.SinkErrors.Inc()
			w.cfg.Log.Error("alert sink", "rule", r.Name, "alert", a.ID, "err", err)
		}
		return nil
	}
}

// serveMetrics serves /metrics on a loopback address only: the metrics
// name rules and hosts' activity.
func (w *Watcher) serveMetrics(addr string) (*http.Server, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics %s: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("--metrics %s: expected a loopback address (127.0.0.1:PORT)", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics: %w", err)
	}
	w.addr = ln.Addr()
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(w.Metrics.reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	return srv, nil
}
