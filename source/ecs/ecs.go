// Package ecs reads ECS JSON — Elastic Defend, Auditbeat, Filebeat or any
// ECS export — into firewarden events.
//
// Accepted shapes, mixed freely in one stream:
//
//   - NDJSON, one document per line (the fast path);
//   - Elasticsearch hits ({"_index":…,"_id":…,"_source":{…}}): the event is
//     _source, with _index and _id kept as firewarden.index / firewarden.id;
//   - a search response ({"hits":{"hits":[hit, …]}}), streamed hit by hit;
//   - a JSON array of documents or hits;
//   - pretty-printed (multi-line) documents, one after another;
//   - Elasticsearch _bulk bodies (an {"index":{…}} or {"create":{…}} action
//     line before each document; {"delete":{…}} lines have no document).
//
// Documents are flattened to dotted paths the way Elasticsearch does it
// (see Event.SetTree). The origin of each event is in Event.File/Line and,
// unless the document already has them, in log.file.path / log.file.line.
// Then the process fields the document lacks are derived (source/process),
// shell-splitting process.command_line when there is no process.args.
// Fields the document provides are never rewritten.
package ecs

import (
	"bufio"
	"bytes"
	"context"

	"github.com/valyala/fastjson"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/source"
	"github.com/firewarden/firewarden/source/process"
)

// NDJSON is the ECS JSON format.
type NDJSON struct{}

// Name implements source.Format.
func (NDJSON) Name() string { return "ecs" }

// Sniff implements source.Format: the stream starts with '{' or '[' and
// the head has an ECS-ish key ("@timestamp", "event", "process", "ecs",
// "_source", "hits"). Laurel's audit JSON ({"ID":"…","SYSCALL":{…}}) and
// Endgame JSON (event_type / unique_pid / serial_event_id without an
// "@timestamp") are left to their own formats.
func (NDJSON) Sniff(head []byte) bool {
	head = bytes.TrimPrefix(head, utf8BOM)
	i := skipSpace(head, 0)
	if i >= len(head) || head[i] != '{' && head[i] != '[' {
		return false
	}
	// Laurel: every line starts {"ID":"…" and carries audit record types.
	if bytes.HasPrefix(head[i:], []byte(`{"ID":"`)) {
		return false
	}
	if hasKey(head, "ID") && (hasKey(head, "SYSCALL") || hasKey(head, "EXECVE") || hasKey(head, "PROCTITLE") ||
		hasKey(head, "NETFILTER_CFG") || hasKey(head, "DAEMON_START")) {
		return false
	}
	ts := hasKey(head, "@timestamp")
	// Endgame (the older Elastic endpoint schema, EQL's conformance data).
	if !ts && (hasKey(head, "serial_event_id") || hasKey(head, "unique_pid") || hasKey(head, "event_subtype_full") ||
		hasKey(head, "event_type_full")) {
		return false
	}
	// journalctl -o json (which never has @timestamp; firewarden's own ECS
	// output of journald events does, under journald.*).
	if !ts && (hasKey(head, "__CURSOR") || hasKey(head, "__REALTIME_TIMESTAMP")) {
		return false
	}
	return ts || hasKey(head, "event") || hasKey(head, "_source") || hasKey(head, "process") ||
		hasKey(head, "ecs") || hasKey(head, "hits")
}

var utf8BOM = []byte{0xef, 0xbb, 0xbf}

// hasKey reports whether head contains "key" followed by optional white
// space and a colon: key used as an object key.
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
		j = skipSpace(head, j+1)
		if j < len(head) && head[j] == ':' {
			return true
		}
	}
	return false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// Read implements source.Format. When the stream's first line holds a
// complete object it is read line by line (the fast path; a line that is
// not a single valid object goes through the streaming scanner on its
// own). Otherwise — an array, a search response, pretty-printed
// documents — the whole stream goes through the streaming scanner, which
// holds one document at a time (at most source.MaxRecord bytes).
func (NDJSON) Read(ctx context.Context, in *source.Input, emit func(*event.Event) error) error {
	r := newReader(in, emit)
	br := bufio.NewReaderSize(in.R, 64<<10)
	if lineMode(br) {
		return source.EachLine(ctx, &source.Input{Name: in.Name, R: br, Stats: in.Stats, Pool: in.Pool}, r.line)
	}
	return r.stream(ctx, br, 1, true)
}

// lineMode peeks at the first non-blank line: NDJSON when it is a whole
// object ('{' … '}'). A first line that does not end in '}' (it would not
// fit the peek window, or it is the start of a pretty-printed document)
// selects the streaming scanner, which reads NDJSON correctly too.
func lineMode(br *bufio.Reader) bool {
	head, _ := br.Peek(br.Size())
	head = bytes.TrimPrefix(head, utf8BOM)
	for len(head) > 0 {
		nl := bytes.IndexByte(head, '\n')
		if nl < 0 {
			return false // the first line is longer than the peek window, or the stream ends here
		}
		ln := bytes.TrimSpace(head[:nl])
		head = head[nl+1:]
		if len(ln) == 0 {
			continue
		}
		return ln[0] == '{' && ln[len(ln)-1] == '}'
	}
	return false
}

