package ecs

import (
	"bufio"
	"context"
	"fmt"
	"io"

	"github.com/firewarden/firewarden/source"
)

// The streaming scanner reads any sequence of JSON values — arrays of
// documents, pretty-printed documents, search responses — one byte at a
// time, validating the JSON grammar and capturing one document at a time
// (at most source.MaxRecord bytes), which fastjson then parses. It knows
// line and column of every byte, so errors point at the offending byte,
// and after an error it resynchronises at the next line that starts a
// document at the same or a lesser indentation.
type streamer struct {
	br *bufio.Reader

	// line and col are the position of the next byte (col = bytes already
	// read on the line); blank says whether the line so far is white space.
	line, col int
	blank     bool
	// the last byte read, its position (col 1-based), and whether it was
	// the first non-blank byte of its line.
	b                   byte
	bLine, bCol         int
	bFirst              bool
	prevLine, prevCol   int
	prevBlank, canUnget bool

	eof   bool
	ioErr error

	capt *[]byte // capture buffer, nil when not capturing
	over bool    // the capture exceeded source.MaxRecord
	top  []byte  // capture of a top-level object
	hit  []byte  // capture of one hit of a search response

	depth int
	key   []byte // the last object key read with str(true)

	err    synErr
	docCol int // column of the innermost document being read
}

type synErr struct {
	line, col int
	msg       string
}

// maxDepth matches fastjson's nesting limit.
const maxDepth = 300

func (s *streamer) next() (byte, bool) {
	c, err := s.br.ReadByte()
	if err != nil {
		if err != io.EOF {
			s.ioErr = err
		}
		s.eof = true
		s.canUnget = false
		s.b, s.bLine, s.bCol, s.bFirst = 0, s.line, s.col+1, s.blank
		return 0, false
	}
	s.prevLine, s.prevCol, s.prevBlank, s.canUnget = s.line, s.col, s.blank, true
	s.b, s.bLine, s.bCol, s.bFirst = c, s.line, s.col+1, s.blank
	if c == '\n' {
		s.line++
		s.col = 0
		s.blank = true
	} else {
		s.col++
		if c != ' ' && c != '\t' && c != '\r' {
			s.blank = false
		}
	}
	if s.capt != nil {
		if len(*s.capt) < source.MaxRecord {
			*s.capt = append(*s.capt, c)
		} else {
			s.over = true
		}
	}
	return c, true
}

// unread pushes the last byte back (once).
func (s *streamer) unread() {
	if !s.canUnget {
		return
	}
	_ = s.br.UnreadByte()
	s.line, s.col, s.blank, s.canUnget = s.prevLine, s.prevCol, s.prevBlank, false
	if s.capt != nil && len(*s.capt) > 0 && !s.over {
		*s.capt = (*s.capt)[:len(*s.capt)-1]
	}
}

// ws returns the next byte that is not JSON white space. Buffered white
// space is skipped in bulk (and not captured: fastjson does not need it).
func (s *streamer) ws() (byte, bool) {
	for {
		buf, _ := s.br.Peek(s.br.Buffered())
		i := 0
	skip:
		for ; i < len(buf); i++ {
			switch buf[i] {
			case ' ', '\t', '\r':
				s.col++
			case '\n':
				s.line++
				s.col = 0
				s.blank = true
			default:
				break skip
			}
		}
		if i > 0 {
			s.canUnget = false
			_, _ = s.br.Discard(i)
		}
		c, ok := s.next()
		if !ok {
			return 0, false
		}
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return c, true
		}
	}
}

// unexpected records a syntax error at the last byte read (or at the end
// of input) and returns false.
func (s *streamer) unexpected(expected string) bool {
	what := "end of input"
	if !s.eof {
		what = describe(s.b)
	}
	s.err = synErr{s.bLine, s.bCol, fmt.Sprintf("invalid JSON: unexpected %s, expected %s", what, expected)}
	return false
}

