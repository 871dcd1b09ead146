package syslog

import (
	"bytes"
	"strconv"
)

// span is a byte range [a, b) of the line; a < 0 means absent.
type span struct{ a, b int }

var none = span{-1, -1}

func (s span) ok() bool { return s.a >= 0 }

// stamp is a parsed time stamp, not yet placed in a year or zone.
type stamp struct {
	year, month, day     int // year 0: RFC 3164, no year written
	hour, min, sec, nsec int
	digits               int  // fraction digits written (0-9)
	zone                 byte // 0: none written (local time), 'Z': UTC, '+': offset
	offset               int  // seconds east of UTC, for zone '+'
	at                   int  // offset of the stamp in the line
	end                  int  // offset just after it
}

// sdParam is one RFC 5424 SD-PARAM: SD-ID, PARAM-NAME, and PARAM-VALUE
// (escaped tells whether the value holds \" \\ or \] escapes).
type sdParam struct {
	id, name, value span
	escaped         bool
}

// header is a parsed syslog line up to the start of the message.
type header struct {
	pri     int // -1: not written
	version int // 0: RFC 3164 style (rsyslog file formats); >= 1: RFC 5424
	ts      stamp
	host    span
	app     span // RFC 3164 tag's program, RFC 5424 APP-NAME
	procid  span // RFC 3164 tag's [pid], RFC 5424 PROCID
	msgid   span
	sd      []sdParam // RFC 5424 structured data (reused between lines)
	msg     int       // offset of the message; len(line) when there is none
}

// parseError is a position (0-based offset in the line) and what was
// wrong there.
type parseError struct {
	at  int
	msg string
}

func fail(at int, msg string) *parseError { return &parseError{at, msg} }

const maxTag = 256

// parse parses the header of one syslog line: an optional <PRI>, then
// either RFC 5424 (VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD) or
// the RFC 3164 shape rsyslog and journalctl write (TIMESTAMP HOSTNAME
// TAG: where TAG is program or program[pid]).
func parse(line []byte, h *header) *parseError {
	h.pri, h.version = -1, 0
	h.ts = stamp{}
	h.host, h.app, h.procid, h.msgid = none, none, none, none
	h.sd = h.sd[:0]
	h.msg = len(line)
	i := 0
	if len(line) > 0 && line[0] == '<' {
		j := 1
		v := 0
		for j < len(line) && j <= 3 && isDigit(line[j]) {
			v = v*10 + int(line[j]-'0')
			j++
		}
		if j == 1 || j >= len(line) || line[j] != '>' {
			return fail(j, "bad priority "+quote(line[:min(len(line), j+1)])+", expected <N> with N from 0 to 191")
		}
		if v > 191 {
			return fail(1, "priority <"+strconv.Itoa(v)+"> out of range, expected <0> to <191>")
		}
		h.pri = v
		i = j + 1
	}
	// RFC 5424 VERSION: 1-2 digits, no leading zero, then a space.
	if j := i; j < len(line) && line[j] >= '1' && line[j] <= '9' {
		v := int(line[j] - '0')
		j++
		if j < len(line) && isDigit(line[j]) {
			v = v*10 + int(line[j]-'0')
			j++
		}
		if j < len(line) && line[j] == ' ' {
			h.version = v
			return parse5424(line, j+1, h)
		}
	}
	return parse3164(line, i, h)
}

