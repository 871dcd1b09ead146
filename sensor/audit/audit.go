// Package audit is firewarden's kernel audit sensor: it reads the audit
// records the kernel multicasts to readers (NETLINK_AUDIT group
// AUDIT_NLGRP_READLOG, CAP_AUDIT_READ) — the read-only path that works
// beside a running auditd and never takes its place — and turns
// NETFILTER_CFG records (every iptables-legacy, ebtables and arptables
// table replace, and nftables changes too) and SERVICE_STOP records into
// the very ECS events source/auditd makes of them in a log file.
//
// The kernel writes NETFILTER_CFG only while auditing is enabled; no audit
// rule is needed. With no auditd and auditing disabled, Options.EnableAudit
// turns auditing on (no rules added) and back off when Run returns. The
// sensor never registers itself as the audit daemon and never changes
// audit rules.
package audit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	libaudit "github.com/elastic/go-libaudit/v2"
	"github.com/elastic/go-libaudit/v2/auparse"
	"golang.org/x/sys/unix"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/sensor/internal/caps"
	"github.com/firewarden/firewarden/sensor/internal/nlsock"
	"github.com/firewarden/firewarden/source/auditd"
)

// Options configure a Sensor; the zero value is usable.
type Options struct {
	// Types are the record types turned into events. Default
	// NETFILTER_CFG and SERVICE_STOP.
	Types []string
	// EnableAudit turns kernel auditing on when it is off and no audit
	// daemon is registered (needs CAP_AUDIT_CONTROL), and off again when
	// Run returns. It never touches an auditd's settings.
	EnableAudit bool
	// Linger is how long the records of one audit event are awaited
	// when no EOE record closes it (records of rule-less events have
	// none). Default 50ms.
	Linger time.Duration
	// ReadBuffer is the socket's receive buffer. Default 4 MiB.
	ReadBuffer int
}

// Stats counts what a sensor did.
type Stats struct {
	Events  int64 // events emitted
	Records int64 // records read
	Lost    int64 // receive-buffer overruns (ENOBUFS): records lost
	Bad     int64 // records that did not parse
	// Enabled reports whether the sensor turned auditing on itself.
	Enabled bool
}

// Sensor is the audit sensor.
type Sensor struct {
	opts    Options
	conn    *nlsock.Conn
	types   map[string]bool
	live    *auditd.Live
	enabled bool // we enabled auditing

	nEvents, nRecords, nLost atomic.Int64
}

// ErrNoCapability is wrapped by Open's error when a capability is missing.
var ErrNoCapability = errors.New("missing capability")

// Open joins the audit multicast group (CAP_AUDIT_READ).
func Open(opts Options) (*Sensor, error) {
	if opts.Linger <= 0 {
		opts.Linger = 50 * time.Millisecond
	}
	if opts.ReadBuffer <= 0 {
		opts.ReadBuffer = 4 << 20
	}
	if len(opts.Types) == 0 {
		opts.Types = []string{"NETFILTER_CFG", "SERVICE_STOP"}
	}
	if !caps.Has(caps.AuditRead) {
		return nil, fmt.Errorf("sensor/audit: needs CAP_AUDIT_READ to read the kernel's audit multicast: %w", ErrNoCapability)
	}
	c, err := nlsock.Open(unix.NETLINK_AUDIT, []uint32{unix.AUDIT_NLGRP_READLOG}, nil)
	if err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
			return nil, fmt.Errorf("sensor/audit: needs CAP_AUDIT_READ: %v: %w", err, ErrNoCapability)
		}
		return nil, fmt.Errorf("sensor/audit: %w", err)
	}
	_, _ = c.SetReadBuffer(opts.ReadBuffer)
	s := &Sensor{opts: opts, conn: c, types: map[string]bool{}, live: auditd.NewLive("netlink:audit")}
	for _, t := range opts.Types {
		s.types[t] = true
	}
	if opts.EnableAudit {
		if err := s.enable(); err != nil {
			c.Close()
			return nil, err
		}
	}
	return s, nil
}

