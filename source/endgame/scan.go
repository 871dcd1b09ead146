package endgame

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/firewarden/firewarden/source"
)

// scanner splits a stream into top-level JSON objects without parsing
// them: it follows strings and bracket depth only, so it costs one pass
// over the bytes, and fastjson then parses each object whole. It accepts
// the shapes Endgame data comes in — NDJSON, a JSON array of objects,
// pretty-printed objects one after another, any mix of them — and, between
// objects, `//` and `/* */` comments, which Elasticsearch's JSON parser
// accepts and the conformance data files use. It knows the line and column
// of every byte, so every bad record is reported where it is.
type scanner struct {
	br *bufio.Reader

	// cur is the position before the next byte: line (1-based), bytes
	// already read on it, and whether they were all white space. last is
	// cur before the last byte read, for unread.
	cur, last position
	canUnread bool
	// The last byte read: its line and 1-based column, and whether it was
	// the first non-blank byte of its line.
	bLine, bCol int
	bFirst      bool

	ioErr error
	doc   []byte
}

type position struct {
	line, col int
	blank     bool
}

func newScanner(br *bufio.Reader) *scanner {
	return &scanner{br: br, cur: position{line: 1, blank: true}}
}

// next returns the next byte and advances the position.
func (s *scanner) next() (byte, bool) {
	c, err := s.br.ReadByte()
	if err != nil {
		if err != io.EOF {
			s.ioErr = err
		}
		s.canUnread = false
		s.bLine, s.bCol, s.bFirst = s.cur.line, s.cur.col+1, false
		return 0, false
	}
	s.last, s.canUnread = s.cur, true
	s.bLine, s.bCol, s.bFirst = s.cur.line, s.cur.col+1, s.cur.blank
	if c == '\n' {
		s.cur = position{line: s.cur.line + 1, blank: true}
	} else {
		s.cur.col++
		if c != ' ' && c != '\t' && c != '\r' {
			s.cur.blank = false
		}
	}
	return c, true
}

// unread pushes the last byte back (once).
func (s *scanner) unread() {
	if !s.canUnread {
		return
	}
	_ = s.br.UnreadByte()
	s.cur, s.canUnread = s.last, false
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// status says how reading a document ended.
type status int

const (
	docOK      status = iota
	docTooLong        // longer than source.MaxRecord; skipped to its end
	docEOF            // the input ended inside it
	docBroken         // a new document started before it was closed
)

// object reads a top-level object after its '{', into s.doc. The object
// started at column startCol. A line whose first non-blank byte is '{' at
// that column or less, met while the object is still open, starts a new
// document: the open one is broken (a truncated line of NDJSON, an object
// whose closing brace was lost), and reading resumes at the new one
// instead of swallowing it.
func (s *scanner) object(startCol int) status {
	s.doc = append(s.doc[:0], '{')
	depth := 1
	inStr, esc, over := false, false, false
	for {
		c, ok := s.next()
		if !ok {
			return docEOF
		}
		if inStr {
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			case c == '\n':
				// A raw newline cannot be in a JSON string: the string is
				// broken, and what follows is read as structure again so
				// the resynchronisation below can work.
				inStr = false
			}
		} else {
			if s.bFirst && c == '{' && s.bCol <= startCol {
				s.unread()
				return docBroken
			}
			switch c {
			case '"':
				inStr = true
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
		}
		if len(s.doc) < source.MaxRecord {
			s.doc = append(s.doc, c)
		} else {
			over = true
		}
		if !inStr && depth == 0 {
			if over {
				return docTooLong
			}
			return docOK
		}
	}
}

// comment skips a comment after its '/'. It reports false when the '/'
// does not start one.
func (s *scanner) comment() (ok, closed bool) {
	c, more := s.next()
	if !more {
		return false, false
	}
	switch c {
	case '/':
		for {
			c, more = s.next()
			if !more || c == '\n' {
				return true, true
			}
		}
	case '*':
		star := false
		for {
			c, more = s.next()
			if !more {
				return true, false
			}
			if star && c == '/' {
				return true, true
			}
			star = c == '*'
		}
	}
	s.unread()
	return false, false
}

// token reads a stray top-level value after its first byte c: a string
// to its closing quote, anything else to the next delimiter; it returns
// the token's first bytes (at most 64). It never reads past the line's end.
func (s *scanner) token(c byte) []byte {
	tok := []byte{c}
	add := func(c byte) {
		if len(tok) < 64 {
			tok = append(tok, c)
		}
	}
	if c == '"' {
		esc := false
		for {
			c, ok := s.next()
			if !ok {
				return tok
			}
			if c == '\n' {
				s.unread()
				return tok
			}
			add(c)
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				return tok
			}
		}
	}
	for {
		c, ok := s.next()
		if !ok {
			return tok
		}
		if isSpace(c) || c == ',' || c == '[' || c == ']' || c == '{' || c == '}' || c == '/' {
			s.unread()
			return tok
		}
		add(c)
	}
}

