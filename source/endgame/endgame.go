// Package endgame reads Endgame-schema JSON — the event schema of the
// Endgame endpoint agent, which Elastic Endpoint used before ECS, and the
// schema of Elasticsearch's own EQL conformance data — into firewarden
// events.
//
// Every field is kept as written, flattened to dotted paths (EQL rules
// written for Endgame data use those names: process_name, unique_pid,
// opcode…), and the ECS equivalents are filled beside them (event.category,
// process.*, user.name, file.*, network fields…) without ever rewriting a
// field the document has. docs/fields-endgame.md lists the mapping.
//
// Accepted shapes, mixed freely in one stream: NDJSON; a JSON array of
// events; pretty-printed events one after another; Elasticsearch hits
// ({"_index":…,"_source":{…}}); search responses (hits.hits, and EQL's
// hits.events and hits.sequences[].events) and _bulk bodies; with `//` and
// `/* */` comments between events, as Elasticsearch's JSON parser allows.
package endgame

import (
	"bufio"
	"bytes"
	"context"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fastjson"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/source"
	"github.com/firewarden/firewarden/source/ecs"
	"github.com/firewarden/firewarden/source/process"
)

// DefaultIndex is the index Endgame events live in when a hit does not
// name one: the index of Elasticsearch's EQL conformance data, which
// matches Elastic's endgame-* pattern.
const DefaultIndex = "endgame-1.4.0"

// JSON is the Endgame JSON format.
type JSON struct{}

// Name implements source.Format.
func (JSON) Name() string { return "endgame" }

// strongKeys are keys only Endgame events use.
var strongKeys = [...]string{"serial_event_id", "event_type_full", "event_subtype_full", "unique_pid", "unique_ppid"}

// Sniff implements source.Format: the stream starts with '{' or '[' (after
// white space, a byte order mark or // comments), its head uses a key only
// Endgame events have (serial_event_id, event_type_full,
// event_subtype_full, unique_pid, unique_ppid) or both opcode and
// event_type, and it is not an ECS document — one with @timestamp and an
// event.category.
func (JSON) Sniff(head []byte) bool {
	head = bytes.TrimPrefix(head, utf8BOM)
	i := skipBlankAndComments(head)
	if i >= len(head) || head[i] != '{' && head[i] != '[' {
		return false
	}
	endgame := hasKey(head, "opcode") && hasKey(head, "event_type")
	for _, k := range strongKeys {
		endgame = endgame || hasKey(head, k)
	}
	if !endgame {
		return false
	}
	ecs := hasKey(head, "@timestamp") && (hasKey(head, "event.category") || hasKey(head, "event") && hasKey(head, "category"))
	return !ecs
}

var utf8BOM = []byte{0xef, 0xbb, 0xbf}

func skipBlankAndComments(b []byte) int {
	i := 0
	for i < len(b) {
		switch {
		case isSpace(b[i]):
			i++
		case bytes.HasPrefix(b[i:], []byte("//")):
			nl := bytes.IndexByte(b[i:], '\n')
			if nl < 0 {
				return len(b)
			}
			i += nl + 1
		case bytes.HasPrefix(b[i:], []byte("/*")):
			end := bytes.Index(b[i+2:], []byte("*/"))
			if end < 0 {
				return len(b)
			}
			i += end + 4
		default:
			return i
		}
	}
	return i
}

// hasKey reports whether head has "key" followed by optional white space
// and a colon: key used as an object key.
func hasKey(head []byte, key string) bool {
	for off := 0; off < len(head); {
		i := bytes.Index(head[off:], []byte(key))
		if i < 0 {
			return false
		}
		i += off
		off = i + 1
		if i == 0 || head[i-1] != '"' {
			continue
		}
		j := i + len(key)
		if j >= len(head) || head[j] != '"' {
			continue
		}
		for j++; j < len(head) && isSpace(head[j]); j++ {
		}
		if j < len(head) && head[j] == ':' {
			return true
		}
	}
	return false
}

// Read implements source.Format.
func (JSON) Read(ctx context.Context, in *source.Input, emit func(*event.Event) error) error {
	br := bufio.NewReaderSize(in.R, 64<<10)
	if b, _ := br.Peek(3); bytes.Equal(b, utf8BOM) {
		_, _ = br.Discard(3)
	}
	r := &reader{in: in, emit: emit, s: newScanner(br), table: process.NewTable(0), hint: 32}
	r.flat = ecs.NewFlattener()
	return r.run(ctx)
}

// reader is the state of one input.
type reader struct {
	in    *source.Input
	emit  func(*event.Event) error
	s     *scanner
	p     fastjson.Parser
	table *process.Table
	flat  *ecs.Flattener
	bulk  meta // the pending _bulk action for the next document
	hint  int  // map size hint: the previous event's field count
	stop  error
}

// meta is what a hit or a _bulk action says about its document.
type meta struct {
	set       bool
	index, id string
}

