package eql

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/firewarden/firewarden/query"
)

// The scanner follows Elasticsearch's EqlBase.g4 lexer: keywords are
// lower-case and case-sensitive, identifiers are [A-Za-z_@][A-Za-z0-9_]*,
// `name~` is one token (like~, regex~, in~ and case-insensitive function
// names), backticks quote field names (`` doubles a backtick), and
// comments are // to end of line and /* */ (nesting, as ANTLR's rule
// allows). It also reads the forms Python eql accepts and Elasticsearch
// refuses ('single', ?"raw", !:), so that the compiler can name them.

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tTildeIdent   // name~ (Text holds the name without the ~)
	tQuotedIdent  // `a b` (Text holds the unquoted name)
	tKeyword      // and, or, … (Text holds it)
	tString       // Text holds the value; Quote how it was written
	tInt          // Text holds the digits
	tFloat        // Text holds the literal
	tOp           // operators and punctuation; Text holds it
	tMissingOpen  // ![
	tOptional     // ? before a field
	tInvalidToken // never returned: errors stop the scan
)

func (k tokKind) String() string {
	switch k {
	case tEOF:
		return "end of query"
	case tIdent, tTildeIdent:
		return "identifier"
	case tQuotedIdent:
		return "quoted identifier"
	case tKeyword:
		return "keyword"
	case tString:
		return "string"
	case tInt:
		return "integer"
	case tFloat:
		return "decimal"
	case tOp, tMissingOpen, tOptional:
		return "operator"
	}
	return "token"
}

type token struct {
	Kind  tokKind
	Text  string
	Quote Quote
	Pos   query.Pos
}

// describe renders a token for "found …" in error messages.
func (t token) describe() string {
	switch t.Kind {
	case tEOF:
		return "end of query"
	case tString:
		return "string " + strconv.Quote(t.Text)
	case tTildeIdent:
		return strconv.Quote(t.Text + "~")
	case tQuotedIdent:
		return "`" + strings.ReplaceAll(t.Text, "`", "``") + "`"
	case tMissingOpen:
		return `"!["`
	case tOptional:
		return `"?"`
	}
	return strconv.Quote(t.Text)
}

var keywords = map[string]bool{
	"and": true, "any": true, "by": true, "false": true, "in": true, "join": true,
	"like": true, "maxspan": true, "not": true, "null": true, "of": true, "or": true,
	"regex": true, "sample": true, "sequence": true, "true": true, "until": true,
	"where": true, "with": true,
}

// tildeKeywords are the keywords whose ~ form is an operator, not a
// function name.
var tildeKeywords = map[string]bool{"in": true, "like": true, "regex": true}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }

// isIdent reports whether s can be written as a bare identifier: the
// printer backtick-quotes everything else.
func isIdent(s string) bool {
	if s == "" || keywords[s] {
		return false
	}
	if c := s[0]; !isLetter(c) && c != '_' && c != '@' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isLetter(c) && !isDigit(c) && c != '_' {
			return false
		}
	}
	return true
}

type scanner struct {
	src  string
	off  int // byte offset of the next character
	line int // 1-based line of src[off]
	col  int // 1-based column (in characters) of src[off]
	base query.Pos
	// bad is where the first byte that is not UTF-8 was passed over inside
	// a token or comment (badByte is that byte); next reports it.
	bad     *query.Pos
	badByte byte
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

// pos maps a position in src to one in the file that holds it: the first
// line of src starts at base's column, later lines at column 1.
func (s *scanner) pos(line, col int) query.Pos {
	p := query.Pos{File: s.base.File, Line: s.base.Line + line - 1, Col: col}
	if line == 1 {
		p.Col = s.base.Col + col - 1
	}
	return p
}

func (s *scanner) here() query.Pos { return s.pos(s.line, s.col) }

func (s *scanner) errorf(p query.Pos, format string, args ...any) error {
	return query.Errorf(p, format, args...)
}

func (s *scanner) peekByte(n int) byte {
	if s.off+n < len(s.src) {
		return s.src[s.off+n]
	}
	return 0
}

// advance moves past one character (a whole UTF-8 sequence), keeping the
// line and column.
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
	r, n := utf8.DecodeRuneInString(s.src[s.off:])
	if r == utf8.RuneError && n == 1 && s.bad == nil {
		p := s.here()
		s.bad, s.badByte = &p, s.src[s.off]
	}
	s.off += n
	s.col++
}

