package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/firewarden/firewarden/alert"
	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/hunt"
	"github.com/firewarden/firewarden/sensor/audit"
	configsensor "github.com/firewarden/firewarden/sensor/config"
	execsensor "github.com/firewarden/firewarden/sensor/exec"
	"github.com/firewarden/firewarden/sensor/follow"
	"github.com/firewarden/firewarden/sensor/nft"
	"github.com/firewarden/firewarden/sink"
	"github.com/firewarden/firewarden/watch"
)

// sensorOpeners are the live sensors `watch` can run, by name. Each
// opener says, when it cannot run, what it lacks (a capability, a kernel
// feature); watch runs the others.
type sensorOpener func() (watch.Sensor, error)

func newWatch() *cobra.Command {
	var rf ruleFlags
	var format, alertsFile, syslogAddr, webhook, eventsFile, metricsAddr, configRoot string
	var follows, sensorNames []string
	var pf policyFlags
	var quiet, enableAudit bool
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Run as a daemon: live sensors, every rule, alerts as they happen",
		Long: `Watch the host live and alert within a second: the built-in rules and any
--rules run over every event the sensors see. Sensors (--sensors, default:
every one that can run here): exec, every process start from eBPF (pid,
parent, exact argv, namespaces); nft, the nftables netlink monitor in every
network namespace (each table, chain, rule and policy change, with the pid and
command that committed it and a diff of the ruleset); audit, the kernel's
NETFILTER_CFG and SERVICE_STOP records (iptables-legacy, which nft cannot
see) read from the audit multicast beside any auditd; config, fanotify on the
firewall's configuration files (/etc/ufw, /etc/default/ufw, /etc/firewalld,
/etc/nftables.conf, /etc/iptables, /etc/sysconfig/iptables*: each file
created, written, renamed or deleted, with the writer's pid); and --follow FILE, a
growing log (audit.log, laurel, Sysmon for Linux, ECS) across rotation.
Sensors that cannot run (a missing capability, say) are named with the
reason, and the others run. A firewall change is linked to the exec that
made it, so its alert names the culprit's command line and parent.

Alerts go to standard output (--format table|ndjson, the record hunt writes)
and, as asked, to an NDJSON file (--alerts-file), the system log (--syslog
local, or udp://host:514), and an HTTP webhook (--webhook URL: JSON, retried
with backoff; every alert not delivered is counted and logged). --events FILE
writes every sensor event as ECS NDJSON, to replay later with
"firewarden hunt FILE". Prometheus metrics (events per sensor, drops, alerts
per rule, rule errors, alert latency) are served on --metrics, a loopback
address. SIGTERM or SIGINT stops it cleanly.

firewarden only watches: it never changes the firewall.`,
		Example: `  firewarden watch --follow /var/log/audit/audit.log --alerts-file /var/log/firewarden/alerts.ndjson
  firewarden watch --follow /var/log/laurel/audit.log --webhook https://siem.example/hook -x /etc/firewarden/exceptions.yml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			set, err := rf.load()
			if err != nil {
				return err
			}
			for _, r := range set.Refused {
				log.Warn("rule refused", "path", r.Path, "err", r.Err)
			}
			copts, xerrs, closeHistory, err := pf.options()
			if err != nil {
				return err
			}
			defer closeHistory()
			for _, r := range xerrs {
				log.Warn("exception refused", "err", r.Err)
			}
			eng, refused := hunt.CompileWith(set.Rules, copts)
			for _, r := range refused {
				log.Warn("rule refused by the engine", "path", r.Path, "err", r.Err)
			}
			log.Info("rules loaded", "rules", len(eng.Rules()), "refused", len(set.Refused)+len(refused))

			sinks, err := watchSinks(cmd, format, quiet, alertsFile, syslogAddr, webhook, log)
			if err != nil {
				return err
			}
			defer sinks.Close()

			openers := map[string]sensorOpener{
				"exec": func() (watch.Sensor, error) {
					s, err := execsensor.Open(execsensor.Options{})
					if err != nil {
						return nil, err
					}
					log.Info("exec sensor attached", "attach", s.Attach())
					return s, nil
				},
				"nft": func() (watch.Sensor, error) {
					s, err := nft.Open(nft.Options{})
					if err != nil {
						return nil, err
					}
					return s, nil
				},
				"audit": func() (watch.Sensor, error) {
					s, err := audit.Open(audit.Options{EnableAudit: enableAudit})
					if err != nil {
						return nil, err
					}
					return s, nil
				},
				"config": func() (watch.Sensor, error) {
					return configsensor.Open(configsensor.Options{Root: configRoot})
				},
			}
			for _, p := range follows {
				openers["follow:"+p] = func() (watch.Sensor, error) {
					return &follow.Sensor{Path: p, Formats: formats()}, nil
				}
			}
			sensors, err := openSensors(openers, sensorNames, log)
			if err != nil {
				return &exitError{exitUsage, err}
			}
			cfg := watch.Config{Sensors: sensors, Engine: eng, Sink: sinks, MetricsAddr: metricsAddr, Log: log}
			if eventsFile != "" {
				ew, err := newEventWriter(eventsFile)
				if err != nil {
					return err
				}
				defer ew.Close()
				cfg.Events = ew.Write
			}
			w, err := watch.New(cfg)
			if err != nil {
				return err
			}
			return w.Run(cmd.Context())
		},
	}
	rf.register(cmd)
	cmd.Flags().StringArrayVar(&follows, "follow", nil, "follow a growing log file (auditd, laurel, Sysmon for Linux, ECS) as a sensor (repeatable)")
	cmd.Flags().StringSliceVar(&sensorNames, "sensors", nil, "sensors to run (default: every one that can run here)")
	cmd.Flags().StringVarP(&format, "format", "f", "ndjson", "alerts on standard output: table or ndjson")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no alerts on standard output")
	cmd.Flags().StringVar(&alertsFile, "alerts-file", "", "append alerts to this NDJSON file")
	cmd.Flags().StringVar(&syslogAddr, "syslog", "", `send alerts to syslog: "local", or udp://host:port, tcp://host:port`)
	cmd.Flags().StringVar(&webhook, "webhook", "", "POST each alert as JSON to this URL (retried with backoff)")
	cmd.Flags().StringVar(&eventsFile, "events", "", "write every sensor event to this file as ECS NDJSON (replay with hunt)")
	cmd.Flags().StringVar(&metricsAddr, "metrics", "127.0.0.1:9464", `serve Prometheus metrics on this loopback address ("" for none)`)
	pf.register(cmd, false, true)
	cmd.Flags().StringVar(&configRoot, "config-root", "/", "the config sensor watches the firewall configuration files under this directory (a container's root file system)")
	cmd.Flags().BoolVar(&enableAudit, "enable-audit", false, "when kernel auditing is off and no auditd runs, turn it on (no rules) so NETFILTER_CFG records exist; off again on exit")
	return cmd
}