// parse3164 parses "TIMESTAMP HOST TAG: " from i.
func parse3164(line []byte, i int, h *header) *parseError {
	if i >= len(line) {
		return fail(i, "line ends after the priority, expected a time stamp")
	}
	var end int
	var err *parseError
	switch c := line[i]; {
	case isDigit(c):
		end, err = parseRFC3339(line, i, &h.ts)
	case c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z':
		end, err = parseBSD(line, i, &h.ts)
	default:
		return fail(i, "not a syslog line: "+quote(line[i:])+", expected a time stamp such as Nov 22 14:49:19 or 2026-11-22T14:49:19+00:00")
	}
	if err != nil {
		return err
	}
	if end >= len(line) || line[end] != ' ' {
		return fail(end, "unexpected "+describe(line, end)+" after the time stamp, expected a space and the host name")
	}
	i = end + 1
	// The host name; a token ending in ':' is a tag instead (RFC 3164
	// senders may leave the host name out).
	tokEnd := i
	for tokEnd < len(line) && line[tokEnd] != ' ' {
		tokEnd++
	}
	if tokEnd == i {
		return fail(i, "unexpected "+describe(line, i)+", expected the host name after the time stamp")
	}
	if line[tokEnd-1] != ':' {
		h.host = span{i, tokEnd}
		i = tokEnd + 1
		if i > len(line) {
			return fail(tokEnd, "line ends after the host name, expected a tag such as prog[pid]:")
		}
	}
	// TAG: program, optionally [pid], then ':'.
	j := i
	for j < len(line) && line[j] != ':' && line[j] != '[' && line[j] != ' ' {
		j++
	}
	if j == i || j >= len(line) || line[j] == ' ' || j-i > maxTag {
		return fail(i, "no tag: "+quote(line[i:])+", expected a tag such as prog[pid]: after the host name")
	}
	h.app = span{i, j}
	if line[j] == '[' {
		k := bytes.IndexByte(line[j+1:], ']')
		if k < 0 || k > maxTag {
			return fail(j, "unterminated [pid] in the tag, expected ']'")
		}
		h.procid = span{j + 1, j + 1 + k}
		j += k + 2
		if j < len(line) && line[j] == ':' {
			j++
		} else if j < len(line) && line[j] != ' ' {
			return fail(j, "unexpected "+describe(line, j)+" after the tag's [pid], expected ':'")
		}
	} else {
		j++ // the ':'
	}
	if j < len(line) && line[j] == ' ' {
		j++
	}
	h.msg = j
	return nil
}

// parse5424 parses "TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD [MSG]"
// from i (just after "VERSION ").
func parse5424(line []byte, i int, h *header) *parseError {
	if i < len(line) && line[i] == '-' {
		return fail(i, "RFC 5424 time stamp is the nil value -, expected a time such as 2026-11-22T14:49:19.003Z (an event needs a time)")
	}
	if i >= len(line) || !isDigit(line[i]) {
		return fail(i, "unexpected "+describe(line, i)+", expected an RFC 5424 time stamp such as 2026-11-22T14:49:19.003Z")
	}
	end, err := parseRFC3339(line, i, &h.ts)
	if err != nil {
		return err
	}
	i = end
	fields := [...]struct {
		sp   *span
		name string
	}{{&h.host, "HOSTNAME"}, {&h.app, "APP-NAME"}, {&h.procid, "PROCID"}, {&h.msgid, "MSGID"}}
	for _, f := range fields {
		if i >= len(line) || line[i] != ' ' {
			return fail(i, "unexpected "+describe(line, i)+", expected a space and the "+f.name)
		}
		i++
		j := i
		for j < len(line) && line[j] != ' ' {
			j++
		}
		if j == i {
			return fail(i, "empty "+f.name+", expected a value or -")
		}
		if j-i != 1 || line[i] != '-' {
			*f.sp = span{i, j}
		}
		i = j
	}
	if i >= len(line) || line[i] != ' ' {
		return fail(i, "unexpected "+describe(line, i)+", expected a space and the STRUCTURED-DATA (or -)")
	}
	i++
	if i < len(line) && line[i] == '-' {
		i++
	} else {
		var err *parseError
		if i, err = parseSD(line, i, h); err != nil {
			return err
		}
	}
	if i < len(line) {
		if line[i] != ' ' {
			return fail(i, "unexpected "+describe(line, i)+" after the STRUCTURED-DATA, expected a space and the message")
		}
		i++
		// A message that starts with a UTF-8 byte order mark is marked
		// as UTF-8; the mark is not part of it.
		if bytes.HasPrefix(line[i:], []byte("\xEF\xBB\xBF")) {
			i += 3
		}
	}
	h.msg = i
	return nil
}