func (s *scanner) advanceN(n int) {
	for range n {
		s.advance()
	}
}

// skip passes whitespace and comments.
func (s *scanner) skip() error {
	for s.off < len(s.src) {
		switch c := s.src[s.off]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			s.advance()
		case c == '/' && s.peekByte(1) == '/':
			for s.off < len(s.src) && s.src[s.off] != '\n' {
				s.advance()
			}
		case c == '/' && s.peekByte(1) == '*':
			start := s.here()
			s.advanceN(2)
			depth := 1
			for depth > 0 {
				if s.off >= len(s.src) {
					return s.errorf(start, `unterminated comment, expected "*/"`)
				}
				switch {
				case s.src[s.off] == '*' && s.peekByte(1) == '/':
					depth--
					s.advanceN(2)
				case s.src[s.off] == '/' && s.peekByte(1) == '*':
					depth++
					s.advanceN(2)
				default:
					s.advance()
				}
			}
		default:
			return nil
		}
	}
	return nil
}

// next returns the next token. Text that is not UTF-8 is an error where
// it occurs, even inside a string or comment: a value the parser cannot
// print back faithfully is a value it should not guess at.
func (s *scanner) next() (token, error) {
	t, err := s.scan()
	if err == nil && s.bad != nil {
		return token{}, s.errorf(*s.bad, "invalid UTF-8 byte 0x%02x", s.badByte)
	}
	return t, err
}

func (s *scanner) scan() (token, error) {
	if err := s.skip(); err != nil {
		return token{}, err
	}
	p := s.here()
	if s.off >= len(s.src) {
		return token{Kind: tEOF, Pos: p}, nil
	}
	c := s.src[s.off]
	switch {
	case isLetter(c) || c == '_' || c == '@':
		start := s.off
		s.advance()
		for s.off < len(s.src) && (isLetter(s.src[s.off]) || isDigit(s.src[s.off]) || s.src[s.off] == '_') {
			s.advance()
		}
		word := s.src[start:s.off]
		// name~ is one token when the name starts with a letter, as in
		// Elasticsearch's TILDE_IDENTIFIER.
		if s.off < len(s.src) && s.src[s.off] == '~' && isLetter(word[0]) {
			s.advance()
			if tildeKeywords[word] {
				return token{Kind: tKeyword, Text: word + "~", Pos: p}, nil
			}
			return token{Kind: tTildeIdent, Text: word, Pos: p}, nil
		}
		if keywords[word] {
			return token{Kind: tKeyword, Text: word, Pos: p}, nil
		}
		return token{Kind: tIdent, Text: word, Pos: p}, nil
	case isDigit(c) || c == '.' && isDigit(s.peekByte(1)):
		return s.number(p)
	case c == '`':
		return s.quotedIdent(p)
	case c == '"':
		if strings.HasPrefix(s.src[s.off:], `"""`) {
			return s.rawString(p)
		}
		return s.string(p, '"', DoubleQuote)
	case c == '\'':
		return s.string(p, '\'', SingleQuote)
	case c == '?':
		if d := s.peekByte(1); d == '"' || d == '\'' {
			return s.pythonRaw(p, d)
		}
		s.advance()
		return token{Kind: tOptional, Text: "?", Pos: p}, nil
	case c == '!':
		switch s.peekByte(1) {
		case '[':
			s.advanceN(2)
			return token{Kind: tMissingOpen, Text: "![", Pos: p}, nil
		case '=', ':':
			op := s.src[s.off : s.off+2]
			s.advanceN(2)
			return token{Kind: tOp, Text: op, Pos: p}, nil
		}
		return token{}, s.errorf(p, `unexpected "!", expected "!=", "![" or "!:"`)
	case c == '=' || c == '<' || c == '>':
		op := string(c)
		if s.peekByte(1) == '=' {
			op += "="
		}
		s.advanceN(len(op))
		return token{Kind: tOp, Text: op, Pos: p}, nil
	case strings.IndexByte(":+-*/%.,[]()|", c) >= 0:
		s.advance()
		return token{Kind: tOp, Text: string(c), Pos: p}, nil
	}
	r, _ := utf8.DecodeRuneInString(s.src[s.off:])
	if r == utf8.RuneError {
		return token{}, s.errorf(p, "invalid UTF-8 byte 0x%02x", c)
	}
	return token{}, s.errorf(p, "unexpected character %q", r)
}

