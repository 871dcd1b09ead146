// Package sysmon reads Sysmon for Linux logs: one <Event>…</Event> XML
// document per line, bare (journalctl -o cat) or behind a syslog header
// (rsyslog's traditional "Nov 22 14:49:19 vm sysmon: ", RFC 5424
// "<14>1 2026-11-22T14:49:19Z vm sysmon - - - ", journalctl's short
// formats), and journalctl -o json lines whose MESSAGE holds the event.
//
// XML entities (&amp; &lt; &gt; &quot; &apos; &#N; &#xN;) are decoded,
// and so are rsyslog's #ooo escapes of control characters (#011 is a tab)
// on lines with a syslog header. Every EventData field is kept verbatim as
// sysmon.<Name>, the System fields too; the ECS mapping is in mapping.go
// and docs/fields-sysmon.md.
package sysmon

import (
	"bytes"
	"context"

	"github.com/valyala/fastjson"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/source"
	"github.com/firewarden/firewarden/source/process"
)

// XML is the Sysmon for Linux format.
type XML struct{}

// Name implements source.Format.
func (XML) Name() string { return "sysmon" }

// Sniff implements source.Format: the first non-blank line holds an
// <Event> element (<Event> or <Event xmlns=…>), after a syslog header or
// none; or it is a journalctl JSON record whose MESSAGE does.
func (XML) Sniff(head []byte) bool {
	for len(head) > 0 {
		line := head
		if nl := bytes.IndexByte(head, '\n'); nl >= 0 {
			line, head = head[:nl], head[nl+1:]
		} else {
			head = nil
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if eventStart(line, 0) < 0 {
			return false
		}
		if t := bytes.TrimLeft(line, " \t"); len(t) > 0 && t[0] == '{' {
			// Only journald's JSON, not any JSON that mentions <Event>.
			return bytes.Contains(line, []byte(`"MESSAGE"`)) &&
				(bytes.Contains(line, []byte(`"__CURSOR"`)) || bytes.Contains(line, []byte(`"__REALTIME_TIMESTAMP"`)) ||
					bytes.Contains(line, []byte(`"SYSLOG_IDENTIFIER"`)))
		}
		return true
	}
	return false
}

// eventStart returns the offset of "<Event" followed by '>', '/' or white
// space in line at or after from, or -1.
func eventStart(line []byte, from int) int {
	for from < len(line) {
		i := bytes.Index(line[from:], []byte("<Event"))
		if i < 0 {
			return -1
		}
		i += from
		if j := i + len("<Event"); j < len(line) && (line[j] == '>' || line[j] == '/' || isSpace(line[j])) {
			return i
		}
		from = i + 1
	}
	return -1
}

// arenaChunk is the size of the blocks decoded strings are carved from.
const arenaChunk = 32 << 10

// Read implements source.Format.
func (XML) Read(ctx context.Context, in *source.Input, emit func(*event.Event) error) error {
	r := newReader(in, emit)
	return source.EachLine(ctx, in, r.line)
}

type reader struct {
	in    *source.Input
	emit  func(*event.Event) error
	p     parser
	rec   record
	m     mapper
	table *process.Table
	json  fastjson.Parser
	hint  int
}

func newReader(in *source.Input, emit func(*event.Event) error) *reader {
	r := &reader{in: in, emit: emit, table: process.NewTable(0), hint: 64}
	r.p.rec = &r.rec
	r.m.paths = make(map[string]string, 64)
	return r
}

// line handles one line: any number of <Event> elements (normally one).
func (r *reader) line(b []byte, n int) error {
	b = bytes.TrimRight(b, " \t\r")
	if len(bytes.TrimLeft(b, " \t")) == 0 {
		return nil
	}
	colBase := 0 // byte column of b[0] - 1; -1 when b is not the line itself
	msgNote := ""
	if t := bytes.TrimLeft(b, " \t"); t[0] == '{' && eventStart(b, 0) >= 0 {
		msg, ok := r.journalMessage(b, n)
		if !ok {
			return nil
		}
		b, colBase, msgNote = msg, -1, " (in MESSAGE)"
	}
	start := eventStart(b, 0)
	if start < 0 {
		r.in.Badf(n, 1, "no Sysmon <Event> in the line, expected a Sysmon for Linux XML event (optionally after a syslog header)")
		return nil
	}
	// rsyslog escapes control characters as #ooo in what it writes; a
	// bare event (journalctl -o cat) has none.
	r.p.octal = start > 0 && colBase == 0
	for {
		// Decoded strings are carved from blocks shared by consecutive
		// events (an event kept alive keeps at most one block alive). An
		// event needs at most its line's length: decoding only shrinks
		// text, except for rare invalid UTF-8, where append reallocates.
		if need := len(b) - start; cap(r.p.arena)-len(r.p.arena) < need {
			r.p.arena = make([]byte, 0, max(need, arenaChunk))
		}
		mark := len(r.p.arena)
		r.rec.reset()
		end, ok := r.p.parse(b, start)
		if !ok {
			r.p.arena = r.p.arena[:mark]
			col := r.p.err.at + 1
			if colBase < 0 {
				r.in.Badf(n, 0, "%s%s at byte %d", r.p.err.msg, msgNote, col)
			} else {
				r.in.Badf(n, col, "%s", r.p.err.msg)
			}
			return nil
		}
		if err := r.event(n); err != nil {
			return err
		}
		i := end
		for i < len(b) && isSpace(b[i]) {
			i++
		}
		if i == len(b) {
			return nil
		}
		if next := eventStart(b, i); next == i {
			start = i
			continue
		}
		if colBase < 0 {
			r.in.Badf(n, 0, "unexpected text after </Event>%s, expected the end of the line", msgNote)
		} else {
			r.in.Badf(n, i+1, "unexpected text after </Event>, expected the end of the line")
		}
		return nil
	}
}

// journalMessage returns the MESSAGE of a journalctl -o json record.
func (r *reader) journalMessage(b []byte, n int) ([]byte, bool) {
	v, err := r.json.ParseBytes(b)
	if err != nil {
		r.in.Badf(n, 1, "invalid journald JSON record: %v", err)
		return nil, false
	}
	m := v.Get("MESSAGE")
	switch {
	case m == nil:
		r.in.Badf(n, 1, "journald JSON record without MESSAGE, expected a Sysmon event in MESSAGE")
		return nil, false
	case m.Type() == fastjson.TypeString:
		s, _ := m.StringBytes()
		return append([]byte(nil), s...), true
	case m.Type() == fastjson.TypeArray:
		// journald writes a MESSAGE that is not valid UTF-8 or has control
		// characters as an array of byte values.
		arr, _ := m.Array()
		out := make([]byte, 0, len(arr))
		for _, x := range arr {
			c, err := x.Int()
			if err != nil || c < 0 || c > 255 {
				r.in.Badf(n, 1, "journald MESSAGE byte array holds %s, expected numbers 0-255", x)
				return nil, false
			}
			out = append(out, byte(c))
		}
		return out, true
	}
	r.in.Badf(n, 1, "journald MESSAGE is %s, expected a string", m.Type())
	return nil, false
}

// event maps the parsed record and emits it.
func (r *reader) event(n int) error {
	ev := event.New(r.hint)
	if !r.m.mapRecord(ev, &r.rec, &r.p.arena) {
		r.in.Badf(n, 0, "Sysmon event without <EventID>, expected <System><EventID>N</EventID>…")
		return nil
	}
	ev.Format = "sysmon"
	ev.Index = Index
	ev.File = r.in.Name
	ev.Line = n
	ev.Fill("log.file.path", event.Str(r.in.Name))
	ev.Fill("log.file.line", event.IntV(int64(n)))
	r.table.Derive(ev, process.Fields)
	r.hint = ev.Len() // events of one stream are alike: size the next map like this one
	return r.emit(ev)
}

// Index is where Elastic's Sysmon for Linux integration writes events: its
// sysmon_linux.log data stream (docs/elastic.md).
const Index = "logs-sysmon_linux.log-default"

var _ source.Format = XML{}