// reader is the per-input state.
type reader struct {
	in    *source.Input
	emit  func(*event.Event) error
	p     fastjson.Parser
	flat  flattener
	table *process.Table
	// bulk is the pending _bulk action metadata for the next document.
	bulk bulkMeta
	hint int // map size hint: fields of the previous event
	idx  indexer
	// stop is the error emit returned, which ends reading.
	stop error
}

type bulkMeta struct {
	set       bool
	index, id string
}

func newReader(in *source.Input, emit func(*event.Event) error) *reader {
	r := &reader{in: in, emit: emit, table: process.NewTable(0), hint: 48}
	r.flat.init()
	return r
}

// line handles one line in line mode.
func (r *reader) line(b []byte, n int) error {
	if n == 1 {
		b = bytes.TrimPrefix(b, utf8BOM)
	}
	i := skipSpace(b, 0)
	if i == len(b) {
		return nil // blank line
	}
	if b[i] == '{' {
		if v, err := r.p.ParseBytes(b); err == nil {
			return r.object(v, n)
		}
	}
	// Not a single valid object: an array, a scalar, two objects on one
	// line, or a syntax error. The streaming scanner says which, with a
	// column, and still reads every object it can.
	return r.stream(context.Background(), bufio.NewReader(bytes.NewReader(b)), n, false)
}

// object handles one parsed top-level object: a document, a hit, a search
// response, or a _bulk action.
func (r *reader) object(v *fastjson.Value, line int) error {
	o, _ := v.Object()
	if a, ok := bulkAction(o); ok {
		r.bulk = bulkMeta{}
		if a.kind != "delete" {
			r.bulk = bulkMeta{set: true, index: str(a.meta.Get("_index")), id: str(a.meta.Get("_id"))}
		}
		return nil
	}
	if src := o.Get("_source"); src != nil {
		if src.Type() != fastjson.TypeObject {
			r.in.Badf(line, 0, "Elasticsearch hit: _source is %s, expected an object", src.Type())
			return nil
		}
		meta := bulkMeta{set: true, index: str(o.Get("_index")), id: str(o.Get("_id"))}
		r.bulk = bulkMeta{}
		return r.doc(src, line, meta)
	}
	if hits := o.Get("hits"); hits != nil && hits.Type() == fastjson.TypeObject {
		if hh := hits.Get("hits"); hh != nil && hh.Type() == fastjson.TypeArray {
			arr, _ := hh.Array()
			for k, h := range arr {
				if h.Type() != fastjson.TypeObject {
					r.in.Badf(line, 0, "search response: hits.hits[%d] is %s, expected an object", k, h.Type())
					continue
				}
				if err := r.object(h, line); err != nil {
					return err
				}
			}
			return nil
		}
	}
	if o.Get("_index") != nil && o.Get("_id") != nil && o.Len() <= 8 {
		// Looks like a hit exported without its document.
		r.in.Badf(line, 0, "Elasticsearch hit without _source, expected a hit with _source (export with _source enabled)")
		return nil
	}
	meta := r.bulk
	r.bulk = bulkMeta{}
	return r.doc(v, line, meta)
}

type action struct {
	kind string
	meta *fastjson.Object
}

// bulkAction recognises an Elasticsearch _bulk action line:
// {"index":{"_index":…}}, {"create":{…}} or {"delete":{…}}.
func bulkAction(o *fastjson.Object) (action, bool) {
	if o.Len() != 1 {
		return action{}, false
	}
	for _, k := range [...]string{"index", "create", "delete"} {
		if m := o.Get(k); m != nil && m.Type() == fastjson.TypeObject {
			mo, _ := m.Object()
			if mo.Len() == 0 || mo.Get("_index") != nil || mo.Get("_id") != nil {
				return action{k, mo}, true
			}
		}
	}
	return action{}, false
}

func str(v *fastjson.Value) string {
	if v == nil {
		return ""
	}
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return string(sanitizeUTF8(b))
	case fastjson.TypeNumber:
		return v.String()
	}
	return ""
}

// doc flattens one document into an event, finishes it and emits it.
func (r *reader) doc(v *fastjson.Value, line int, meta bulkMeta) error {
	ev := r.in.NewEvent(r.hint)
	r.flat.reset(ev)
	o, _ := v.Object()
	r.flat.object(o, 0, false)
	r.flat.flush()
	if meta.set {
		if meta.index != "" {
			ev.SetStr("firewarden.index", meta.index)
		}
		if meta.id != "" {
			ev.SetStr("firewarden.id", meta.id)
		}
	}
	ev.Format = "ecs"
	ev.Index = r.idx.index(ev, meta.index)
	ev.File = r.in.Name
	ev.Line = line
	ev.Time = timestamp(ev.Get("@timestamp"))
	// Filebeat's log.file.path names the file it read: keep it, and do
	// not pair it with a line number of ours.
	if ev.Fill("log.file.path", event.Str(r.in.Name)) {
		ev.Fill("log.file.line", event.IntV(int64(line)))
	}
	r.table.Derive(ev, process.ShellSplit)
	r.hint = ev.Len() // documents of one stream are alike: size the next map like this one
	r.flat.ev = nil
	return r.emit(ev)
}

var _ source.Format = NDJSON{}