func (r *reader) run(ctx context.Context) error {
	s := r.s
	arrays := 0
	for n := 0; ; n++ {
		if n&255 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		c, ok := s.next()
		if !ok {
			break
		}
		switch {
		case isSpace(c) || c == ',':
			// White space, and commas between documents.
		case c == '{':
			r.document(s.bLine, s.bCol)
		case c == '[':
			arrays++
		case c == ']':
			if arrays == 0 {
				r.in.Badf(s.bLine, s.bCol, "unexpected ']', expected '{' (an event)")
			} else {
				arrays--
			}
		case c == '/':
			line, col := s.bLine, s.bCol
			isComment, closed := s.comment()
			switch {
			case !isComment:
				r.in.Badf(line, col, "unexpected '/', expected '{' (an event) or a comment")
			case !closed:
				r.in.Badf(line, col, "comment not closed, expected '*/'")
			}
		default:
			line, col := s.bLine, s.bCol
			if tok := s.token(c); kindOf(tok) != "" {
				r.in.Badf(line, col, "JSON %s is not an event, expected an object", kindOf(tok))
			} else {
				// Not JSON at all: one report for the rest of the line.
				r.in.Badf(line, col, "unexpected %s, expected '{' (an event)", describe(c))
				s.skipLine()
			}
		}
		if r.stop != nil {
			return r.stop
		}
		if s.ioErr != nil {
			return s.ioErr
		}
	}
	if s.ioErr != nil {
		return s.ioErr
	}
	if arrays > 0 {
		r.in.Badf(s.bLine, s.bCol, "unexpected end of input, expected ']'")
	}
	return r.stop
}

// document reads one top-level object that started at line:col.
func (r *reader) document(line, col int) {
	s := r.s
	switch s.object(col) {
	case docTooLong:
		r.in.Badf(line, col, "object longer than %d bytes, skipped", source.MaxRecord)
		return
	case docEOF:
		r.in.Badf(line, col, "unexpected end of input inside the object that starts here, expected '}'")
		return
	case docBroken:
		r.in.Badf(line, col, "object not closed before the next one at line %d, expected '}'", s.cur.line)
		return
	}
	v, err := r.p.ParseBytes(s.doc)
	if err != nil {
		if msg, l, c, ok := syntaxPos(s.doc, line, col); ok {
			r.in.Badf(l, c, "invalid JSON: %s", msg)
		} else {
			r.in.Badf(line, col, "invalid JSON: %v", err)
		}
		return
	}
	r.object(v, line)
}

// object handles one parsed top-level object: an event, a hit, a search
// response or a _bulk action.
func (r *reader) object(v *fastjson.Value, line int) {
	o, _ := v.Object()
	if kind, m, ok := bulkAction(o); ok {
		r.bulk = meta{}
		if kind != "delete" {
			r.bulk = meta{set: true, index: str(m.Get("_index")), id: str(m.Get("_id"))}
		}
		return
	}
	if src := o.Get("_source"); src != nil {
		r.bulk = meta{}
		if src.Type() != fastjson.TypeObject {
			r.in.Badf(line, 0, "Elasticsearch hit: _source is %s, expected an object", src.Type())
			return
		}
		r.doc(src, line, meta{set: true, index: str(o.Get("_index")), id: str(o.Get("_id"))})
		return
	}
	if hits := o.Get("hits"); hits != nil && hits.Type() == fastjson.TypeObject {
		if r.response(hits, line) {
			return
		}
	}
	m := r.bulk
	r.bulk = meta{}
	r.doc(v, line, m)
}

// response reads the hits of a search response (hits.hits) or of an EQL
// search response (hits.events, hits.sequences[].events). It reports
// whether hits held any of those arrays.
func (r *reader) response(hits *fastjson.Value, line int) bool {
	found := false
	for _, name := range [...]string{"hits", "events"} {
		if a := hits.Get(name); a != nil && a.Type() == fastjson.TypeArray {
			found = true
			r.hitList(a, "hits."+name, line)
		}
	}
	if seqs := hits.Get("sequences"); seqs != nil && seqs.Type() == fastjson.TypeArray {
		found = true
		arr, _ := seqs.Array()
		for k, sq := range arr {
			evs := sq.Get("events")
			if evs == nil || evs.Type() != fastjson.TypeArray {
				r.in.Badf(line, 0, "EQL search response: hits.sequences[%d] has no events array, expected one", k)
				continue
			}
			r.hitList(evs, "hits.sequences["+strconv.Itoa(k)+"].events", line)
		}
	}
	return found
}

func (r *reader) hitList(a *fastjson.Value, where string, line int) {
	arr, _ := a.Array()
	for k, h := range arr {
		if r.stop != nil {
			return
		}
		if h.Type() != fastjson.TypeObject {
			r.in.Badf(line, 0, "search response: %s[%d] is %s, expected an object", where, k, h.Type())
			continue
		}
		src := h.Get("_source")
		if src == nil || src.Type() != fastjson.TypeObject {
			// An EQL missing-event placeholder, or a hit without its
			// document: nothing to read.
			if h.Get("missing") != nil {
				continue
			}
			r.in.Badf(line, 0, "search response: %s[%d] has no _source object, expected a hit with _source", where, k)
			continue
		}
		r.doc(src, line, meta{set: true, index: str(h.Get("_index")), id: str(h.Get("_id"))})
	}
}

