package kql

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/firewarden/firewarden/query"
)

// The scanner follows Kusto's lexical rules as far as firewarden reads
// them: identifiers are [A-Za-z_][A-Za-z0-9_]*; the hyphenated operator
// names (project-away, mv-expand, …) are one token; `!` before a letter
// makes one operator token (!contains, !in, !has_cs, …) and `in~` / `!in~`
// are one token; strings are "…" or '…' with backslash escapes, @"…" /
// @'…' verbatim (a doubled quote is one quote) and h"…" (obfuscated: the
// same text); a number directly followed by a time unit is a timespan
// (1h, 30m, 1.5d, 100ms); comments run from // to the end of the line.

type tokKind int

const (
	tEOF      tokKind = iota
	tIdent            // names, keywords and word operators (Text holds it)
	tBangWord         // !contains, !in~, … (Text holds it with the !)
	tString           // Text holds the value
	tInt              // Text holds the digits
	tReal             // Text holds the literal
	tTimespan         // Dur holds the value
	tOp               // punctuation; Text holds it
)

type token struct {
	Kind tokKind
	Text string
	Dur  time.Duration
	Pos  query.Pos
}

// describe renders a token for "found …" in error messages.
func (t token) describe() string {
	switch t.Kind {
	case tEOF:
		return "end of query"
	case tString:
		return "string " + strconv.Quote(t.Text)
	case tTimespan:
		return "timespan " + t.Dur.String()
	}
	return strconv.Quote(t.Text)
}

// hyphenated are the operator names written with a hyphen; the scanner
// reads each as one identifier.
var hyphenated = []string{
	"project-away", "project-keep", "project-rename", "project-reorder",
	"mv-expand", "mv-apply", "make-series", "parse-where", "parse-kv",
	"top-nested", "top-hitters",
}

// timeUnits are Kusto's timespan suffixes.
var timeUnits = map[string]time.Duration{
	"d": 24 * time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour,
	"h": time.Hour, "hr": time.Hour, "hrs": time.Hour, "hour": time.Hour, "hours": time.Hour,
	"m": time.Minute, "min": time.Minute, "minute": time.Minute, "minutes": time.Minute,
	"s": time.Second, "sec": time.Second, "second": time.Second, "seconds": time.Second,
	"ms": time.Millisecond, "milli": time.Millisecond, "millis": time.Millisecond,
	"millisecond": time.Millisecond, "milliseconds": time.Millisecond,
	"microsecond": time.Microsecond, "microseconds": time.Microsecond,
	"tick": 100 * time.Nanosecond, "ticks": 100 * time.Nanosecond,
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }

type scanner struct {
	src  string
	off  int
	line int
	col  int
	base query.Pos
	// indent is added to the columns of lines after the first.
	indent int
}

func newScanner(src string, base query.Pos) *scanner {
	if base.Line <= 0 {
		base.Line = 1
	}
	if base.Col <= 0 {
		base.Col = 1
	}
	return &scanner{src: src, line: 1, col: 1, base: base}
}

// pos maps a position in src to one in the file holding it: the first
// line of src starts at base's column, later lines at column 1.
func (s *scanner) pos(line, col int) query.Pos {
	p := query.Pos{File: s.base.File, Line: s.base.Line + line - 1, Col: col + s.indent}
	if line == 1 {
		p.Col = s.base.Col + col - 1
	}
	return p
}

func (s *scanner) here() query.Pos { return s.pos(s.line, s.col) }

func (s *scanner) peekByte(n int) byte {
	if s.off+n < len(s.src) {
		return s.src[s.off+n]
	}
	return 0
}

func (s *scanner) advance() {
	if s.off >= len(s.src) {
		return
	}
	if s.src[s.off] == '\n' {
		s.off++
		s.line++
		s.col = 1
		return
	}
	_, n := utf8.DecodeRuneInString(s.src[s.off:])
	s.off += n
	s.col++
}

func (s *scanner) advanceN(n int) {
	for range n {
		s.advance()
	}
}

func (s *scanner) skip() {
	for s.off < len(s.src) {
		switch c := s.src[s.off]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v':
			s.advance()
		case c == '/' && s.peekByte(1) == '/':
			for s.off < len(s.src) && s.src[s.off] != '\n' {
				s.advance()
			}
		default:
			return
		}
	}
}

