package syslog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/source"
)

// Journal is journalctl's JSON export: journalctl -o json (or -o json-seq),
// one object per line, every value a string, a byte array (a value that is
// not valid UTF-8 or holds control characters), an array of those (a field
// the entry has several times), or null (a value journalctl left out as
// too large).
type Journal struct{}

// Name implements source.Format.
func (Journal) Name() string { return "journald" }

// Sniff implements source.Format: the first non-blank line is a JSON
// object with a "__CURSOR" or "__REALTIME_TIMESTAMP" key. Like Text.Sniff
// it leaves alone what the Sysmon and auditd formats take: an export
// whose first record, or most of whose records, carry a Sysmon <Event> in
// MESSAGE or an audit record (type=… msg=audit(…)).
func (Journal) Sniff(head []byte) bool {
	lines := headLines(head, sniffLines)
	if len(lines) == 0 {
		return false
	}
	first := trimRecord(lines[0])
	// An @timestamp key means ECS: firewarden's own output of journald
	// events keeps the journal's fields under journald.*.
	if len(first) == 0 || first[0] != '{' || !hasKey(first, "__CURSOR") && !hasKey(first, "__REALTIME_TIMESTAMP") || hasKey(first, "@timestamp") {
		return false
	}
	if journalForeign(first) {
		return false
	}
	foreign := 0
	for _, l := range lines {
		if journalForeign(l) {
			foreign++
		}
	}
	return foreign*2 <= len(lines)
}

func journalForeign(line []byte) bool {
	return eventStart(line) >= 0 && bytes.Contains(line, []byte(`"MESSAGE"`)) || auditRecord(line)
}

// hasKey reports whether line has "key" followed by optional white space
// and a colon.
func hasKey(line []byte, key string) bool {
	q := `"` + key + `"`
	for from := 0; ; {
		i := bytes.Index(line[from:], []byte(q))
		if i < 0 {
			return false
		}
		j := from + i + len(q)
		for j < len(line) && (line[j] == ' ' || line[j] == '\t') {
			j++
		}
		if j < len(line) && line[j] == ':' {
			return true
		}
		from = j
	}
}

// trimRecord strips white space and json-seq's record separator.
func trimRecord(b []byte) []byte {
	return bytes.TrimLeft(bytes.TrimSpace(b), "\x1e")
}

// Read implements source.Format.
func (Journal) Read(ctx context.Context, in *source.Input, emit func(*event.Event) error) error {
	r := &journalReader{in: in, emit: emit, paths: make(map[string]string, 64), hint: 48}
	return source.EachLine(ctx, in, r.line)
}

// Field value kinds.
const (
	kString = iota
	kNull
	kList
)

// jfield is one field of the record being read; its values are spans of
// journalReader.buf (kList: spans[a:b] of journalReader.spans).
type jfield struct {
	path string // journald.<KEY>
	kind uint8
	a, b int
}

// Fields firewarden maps to ECS.
const (
	fMessage = iota
	fRealtime
	fSourceRealtime
	fHostname
	fIdentifier
	fComm
	fPid
	fSyslogPid
	fExe
	fCmdline
	fUID
	fGID
	fLoginUID
	fPriority
	fFacility
	fUnit
	fMachineID
	nKnown
)

var knownKeys = map[string]int{
	"MESSAGE":                    fMessage,
	"__REALTIME_TIMESTAMP":       fRealtime,
	"_SOURCE_REALTIME_TIMESTAMP": fSourceRealtime,
	"_HOSTNAME":                  fHostname,
	"SYSLOG_IDENTIFIER":          fIdentifier,
	"_COMM":                      fComm,
	"_PID":                       fPid,
	"SYSLOG_PID":                 fSyslogPid,
	"_EXE":                       fExe,
	"_CMDLINE":                   fCmdline,
	"_UID":                       fUID,
	"_GID":                       fGID,
	"_AUDIT_LOGINUID":            fLoginUID,
	"PRIORITY":                   fPriority,
	"SYSLOG_FACILITY":            fFacility,
	"_SYSTEMD_UNIT":              fUnit,
	"_MACHINE_ID":                fMachineID,
}

type journalReader struct {
	in     *source.Input
	emit   func(*event.Event) error
	p      fastjson.Parser
	paths  map[string]string // KEY → "journald.KEY"
	buf    []byte
	spans  []span
	fields []jfield
	known  [nKnown]int // index in fields + 1; 0: absent
	s      string      // string(buf) of the current record
	bad    string      // why the current record is bad
	hint   int
}

const maxPaths = 4096

