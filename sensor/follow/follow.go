// Package follow is a sensor that follows a growing log file (auditd's
// audit.log, laurel's JSON, Sysmon for Linux's syslog, an ECS export) the
// way `tail -F` does: new lines as they are written, across rotation and
// truncation. It is the live sensor of hosts where eBPF and netlink are out
// of reach, and it reads the formats `firewarden hunt` reads.
package follow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/source"
)

// Sensor follows one file.
type Sensor struct {
	Path    string
	Formats []source.Format
	// FromStart reads what the file already holds first; by default
	// following starts at its end (only new lines).
	FromStart bool
	// Poll is how often the file is checked for growth and rotation
	// (default 100ms).
	Poll time.Duration

	stats     source.Stats
	reopens   atomic.Int64
	readyOnce sync.Once
	ready     chan struct{}
}

// Ready is closed once Run has fixed where following starts: lines
// written after that are read.
func (s *Sensor) Ready() <-chan struct{} {
	s.readyOnce.Do(func() { s.ready = make(chan struct{}) })
	return s.ready
}

// Name implements watch.Sensor.
func (s *Sensor) Name() string { return "follow:" + s.Path }

// Drops implements watch.Sensor: a follower loses nothing it could read,
// but bad records are counted (Stats) and rotations are reported.
func (s *Sensor) Drops() int64 { return 0 }

// Stats reports events and bad records read so far.
func (s *Sensor) Stats() (events, bad, reopens int64) {
	return s.stats.Events, s.stats.BadCount, s.reopens.Load()
}

// Run follows the file until ctx ends. The format is sniffed from the
// file's first bytes (waiting for the file to have some).
func (s *Sensor) Run(ctx context.Context, emit func(*event.Event) error) error {
	poll := s.Poll
	if poll <= 0 {
		poll = 100 * time.Millisecond
	}
	// What the file holds when following starts is skipped (unless
	// FromStart); what is written after — also while waiting for enough
	// to sniff the format — is read.
	var skip int64
	if fi, err := os.Stat(s.Path); err == nil && !s.FromStart {
		skip = fi.Size()
	}
	s.Ready()
	close(s.ready)
	f, format, err := s.open(ctx, poll)
	if err != nil {
		return err
	}
	if skip > 0 {
		if _, err := f.Seek(skip, io.SeekStart); err != nil {
			f.Close()
			return fmt.Errorf("follow %s: %w", s.Path, err)
		}
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	s.stats.Name, s.stats.Format = s.Path, format.Name()
	go func() {
		err := format.Read(ctx, &source.Input{Name: s.Path, R: pr, Stats: &s.stats}, emit)
		pr.CloseWithError(err)
		done <- err
	}()
	err = s.copy(ctx, f, pw, poll)
	pw.CloseWithError(err)
	if rerr := <-done; err == nil || errors.Is(err, context.Canceled) {
		if rerr != nil && !errors.Is(rerr, io.ErrClosedPipe) && !errors.Is(rerr, context.Canceled) {
			err = rerr
		}
	}
	return err
}

// open waits for the file to exist and hold enough to sniff its format.
func (s *Sensor) open(ctx context.Context, poll time.Duration) (*os.File, source.Format, error) {
	for {
		f, err := os.Open(s.Path)
		if err == nil {
			head := make([]byte, source.SniffSize)
			n, _ := io.ReadFull(f, head)
			head = head[:n]
			if i := bytes.LastIndexByte(head, '\n'); i >= 0 {
				for _, fm := range s.Formats {
					if fm.Sniff(head[:i+1]) {
						if _, err := f.Seek(0, io.SeekStart); err != nil {
							f.Close()
							return nil, nil, err
						}
						return f, fm, nil
					}
				}
				if n == source.SniffSize || i > 0 {
					f.Close()
					return nil, nil, fmt.Errorf("follow %s: format not recognised", s.Path)
				}
			}
			f.Close()
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("follow %s: %w", s.Path, err)
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(poll):
		}
	}
}

// copy moves complete lines from the file to w as they appear; on
// rotation (the path names another file) or truncation it finishes the
// old file and starts the new one from its beginning.
func (s *Sensor) copy(ctx context.Context, f *os.File, w io.Writer, poll time.Duration) error {
	defer func() { f.Close() }()
	buf := make([]byte, 64<<10)
	var partial []byte // a line not yet ended
	for {
		n, err := f.Read(buf)
		if n > 0 {
			var lines []byte
			lines, partial = complete(partial, buf[:n])
			if len(lines) > 0 {
				if _, werr := w.Write(lines); werr != nil {
					return werr
				}
			}
			continue
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("follow %s: %w", s.Path, err)
		}
		// At the end: has the file been rotated or truncated?
		if next, ok := s.replaced(f); ok {
			if len(partial) > 0 {
				if _, werr := w.Write(append(partial, '\n')); werr != nil {
					return werr
				}
				partial = partial[:0]
			}
			f.Close()
			f = next
			s.reopens.Add(1)
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
	}
}

// complete joins a line left unfinished by the last read with newly read
// data, and splits the result into the complete lines (ending in '\n', or
// empty) and what remains unfinished.
func complete(partial, data []byte) (lines, rest []byte) {
	joined := append(partial, data...)
	i := bytes.LastIndexByte(joined, '\n')
	if i < 0 {
		return nil, joined
	}
	lines = bytes.Clone(joined[:i+1])
	return lines, append(joined[:0], joined[i+1:]...)
}

// replaced reports a new file to read: the path now names another file
// (rotated), or the open file shrank below where we are (truncated).
func (s *Sensor) replaced(f *os.File) (*os.File, bool) {
	cur, err := f.Stat()
	if err != nil {
		return nil, false
	}
	fi, err := os.Stat(s.Path)
	if err != nil {
		return nil, false // rotated away and not yet recreated
	}
	if !os.SameFile(cur, fi) {
		next, err := os.Open(s.Path)
		if err != nil {
			return nil, false
		}
		return next, true
	}
	pos, err := f.Seek(0, io.SeekCurrent)
	if err == nil && fi.Size() < pos {
		if _, err := f.Seek(0, io.SeekStart); err == nil {
			next, err := os.Open(s.Path)
			if err == nil {
				return next, true
			}
		}
	}
	return nil, false
}
