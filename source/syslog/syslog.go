// Package syslog reads syslog text files and journald exports:
//
//   - Text (format "syslog"): what rsyslog writes to /var/log/syslog,
//     auth.log, kern.log… in its traditional format ("Nov 22 14:49:19 host
//     prog[pid]: message") and its high-precision default
//     ("2026-11-22T14:49:19.123456+00:00 host prog[pid]: message"),
//     journalctl's short and short-iso outputs, RFC 3164 lines with a
//     <PRI>, and RFC 5424 lines ("<34>1 2026-11-22T14:49:19.003Z host app
//     pid msgid [sd] message", with or without the <PRI>).
//   - Journal (format "journald"): journalctl -o json (or json-seq), one
//     JSON object per line.
//
// Both give events with event.module "syslog", so Sigma rules of the
// linux syslog services (sshd, sudo, cron, …) see them; event.dataset says
// which of the two it was. Well-known firewall-relevant messages get ECS
// hints: netfilter LOG lines (ufw's [UFW BLOCK], firewalld's LogDenied),
// firewalld's own messages and sudo's COMMAND= lines. The fields are
// documented in docs/fields-syslog.md; keep the two in step.
package syslog

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/source"
)

// Text is the syslog text format.
type Text struct {
	// Reference places RFC 3164 time stamps, which have no year: a stamp
	// takes Reference's year, or the year before when its month is after
	// Reference's month. Zero means the input file's modification time,
	// or the current time for standard input (or when the file cannot be
	// stat'ed).
	Reference time.Time
	// Location is the time zone of time stamps that carry none (RFC 3164
	// and zone-less ISO stamps); nil means the local zone (TZ).
	Location *time.Location
}

// Name implements source.Format.
func (Text) Name() string { return "syslog" }

// sniffLines is how many lines of the head Sniff looks at.
const sniffLines = 20

// Sniff implements source.Format: the first non-blank line of head is a
// syslog line (time stamp, host, tag: or an RFC 5424 header), and so are
// most of the first 20. It leaves alone what the Sysmon and auditd formats
// take: a head whose first line, or most of whose lines, hold a Sysmon
// <Event> or an audit record (type=… msg=audit(…), as audispd forwards
// them), so the order formats are tried in never matters.
func (Text) Sniff(head []byte) bool {
	var h header
	n, good, foreign := 0, 0, 0
	for _, line := range headLines(head, sniffLines) {
		if separator(line) {
			continue
		}
		f := eventStart(line) >= 0 || auditRecord(line)
		ok := parse(line, &h) == nil
		if n == 0 && (f || !ok) {
			return false
		}
		n++
		if f {
			foreign++
		}
		if ok {
			good++
		}
	}
	return n > 0 && good*2 > n && foreign*2 <= n
}

// separator reports whether line is one of journalctl's "-- Boot … --",
// "-- No entries --" lines, which are not records.
func separator(line []byte) bool {
	return len(line) >= 6 && bytes.HasPrefix(line, []byte("-- ")) && bytes.HasSuffix(line, []byte(" --"))
}

// Read implements source.Format.
func (t Text) Read(ctx context.Context, in *source.Input, emit func(*event.Event) error) error {
	r := &textReader{in: in, emit: emit, loc: t.Location, hint: 16}
	if r.loc == nil {
		r.loc = time.Local
	}
	ref := t.Reference
	if ref.IsZero() && in.Name != "-" && in.Name != "" {
		if fi, err := os.Stat(in.Name); err == nil && fi.Mode().IsRegular() {
			ref = fi.ModTime()
		}
	}
	if ref.IsZero() {
		ref = time.Now()
	}
	ref = ref.In(r.loc)
	r.refYear, r.refMonth = ref.Year(), int(ref.Month())
	return source.EachLine(ctx, in, r.line)
}

type textReader struct {
	in                *source.Input
	emit              func(*event.Event) error
	loc               *time.Location
	refYear, refMonth int
	h                 header
	buf               []byte
	zones             zoneCache
	hint              int
}