// number reads INTEGER_VALUE or DECIMAL_VALUE: 12, 1.5, 1., .5, 1e3,
// 1.5E-3. An e not followed by digits is left for the next token (10e is
// the integer 10 and the identifier e), as ANTLR's longest match does.
func (s *scanner) number(p query.Pos) (token, error) {
	start := s.off
	float := false
	for s.off < len(s.src) && isDigit(s.src[s.off]) {
		s.advance()
	}
	if s.off < len(s.src) && s.src[s.off] == '.' {
		float = true
		s.advance()
		for s.off < len(s.src) && isDigit(s.src[s.off]) {
			s.advance()
		}
	}
	if s.off < len(s.src) && (s.src[s.off] == 'e' || s.src[s.off] == 'E') {
		n := 1
		if d := s.peekByte(1); d == '+' || d == '-' {
			n = 2
		}
		if isDigit(s.peekByte(n)) {
			float = true
			s.advanceN(n)
			for s.off < len(s.src) && isDigit(s.src[s.off]) {
				s.advance()
			}
		}
	}
	text := s.src[start:s.off]
	if float {
		return token{Kind: tFloat, Text: text, Pos: p}, nil
	}
	return token{Kind: tInt, Text: text, Pos: p}, nil
}

func (s *scanner) quotedIdent(p query.Pos) (token, error) {
	s.advance()
	var b strings.Builder
	for {
		if s.off >= len(s.src) {
			return token{}, s.errorf(p, "unterminated quoted identifier, expected \"`\"")
		}
		if s.src[s.off] == '`' {
			if s.peekByte(1) != '`' {
				s.advance()
				break
			}
			b.WriteByte('`')
			s.advanceN(2)
			continue
		}
		start := s.off
		s.advance()
		b.WriteString(s.src[start:s.off])
	}
	if b.Len() == 0 {
		return token{}, s.errorf(p, "empty quoted identifier")
	}
	return token{Kind: tQuotedIdent, Text: b.String(), Pos: p}, nil
}