// parseSD parses one or more SD-ELEMENTs: [SD-ID *(SP PARAM-NAME="VALUE")].
func parseSD(line []byte, i int, h *header) (int, *parseError) {
	if i >= len(line) || line[i] != '[' {
		return i, fail(i, "unexpected "+describe(line, i)+", expected STRUCTURED-DATA: - or [id name=\"value\"]")
	}
	for i < len(line) && line[i] == '[' {
		i++
		j := i
		for j < len(line) && sdName(line[j]) {
			j++
		}
		if j == i {
			return j, fail(j, "unexpected "+describe(line, j)+", expected an SD-ID after '['")
		}
		id := span{i, j}
		i = j
		params := 0
		for {
			if i >= len(line) {
				return i, fail(i, "line ends inside structured data, expected ']'")
			}
			if line[i] == ']' {
				i++
				break
			}
			if line[i] != ' ' {
				return i, fail(i, "unexpected "+describe(line, i)+" in structured data, expected a space or ']'")
			}
			i++
			j := i
			for j < len(line) && sdName(line[j]) {
				j++
			}
			if j == i {
				return j, fail(j, "unexpected "+describe(line, j)+", expected a PARAM-NAME")
			}
			name := span{i, j}
			if j+1 >= len(line) || line[j] != '=' || line[j+1] != '"' {
				return j, fail(j, "unexpected "+describe(line, j)+" after PARAM-NAME "+quote(line[i:j])+", expected =\"")
			}
			i = j + 2
			esc := false
			for j = i; j < len(line) && line[j] != '"'; j++ {
				if line[j] == '\\' && j+1 < len(line) {
					esc = true
					j++
				}
			}
			if j >= len(line) {
				return i - 1, fail(i-1, "unterminated PARAM-VALUE of "+quote(line[name.a:name.b])+", expected a closing '\"'")
			}
			if params < maxParams && len(h.sd) < maxParams {
				h.sd = append(h.sd, sdParam{id: id, name: name, value: span{i, j}, escaped: esc})
			}
			params++
			i = j + 1
		}
	}
	return i, nil
}

// maxParams bounds the SD-PARAMs kept per line.
const maxParams = 256

// sdName reports whether c may be part of an SD-ID or PARAM-NAME
// (PRINTUSASCII except '=', SP, ']', '"').
func sdName(c byte) bool { return c > ' ' && c < 0x7f && c != '=' && c != ']' && c != '"' }

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// parseBSD parses "Mmm dd hh:mm:ss[.frac]", the day space-padded or not,
// optionally with a year after the day ("Nov 22 2026 14:49:19").
func parseBSD(line []byte, i int, ts *stamp) (int, *parseError) {
	ts.at = i
	if i+3 > len(line) {
		return i, fail(i, "not a syslog line: "+quote(line[i:])+", expected a time stamp such as Nov 22 14:49:19")
	}
	m := 0
	for k, name := range months {
		if line[i] == name[0] && line[i+1] == name[1] && line[i+2] == name[2] {
			m = k + 1
			break
		}
	}
	if m == 0 || i+3 < len(line) && line[i+3] != ' ' {
		j := i
		for j < len(line) && j-i < 12 && line[j] != ' ' {
			j++
		}
		return i, fail(i, "not a syslog line: "+quote(line[i:j])+" is not a month, expected a time stamp such as Nov 22 14:49:19")
	}
	ts.month = m
	j := i + 3
	if j < len(line) && line[j] == ' ' {
		j++
	}
	if j < len(line) && line[j] == ' ' {
		j++ // space-padded day: "Nov  2"
	}
	d, k := digits(line, j, 2)
	if k == j || d < 1 || d > 31 {
		return j, fail(j, "bad day "+describe(line, j)+", expected a day of the month (1-31)")
	}
	ts.day = d
	j = k
	if j >= len(line) || line[j] != ' ' {
		return j, fail(j, "unexpected "+describe(line, j)+" after the day, expected a space and hh:mm:ss")
	}
	j++
	if y, k := digits(line, j, 4); k == j+4 && k < len(line) && line[k] == ' ' {
		ts.year = y
		j = k + 1
	}
	return clock(line, j, ts)
}

