package syslog

import (
	"bytes"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/firewarden/firewarden/event"
)

// Shared immutable values (an event's values are never modified once
// stored, so events may share them; lists have len == cap so an append
// copies).
var (
	strEvent    = event.Str("event")
	strSyslog   = event.Str("syslog")
	strJournald = event.Str("journald")
	catNetwork  = event.Strs("network")
	catProcess  = event.Strs("process")
	catConfig   = event.Strs("configuration")
	typeInfo    = event.Strs("info")
	typeDenied  = event.Strs("denied")
	typeAllowed = event.Strs("allowed")
	strIPv4     = event.Str("ipv4")
	strIPv6     = event.Str("ipv6")
	strSuccess  = event.Str("success")
	strFailure  = event.Str("failure")
)

// facilityNames are the facility keywords systemd and rsyslog use
// (RFC 5424 table 1).
var facilityNames = [24]string{
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
	"uucp", "cron", "authpriv", "ftp", "ntp", "security", "console", "solaris-cron",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
}

// severityNames are the severity keywords (RFC 5424 table 2).
var severityNames = [8]string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}

// setPriority sets log.syslog.priority, .facility.* and .severity.*;
// facility or severity may be -1 (unknown), pri -1 to compute it from both.
func setPriority(ev *event.Event, pri, facility, severity int) {
	if pri >= 0 {
		facility, severity = pri>>3, pri&7
	} else if facility >= 0 && severity >= 0 {
		pri = facility<<3 | severity
	}
	if pri >= 0 {
		ev.Set("log.syslog.priority", event.IntV(int64(pri)))
	}
	if facility >= 0 && facility < len(facilityNames) {
		ev.Set("log.syslog.facility.code", event.IntV(int64(facility)))
		ev.SetStr("log.syslog.facility.name", facilityNames[facility])
	}
	if severity >= 0 && severity < len(severityNames) {
		ev.Set("log.syslog.severity.code", event.IntV(int64(severity)))
		ev.SetStr("log.syslog.severity.name", severityNames[severity])
	}
}

// appendStamp appends t as @timestamp: UTC, with at least millisecond
// precision and more when the source wrote more digits
// (2026-11-22T14:49:19.000Z, 2026-11-22T14:49:19.123456Z).
func appendStamp(dst []byte, t time.Time, digits int) []byte {
	layout := "2006-01-02T15:04:05.000Z"
	switch {
	case digits > 6:
		layout = "2006-01-02T15:04:05.000000000Z"
	case digits > 3:
		layout = "2006-01-02T15:04:05.000000Z"
	}
	return t.UTC().AppendFormat(dst, layout)
}

// zoneCache renders a time's zone offset as ECS event.timezone (±hh:mm).
type zoneCache struct {
	offset int
	s      string
}

func (c *zoneCache) format(t time.Time) string {
	_, off := t.Zone()
	if c.s == "" || c.offset != off {
		c.offset, c.s = off, t.Format("-07:00")
	}
	return c.s
}

// validString returns b as a string with each invalid UTF-8 byte replaced
// by U+FFFD.
func validString(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return string(appendValid(make([]byte, 0, len(b)+8), b))
}

func appendValid(dst, b []byte) []byte {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		} else {
			dst = append(dst, b[:n]...)
		}
		b = b[n:]
	}
	return dst
}

// unescapeOctal decodes rsyslog's #ooo escapes of control characters
// (#011 tab, #012 newline, #015 CR, #177 DEL); any other '#' stays.
func unescapeOctal(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for {
		j := bytes.IndexByte(b, '#')
		if j < 0 {
			return append(out, b...)
		}
		out = append(out, b[:j]...)
		if c, ok := octalEscape(b[j:]); ok {
			out = append(out, c)
			b = b[j+4:]
		} else {
			out = append(out, '#')
			b = b[j+1:]
		}
	}
}

func octalEscape(t []byte) (byte, bool) {
	if len(t) < 4 || t[0] != '#' {
		return 0, false
	}
	v := 0
	for _, c := range t[1:4] {
		if c < '0' || c > '7' {
			return 0, false
		}
		v = v*8 + int(c-'0')
	}
	if v < 0x20 || v == 0x7f {
		return byte(v), true
	}
	return 0, false
}

// hasOctalEscape reports whether b holds an escape unescapeOctal decodes.
func hasOctalEscape(b []byte) bool {
	for {
		j := bytes.IndexByte(b, '#')
		if j < 0 {
			return false
		}
		if _, ok := octalEscape(b[j:]); ok {
			return true
		}
		b = b[j+1:]
	}
}

// pidValue returns s as a process id when it is one.
func pidValue(s string) (event.Value, bool) {
	if s == "" || len(s) > 10 || s[0] == '0' && len(s) > 1 {
		return event.Value{}, false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return event.Value{}, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return event.Value{}, false
	}
	return event.IntV(n), true
}

// baseName is the last element of a slash-separated path ("/usr/sbin/cron"
// → "cron"); a name without a slash, or ending in one, is returned as is.
func baseName(s string) string {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			if i == len(s)-1 {
				return s
			}
			return s[i+1:]
		}
	}
	return s
}

// eventStart returns the offset of "<Event" followed by '>', '/' or white
// space in line, or -1: what the Sysmon format sniffs.
func eventStart(line []byte) int {
	from := 0
	for from < len(line) {
		i := bytes.Index(line[from:], []byte("<Event"))
		if i < 0 {
			return -1
		}
		i += from
		if j := i + len("<Event"); j < len(line) {
			switch line[j] {
			case '>', '/', ' ', '\t', '\n', '\r':
				return i
			}
		}
		from = i + 1
	}
	return -1
}

// auditRecord reports whether line holds an audit record
// ("type=… msg=audit("): what the auditd format sniffs.
func auditRecord(line []byte) bool {
	i := bytes.Index(line, []byte("type="))
	return i >= 0 && bytes.Contains(line[i:], []byte(" msg=audit("))
}

// headLines returns the complete non-blank lines of a sniffed head (at
// most limit); a final line cut off by the head's end is included only when
// it is the only one.
func headLines(head []byte, limit int) [][]byte {
	var out [][]byte
	var partial []byte
	for len(head) > 0 && len(out) < limit {
		line := head
		nl := bytes.IndexByte(head, '\n')
		if nl >= 0 {
			line, head = head[:nl], head[nl+1:]
		} else {
			head = nil
		}
		line = bytes.TrimRight(line, "\r")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if nl < 0 {
			partial = line
			break
		}
		out = append(out, line)
	}
	if len(out) == 0 && partial != nil {
		out = append(out, partial)
	}
	return out
}