// next reads one token.
func (s *scanner) next() (token, error) {
	s.skip()
	p := s.here()
	if s.off >= len(s.src) {
		return token{Kind: tEOF, Pos: p}, nil
	}
	c := s.src[s.off]
	switch {
	case (c == '@' || c == 'h' || c == 'H') && (s.peekByte(1) == '"' || s.peekByte(1) == '\''):
		verbatim := c == '@'
		s.advance()
		v, err := s.str(p, verbatim)
		return token{Kind: tString, Text: v, Pos: p}, err
	case (c == 'h' || c == 'H') && s.peekByte(1) == '@' && (s.peekByte(2) == '"' || s.peekByte(2) == '\''):
		s.advanceN(2)
		v, err := s.str(p, true)
		return token{Kind: tString, Text: v, Pos: p}, err
	case isLetter(c):
		w := s.word()
		for _, h := range hyphenated {
			if strings.HasPrefix(h, w+"-") && strings.HasPrefix(s.src[s.off-len(w):], h) {
				end := s.off - len(w) + len(h)
				if end == len(s.src) || !isLetter(s.src[end]) && !isDigit(s.src[end]) {
					s.advanceN(len(h) - len(w))
					w = h
					break
				}
			}
		}
		if w == "in" && s.peekByte(0) == '~' {
			s.advance()
			w = "in~"
		}
		return token{Kind: tIdent, Text: w, Pos: p}, nil
	case c == '!' && isLetter(s.peekByte(1)):
		s.advance()
		w := "!" + s.word()
		if w == "!in" && s.peekByte(0) == '~' {
			s.advance()
			w = "!in~"
		}
		return token{Kind: tBangWord, Text: w, Pos: p}, nil
	case c == '"' || c == '\'':
		v, err := s.str(p, false)
		return token{Kind: tString, Text: v, Pos: p}, err
	case isDigit(c) || c == '.' && isDigit(s.peekByte(1)):
		return s.number(p)
	}
	for _, op := range []string{"==", "!=", "<=", ">=", "=~", "!~", "..", "<>"} {
		if strings.HasPrefix(s.src[s.off:], op) {
			s.advanceN(2)
			return token{Kind: tOp, Text: op, Pos: p}, nil
		}
	}
	if strings.ContainsRune("|(),;=<>[]{}.+-*/%:~", rune(c)) {
		s.advance()
		return token{Kind: tOp, Text: string(c), Pos: p}, nil
	}
	r, _ := utf8.DecodeRuneInString(s.src[s.off:])
	return token{}, query.Errorf(p, "unexpected character %q", r)
}

func (s *scanner) word() string {
	start := s.off
	for s.off < len(s.src) && (isLetter(s.src[s.off]) || isDigit(s.src[s.off])) {
		s.advance()
	}
	return s.src[start:s.off]
}

// str reads a quoted string starting at the quote.
func (s *scanner) str(p query.Pos, verbatim bool) (string, error) {
	q := s.src[s.off]
	s.advance()
	var b strings.Builder
	for {
		if s.off >= len(s.src) {
			return "", query.Errorf(p, "unterminated string")
		}
		c := s.src[s.off]
		switch {
		case c == q:
			if verbatim && s.peekByte(1) == q {
				b.WriteByte(q)
				s.advanceN(2)
				continue
			}
			s.advance()
			return b.String(), nil
		case c == '\n' && !verbatim:
			return "", query.Errorf(p, "unterminated string (a line break inside quotes)")
		case c == '\\' && !verbatim:
			ep := s.here()
			s.advance()
			if s.off >= len(s.src) {
				return "", query.Errorf(p, "unterminated string")
			}
			e := s.src[s.off]
			switch e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '\\', '"', '\'':
				b.WriteByte(e)
			default:
				return "", query.Errorf(ep, "unknown escape \\%c in a string (write \\\\ for a backslash, or use @\"…\")", e)
			}
			s.advance()
		default:
			start := s.off
			s.advance()
			b.WriteString(s.src[start:s.off])
		}
	}
}

// number reads an integer, a real or a timespan.
func (s *scanner) number(p query.Pos) (token, error) {
	start := s.off
	real := false
	for s.off < len(s.src) && isDigit(s.src[s.off]) {
		s.advance()
	}
	if s.peekByte(0) == '.' && isDigit(s.peekByte(1)) {
		real = true
		s.advance()
		for s.off < len(s.src) && isDigit(s.src[s.off]) {
			s.advance()
		}
	}
	if c := s.peekByte(0); (c == 'e' || c == 'E') && (isDigit(s.peekByte(1)) || (s.peekByte(1) == '-' || s.peekByte(1) == '+') && isDigit(s.peekByte(2))) {
		real = true
		s.advanceN(2)
		for s.off < len(s.src) && isDigit(s.src[s.off]) {
			s.advance()
		}
	}
	text := s.src[start:s.off]
	if isLetter(s.peekByte(0)) {
		up := s.here()
		unit := s.word()
		d, ok := timeUnits[strings.ToLower(unit)]
		if !ok {
			return token{}, query.Errorf(up, "unknown timespan unit %q", unit)
		}
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return token{}, query.Errorf(p, "bad number %q", text)
		}
		return token{Kind: tTimespan, Text: text + unit, Dur: time.Duration(f * float64(d)), Pos: p}, nil
	}
	if real {
		return token{Kind: tReal, Text: text, Pos: p}, nil
	}
	return token{Kind: tInt, Text: text, Pos: p}, nil
}
