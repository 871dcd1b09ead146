package sysmon

import (
	"bytes"
	"fmt"
	"unicode/utf8"
	"unsafe"
)

// A hand-rolled scanner for the one XML shape Sysmon writes:
//
//	<Event><System><Provider Name=".." Guid=".."/><EventID>1</EventID>…
//	<Computer>vm</Computer>…</System><EventData><Data Name="RuleName">-</Data>…
//	</EventData></Event>
//
// It is a real (non-validating) XML tokenizer — attributes in either quote,
// self-closing elements, comments, CDATA sections, processing instructions,
// character and predefined entity references — that checks nesting and
// keeps only what firewarden maps: the text and attributes of System's
// children and the named Data elements of EventData. Other elements are
// read and ignored. Decoded text lives in an arena shared by the event's
// strings: one allocation per event.

// kv is a name and its decoded value. name aliases the line or the arena
// and is only valid while the line is being handled.
type kv struct {
	name  []byte
	value string
}

// record is one parsed <Event>.
type record struct {
	system []kv // System: element text by element name, attributes as <Element>_<Attribute>
	data   []kv // EventData: Data elements by their Name
}

func (r *record) reset() {
	r.system = r.system[:0]
	r.data = r.data[:0]
}

func (r *record) sys(name string) (string, bool) {
	for i := len(r.system) - 1; i >= 0; i-- {
		if string(r.system[i].name) == name {
			return r.system[i].value, true
		}
	}
	return "", false
}

// xmlErr is a syntax error at byte offset at of the scanned text.
type xmlErr struct {
	at  int
	msg string
}

func (e *xmlErr) Error() string { return e.msg }

const maxNesting = 32

// parser scans one <Event> element.
type parser struct {
	s     []byte
	i     int
	octal bool // decode rsyslog's #ooo escapes of control characters
	arena []byte
	rec   *record
	err   *xmlErr
	// stack of open elements and what they are
	names [maxNesting][]byte
	roles [maxNesting]role
	depth int
	// text collection for the innermost collecting element
	collecting bool
	textStart  int
	textName   []byte
	textSeen   bool
}

type role uint8

const (
	roleIgnore role = iota
	roleEvent
	roleSystem
	roleEventData
	roleSysChild // a child of System: its text is a value
	roleData     // a Data element of EventData: its text is a value
)

func (p *parser) fail(at int, format string, args ...any) bool {
	if p.err == nil {
		p.err = &xmlErr{at: at, msg: fmt.Sprintf(format, args...)}
	}
	return false
}

// parse scans s[start:], which begins with "<Event", up to and including
// the matching </Event>, and returns the offset after it.
func (p *parser) parse(s []byte, start int) (int, bool) {
	p.s, p.i, p.err, p.depth, p.collecting = s, start, nil, 0, false
	for p.i < len(s) {
		if s[p.i] != '<' {
			j := bytes.IndexByte(s[p.i:], '<')
			if j < 0 {
				j = len(s) - p.i
			}
			if !p.text(p.i, p.i+j) {
				return p.i, false
			}
			p.i += j
			continue
		}
		rest := s[p.i:]
		switch {
		case bytes.HasPrefix(rest, []byte("<!--")):
			j := bytes.Index(rest[4:], []byte("-->"))
			if j < 0 {
				return p.i, p.fail(p.i, "unclosed comment, expected -->")
			}
			p.i += 4 + j + 3
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			j := bytes.Index(rest[9:], []byte("]]>"))
			if j < 0 {
				return p.i, p.fail(p.i, "unclosed CDATA section, expected ]]>")
			}
			if p.depth == 0 {
				return p.i, p.fail(p.i, "CDATA outside <Event>, expected an element")
			}
			if p.collecting {
				p.arena = appendText(p.arena, rest[9:9+j], p.octal)
				p.textSeen = true
			}
			p.i += 9 + j + 3
		case bytes.HasPrefix(rest, []byte("<?")):
			j := bytes.Index(rest[2:], []byte("?>"))
			if j < 0 {
				return p.i, p.fail(p.i, "unclosed processing instruction, expected ?>")
			}
			p.i += 2 + j + 2
		case bytes.HasPrefix(rest, []byte("<!")):
			return p.i, p.fail(p.i, "unexpected <!, expected an element (DTDs are not accepted)")
		case bytes.HasPrefix(rest, []byte("</")):
			if !p.endTag() {
				return p.i, false
			}
			if p.depth == 0 {
				return p.i, true
			}
		default:
			if !p.startTag() {
				return p.i, false
			}
			if p.depth == 0 {
				return p.i, true // <Event/>
			}
		}
	}
	if p.depth > 0 {
		return p.i, p.fail(len(s), "line ends inside <%s> (truncated event?), expected </%s>", p.names[p.depth-1], p.names[p.depth-1])
	}
	return p.i, p.fail(len(s), "unexpected end of line, expected <Event>")
}

func isNameStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == ':' || c >= 0x80
}

func isNameChar(c byte) bool {
	return isNameStart(c) || c >= '0' && c <= '9' || c == '-' || c == '.'
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func describe(s []byte, i int) string {
	if i >= len(s) {
		return "end of line"
	}
	c := s[i]
	switch {
	case c == ' ':
		return "space"
	case c == '\t':
		return "tab"
	case c > 0x20 && c < 0x7f:
		return fmt.Sprintf("'%c'", c)
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

// name reads an XML name at p.i.
func (p *parser) name(what string) ([]byte, bool) {
	s := p.s
	if p.i >= len(s) || !isNameStart(s[p.i]) {
		return nil, p.fail(p.i, "unexpected %s, expected %s", describe(s, p.i), what)
	}
	j := p.i + 1
	for j < len(s) && isNameChar(s[j]) {
		j++
	}
	n := s[p.i:j]
	p.i = j
	return n, true
}

func (p *parser) skipSpace() {
	for p.i < len(p.s) && isSpace(p.s[p.i]) {
		p.i++
	}
}

// startTag reads <name attr="v" …> or <name …/>.
func (p *parser) startTag() bool {
	at := p.i
	p.i++ // '<'
	name, ok := p.name("an element name after '<'")
	if !ok {
		return false
	}
	if p.depth >= maxNesting {
		return p.fail(at, "elements nested deeper than %d", maxNesting)
	}
	var parent role
	if p.depth > 0 {
		parent = p.roles[p.depth-1]
	}
	r := roleIgnore
	switch {
	case p.depth == 0:
		if string(name) != "Event" {
			return p.fail(at+1, "<%s> is not a Sysmon event, expected <Event>", name)
		}
		r = roleEvent
	case parent == roleEvent && string(name) == "System":
		r = roleSystem
	case parent == roleEvent && string(name) == "EventData":
		r = roleEventData
	case parent == roleSystem:
		r = roleSysChild
	case parent == roleEventData && string(name) == "Data":
		r = roleData
	}
	if p.collecting {
		// An element inside a collected value: its text is still part of
		// the value, itself is ignored.
		r = roleIgnore
	}
	var dataName []byte
	hasDataName := false
	// attributes
	for {
		sp := p.i
		p.skipSpace()
		if p.i >= len(p.s) {
			return p.fail(p.i, "line ends inside tag <%s, expected '>'", name)
		}
		c := p.s[p.i]
		if c == '>' || c == '/' {
			break
		}
		if p.i == sp {
			return p.fail(p.i, "unexpected %s in <%s>, expected a space, an attribute, '>' or '/>'", describe(p.s, p.i), name)
		}
		an, ok := p.name("an attribute name, '>' or '/>'")
		if !ok {
			return false
		}
		p.skipSpace()
		if p.i >= len(p.s) || p.s[p.i] != '=' {
			return p.fail(p.i, "unexpected %s after attribute %s, expected '='", describe(p.s, p.i), an)
		}
		p.i++
		p.skipSpace()
		if p.i >= len(p.s) || p.s[p.i] != '"' && p.s[p.i] != '\'' {
			return p.fail(p.i, "unexpected %s, expected a quoted value for attribute %s", describe(p.s, p.i), an)
		}
		q := p.s[p.i]
		p.i++
		j := bytes.IndexByte(p.s[p.i:], q)
		if j < 0 {
			return p.fail(p.i-1, "attribute %s is not closed, expected %c", an, q)
		}
		raw := p.s[p.i : p.i+j]
		if k := bytes.IndexByte(raw, '<'); k >= 0 {
			return p.fail(p.i+k, "unexpected '<' in the value of attribute %s, expected %c", an, q)
		}
		valStart := len(p.arena)
		var ok2 bool
		if p.arena, ok2 = p.decode(p.arena, raw, p.i); !ok2 {
			return false
		}
		p.i += j + 1
		val := p.arena[valStart:]
		switch r {
		case roleSysChild:
			// System attributes are named <Element>_<Attribute>.
			start := len(p.arena)
			p.arena = append(p.arena, name...)
			p.arena = append(p.arena, '_')
			p.arena = append(p.arena, an...)
			key := p.arena[start:]
			p.rec.system = append(p.rec.system, kv{name: key, value: bstr(val)})
		case roleData:
			if string(an) == "Name" {
				dataName, hasDataName = val, true
			}
		}
	}
	selfClosing := p.s[p.i] == '/'
	if selfClosing {
		if p.i+1 >= len(p.s) || p.s[p.i+1] != '>' {
			return p.fail(p.i+1, "unexpected %s after '/' in <%s>, expected '>'", describe(p.s, p.i+1), name)
		}
		p.i += 2
	} else {
		p.i++
	}
	if r == roleData && !hasDataName {
		r = roleIgnore // an unnamed Data element has no field name
	}
	if selfClosing {
		switch r {
		case roleData:
			p.rec.data = append(p.rec.data, kv{name: dataName, value: ""})
		}
		return true
	}
	p.names[p.depth], p.roles[p.depth] = name, r
	p.depth++
	if r == roleSysChild || r == roleData {
		p.collecting, p.textStart, p.textSeen = true, len(p.arena), false
		if r == roleData {
			p.textName = dataName
		} else {
			p.textName = name
		}
	}
	return true
}

// endTag reads </name>.
func (p *parser) endTag() bool {
	at := p.i
	p.i += 2
	name, ok := p.name("an element name after '</'")
	if !ok {
		return false
	}
	p.skipSpace()
	if p.i >= len(p.s) || p.s[p.i] != '>' {
		return p.fail(p.i, "unexpected %s in </%s>, expected '>'", describe(p.s, p.i), name)
	}
	p.i++
	if p.depth == 0 {
		return p.fail(at, "</%s> closes nothing, expected <Event>", name)
	}
	open := p.names[p.depth-1]
	if !bytes.Equal(open, name) {
		return p.fail(at, "</%s> closes <%s>, expected </%s>", name, open, open)
	}
	p.depth--
	r := p.roles[p.depth]
	if p.collecting && (r == roleSysChild || r == roleData) {
		val := p.arena[p.textStart:]
		kvs := &p.rec.data
		if r == roleSysChild {
			kvs = &p.rec.system
			if len(val) == 0 && !p.textSeen {
				// <Correlation></Correlation>: nothing to keep.
				p.collecting = false
				return true
			}
		}
		*kvs = append(*kvs, kv{name: p.textName, value: bstr(val)})
		p.collecting = false
	}
	return true
}

// text handles character data s[from:to].
func (p *parser) text(from, to int) bool {
	raw := p.s[from:to]
	if p.depth == 0 {
		return p.fail(from, "unexpected text %s, expected <Event>", describe(p.s, from))
	}
	if !p.collecting {
		// Validate entity syntax even where the text is not kept.
		if bytes.IndexByte(raw, '&') >= 0 {
			mark := len(p.arena)
			var ok bool
			p.arena, ok = p.decode(p.arena, raw, from)
			p.arena = p.arena[:mark]
			return ok
		}
		return true
	}
	var ok bool
	p.arena, ok = p.decode(p.arena, raw, from)
	p.textSeen = true
	return ok
}

// decode appends raw with its entity references decoded (and, with
// p.octal, rsyslog's #ooo escapes of control characters) to dst. off is
// raw's offset in p.s, for errors.
func (p *parser) decode(dst, raw []byte, off int) ([]byte, bool) {
	if bytes.IndexByte(raw, '&') < 0 {
		return appendText(dst, raw, p.octal), true
	}
	for len(raw) > 0 {
		j := bytes.IndexByte(raw, '&')
		if j < 0 {
			return appendText(dst, raw, p.octal), true
		}
		dst = appendText(dst, raw[:j], p.octal)
		raw, off = raw[j:], off+j
		semi := bytes.IndexByte(raw, ';')
		if semi < 0 || semi > 12 {
			return dst, p.fail(off, "bare '&' or unterminated entity, expected &amp; &lt; &gt; &quot; &apos; or &#N;")
		}
		ent := raw[1:semi]
		switch string(ent) {
		case "amp":
			dst = append(dst, '&')
		case "lt":
			dst = append(dst, '<')
		case "gt":
			dst = append(dst, '>')
		case "quot":
			dst = append(dst, '"')
		case "apos":
			dst = append(dst, '\'')
		default:
			r, ok := charRef(ent)
			if !ok {
				return dst, p.fail(off, "unknown entity &%s;, expected &amp; &lt; &gt; &quot; &apos; or &#N;", ent)
			}
			dst = utf8.AppendRune(dst, r)
		}
		raw, off = raw[semi+1:], off+semi+1
	}
	return dst, true
}

// charRef decodes "#123" or "#x1F".
func charRef(ent []byte) (rune, bool) {
	if len(ent) < 2 || ent[0] != '#' {
		return 0, false
	}
	var r rune
	digits := ent[1:]
	base := rune(10)
	if digits[0] == 'x' {
		base, digits = 16, digits[1:]
	}
	if len(digits) == 0 || len(digits) > 8 {
		return 0, false
	}
	for _, c := range digits {
		var d rune
		switch {
		case c >= '0' && c <= '9':
			d = rune(c - '0')
		case base == 16 && c >= 'a' && c <= 'f':
			d = rune(c-'a') + 10
		case base == 16 && c >= 'A' && c <= 'F':
			d = rune(c-'A') + 10
		default:
			return 0, false
		}
		r = r*base + d
	}
	if r == 0 || r > utf8.MaxRune || r >= 0xd800 && r <= 0xdfff {
		return 0, false
	}
	return r, true
}

// appendText appends text with rsyslog's #ooo escapes decoded (when octal
// is set; only escapes of control characters, which are what rsyslog
// writes) and invalid UTF-8 replaced by U+FFFD.
func appendText(dst, t []byte, octal bool) []byte {
	if octal && bytes.IndexByte(t, '#') >= 0 {
		for len(t) > 0 {
			j := bytes.IndexByte(t, '#')
			if j < 0 {
				break
			}
			dst = appendValid(dst, t[:j])
			if c, ok := octalEscape(t[j:]); ok {
				dst = append(dst, c)
				t = t[j+4:]
			} else {
				dst = append(dst, '#')
				t = t[j+1:]
			}
		}
	}
	return appendValid(dst, t)
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

func appendValid(dst, t []byte) []byte {
	if utf8.Valid(t) {
		return append(dst, t...)
	}
	for len(t) > 0 {
		r, n := utf8.DecodeRune(t)
		if r == utf8.RuneError && n == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		} else {
			dst = append(dst, t[:n]...)
		}
		t = t[n:]
	}
	return dst
}

// bstr returns b as a string without copying. b must never be written
// again: the arena only ever grows.
func bstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