// Status reports the kernel's audit status: whether auditing is enabled
// and the pid of the registered audit daemon (0: none). It needs
// CAP_AUDIT_CONTROL.
func Status() (enabled uint32, daemonPID uint32, err error) {
	cl, err := libaudit.NewAuditClient(nil)
	if err != nil {
		return 0, 0, err
	}
	defer cl.Close()
	st, err := cl.GetStatus()
	if err != nil {
		return 0, 0, err
	}
	return st.Enabled, st.PID, nil
}

func (s *Sensor) enable() error {
	if !caps.Has(caps.AuditControl) {
		return fmt.Errorf("sensor/audit: enabling auditing needs CAP_AUDIT_CONTROL: %w", ErrNoCapability)
	}
	enabled, pid, err := Status()
	if err != nil {
		return fmt.Errorf("sensor/audit: audit status: %w", err)
	}
	if enabled != 0 || pid != 0 {
		return nil // on already, or an audit daemon decides
	}
	cl, err := libaudit.NewAuditClient(nil)
	if err != nil {
		return err
	}
	defer cl.Close()
	if err := cl.SetEnabled(true, libaudit.WaitForReply); err != nil {
		return fmt.Errorf("sensor/audit: enable auditing: %w", err)
	}
	s.enabled = true
	return nil
}

// restore turns auditing back off if the sensor turned it on and no audit
// daemon has registered since.
func (s *Sensor) restore() {
	if !s.enabled {
		return
	}
	s.enabled = false
	if enabled, pid, err := Status(); err != nil || pid != 0 || enabled != 1 {
		return
	}
	cl, err := libaudit.NewAuditClient(nil)
	if err != nil {
		return
	}
	defer cl.Close()
	_ = cl.SetEnabled(false, libaudit.WaitForReply)
}

// Stats returns the sensor's counters.
// Name names the sensor (watch.Sensor).
func (s *Sensor) Name() string { return "audit" }

// Drops counts the audit records lost to receive-buffer overruns
// (watch.Sensor).
func (s *Sensor) Drops() int64 { return s.nLost.Load() }

func (s *Sensor) Stats() Stats {
	return Stats{Events: s.nEvents.Load(), Records: s.nRecords.Load(), Lost: s.nLost.Load(),
		Bad: s.live.Stats().BadCount, Enabled: s.enabled}
}

type pending struct {
	lines []string
	want  bool // holds a record of a wanted type
	last  time.Time
}