func (r *journalReader) path(key []byte) string {
	if p, ok := r.paths[string(key)]; ok {
		return p
	}
	p := "journald." + validString(key)
	if len(r.paths) < maxPaths {
		r.paths[p[len("journald."):]] = p
	}
	return p
}

func (r *journalReader) line(b []byte, n int) error {
	b = trimRecord(b)
	if len(b) == 0 {
		return nil
	}
	if b[0] != '{' {
		r.in.Badf(n, 1, "not a JSON object: %s, expected a journalctl -o json record {\"__CURSOR\":…}", quoteToken(b, 0))
		return nil
	}
	v, err := r.p.ParseBytes(b)
	if err != nil {
		col := 0
		var se *json.SyntaxError
		var x any
		if jerr := json.Unmarshal(b, &x); errors.As(jerr, &se) {
			col = int(se.Offset)
			if col < 1 {
				col = 1
			}
			r.in.Badf(n, col, "invalid journald JSON record: %s, expected a JSON object per line", se.Error())
			return nil
		}
		r.in.Badf(n, 1, "invalid journald JSON record: %v, expected a JSON object per line", err)
		return nil
	}
	obj, err := v.Object()
	if err != nil {
		r.in.Badf(n, 1, "journald record is a JSON %s, expected an object", v.Type())
		return nil
	}
	r.buf, r.spans, r.fields, r.bad = r.buf[:0], r.spans[:0], r.fields[:0], ""
	r.known = [nKnown]int{}
	obj.Visit(r.field)
	if r.bad != "" {
		r.in.Badf(n, 1, "%s", r.bad)
		return nil
	}
	t, ok := r.time(fRealtime)
	if !ok {
		t, ok = r.time(fSourceRealtime)
	}
	if !ok {
		r.in.Badf(n, 1, "journald record without a valid __REALTIME_TIMESTAMP, expected microseconds since the epoch (\"__REALTIME_TIMESTAMP\":\"1795358959123456\")")
		return nil
	}
	// All the record's strings and @timestamp are substrings of one string.
	mark := len(r.buf)
	r.buf = appendStamp(r.buf, t, 6)
	r.s = string(r.buf)
	if len(r.buf) > 64<<10 {
		r.buf = nil // do not keep a huge record's buffer
	}
	ev := event.New(r.hint)
	ev.Format = "journald"
	ev.File = r.in.Name
	ev.Line = n
	ev.Time = t
	ev.SetStr("@timestamp", r.s[mark:])
	ev.Set("event.kind", strEvent)
	ev.Set("event.module", strSyslog)
	ev.Set("event.dataset", strJournald)
	for _, f := range r.fields {
		switch f.kind {
		case kString:
			ev.SetStr(f.path, r.s[f.a:f.b])
		case kNull:
			ev.Set(f.path, event.NullV())
		case kList:
			vs := make([]event.Value, f.b-f.a)
			for i, sp := range r.spans[f.a:f.b] {
				vs[i] = event.Str(r.s[sp.a:sp.b])
			}
			ev.Set(f.path, event.ListV(vs...))
		}
	}
	msg, hasMsg := r.get(fMessage)
	if hasMsg {
		ev.SetStr("message", msg)
	}
	if h, ok := r.get(fHostname); ok && h != "" {
		ev.SetStr("host.name", h)
		ev.SetStr("log.syslog.hostname", h)
	}
	prog := ""
	if id, ok := r.get(fIdentifier); ok && id != "" {
		ev.SetStr("log.syslog.appname", id)
		prog = baseName(id)
	} else if c, ok := r.get(fComm); ok {
		prog = c
	}
	if prog != "" {
		ev.SetStr("process.name", prog)
	}
	pid, okPid := r.get(fPid)
	spid, okSpid := r.get(fSyslogPid)
	if okSpid && spid != "" {
		ev.SetStr("log.syslog.procid", spid)
	} else if okPid && pid != "" {
		ev.SetStr("log.syslog.procid", pid)
	}
	if p, ok := pidValue(pid); okPid && ok {
		ev.Set("process.pid", p)
	} else if p, ok := pidValue(spid); okSpid && ok {
		ev.Set("process.pid", p)
	}
	r.copy(ev, fExe, "process.executable")
	r.copy(ev, fCmdline, "process.command_line")
	r.copy(ev, fUID, "user.id")
	r.copy(ev, fGID, "group.id")
	if a, ok := r.get(fLoginUID); ok && a != "" && a != "4294967295" {
		ev.SetStr("user.audit.id", a)
	}
	r.copy(ev, fUnit, "systemd.unit")
	r.copy(ev, fMachineID, "host.id")
	sev, fac := -1, -1
	if p, ok := r.get(fPriority); ok {
		if v, ok := pidValue(p); ok && v.Int <= 7 {
			sev = int(v.Int)
		}
	}
	if f, ok := r.get(fFacility); ok {
		if v, ok := pidValue(f); ok && v.Int <= 23 {
			fac = int(v.Int)
		}
	}
	setPriority(ev, -1, fac, sev)
	ev.SetStr("log.file.path", r.in.Name)
	ev.Set("log.file.line", event.IntV(int64(n)))
	hints(ev, prog, msg)
	ev.Index = journalIndex(ev)
	r.hint = min(ev.Len(), 64) // events of a stream are alike: size the next map like this one
	return r.emit(ev)
}