func describe(c byte) string {
	switch {
	case c == '\n':
		return "end of line"
	case c == '\t':
		return "tab"
	case c == ' ':
		return "space"
	case c > 0x20 && c < 0x7f:
		return fmt.Sprintf("'%c'", c)
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

func kindOf(c byte) string {
	switch c {
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	case '[':
		return "an array"
	case '{':
		return "an object"
	}
	return "a number"
}

// value validates one JSON value whose first byte c was read.
func (s *streamer) value(c byte, ok bool) bool {
	if !ok {
		return s.unexpected("a JSON value")
	}
	switch {
	case c == '{':
		return s.object()
	case c == '[':
		return s.array()
	case c == '"':
		return s.str(false)
	case c == '-' || c >= '0' && c <= '9':
		return s.number(c)
	case c == 't':
		return s.lit("true")
	case c == 'f':
		return s.lit("false")
	case c == 'n':
		return s.lit("null")
	}
	return s.unexpected("a JSON value")
}

func (s *streamer) enter() bool {
	s.depth++
	if s.depth >= maxDepth {
		s.err = synErr{s.bLine, s.bCol, fmt.Sprintf("invalid JSON: nested deeper than %d levels", maxDepth)}
		return false
	}
	return true
}

// object validates an object after its '{'.
func (s *streamer) object() bool {
	if !s.enter() {
		return false
	}
	defer func() { s.depth-- }()
	c, ok := s.ws()
	if ok && c == '}' {
		return true
	}
	for {
		if !ok || c != '"' {
			return s.unexpected(`'"' (an object key)`)
		}
		if !s.str(false) {
			return false
		}
		if c, ok = s.ws(); !ok || c != ':' {
			return s.unexpected("':' after an object key")
		}
		c, ok = s.ws()
		if !s.value(c, ok) {
			return false
		}
		c, ok = s.ws()
		if ok && c == ',' {
			c, ok = s.ws()
			continue
		}
		if ok && c == '}' {
			return true
		}
		return s.unexpected("',' or '}' after an object value")
	}
}

// array validates an array after its '['.
func (s *streamer) array() bool {
	if !s.enter() {
		return false
	}
	defer func() { s.depth-- }()
	c, ok := s.ws()
	if ok && c == ']' {
		return true
	}
	for {
		if !s.value(c, ok) {
			return false
		}
		c, ok = s.ws()
		if ok && c == ',' {
			c, ok = s.ws()
			continue
		}
		if ok && c == ']' {
			return true
		}
		return s.unexpected("',' or ']' after an array element")
	}
}

// str validates a string after its opening quote; with key, its raw
// bytes (up to 64) are kept in s.key.
func (s *streamer) str(key bool) bool {
	if key {
		s.key = s.key[:0]
	}
	for {
		s.plain(key)
		c, ok := s.next()
		switch {
		case !ok:
			return s.unexpected(`'"' closing the string`)
		case c == '"':
			return true
		case c == '\n':
			return s.unexpected(`'"' closing the string`)
		case c == '\\':
			// Escapes are read as leniently as fastjson does on the fast
			// path (an unknown escape keeps its two characters), so a
			// document reads the same in either path.
			if c, ok = s.next(); !ok || c == '\n' {
				return s.unexpected("an escaped character")
			}
			if key {
				s.key = append(s.key, '\\') // an escaped key never matches a plain one
			}
		default:
			if key && len(s.key) < 64 {
				s.key = append(s.key, c)
			}
		}
	}
}

// plain consumes the buffered bytes of a string up to the next quote,
// backslash or newline in one go (they are on one line and not blank).
func (s *streamer) plain(key bool) {
	buf, _ := s.br.Peek(s.br.Buffered())
	i := 0
	for i < len(buf) && buf[i] != '"' && buf[i] != '\\' && buf[i] != '\n' {
		i++
	}
	if i == 0 {
		return
	}
	if s.capt != nil {
		if len(*s.capt)+i <= source.MaxRecord {
			*s.capt = append(*s.capt, buf[:i]...)
		} else {
			s.over = true
		}
	}
	if key {
		n := min(i, 64-len(s.key))
		if n > 0 {
			s.key = append(s.key, buf[:n]...)
		}
	}
	s.col += i
	s.blank = false
	s.canUnget = false
	_, _ = s.br.Discard(i)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// number validates a number whose first byte c was read; the byte after
// it is pushed back.
func (s *streamer) number(c byte) bool {
	ok := true
	if c == '-' {
		if c, ok = s.next(); !ok || !isDigit(c) {
			return s.unexpected("a digit after '-'")
		}
	}
	if c == '0' {
		c, ok = s.next()
	} else {
		for c, ok = s.next(); ok && isDigit(c); c, ok = s.next() {
		}
	}
	if ok && c == '.' {
		if c, ok = s.next(); !ok || !isDigit(c) {
			return s.unexpected("a digit after '.'")
		}
		for c, ok = s.next(); ok && isDigit(c); c, ok = s.next() {
		}
	}
	if ok && (c == 'e' || c == 'E') {
		c, ok = s.next()
		if ok && (c == '+' || c == '-') {
			c, ok = s.next()
		}
		if !ok || !isDigit(c) {
			return s.unexpected("a digit in the exponent")
		}
		for c, ok = s.next(); ok && isDigit(c); c, ok = s.next() {
		}
	}
	if ok {
		s.unread()
	}
	return true
}

// lit validates true, false or null after its first byte.
func (s *streamer) lit(word string) bool {
	for i := 1; i < len(word); i++ {
		if c, ok := s.next(); !ok || c != word[i] {
			return s.unexpected(fmt.Sprintf("%q", word))
		}
	}
	return true
}

// resync skips after a syntax error to the next line whose first
// non-blank byte opens an object or array at column indent or less (the
// offending byte itself, when it is such a byte). It returns the line
// where reading resumes.
func (s *streamer) resync(indent int) int {
	if s.eof {
		return s.line
	}
	if s.bFirst && (s.b == '{' || s.b == '[') && s.bCol <= indent {
		s.unread()
		return s.line
	}
	c := s.b
	for {
		// skip the rest of the line
		for c != '\n' {
			var ok bool
			if c, ok = s.next(); !ok {
				return s.line
			}
		}
		// the first non-blank byte of the next line
		for {
			var ok bool
			if c, ok = s.next(); !ok {
				return s.line
			}
			if c != ' ' && c != '\t' && c != '\r' {
				break
			}
		}
		if (c == '{' || c == '[') && s.bCol <= indent {
			s.unread()
			return s.line
		}
	}
}

// stream reads br with the streaming scanner; line is the number of its
// first line. whole says br is the entire input (not one line of it).
func (r *reader) stream(ctx context.Context, br *bufio.Reader, line int, whole bool) error {
	s := &streamer{br: br, line: line, blank: true}
	if whole {
		if b, _ := br.Peek(3); len(b) == 3 && b[0] == utf8BOM[0] && b[1] == utf8BOM[1] && b[2] == utf8BOM[2] {
			_, _ = br.Discard(3)
		}
	}
	arrays := 0
	lenient := false
	for n := 0; ; n++ {
		if n&255 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		c, ok := s.ws()
		if !ok {
			break
		}
		s.docCol = s.bCol
		good := true
		switch c {
		case '{':
			good = r.topObject(s)
		case '[':
			if arrays++; arrays >= maxDepth {
				s.err = synErr{s.bLine, s.bCol, fmt.Sprintf("invalid JSON: nested deeper than %d levels", maxDepth)}
				good = false
				arrays = 0
			}
		case ']':
			if arrays > 0 {
				arrays--
			} else if !lenient {
				good = s.unexpected("'{' (a document)")
			}
		case ',':
			// Separators between documents are accepted.
		default:
			bLine, bCol := s.bLine, s.bCol
			if good = s.value(c, true); good {
				r.in.Badf(bLine, bCol, "JSON %s is not a document, expected an object", kindOf(c))
			}
		}
		if r.stop != nil {
			return r.stop
		}
		if s.ioErr != nil {
			return s.ioErr
		}
		if !good {
			e := s.err
			resumed := s.resync(s.docCol)
			if s.ioErr != nil {
				return s.ioErr
			}
			if resumed > e.line+1 && !s.eof {
				e.msg += fmt.Sprintf(" (skipped to line %d)", resumed)
			}
			r.in.Badf(e.line, e.col, "%s", e.msg)
			s.depth = 0
			lenient = true
		}
	}
	if s.ioErr != nil {
		return s.ioErr
	}
	if arrays > 0 && !lenient {
		r.in.Badf(s.bLine, s.bCol, "invalid JSON: unexpected end of input, expected ']'")
	}
	return r.stop
}

// topObject reads a top-level object after its '{': a document, a hit,
// or a search response whose hits are streamed one by one.
func (r *reader) topObject(s *streamer) bool {
	line, col := s.bLine, s.bCol
	s.top = append(s.top[:0], '{')
	s.capt, s.over = &s.top, false
	s.depth = 1
	resp, ok := r.members(s, 1)
	s.capt = nil
	s.depth = 0
	if !ok || resp {
		return ok
	}
	if s.over {
		r.in.Badf(line, col, "document longer than %d bytes, skipped", source.MaxRecord)
		return true
	}
	r.parsed(s.top, line, col)
	return r.stop == nil
}

// members reads the members of an object after its '{' at level 1 (the
// top-level object) or 2 (its "hits" object), recognising a search
// response's hits.hits array.
func (r *reader) members(s *streamer, level int) (resp, ok bool) {
	c, ok := s.ws()
	if ok && c == '}' {
		return false, true
	}
	for {
		if !ok || c != '"' {
			return false, s.unexpected(`'"' (an object key)`)
		}
		if !s.str(true) {
			return false, false
		}
		hits := string(s.key) == "hits"
		if c, ok = s.ws(); !ok || c != ':' {
			return false, s.unexpected("':' after an object key")
		}
		c, ok = s.ws()
		switch {
		case hits && level == 1 && ok && c == '{':
			if !s.enter() {
				return false, false
			}
			rr, good := r.members(s, 2)
			s.depth--
			if !good {
				return false, false
			}
			resp = resp || rr
		case hits && level == 2 && ok && c == '[':
			resp = true
			s.capt = nil
			if !r.hits(s) {
				return false, false
			}
		default:
			if !s.value(c, ok) {
				return false, false
			}
		}
		c, ok = s.ws()
		if ok && c == ',' {
			c, ok = s.ws()
			continue
		}
		if ok && c == '}' {
			return resp, true
		}
		return false, s.unexpected("',' or '}' after an object value")
	}
}

// hits streams the elements of a search response's hits.hits after '['.
func (r *reader) hits(s *streamer) bool {
	if !s.enter() {
		return false
	}
	defer func() { s.depth-- }()
	c, ok := s.ws()
	if ok && c == ']' {
		return true
	}
	for {
		if ok && c == '{' {
			line, col := s.bLine, s.bCol
			s.docCol = col
			s.hit = append(s.hit[:0], '{')
			s.capt, s.over = &s.hit, false
			good := s.object()
			s.capt = nil
			if !good {
				return false
			}
			if s.over {
				r.in.Badf(line, col, "document longer than %d bytes, skipped", source.MaxRecord)
			} else if r.parsed(s.hit, line, col); r.stop != nil {
				return false
			}
		} else {
			line, col := s.bLine, s.bCol
			if !s.value(c, ok) {
				return false
			}
			r.in.Badf(line, col, "search response: a hit is JSON %s, expected an object", kindOf(c))
		}
		c, ok = s.ws()
		if ok && c == ',' {
			c, ok = s.ws()
			continue
		}
		if ok && c == ']' {
			return true
		}
		return s.unexpected("',' or ']' after a hit")
	}
}

// parsed hands one validated document to fastjson and on.
func (r *reader) parsed(b []byte, line, col int) {
	v, err := r.p.ParseBytes(b)
	if err != nil {
		r.in.Badf(line, col, "invalid JSON: %v", err)
		return
	}
	if err := r.object(v, line); err != nil {
		r.stop = err
	}
}
