// Package sink delivers alerts beyond standard output: an NDJSON file, the
// system log, an HTTP webhook, or several of them at once. Each sink is an
// alert.Sink; none drops an alert without counting it and saying so.
package sink

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"log/syslog"
	"os"
	"sync"

	"github.com/firewarden/firewarden/alert"
)

// Stats is what a sink delivered and failed to deliver.
type Stats struct {
	Written int64 // alerts delivered
	Failed  int64 // alerts given up on (after retries, or refused by a full queue)
	Retries int64 // delivery attempts that failed and were retried
}

// Counter is a sink that reports its delivery counts.
type Counter interface {
	alert.Sink
	Stats() Stats
}

// File appends alerts, one JSON object per line, to a file (created 0600
// if missing). Each alert is flushed as it is written, so a crash loses
// nothing already reported.
type File struct {
	mu    sync.Mutex
	f     *os.File
	w     *bufio.Writer
	enc   *json.Encoder
	stats Stats
}

// OpenFile opens path for appending.
func OpenFile(path string) (*File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("alert file: %w", err)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &File{f: f, w: w, enc: enc}, nil
}

func (s *File) Write(a *alert.Alert) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enc.Encode(a); err != nil {
		s.stats.Failed++
		return fmt.Errorf("alert file %s: %w", s.f.Name(), err)
	}
	if err := s.w.Flush(); err != nil {
		s.stats.Failed++
		return fmt.Errorf("alert file %s: %w", s.f.Name(), err)
	}
	s.stats.Written++
	return nil
}

// Close flushes and closes the file.
func (s *File) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(s.w.Flush(), s.f.Close())
}

// Stats reports the counts.
func (s *File) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Syslog sends each alert to the system log (or a remote syslog server):
// one message per alert, its severity mapped to a syslog priority, the
// text a short summary followed by the alert as JSON.
type Syslog struct {
	mu    sync.Mutex
	w     *syslog.Writer
	stats Stats
}

// OpenSyslog dials the local syslog daemon (network "" and raddr ""), or
// network ("udp", "tcp") raddr, with the given tag.
func OpenSyslog(network, raddr, tag string) (*Syslog, error) {
	w, err := syslog.Dial(network, raddr, syslog.LOG_WARNING|syslog.LOG_AUTH, tag)
	if err != nil {
		return nil, fmt.Errorf("syslog: %w", err)
	}
	return &Syslog{w: w}, nil
}

func (s *Syslog) Write(a *alert.Alert) error {
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("firewarden alert %s: %s [%s, risk %d] %s", a.ID, a.Rule.Name, a.Rule.Severity, a.Rule.RiskScore, b)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch a.Rule.Severity {
	case "critical":
		err = s.w.Crit(msg)
	case "high":
		err = s.w.Err(msg)
	case "medium":
		err = s.w.Warning(msg)
	default:
		err = s.w.Notice(msg)
	}
	if err != nil {
		s.stats.Failed++
		return fmt.Errorf("syslog: %w", err)
	}
	s.stats.Written++
	return nil
}

// Close closes the connection.
func (s *Syslog) Close() error { return s.w.Close() }

// Stats reports the counts.
func (s *Syslog) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Multi writes every alert to every sink; an error of one does not stop
// the others.
type Multi []alert.Sink

func (m Multi) Write(a *alert.Alert) error {
	var errs []error
	for _, s := range m {
		errs = append(errs, s.Write(a))
	}
	return errors.Join(errs...)
}

// Close closes every sink.
func (m Multi) Close() error {
	var errs []error
	for _, s := range m {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}
