package sigma

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The condition language (spec 2.1):
//
//	expr    = and { "or" and }
//	and     = unary { "and" unary }
//	unary   = "not" unary | primary
//	primary = "(" expr ")" | quant "of" target | identifier
//	quant   = "1" | "any" | "all" | number
//	target  = "them" | pattern
//
// Precedence, loosest first: or, and, not, "x of", parentheses. A Sigma v1
// aggregation ("| count() by x > 5", "| near ...") after the expression is
// recognised only to be refused by name.

// token kinds of the condition lexer.
type tokKind uint8

const (
	tEOF tokKind = iota
	tWord
	tLParen
	tRParen
	tPipe
	tIllegal
)

type token struct {
	kind tokKind
	off  int    // byte offset in the condition text
	text string // the word, or the illegal character
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "end of condition"
	case tLParen:
		return `"("`
	case tRParen:
		return `")"`
	case tPipe:
		return `"|"`
	}
	return strconv.Quote(t.text)
}

// scanner splits a condition into tokens, in the style of go/scanner.
type scanner struct {
	src string
	off int
}

func isWordChar(r rune) bool {
	return r == '_' || r == '-' || r == '*' || r == '.' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

func (s *scanner) next() token {
	for s.off < len(s.src) {
		r, size := utf8.DecodeRuneInString(s.src[s.off:])
		if !unicode.IsSpace(r) {
			break
		}
		s.off += size
	}
	if s.off >= len(s.src) {
		// The end is reported just after the last token.
		return token{kind: tEOF, off: len(strings.TrimRightFunc(s.src, unicode.IsSpace))}
	}
	start := s.off
	r, size := utf8.DecodeRuneInString(s.src[s.off:])
	switch r {
	case '(':
		s.off++
		return token{kind: tLParen, off: start, text: "("}
	case ')':
		s.off++
		return token{kind: tRParen, off: start, text: ")"}
	case '|':
		s.off++
		return token{kind: tPipe, off: start, text: "|"}
	}
	if !isWordChar(r) {
		s.off += size
		return token{kind: tIllegal, off: start, text: string(r)}
	}
	for s.off < len(s.src) {
		r, size := utf8.DecodeRuneInString(s.src[s.off:])
		if !isWordChar(r) {
			break
		}
		s.off += size
	}
	return token{kind: tWord, off: start, text: s.src[start:s.off]}
}

// Condition syntax tree. Offsets are byte offsets in the condition text.
type (
	condExpr interface{ offset() int }

	condIdent struct {
		off  int
		name string
	}
	condOf struct {
		off     int
		n       int  // at least n of the matches; 0 with all
		all     bool // all of
		target  string
		them    bool
		tgtOff  int
		quantTx string // as written: 1, any, all, 3
	}
	condNot struct {
		off int
		x   condExpr
	}
	condBin struct {
		off int
		or  bool
		xs  []condExpr
	}
)

func (c condIdent) offset() int { return c.off }
func (c condOf) offset() int    { return c.off }
func (c condNot) offset() int   { return c.off }
func (c condBin) offset() int   { return c.off }

// condError is a parse problem at an offset; the caller positions it.
type condError struct {
	off         int
	msg         string
	unsupported string // set when the construct is refused rather than malformed
	why         string
}

func (e *condError) Error() string { return e.msg }

type condParser struct {
	sc    scanner
	tok   token
	depth int
}

// maxCondDepth bounds nesting so hostile input cannot exhaust the stack.
const maxCondDepth = 200

func parseCondition(src string) (condExpr, error) {
	p := &condParser{sc: scanner{src: src}}
	p.advance()
	if p.tok.kind == tEOF {
		return nil, &condError{off: 0, msg: "empty condition, expected a search identifier"}
	}
	x, err := p.expr()
	if err != nil {
		return nil, err
	}
	switch p.tok.kind {
	case tEOF:
		return x, nil
	case tPipe:
		return nil, p.aggregation()
	case tRParen:
		return nil, &condError{off: p.tok.off, msg: `unexpected ")", expected "and", "or" or end of condition`}
	}
	return nil, &condError{off: p.tok.off, msg: fmt.Sprintf(`unexpected %s, expected "and", "or" or end of condition`, p.tok)}
}

func (p *condParser) advance() { p.tok = p.sc.next() }

func (p *condParser) isWord(w string) bool { return p.tok.kind == tWord && p.tok.text == w }

func (p *condParser) expr() (condExpr, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxCondDepth {
		return nil, &condError{off: p.tok.off, msg: fmt.Sprintf("condition nested deeper than %d levels", maxCondDepth)}
	}
	return p.binary(true)
}

// binary parses an or-list (or) or an and-list (!or).
func (p *condParser) binary(or bool) (condExpr, error) {
	op, sub := "and", func() (condExpr, error) { return p.unary() }
	if or {
		op, sub = "or", func() (condExpr, error) { return p.binary(false) }
	}
	x, err := sub()
	if err != nil {
		return nil, err
	}
	if !p.isWord(op) {
		return x, nil
	}
	b := condBin{off: x.offset(), or: or, xs: []condExpr{x}}
	for p.isWord(op) {
		p.advance()
		y, err := sub()
		if err != nil {
			return nil, err
		}
		b.xs = append(b.xs, y)
	}
	return b, nil
}

func (p *condParser) unary() (condExpr, error) {
	if p.isWord("not") {
		off := p.tok.off
		p.advance()
		p.depth++
		defer func() { p.depth-- }()
		if p.depth > maxCondDepth {
			return nil, &condError{off: off, msg: fmt.Sprintf("condition nested deeper than %d levels", maxCondDepth)}
		}
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return condNot{off: off, x: x}, nil
	}
	return p.primary()
}

const expectOperand = `expected a search identifier, "not", "(" or "1 of"/"all of"`

func (p *condParser) primary() (condExpr, error) {
	t := p.tok
	switch t.kind {
	case tLParen:
		p.advance()
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tRParen {
			return nil, &condError{off: p.tok.off, msg: fmt.Sprintf(`unexpected %s, expected ")" to close "("`, p.tok)}
		}
		p.advance()
		return x, nil
	case tWord:
		switch t.text {
		case "and", "or", "of", "them":
			return nil, &condError{off: t.off, msg: fmt.Sprintf("unexpected %q, %s", t.text, expectOperand)}
		}
		p.advance()
		if p.isWord("of") {
			return p.of(t)
		}
		// A quantifier not followed by "of" is an identifier only where an
		// operator or the end follows (pySigma accepts a selection named
		// "all"); otherwise "of" is what is missing.
		if isQuantifier(t.text) && p.tok.kind == tWord && !p.isWord("and") && !p.isWord("or") {
			return nil, &condError{off: p.tok.off, msg: fmt.Sprintf(`unexpected %s after %q, expected "of"`, p.tok, t.text)}
		}
		if strings.Contains(t.text, "*") {
			return nil, &condError{off: t.off, msg: fmt.Sprintf("pattern %q outside \"1 of\"/\"all of\", expected a search identifier", t.text)}
		}
		return condIdent{off: t.off, name: t.text}, nil
	case tEOF:
		return nil, &condError{off: t.off, msg: "unexpected end of condition, " + expectOperand}
	case tPipe:
		return nil, &condError{off: t.off, msg: `unexpected "|", ` + expectOperand}
	}
	return nil, &condError{off: t.off, msg: fmt.Sprintf("unexpected %s, %s", t, expectOperand)}
}

func isQuantifier(s string) bool { return s == "all" || s == "any" || allDigits(s) }

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// of parses the rest of "quant of target"; q is the quantifier token and
// the current token is "of".
func (p *condParser) of(q token) (condExpr, error) {
	c := condOf{off: q.off, quantTx: q.text}
	switch {
	case q.text == "all":
		c.all = true
	case q.text == "any":
		c.n = 1
	case allDigits(q.text):
		n, err := strconv.Atoi(q.text)
		if err != nil || n < 1 {
			return nil, &condError{off: q.off, msg: fmt.Sprintf("quantifier %q, expected a number of at least 1, \"any\" or \"all\"", q.text)}
		}
		c.n = n
	default:
		return nil, &condError{off: q.off, msg: fmt.Sprintf("quantifier %q, expected 1, \"any\", \"all\" or a number", q.text)}
	}
	p.advance() // of
	t := p.tok
	if t.kind != tWord || t.text == "and" || t.text == "or" || t.text == "not" || t.text == "of" {
		return nil, &condError{off: t.off, msg: fmt.Sprintf(`unexpected %s after "of", expected "them" or a search identifier pattern`, t)}
	}
	p.advance()
	c.tgtOff = t.off
	c.target = t.text
	c.them = t.text == "them"
	return c, nil
}

// aggregation refuses a Sigma v1 aggregation expression by name.
func (p *condParser) aggregation() error {
	off := p.tok.off
	p.advance()
	fn := ""
	if p.tok.kind == tWord {
		fn = p.tok.text
	}
	why := "Sigma v1 aggregations were replaced by correlation rules in Sigma 2"
	switch strings.ToLower(fn) {
	case "near":
		return &condError{off: off, unsupported: "near aggregation (| near ...)", why: why}
	case "":
		return &condError{off: off, unsupported: "aggregation expression (| ...)", why: why}
	}
	return &condError{off: off, unsupported: "aggregation expression (| " + fn + " ...)", why: why}
}