// field records one key and value of the record.
func (r *journalReader) field(key []byte, v *fastjson.Value) {
	if r.bad != "" {
		return
	}
	f := jfield{path: r.path(key)}
	switch v.Type() {
	case fastjson.TypeString:
		f.a = len(r.buf)
		r.buf = appendUTF8(r.buf, v.GetStringBytes())
		f.b = len(r.buf)
	case fastjson.TypeNull:
		f.kind = kNull
	case fastjson.TypeArray:
		arr := v.GetArray()
		if isByteArray(arr) {
			f.a = len(r.buf)
			r.buf = appendBytes(r.buf, arr)
			f.b = len(r.buf)
			break
		}
		// A field the entry has several times: each value a string or a
		// byte array.
		f.kind = kList
		f.a = len(r.spans)
		for _, x := range arr {
			a := len(r.buf)
			switch x.Type() {
			case fastjson.TypeString:
				r.buf = appendUTF8(r.buf, x.GetStringBytes())
			case fastjson.TypeArray:
				if el := x.GetArray(); isByteArray(el) {
					r.buf = appendBytes(r.buf, el)
					break
				}
				r.bad = "journald field " + quote(key) + " holds a nested array that is not bytes, expected strings or byte arrays"
				return
			default:
				r.buf = x.MarshalTo(r.buf)
			}
			r.spans = append(r.spans, span{a, len(r.buf)})
		}
		f.b = len(r.spans)
	default:
		// Not something journalctl writes (numbers, booleans, objects):
		// kept as their JSON text.
		f.a = len(r.buf)
		r.buf = v.MarshalTo(r.buf)
		f.b = len(r.buf)
	}
	r.fields = append(r.fields, f)
	if k, ok := knownKeys[string(key)]; ok && r.known[k] == 0 {
		r.known[k] = len(r.fields)
	}
}

// get returns a known field's value (the first, for a field with several).
func (r *journalReader) get(k int) (string, bool) {
	i := r.known[k]
	if i == 0 {
		return "", false
	}
	f := r.fields[i-1]
	switch f.kind {
	case kString:
		return r.s[f.a:f.b], true
	case kList:
		if f.b > f.a {
			sp := r.spans[f.a]
			return r.s[sp.a:sp.b], true
		}
	}
	return "", false
}

func (r *journalReader) copy(ev *event.Event, k int, path string) {
	if v, ok := r.get(k); ok && v != "" {
		ev.SetStr(path, v)
	}
}

// time reads a microsecond time stamp field (before r.s is made).
func (r *journalReader) time(k int) (time.Time, bool) {
	i := r.known[k]
	if i == 0 || r.fields[i-1].kind != kString {
		return time.Time{}, false
	}
	f := r.fields[i-1]
	b := r.buf[f.a:f.b]
	if len(b) == 0 || len(b) > 18 {
		return time.Time{}, false
	}
	var us int64
	for _, c := range b {
		if !isDigit(c) {
			return time.Time{}, false
		}
		us = us*10 + int64(c-'0')
	}
	return time.UnixMicro(us).UTC(), true
}

func isByteArray(arr []*fastjson.Value) bool {
	if len(arr) == 0 {
		return false
	}
	for _, x := range arr {
		if x.Type() != fastjson.TypeNumber {
			return false
		}
		c, err := x.Int()
		if err != nil || c < 0 || c > 255 {
			return false
		}
	}
	return true
}

// appendBytes appends a byte array's bytes, invalid UTF-8 replaced.
func appendBytes(dst []byte, arr []*fastjson.Value) []byte {
	var tmp [256]byte
	raw := tmp[:0]
	for _, x := range arr {
		c, _ := x.Int()
		raw = append(raw, byte(c))
	}
	return appendUTF8(dst, raw)
}

func appendUTF8(dst, b []byte) []byte {
	if utf8.Valid(b) {
		return append(dst, b...)
	}
	return appendValid(dst, b)
}

var _ source.Format = Journal{}