// Run reads records until ctx ends or emit fails, then closes the socket
// (and turns auditing off if it turned it on). emit is called from Run's
// goroutine only.
func (s *Sensor) Run(ctx context.Context, emit func(*event.Event) error) error {
	defer s.restore()
	defer s.conn.Close()
	type rec struct {
		data []byte
		err  error
	}
	recs := make(chan rec, 256)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(recs)
		for {
			b, err := s.conn.Recv(rctx)
			if err != nil && !errors.Is(err, nlsock.ErrOverrun) {
				if rctx.Err() == nil {
					recs <- rec{err: err}
				}
				return
			}
			r := rec{err: err}
			if b != nil {
				r.data = append([]byte(nil), b...)
			}
			select {
			case recs <- r:
			case <-rctx.Done():
				return
			}
		}
	}()
	byID := map[string]*pending{}
	var order []string
	flush := func(id string) error {
		p := byID[id]
		delete(byID, id)
		if p == nil || !p.want {
			return nil
		}
		for _, ev := range s.live.Events(p.lines) {
			s.finish(ev)
			s.nEvents.Add(1)
			if err := emit(ev); err != nil {
				return err
			}
		}
		return nil
	}
	tick := time.NewTicker(s.opts.Linger / 2)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			now := time.Now()
			keep := order[:0]
			for _, id := range order {
				p := byID[id]
				if p == nil {
					continue
				}
				if now.Sub(p.last) >= s.opts.Linger {
					if err := flush(id); err != nil {
						return err
					}
					continue
				}
				keep = append(keep, id)
			}
			order = keep
		case r, ok := <-recs:
			if !ok {
				return nil
			}
			if errors.Is(r.err, nlsock.ErrOverrun) {
				s.nLost.Add(1)
				ev := lostEvent()
				s.nEvents.Add(1)
				if err := emit(ev); err != nil {
					return err
				}
				continue
			}
			if r.err != nil {
				return fmt.Errorf("sensor/audit: %w", r.err)
			}
			msgs, _ := nlsock.Split(r.data)
			for _, m := range msgs {
				typ, id, line, ok := recordLine(m.Type, m.Data)
				if !ok {
					continue
				}
				s.nRecords.Add(1)
				p := byID[id]
				if p == nil {
					if len(byID) >= 1024 { // bounded: flush the oldest
						if err := flush(order[0]); err != nil {
							return err
						}
						order = order[1:]
					}
					p = &pending{}
					byID[id] = p
					order = append(order, id)
				}
				p.last = time.Now()
				if typ == "EOE" {
					if err := flush(id); err != nil {
						return err
					}
					continue
				}
				p.lines = append(p.lines, line)
				if s.types[typ] {
					p.want = true
				}
			}
		}
	}
}

// recordLine turns one netlink audit message into an audit.log line.
func recordLine(t uint16, data []byte) (typ, id, line string, ok bool) {
	if t < 1100 || t >= 2999 { // not a record (AUDIT_GET replies and the like)
		return "", "", "", false
	}
	body := strings.TrimRight(string(data), "\x00\n")
	rest, found := strings.CutPrefix(body, "audit(")
	if !found {
		return "", "", "", false
	}
	end := strings.Index(rest, "):")
	if end < 0 {
		return "", "", "", false
	}
	typ = auparse.AuditMessageType(t).String()
	if strings.HasPrefix(typ, "UNKNOWN") {
		typ = "UNKNOWN[" + strconv.Itoa(int(t)) + "]"
	}
	return typ, rest[:end], "type=" + typ + " msg=" + body, true
}

// finish adjusts a normalised event for a live source: no file position,
// the process name from the record's comm, the namespace when the process
// is still there.
func (s *Sensor) finish(ev *event.Event) {
	ev.Delete("log.file.path")
	ev.Delete("log.file.line")
	ev.File, ev.Line = "", 0
	ev.SetStr("event.dataset", "auditd.live")
	if c := ev.Get("auditd.comm"); c.Kind == event.String {
		ev.Fill("process.name", c)
	}
	if pid := ev.Get("process.pid"); pid.Kind == event.Int && ev.Get("event.action").Str == "netfilter_cfg" {
		var st unix.Stat_t
		if unix.Stat("/proc/"+strconv.FormatInt(pid.Int, 10)+"/ns/net", &st) == nil {
			ev.Set("firewall.netns.inode", event.IntV(int64(st.Ino)))
		}
	}
}

func lostEvent() *event.Event {
	ev := event.New(12)
	ev.Time = time.Now().UTC()
	ev.Format = "auditd"
	ev.Index = auditd.Index
	ev.SetStr("@timestamp", ev.Time.Format("2006-01-02T15:04:05.000000Z07:00"))
	ev.SetStr("event.kind", "event")
	ev.SetStr("event.module", "auditd")
	ev.SetStr("event.dataset", "auditd.live")
	ev.Set("event.category", event.Strs("host"))
	ev.Set("event.type", event.Strs("info"))
	ev.SetStr("event.action", "audit_records_lost")
	ev.SetStr("event.reason", "overrun")
	ev.SetStr("error.message", nlsock.ErrOverrun.Error())
	return ev
}