// bulkAction recognises an Elasticsearch _bulk action line:
// {"index":{…}}, {"create":{…}} or {"delete":{…}}.
func bulkAction(o *fastjson.Object) (string, *fastjson.Object, bool) {
	if o.Len() != 1 {
		return "", nil, false
	}
	for _, k := range [...]string{"index", "create", "delete"} {
		if m := o.Get(k); m != nil && m.Type() == fastjson.TypeObject {
			mo, _ := m.Object()
			if mo.Len() == 0 || mo.Get("_index") != nil || mo.Get("_id") != nil {
				return k, mo, true
			}
		}
	}
	return "", nil, false
}

func str(v *fastjson.Value) string {
	if v == nil {
		return ""
	}
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return strings.ToValidUTF8(string(b), "\uFFFD")
	case fastjson.TypeNumber:
		return v.String()
	}
	return ""
}

// doc turns one Endgame document into an event and emits it.
func (r *reader) doc(v *fastjson.Value, line int, m meta) {
	ev := event.New(r.hint + 24)
	o, _ := v.Object()
	r.flat.Flatten(ev, o)
	ev.Format = "endgame"
	ev.Index = DefaultIndex
	if m.set {
		if m.index != "" {
			ev.Index = m.index
			ev.Fill("firewarden.index", event.Str(m.index))
		}
		if m.id != "" {
			ev.Fill("firewarden.id", event.Str(m.id))
		}
	}
	ev.File = r.in.Name
	ev.Line = line
	r.hint = ev.Len()
	normalise(ev)
	if ev.Fill("log.file.path", event.Str(r.in.Name)) {
		ev.Fill("log.file.line", event.IntV(int64(line)))
	}
	r.table.Derive(ev, splitterFor(ev))
	if err := r.emit(ev); err != nil {
		r.stop = err
	}
}

// Times.

// fileTimeEpoch is 1970-01-01 in Windows FILETIME milliseconds (since
// 1601-01-01).
const fileTimeEpoch = 11644473600000

// FileTime converts a Windows FILETIME (100 ns ticks since 1601-01-01 UTC)
// to a time, truncated to the millisecond as Elasticsearch's conformance
// loader does it (@timestamp = timestamp / 10000 - 11644473600000): an
// Endgame index stores milliseconds, and maxspan is measured on them.
func FileTime(ticks int64) time.Time {
	return time.UnixMilli(ticks/10000 - fileTimeEpoch).UTC()
}

// parseTimestamp reads @timestamp as Elasticsearch's default date format
// does (strict_date_optional_time||epoch_millis): epoch milliseconds as a
// number or a string of digits, or an ISO 8601 date with optional time and
// zone (UTC when none). It reports false for anything else.
func parseTimestamp(v event.Value) (time.Time, bool) {
	switch v.Kind {
	case event.Int:
		return time.UnixMilli(v.Int).UTC(), true
	case event.Float:
		return time.UnixMicro(int64(v.Num * 1000)).UTC(), true
	case event.String:
		return parseTime(v.Str)
	case event.List:
		if len(v.List) == 1 {
			return parseTimestamp(v.List[0])
		}
	}
	return time.Time{}, false
}

func parseTime(s string) (time.Time, bool) {
	if digits(strings.TrimPrefix(s, "-")) && len(s) <= 19 {
		n, err := strconv.ParseInt(s, 10, 64)
		if err == nil {
			return time.UnixMilli(n).UTC(), true
		}
	}
	for _, layout := range [...]string{
		time.RFC3339Nano,
		"2006-01-02T15:04:05.999999999Z0700",
		"2006-01-02T15:04:05.999999999",
		"2006-01-02 15:04:05.999999999Z07:00",
		"2006-01-02 15:04:05.999999999",
		"2006-01-02T15:04Z07:00",
		"2006-01-02T15:04",
		"2006-01-02",
	} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// fileTime reads Endgame's timestamp field: FILETIME ticks as an integer
// (or a string of digits); an ISO 8601 string is accepted too.
func fileTime(v event.Value) (time.Time, bool) {
	switch v.Kind {
	case event.Int:
		return FileTime(v.Int), true
	case event.Float:
		if v.Num == math.Trunc(v.Num) && math.Abs(v.Num) < 9e18 {
			return FileTime(int64(v.Num)), true
		}
	case event.String:
		if digits(v.Str) {
			if n, err := strconv.ParseInt(v.Str, 10, 64); err == nil {
				return FileTime(n), true
			}
			return time.Time{}, false
		}
		return parseTime(v.Str)
	}
	return time.Time{}, false
}

var _ source.Format = JSON{}