// skipLine skips to the end of the current line.
func (s *scanner) skipLine() {
	for {
		c, ok := s.next()
		if !ok || c == '\n' {
			return
		}
	}
}

// syntaxPos locates a JSON syntax error inside doc, which started at
// line:col, using encoding/json's byte offset (fastjson gives none). It
// returns the message and the position of the offending byte.
func syntaxPos(doc []byte, line, col int) (string, int, int, bool) {
	var x any
	err := json.Unmarshal(doc, &x)
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return "", 0, 0, false
	}
	off := int(se.Offset) - 1
	if off < 0 {
		off = 0
	}
	if off > len(doc) {
		off = len(doc)
	}
	before := doc[:off]
	if n := bytes.Count(before, []byte{'\n'}); n > 0 {
		line += n
		col = off - bytes.LastIndexByte(before, '\n')
	} else {
		col += off
	}
	return explain(se.Error()), line, col, true
}

// explain rewords encoding/json's syntax errors as "unexpected what,
// expected what".
func explain(msg string) string {
	const pre = "invalid character "
	if !strings.HasPrefix(msg, pre) {
		return msg
	}
	rest := msg[len(pre):]
	for _, m := range [...]struct{ suffix, out string }{
		{" looking for beginning of value", "unexpected %s, expected a JSON value"},
		{" looking for beginning of object key string", "unexpected %s, expected '\"' (an object key)"},
		{" after object key:value pair", "unexpected %s after an object value, expected ',' or '}'"},
		{" after object key", "unexpected %s after an object key, expected ':'"},
		{" after array element", "unexpected %s after an array element, expected ',' or ']'"},
		{" after top-level value", "unexpected %s after the object, expected the end of it"},
		{" in string literal", "unexpected %s in a string, expected '\"' to close it (control characters must be escaped)"},
		{" in string escape code", "unexpected %s in a string escape, expected one of \" \\ / b f n r t u"},
		{" in \\u hexadecimal character escape", "unexpected %s in a \\u escape, expected a hex digit"},
		{" in numeric literal", "unexpected %s in a number, expected a digit"},
		{" after decimal point in numeric literal", "unexpected %s after a decimal point, expected a digit"},
		{" in exponent of numeric literal", "unexpected %s in an exponent, expected a digit"},
	} {
		if what, ok := strings.CutSuffix(rest, m.suffix); ok {
			return fmt.Sprintf(m.out, what)
		}
	}
	if what, lit, ok := strings.Cut(rest, " in literal "); ok {
		// "'x' in literal true (expecting 'r')"
		if word, exp, ok := strings.Cut(lit, " (expecting "); ok {
			return fmt.Sprintf("unexpected %s in literal %s, expected %s", what, word, strings.TrimSuffix(exp, ")"))
		}
	}
	return msg
}

func describe(c byte) string {
	switch {
	case c == '\t':
		return "tab"
	case c > 0x20 && c < 0x7f:
		return fmt.Sprintf("'%c'", c)
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

// kindOf names the JSON scalar tok is, or "" when it is not one.
func kindOf(tok []byte) string {
	if !json.Valid(tok) {
		return ""
	}
	switch c := tok[0]; {
	case c == '"':
		return "a string"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	}
	return "a number"
}
