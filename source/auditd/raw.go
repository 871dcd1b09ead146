package auditd

import (
	"bytes"
	"context"
	"strings"
	"unicode/utf8"

	"github.com/elastic/go-libaudit/v2/auparse"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/source"
)

// Raw reads audit.log lines.
type Raw struct{}

// Name implements source.Format.
func (Raw) Name() string { return "auditd" }

// Sniff accepts a stream whose first non-empty line is an audit record.
func (Raw) Sniff(head []byte) bool {
	for _, line := range bytes.Split(head, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		i := bytes.Index(line, []byte("type="))
		return i >= 0 && bytes.Contains(line[i:], []byte(" msg=audit("))
	}
	return false
}

// maxPending bounds the events being assembled at once: records of one
// event are adjacent in practice, but may interleave with a few others.
const maxPending = 64

type pending struct {
	h       header
	line    int
	records []record
}

// Read implements source.Format.
func (Raw) Read(ctx context.Context, in *source.Input, emit func(*event.Event) error) error {
	n := newNormaliser(in)
	var queue []*pending // in order of first record
	byID := map[string]*pending{}
	flush := func(p *pending) error {
		delete(byID, p.h.id)
		for _, ev := range n.events(p.h, p.line, p.records) {
			if err := emit(ev); err != nil {
				return err
			}
		}
		return nil
	}
	flushFront := func(k int) error {
		for _, p := range queue[:k] {
			if byID[p.h.id] == p {
				if err := flush(p); err != nil {
					return err
				}
			}
		}
		queue = append(queue[:0], queue[k:]...)
		return nil
	}
	err := source.EachLine(ctx, in, func(line []byte, ln int) error {
		if len(bytes.TrimSpace(line)) == 0 {
			return nil
		}
		h, rec, col, msg := parseLine(line)
		if msg != "" {
			in.Badf(ln, col, "%s", msg)
			return nil
		}
		p := byID[h.id]
		if p == nil {
			p = &pending{h: h, line: ln}
			byID[h.id] = p
			queue = append(queue, p)
		}
		if rec.typ == "EOE" {
			return flush(p)
		}
		p.records = append(p.records, rec)
		if len(byID) > maxPending {
			return flushFront(len(queue) - maxPending)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flushFront(len(queue))
}

// parseLine parses one raw line; msg is non-empty for a bad line, with the
// 1-based column it points at.
func parseLine(b []byte) (h header, rec record, col int, msg string) {
	if !utf8.Valid(b) {
		b = bytes.ToValidUTF8(b, []byte("\uFFFD"))
	}
	s := string(b)
	t := strings.Index(s, "type=")
	if t < 0 {
		return h, rec, 1, "not an audit record, expected type=… msg=audit(…)"
	}
	if nd := strings.Index(s[:t], "node="); nd >= 0 {
		h.node, _, _ = strings.Cut(s[nd+5:t], " ")
	}
	s = s[t:]
	col = t + 1
	// The header: auparse parses the type and the audit(…) stamp.
	m := strings.Index(s, " msg=audit(")
	if m < 0 {
		return h, rec, col, "audit record without msg=audit(…), expected type=T msg=audit(SECONDS.MS:SERIAL):"
	}
	end := strings.Index(s[m:], "):")
	if end < 0 {
		return h, rec, col + m, "unterminated msg=audit( stamp, expected \"):\""
	}
	end += m
	typ := s[len("type="):m]
	id := s[m+len(" msg=audit(") : end]
	sec, nsec, seq, ok := parseID(id)
	if !ok {
		return h, rec, col + m + len(" msg=audit("), "bad audit stamp " + strconvQuote(id) + ", expected SECONDS.MILLIS:SERIAL"
	}
	// auparse names numeric record types (type=UNKNOWN[1334] → BPF).
	if hdr, err := auparse.ParseLogLine(s[:end+2]); err == nil {
		if name := hdr.RecordType.String(); name != "" && !strings.HasPrefix(name, "UNKNOWN") {
			typ = name
		}
	}
	h.typ, h.sec, h.nsec, h.seq, h.id = typ, sec, nsec, seq, id
	body := s[end+2:]
	raw, enriched, _ := strings.Cut(body, "\x1d")
	rec.typ = typ
	var bad int
	if rec.fields, bad = parseFields(raw, typ, nil); bad >= 0 {
		return h, rec, col + end + 2 + bad + 1, "unterminated quoted value, expected a closing quote"
	}
	if enriched != "" {
		rec.enriched, _ = parseFields(enriched, "", nil)
	}
	return h, rec, 0, ""
}

func strconvQuote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return "\"" + s + "\""
}