// string reads a "double" or 'single' quoted string with escapes: \b \t
// \n \f \r \" \' \\ and, in double quotes, \u{X…} (2 to 8 hex digits, a
// valid code point), as Elasticsearch's lexer and unquoteString do.
func (s *scanner) string(p query.Pos, delim byte, q Quote) (token, error) {
	s.advance()
	var b strings.Builder
	for {
		if s.off >= len(s.src) || s.src[s.off] == '\n' || s.src[s.off] == '\r' {
			return token{}, s.errorf(p, "unterminated string, expected %q before the end of the line", delim)
		}
		c := s.src[s.off]
		if c == delim {
			s.advance()
			break
		}
		if c != '\\' {
			start := s.off
			s.advance()
			b.WriteString(s.src[start:s.off])
			continue
		}
		ep := s.here()
		switch e := s.peekByte(1); e {
		case 'b':
			b.WriteByte('\b')
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'f':
			b.WriteByte('\f')
		case 'r':
			b.WriteByte('\r')
		case '"', '\'', '\\':
			b.WriteByte(e)
		case 'u':
			if q != DoubleQuote || s.peekByte(2) != '{' {
				return token{}, s.errorf(ep, `invalid escape "\u", expected \u{hex digits}`)
			}
			s.advanceN(3)
			start := s.off
			for s.off < len(s.src) && strings.IndexByte("0123456789abcdefABCDEF", s.src[s.off]) >= 0 {
				s.advance()
			}
			hex := s.src[start:s.off]
			if s.off >= len(s.src) || s.src[s.off] != '}' {
				return token{}, s.errorf(ep, `invalid unicode escape, expected hex digits and "}"`)
			}
			s.advance()
			if len(hex) < 2 || len(hex) > 8 {
				return token{}, s.errorf(ep, `invalid unicode escape \u{%s}, expected 2 to 8 hex digits`, hex)
			}
			v, _ := strconv.ParseUint(hex, 16, 32)
			if v > utf8.MaxRune || (v >= 0xD800 && v <= 0xDFFF) {
				return token{}, s.errorf(ep, `invalid unicode escape \u{%s}, not a code point`, hex)
			}
			b.WriteRune(rune(v))
			continue
		default:
			if s.off+1 >= len(s.src) {
				return token{}, s.errorf(p, "unterminated string, expected %q before the end of the line", delim)
			}
			r, _ := utf8.DecodeRuneInString(s.src[s.off+1:])
			return token{}, s.errorf(ep, `invalid escape "\%c", expected one of \b \t \n \f \r \" \' \\ \u{…}`, r)
		}
		s.advanceN(2)
	}
	return token{Kind: tString, Text: b.String(), Quote: q, Pos: p}, nil
}

// rawString reads """…""": no escapes, no line breaks, and up to two
// quotes right after the closing """ belong to the value (ANTLR's
// '"""' (~[\r\n])*? '"""' '"'? '"'?).
func (s *scanner) rawString(p query.Pos) (token, error) {
	s.advanceN(3)
	start := s.off
	for {
		if s.off >= len(s.src) || s.src[s.off] == '\n' || s.src[s.off] == '\r' {
			return token{}, s.errorf(p, `unterminated raw string, expected """ before the end of the line`)
		}
		if strings.HasPrefix(s.src[s.off:], `"""`) {
			break
		}
		s.advance()
	}
	end := s.off
	s.advanceN(3)
	for range 2 {
		if s.off < len(s.src) && s.src[s.off] == '"' {
			s.advance()
			end++
		}
	}
	return token{Kind: tString, Text: s.src[start:end], Quote: RawQuote, Pos: p}, nil
}

// pythonRaw reads Python eql's ?"…" / ?'…': the value is the text as is,
// and a backslash before the delimiter keeps it from ending the string.
func (s *scanner) pythonRaw(p query.Pos, delim byte) (token, error) {
	s.advanceN(2)
	start := s.off
	for {
		if s.off >= len(s.src) || s.src[s.off] == '\n' || s.src[s.off] == '\r' {
			return token{}, s.errorf(p, "unterminated raw string, expected %q before the end of the line", delim)
		}
		c := s.src[s.off]
		if c == '\\' && s.peekByte(1) == delim {
			s.advanceN(2)
			continue
		}
		if c == delim {
			break
		}
		s.advance()
	}
	text := s.src[start:s.off]
	s.advance()
	return token{Kind: tString, Text: text, Quote: PythonRawQuote, Pos: p}, nil
}

// hasUnescaped reports whether a Python raw string delimited by d would
// end early on s: whether s holds d not preceded by a backslash, reading
// s the way pythonRaw does.
func hasUnescaped(s string, d byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && s[i+1] == d {
			i++
			continue
		}
		if s[i] == d {
			return true
		}
	}
	return false
}
