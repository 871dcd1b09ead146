// Package source reads telemetry: it opens files, folders, gzip streams and
// standard input, sniffs each stream's format from its first bytes, and hands
// the stream to that format's reader. Formats live in sub-packages and know
// nothing of each other; the list of formats is passed in by the caller.
package source

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/firewarden/firewarden/event"
)

// Format is one telemetry format: a sniffer and a streaming reader.
type Format interface {
	// Name is a short stable identifier ("auditd", "sysmon", "ecs", "laurel").
	Name() string
	// Sniff reports whether head, the first bytes of a stream (up to
	// SniffSize, fewer for a short stream), looks like this format.
	Sniff(head []byte) bool
	// Read decodes in.R and calls emit for each event, in input order.
	// A bad record is reported with in.Stats.Bad and reading goes on;
	// Read returns an error only when reading fails or emit returns one.
	Read(ctx context.Context, in *Input, emit func(*event.Event) error) error
}

// SniffSize is how many bytes of a stream formats get to decide.
const SniffSize = 8192

// MaxRecord is the longest record (line) a reader accepts; a longer one is
// reported as bad and skipped, and reading goes on after it.
const MaxRecord = 4 << 20

// Input is one stream handed to a Format.
type Input struct {
	Name  string    // file path, or "-" for standard input
	R     io.Reader // decompressed; starts at the first byte of the stream
	Stats *Stats
	// Pool, when set, recycles events nobody retained (event.Pool): the
	// format gets each event from NewEvent, and the reader puts it back
	// once emit has returned. The consumer promises to Retain every event
	// it keeps past emit.
	Pool *event.Pool
}

// NewEvent returns an empty event to fill, with room for hint fields:
// from the input's pool when it has one.
func (in *Input) NewEvent(hint int) *event.Event {
	if in.Pool != nil {
		return in.Pool.Get(hint)
	}
	return event.New(hint)
}

// Stats counts what one input gave.
type Stats struct {
	Name     string
	Format   string
	Events   int64
	BadCount int64
	Examples []error // the first MaxExamples bad records

	mu sync.Mutex
}

// MaxExamples is how many bad records are kept verbatim per input.
const MaxExamples = 5

// Bad records one bad record.
func (s *Stats) Bad(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.BadCount++
	if len(s.Examples) < MaxExamples {
		s.Examples = append(s.Examples, err)
	}
}

// RecordError is a bad record at a position: "file:line:col: what".
type RecordError struct {
	File string
	Line int // 1-based
	Col  int // 1-based; 0 when unknown
	Msg  string
}

func (e *RecordError) Error() string {
	if e.Col > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Badf records a bad record at file:line:col.
func (in *Input) Badf(line, col int, format string, args ...any) {
	in.Stats.Bad(&RecordError{File: in.Name, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
}