func (r *textReader) line(b []byte, n int) error {
	if len(bytes.TrimSpace(b)) == 0 || separator(b) {
		return nil
	}
	h := &r.h
	if err := parse(b, h); err != nil {
		r.in.Badf(n, err.at+1, "%s", err.msg)
		return nil
	}
	t, perr := r.time(b, &h.ts)
	if perr != nil {
		r.in.Badf(n, perr.at+1, "%s", perr.msg)
		return nil
	}

	// Every string of the event is a substring of one string holding the
	// line and @timestamp (one allocation), unless the line needs repair.
	valid := utf8.Valid(b)
	r.buf = appendStamp(append(r.buf[:0], b...), t, h.ts.digits)
	s := string(r.buf)
	if len(r.buf) > 64<<10 {
		r.buf = nil // do not keep a huge line's buffer
	}
	str := func(sp span) string {
		if valid {
			return s[sp.a:sp.b]
		}
		return validString(b[sp.a:sp.b])
	}

	ev := event.New(r.hint)
	ev.Format = "syslog"
	ev.File = r.in.Name
	ev.Line = n
	ev.Time = t.UTC()
	ev.SetStr("@timestamp", s[len(b):])
	if h.ts.zone == 0 {
		ev.SetStr("event.timezone", r.zones.format(t))
	}
	ev.Set("event.kind", strEvent)
	ev.Set("event.module", strSyslog)
	ev.Set("event.dataset", strSyslog)
	if h.host.ok() {
		host := str(h.host)
		ev.SetStr("host.name", host)
		ev.SetStr("log.syslog.hostname", host)
	}
	prog := ""
	if h.app.ok() {
		app := str(h.app)
		ev.SetStr("log.syslog.appname", app)
		prog = baseName(app)
		ev.SetStr("process.name", prog)
	}
	if h.procid.ok() {
		procid := str(h.procid)
		if procid != "" {
			ev.SetStr("log.syslog.procid", procid)
			if pid, ok := pidValue(procid); ok {
				ev.Set("process.pid", pid)
			}
		}
	}
	if h.msgid.ok() {
		ev.SetStr("log.syslog.msgid", str(h.msgid))
	}
	if h.version > 0 {
		ev.Set("log.syslog.version", event.IntV(int64(h.version)))
	}
	for _, p := range h.sd {
		path := "log.syslog.structured_data." + str(p.id) + "." + str(p.name)
		v := str(p.value)
		if p.escaped {
			v = unescapeSD(v)
		}
		if ev.Has(path) {
			ev.Append(path, event.Str(v))
		} else {
			ev.SetStr(path, v)
		}
	}
	if h.pri >= 0 {
		setPriority(ev, h.pri, -1, -1)
	}
	var msg string
	switch m := b[h.msg:]; {
	case hasOctalEscape(m):
		msg = validString(unescapeOctal(m))
	case valid:
		msg = s[h.msg:len(b)]
	default:
		msg = validString(m)
	}
	ev.SetStr("message", msg)
	ev.SetStr("log.file.path", r.in.Name)
	ev.Set("log.file.line", event.IntV(int64(n)))
	hints(ev, prog, msg)
	ev.Index = textIndex(ev, r.in.Name)
	r.hint = min(ev.Len(), 64) // events of a stream are alike: size the next map like this one
	return r.emit(ev)
}

// time places a parsed stamp: the year of an RFC 3164 stamp is inferred
// from the reference, the zone of a zone-less stamp is the reader's.
func (r *textReader) time(line []byte, ts *stamp) (time.Time, *parseError) {
	year := ts.year
	if year == 0 {
		year = r.refYear
		if ts.month > r.refMonth {
			year--
		}
	}
	if ts.day > daysIn(ts.month, year) {
		return time.Time{}, fail(ts.at, "no such date: "+quote(line[ts.at:ts.end])+" in "+strconv.Itoa(year)+", expected a day that exists in the month")
	}
	switch ts.zone {
	case 'Z':
		return time.Date(year, time.Month(ts.month), ts.day, ts.hour, ts.min, ts.sec, ts.nsec, time.UTC), nil
	case '+':
		t := time.Date(year, time.Month(ts.month), ts.day, ts.hour, ts.min, ts.sec, ts.nsec, time.UTC)
		return t.Add(-time.Duration(ts.offset) * time.Second).UTC(), nil
	}
	return time.Date(year, time.Month(ts.month), ts.day, ts.hour, ts.min, ts.sec, ts.nsec, r.loc), nil
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// unescapeSD decodes RFC 5424 PARAM-VALUE escapes: \" \\ \]; a backslash
// before anything else stays.
func unescapeSD(v string) string {
	out := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) && (v[i+1] == '"' || v[i+1] == '\\' || v[i+1] == ']') {
			i++
		}
		out = append(out, v[i])
	}
	return string(out)
}

var _ source.Format = Text{}