// openSensors opens the named sensors (all of them when none are named),
// logging each that cannot run with its reason; it fails only when none
// can.
func openSensors(openers map[string]sensorOpener, names []string, log *slog.Logger) ([]watch.Sensor, error) {
	if len(names) == 0 {
		for n := range openers {
			names = append(names, n)
		}
	}
	var out []watch.Sensor
	var cannot []string
	for _, n := range names {
		open, ok := openers[n]
		if !ok {
			return nil, fmt.Errorf("--sensors: unknown sensor %q (known: %s)", n, strings.Join(keys(openers), ", "))
		}
		s, err := open()
		if err != nil {
			log.Warn("sensor cannot run", "sensor", n, "why", err)
			cannot = append(cannot, n+": "+err.Error())
			continue
		}
		log.Info("sensor running", "sensor", s.Name())
		out = append(out, s)
	}
	if len(out) == 0 {
		if len(cannot) == 0 {
			return nil, fmt.Errorf("no sensor: give --follow FILE")
		}
		return nil, fmt.Errorf("no sensor can run: %s", strings.Join(cannot, "; "))
	}
	return out, nil
}

func keys(m map[string]sensorOpener) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func watchSinks(cmd *cobra.Command, format string, quiet bool, file, syslogAddr, webhook string, log *slog.Logger) (sink.Multi, error) {
	var out sink.Multi
	if !quiet {
		switch format {
		case "table":
			out = append(out, &lockedSink{s: alert.NewTable(cmd.OutOrStdout())})
		case "ndjson", "json":
			out = append(out, &lockedSink{s: alert.NewNDJSON(cmd.OutOrStdout())})
		default:
			return nil, &exitError{exitUsage, fmt.Errorf("--format %q: expected table or ndjson", format)}
		}
	}
	if file != "" {
		f, err := sink.OpenFile(file)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	if syslogAddr != "" {
		network, addr := "", ""
		if syslogAddr != "local" {
			n, a, ok := strings.Cut(syslogAddr, "://")
			if !ok || (n != "udp" && n != "tcp") {
				return nil, &exitError{exitUsage, fmt.Errorf("--syslog %q: expected local, udp://host:port or tcp://host:port", syslogAddr)}
			}
			network, addr = n, a
		}
		s, err := sink.OpenSyslog(network, addr, "firewarden")
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if webhook != "" {
		w := sink.NewWebhook(webhook, 0)
		w.Log = log
		out = append(out, w)
	}
	return out, nil
}

// lockedSink serialises a sink (the table is not safe for concurrent use).
type lockedSink struct {
	mu sync.Mutex
	s  alert.Sink
}

func (l *lockedSink) Write(a *alert.Alert) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s.Write(a)
}

func (l *lockedSink) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s.Close()
}

// eventWriter writes sensor events as ECS NDJSON (flushed every second
// and on close).
type eventWriter struct {
	f    *os.File
	w    *bufio.Writer
	enc  *json.Encoder
	last time.Time
}

func newEventWriter(path string) (*eventWriter, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("--events: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<16)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &eventWriter{f: f, w: w, enc: enc}, nil
}

func (e *eventWriter) Write(ev *event.Event) error {
	if err := e.enc.Encode(ev); err != nil {
		return err
	}
	if now := time.Now(); now.Sub(e.last) > time.Second {
		e.last = now
		return e.w.Flush()
	}
	return nil
}

func (e *eventWriter) Close() error {
	if err := e.w.Flush(); err != nil {
		e.f.Close()
		return err
	}
	return e.f.Close()
}