// clock parses "hh:mm:ss[.frac]" at i.
func clock(line []byte, i int, ts *stamp) (int, *parseError) {
	h, j := digits(line, i, 2)
	if j != i+2 || h > 23 || j >= len(line) || line[j] != ':' {
		return i, fail(i, "bad time "+quoteToken(line, i)+", expected hh:mm:ss")
	}
	mi, k := digits(line, j+1, 2)
	if k != j+3 || mi > 59 || k >= len(line) || line[k] != ':' {
		return i, fail(i, "bad time "+quoteToken(line, i)+", expected hh:mm:ss")
	}
	s, l := digits(line, k+1, 2)
	if l != k+3 || s > 60 {
		return i, fail(i, "bad time "+quoteToken(line, i)+", expected hh:mm:ss")
	}
	ts.hour, ts.min, ts.sec = h, mi, s
	if l < len(line) && (line[l] == '.' || line[l] == ',') {
		l++
		start := l
		ns, n := 0, 0
		for l < len(line) && isDigit(line[l]) {
			if n < 9 {
				ns = ns*10 + int(line[l]-'0')
				n++
			}
			l++
		}
		if l == start {
			return l, fail(l, "unexpected "+describe(line, l)+", expected the digits of a fraction of a second")
		}
		ts.digits = n
		for ; n < 9; n++ {
			ns *= 10
		}
		ts.nsec = ns
	}
	ts.end = l
	return l, nil
}

// parseRFC3339 parses "yyyy-mm-ddThh:mm:ss[.frac][Z|±hh:mm|±hhmm]"; with
// no zone the time is local.
func parseRFC3339(line []byte, i int, ts *stamp) (int, *parseError) {
	ts.at = i
	y, j := digits(line, i, 4)
	if j != i+4 || j >= len(line) || line[j] != '-' {
		return i, fail(i, "not a syslog line: "+quoteToken(line, i)+" is not a time stamp, expected yyyy-mm-ddThh:mm:ss or Mmm dd hh:mm:ss")
	}
	mo, k := digits(line, j+1, 2)
	if k != j+3 || mo < 1 || mo > 12 || k >= len(line) || line[k] != '-' {
		return i, fail(i, "bad date "+quoteToken(line, i)+", expected yyyy-mm-dd")
	}
	d, l := digits(line, k+1, 2)
	if l != k+3 || d < 1 || d > 31 {
		return i, fail(i, "bad date "+quoteToken(line, i)+", expected yyyy-mm-dd")
	}
	if l >= len(line) || line[l] != 'T' && line[l] != 't' {
		return l, fail(l, "unexpected "+describe(line, l)+" after the date, expected 'T' and the time")
	}
	ts.year, ts.month, ts.day = y, mo, d
	l, err := clock(line, l+1, ts)
	if err != nil {
		return l, err
	}
	if l < len(line) {
		switch c := line[l]; c {
		case 'Z', 'z':
			ts.zone = 'Z'
			l++
		case '+', '-':
			oh, m := digits(line, l+1, 2)
			if m != l+3 || oh > 23 {
				return l, fail(l, "bad zone offset "+quoteToken(line, l)+", expected ±hh:mm")
			}
			if m < len(line) && line[m] == ':' {
				m++
			}
			om, n := digits(line, m, 2)
			if n != m+2 || om > 59 {
				return l, fail(l, "bad zone offset "+quoteToken(line, l)+", expected ±hh:mm")
			}
			ts.zone = '+'
			ts.offset = oh*3600 + om*60
			if c == '-' {
				ts.offset = -ts.offset
			}
			l = n
		}
	}
	ts.end = l
	return l, nil
}

// digits reads up to n decimal digits at i; it returns their value and
// the offset after them.
func digits(line []byte, i, n int) (int, int) {
	v, j := 0, i
	for j < len(line) && j-i < n && isDigit(line[j]) {
		v = v*10 + int(line[j]-'0')
		j++
	}
	return v, j
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// describe names what is at line[i] for an error message.
func describe(line []byte, i int) string {
	if i >= len(line) {
		return "end of line"
	}
	return quoteToken(line, i)
}

// quoteToken quotes the text at i up to the next space (at most 32 bytes).
func quoteToken(line []byte, i int) string {
	if i >= len(line) {
		return `""`
	}
	j := i
	for j < len(line) && j-i < 32 && (line[j] != ' ' || j == i) {
		j++
	}
	return quote(line[i:j])
}

// quote quotes b for an error message, shortened to 40 bytes.
func quote(b []byte) string {
	if len(b) > 40 {
		return strconv.Quote(string(b[:40])) + "…"
	}
	return strconv.Quote(string(b))
}
