package spl

import (
	"strings"

	"github.com/firewarden/firewarden/query"
)

// The scanner reads the search after macro expansion. SPL has two
// lexical modes: search terms (a word is any run of characters up to
// white space, a quote, a parenthesis, a comma, a pipe or a comparison)
// and eval expressions (identifiers, numbers, strings, operators); the
// parser asks for the mode it is in.

type tokKind uint8

const (
	tEOF    tokKind = iota
	tWord           // a bare word (search mode) or an identifier (expression mode)
	tString         // "…"
	tField          // '…' (expression mode: a field name)
	tNumber
	tOp // punctuation and operators: ( ) , | = == != < <= > >= + - * / % . [ ]
)

type token struct {
	kind tokKind
	text string // the word, the unquoted string, the operator
	off  int    // offset in the expanded text
}

func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of search"
	case tString:
		return "string \"" + t.text + "\""
	case tField:
		return "'" + t.text + "'"
	}
	return "\"" + t.text + "\""
}

type scanner struct {
	src    string // expanded text
	origin []int  // src offset -> offset in the text as written
	text   string // the text as written
	base   query.Pos
	off    int
}

func (s *scanner) pos(off int) query.Pos {
	o := len(s.text)
	if off < len(s.origin) {
		o = s.origin[off]
	}
	return posOf(s.text, o, s.base)
}

func (s *scanner) errorf(off int, format string, args ...any) error {
	return query.Errorf(s.pos(off), format, args...)
}

func (s *scanner) skipSpace() {
	for s.off < len(s.src) {
		switch s.src[s.off] {
		case ' ', '\t', '\n', '\r':
			s.off++
		default:
			return
		}
	}
}

func isSearchBreak(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '"', '(', ')', ',', '|', '=', '<', '>', '[', ']':
		return true
	}
	return false
}

// next scans one token in search mode (expr false) or expression mode.
func (s *scanner) next(expr bool) (token, error) {
	s.skipSpace()
	start := s.off
	if s.off >= len(s.src) {
		return token{kind: tEOF, off: start}, nil
	}
	c := s.src[s.off]
	switch {
	case c == '"':
		str, err := s.quoted('"')
		return token{kind: tString, text: str, off: start}, err
	case c == '\'' && expr:
		str, err := s.quoted('\'')
		return token{kind: tField, text: str, off: start}, err
	}
	// Operators.
	two := ""
	if s.off+1 < len(s.src) {
		two = s.src[s.off : s.off+2]
	}
	switch two {
	case "==", "!=", "<=", ">=":
		s.off += 2
		return token{kind: tOp, text: two, off: start}, nil
	}
	switch c {
	case '(', ')', ',', '|', '=', '<', '>', '[', ']':
		s.off++
		return token{kind: tOp, text: string(c), off: start}, nil
	}
	if !expr {
		for s.off < len(s.src) {
			c := s.src[s.off]
			if isSearchBreak(c) || c == '!' && s.off+1 < len(s.src) && s.src[s.off+1] == '=' {
				break
			}
			if c == '\\' && s.off+1 < len(s.src) {
				s.off++
			}
			s.off++
		}
		return token{kind: tWord, text: s.src[start:s.off], off: start}, nil
	}
	// Expression mode.
	switch {
	case c >= '0' && c <= '9' || c == '.' && s.off+1 < len(s.src) && s.src[s.off+1] >= '0' && s.src[s.off+1] <= '9':
		for s.off < len(s.src) && (isDigit(s.src[s.off]) || s.src[s.off] == '.') {
			s.off++
		}
		if s.off < len(s.src) && (s.src[s.off] == 'e' || s.src[s.off] == 'E') {
			s.off++
			if s.off < len(s.src) && (s.src[s.off] == '+' || s.src[s.off] == '-') {
				s.off++
			}
			for s.off < len(s.src) && isDigit(s.src[s.off]) {
				s.off++
			}
		}
		return token{kind: tNumber, text: s.src[start:s.off], off: start}, nil
	case isIdentStart(c):
		for s.off < len(s.src) && isIdentPart(s.src[s.off]) {
			s.off++
		}
		return token{kind: tWord, text: s.src[start:s.off], off: start}, nil
	}
	switch c {
	case '+', '-', '*', '/', '%', '.', '!':
		s.off++
		return token{kind: tOp, text: string(c), off: start}, nil
	}
	return token{}, s.errorf(start, "unexpected character %q", c)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// isIdentPart: field names carry dots (Processes.process_name), colons
// and wildcards (rename Processes.* as *).
func isIdentPart(c byte) bool {
	return isIdentStart(c) || isDigit(c) || c == '.' || c == ':' || c == '*'
}

// quoted reads a quoted string: \" and \\ are escapes; any other
// backslash is kept with the character after it (regular expressions
// keep theirs).
func (s *scanner) quoted(q byte) (string, error) {
	start := s.off
	s.off++
	var b strings.Builder
	for s.off < len(s.src) {
		c := s.src[s.off]
		switch {
		case c == q:
			s.off++
			return b.String(), nil
		case c == '\\' && s.off+1 < len(s.src):
			n := s.src[s.off+1]
			if n == q || n == '\\' {
				b.WriteByte(n)
			} else {
				b.WriteByte(c)
				b.WriteByte(n)
			}
			s.off += 2
			continue
		}
		b.WriteByte(c)
		s.off++
	}
	return "", s.errorf(start, "unterminated string, expected closing %c", q)
}
