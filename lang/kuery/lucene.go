package kuery

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/firewarden/firewarden/query"
)

// The Lucene parser follows Lucene's classic QueryParser.jj, as
// Elasticsearch's query_string query (QueryStringQueryParser) runs it for
// Kibana's "lucene" queries: default operator OR, default field every
// field (index.query.default_field "*"), split_on_whitespace off.
//
// Tokens (longest match; on a tie the earlier kind wins):
//
//	AND: AND &&   OR: OR ||   NOT: NOT !   + - ( ) : ^ *
//	BAREOPER: + - ! followed by whitespace (searched as a term)
//	TERM: characters other than whitespace + - ! ( ) : ^ [ ] " { } ~ * ? \ /
//	      (+ and - allowed after the first), \x escapes any character
//	WILDTERM, PREFIXTERM: a TERM with unescaped * or ?
//	QUOTED: "…" with \x escapes   REGEXPTERM: /…/ with \/
//	FUZZY_SLOP: ~ digits   ranges: [ or { lo TO hi ] or }
//
// Grammar:
//
//	Query  = Modifiers Clause (Conjunction Modifiers Clause)*
//	Clause = [(TERM | *) ":"] (Term | "(" Query ")" ["^" boost])
//	Term   = (TERM | * | WILDTERM | PREFIXTERM | REGEXPTERM | BAREOPER) [~slop] [^boost]
//	       | range [^boost] | QUOTED [~slop] [^boost]
//
// Clauses become a BooleanQuery as QueryParserBase.addClause decides:
// AND makes the clause before it and the one after required, + required,
// - NOT and ! prohibited, anything else optional.

type lkind uint8

const (
	lEOF lkind = iota
	lTerm
	lWild
	lStar
	lQuoted
	lRegex
	lRange
	lAnd
	lOr
	lNot
	lPlus
	lMinus
	lBareOp
	lLParen
	lRParen
	lColon
	lCaret
	lFuzzy
)

type ltok struct {
	kind lkind
	raw  string // the token as written
	off  int
	end  int
	// ranges
	lo, hi         *Bound
	loIncl, hiIncl bool
}

func (t ltok) describe() string {
	if t.kind == lEOF {
		return "end of query"
	}
	return strconv.Quote(t.raw)
}

func isLuceneSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\u3000'
}

// isTermStart: characters that may start a TERM unescaped.
func isTermStart(r rune) bool {
	if isLuceneSpace(r) {
		return false
	}
	return !strings.ContainsRune(`+-!():^[]"{}~*?\/`, r)
}

type lexer struct {
	s   *source
	src string
	i   int
}

func (lx *lexer) errorf(off int, format string, args ...any) error {
	return query.Errorf(lx.s.pos(off), format, args...)
}

func (lx *lexer) rune(i int) (rune, int) {
	if i >= len(lx.src) {
		return -1, 0
	}
	return utf8.DecodeRuneInString(lx.src[i:])
}

func (lx *lexer) skipSpace() {
	for {
		r, n := lx.rune(lx.i)
		if n == 0 || !isLuceneSpace(r) {
			return
		}
		lx.i += n
	}
}

func (lx *lexer) all() ([]ltok, error) {
	var out []ltok
	for {
		t, err := lx.next()
		if err != nil {
			return nil, err
		}
		out = append(out, t)
		if t.kind == lEOF {
			return out, nil
		}
	}
}

func (lx *lexer) next() (ltok, error) {
	lx.skipSpace()
	start := lx.i
	tok := func(k lkind, n int) (ltok, error) {
		lx.i += n
		return ltok{kind: k, raw: lx.src[start:lx.i], off: start, end: lx.i}, nil
	}
	if lx.i >= len(lx.src) {
		return ltok{kind: lEOF, off: start, end: start}, nil
	}
	c := lx.src[lx.i]
	switch c {
	case '(':
		return tok(lLParen, 1)
	case ')':
		return tok(lRParen, 1)
	case ':':
		return tok(lColon, 1)
	case '^':
		return tok(lCaret, 1)
	case '+', '-', '!':
		if r, _ := lx.rune(lx.i + 1); isLuceneSpace(r) {
			return tok(lBareOp, 2)
		}
		return tok(map[byte]lkind{'+': lPlus, '-': lMinus, '!': lNot}[c], 1)
	case '"':
		return lx.quoted()
	case '[', '{':
		return lx.rangeTok()
	case '/':
		return lx.regex()
	case '~':
		n := 1
		for lx.i+n < len(lx.src) && isDigitByte(lx.src[lx.i+n]) {
			n++
		}
		if n > 1 && lx.i+n+1 < len(lx.src) && lx.src[lx.i+n] == '.' && isDigitByte(lx.src[lx.i+n+1]) {
			n++
			for lx.i+n < len(lx.src) && isDigitByte(lx.src[lx.i+n]) {
				n++
			}
		}
		return tok(lFuzzy, n)
	}
	// TERM, WILDTERM, PREFIXTERM, STAR, and AND/OR/NOT spelt as words.
	wild := false
scan:
	for first := true; lx.i < len(lx.src); first = false {
		r, n := lx.rune(lx.i)
		switch {
		case r == '\\':
			if lx.i+1 >= len(lx.src) {
				return ltok{}, lx.errorf(lx.i, `the query ends with an escape character "\"`)
			}
			_, m := lx.rune(lx.i + 1)
			lx.i += 1 + m
			continue
		case r == '*' || r == '?':
			wild = true
		case isTermStart(r), !first && (r == '-' || r == '+'):
		default:
			break scan
		}
		lx.i += n
	}
	if lx.i == start {
		r, _ := lx.rune(start)
		return ltok{}, lx.errorf(start, "unexpected character %q", r)
	}
	t := ltok{kind: lTerm, raw: lx.src[start:lx.i], off: start, end: lx.i}
	switch {
	case t.raw == "*":
		t.kind = lStar
	case t.raw == "AND" || t.raw == "&&":
		t.kind = lAnd
	case t.raw == "OR" || t.raw == "||":
		t.kind = lOr
	case t.raw == "NOT":
		t.kind = lNot
	case wild:
		t.kind = lWild
	}
	return t, nil
}

func isDigitByte(c byte) bool { return '0' <= c && c <= '9' }

func (lx *lexer) quoted() (ltok, error) {
	start := lx.i
	lx.i++
	for {
		if lx.i >= len(lx.src) {
			return ltok{}, lx.errorf(start, `unterminated quoted string, expected a closing '"'`)
		}
		switch lx.src[lx.i] {
		case '"':
			lx.i++
			return ltok{kind: lQuoted, raw: lx.src[start:lx.i], off: start, end: lx.i}, nil
		case '\\':
			if lx.i+1 >= len(lx.src) {
				return ltok{}, lx.errorf(start, `unterminated quoted string, expected a closing '"'`)
			}
			_, n := lx.rune(lx.i + 1)
			lx.i += 1 + n
		default:
			_, n := lx.rune(lx.i)
			lx.i += n
		}
	}
}

// regex reads /…/: a / inside must be escaped as \/; of the ways to end
// the token the longest wins, as in Lucene's lexer.
func (lx *lexer) regex() (ltok, error) {
	start := lx.i
	last := -1
	for j := start + 1; j < len(lx.src); j++ {
		if lx.src[j] != '/' {
			continue
		}
		if lx.src[j-1] != '\\' {
			last = j
			break
		}
		last = j // \/ may end the token too, if nothing longer does
	}
	if last < 0 {
		return ltok{}, lx.errorf(start, `unterminated regular expression, expected a closing "/"`)
	}
	lx.i = last + 1
	return ltok{kind: lRegex, raw: lx.src[start:lx.i], off: start, end: lx.i}, nil
}

// rangeTok reads a whole range: [ or {, a bound, TO, a bound, ] or }.
// Bounds are quoted ("…", \" inside) or runs of anything but space, ] and
// }; "*" is an open bound.
func (lx *lexer) rangeTok() (ltok, error) {
	start := lx.i
	t := ltok{kind: lRange, off: start, loIncl: lx.src[start] == '['}
	lx.i++
	type rtok struct {
		kind string // "to", "end", "goop", "quoted"
		text string
		off  int
	}
	rnext := func() (rtok, error) {
		lx.skipSpace()
		s := lx.i
		if s >= len(lx.src) {
			return rtok{}, lx.errorf(start, `unterminated range, expected "]" or "}"`)
		}
		switch c := lx.src[s]; {
		case c == ']' || c == '}':
			lx.i++
			return rtok{kind: "end", text: string(c), off: s}, nil
		case c == '"':
			j := s + 1
			for j < len(lx.src) && lx.src[j] != '"' {
				if lx.src[j] == '\\' && j+1 < len(lx.src) && lx.src[j+1] == '"' {
					j++
				}
				j++
			}
			if j < len(lx.src) && j > s+1 {
				lx.i = j + 1
				return rtok{kind: "quoted", text: lx.src[s+1 : j], off: s}, nil
			}
		}
		j := s
		for j < len(lx.src) && lx.src[j] != ' ' && lx.src[j] != ']' && lx.src[j] != '}' {
			j++
		}
		lx.i = j
		if lx.src[s:j] == "TO" {
			return rtok{kind: "to", text: "TO", off: s}, nil
		}
		return rtok{kind: "goop", text: lx.src[s:j], off: s}, nil
	}
	bound := func(r rtok) (*Bound, error) {
		switch r.kind {
		case "end":
			return nil, lx.errorf(r.off, "expected a range bound, found %q", r.text)
		case "goop", "to":
			if r.text == "*" {
				return nil, nil
			}
		}
		text, err := discardEscape(r.text)
		if err != nil {
			return nil, lx.errorf(r.off, "%v", err)
		}
		return &Bound{Text: text, Quoted: r.kind == "quoted", P: lx.s.pos(r.off)}, nil
	}
	r, err := rnext()
	if err != nil {
		return t, err
	}
	if t.lo, err = bound(r); err != nil {
		return t, err
	}
	if r, err = rnext(); err != nil {
		return t, err
	}
	if r.kind != "to" {
		return t, lx.errorf(r.off, `expected "TO" in the range, found %q`, r.text)
	}
	if r, err = rnext(); err != nil {
		return t, err
	}
	if t.hi, err = bound(r); err != nil {
		return t, err
	}
	if r, err = rnext(); err != nil {
		return t, err
	}
	if r.kind != "end" {
		return t, lx.errorf(r.off, `expected "]" or "}" to close the range, found %q`, r.text)
	}
	t.hiIncl = r.text == "]"
	t.end = lx.i
	t.raw = lx.src[start:lx.i]
	return t, nil
}

// discardEscape removes Lucene's escapes: \uXXXX is a character, \x is x.
func discardEscape(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 >= len(s) {
			return "", errorString("a term cannot end with the escape character")
		}
		if s[i+1] == 'u' {
			if i+6 > len(s) {
				return "", errorString(`truncated unicode escape \u`)
			}
			v, err := strconv.ParseUint(s[i+2:i+6], 16, 32)
			if err != nil || strings.ContainsAny(s[i+2:i+6], "+-_xX") {
				return "", errorString(`invalid unicode escape \u` + s[i+2:i+6])
			}
			if v >= 0xD800 && v <= 0xDFFF {
				return "", errorString(`invalid escape \u` + s[i+2:i+6] + ": a UTF-16 surrogate")
			}
			b.WriteRune(rune(v))
			i += 5
			continue
		}
		i++
		b.WriteByte(s[i])
	}
	return b.String(), nil
}

type errorString string

func (e errorString) Error() string { return string(e) }

type luceneParser struct {
	s     *source
	toks  []ltok
	k     int
	depth int
}

func parseLucene(s *source) (Node, error) {
	lx := &lexer{s: s, src: s.text}
	toks, err := lx.all()
	if err != nil {
		return nil, err
	}
	p := &luceneParser{s: s, toks: toks}
	if p.tok().kind == lEOF {
		// Kibana sends an empty lucene query as match_all.
		return &MatchAll{P: s.pos(0)}, nil
	}
	n, err := p.query(lfield{})
	if err != nil {
		return nil, err
	}
	if p.tok().kind != lEOF {
		return nil, p.unexpected("an operator, a term or the end of the query")
	}
	return n, nil
}

func (p *luceneParser) tok() ltok { return p.toks[p.k] }

func (p *luceneParser) peek(n int) ltok {
	if p.k+n < len(p.toks) {
		return p.toks[p.k+n]
	}
	return p.toks[len(p.toks)-1]
}

func (p *luceneParser) next() {
	if p.k < len(p.toks)-1 {
		p.k++
	}
}

func (p *luceneParser) pos(t ltok) query.Pos { return p.s.pos(t.off) }

func (p *luceneParser) unexpected(what string) error {
	t := p.tok()
	return query.Errorf(p.pos(t), "expected %s, found %s", what, t.describe())
}

func (p *luceneParser) refuse(t ltok, construct, why string) error {
	return &query.Unsupported{Pos: p.pos(t), Construct: construct, Why: why}
}

// lfield is the field a clause applies to: none means the default field,
// every field.
type lfield struct {
	name string
	pos  query.Pos
}

type occur uint8

const (
	should occur = iota
	must
	mustNot
)

type lclause struct {
	occur occur
	n     Node
}

const (
	conjNone = iota
	conjAnd
	conjOr
)

const (
	modNone = iota
	modReq
	modNot
)

func (p *luceneParser) query(f lfield) (Node, error) {
	start := p.tok()
	var clauses []lclause
	var first Node
	for i := 0; ; i++ {
		if i > 0 && (p.tok().kind == lEOF || p.tok().kind == lRParen) {
			break
		}
		if t := p.tok(); t.kind == lTerm && p.peek(1).kind == lTerm {
			if k := p.peek(2).kind; k != lColon && k != lCaret && k != lFuzzy {
				return nil, p.refuse(t, "adjacent terms without an operator ("+t.raw+" "+p.peek(1).raw+")",
					"query_string analyses them together as one text, whose meaning depends on each field's analyzer; quote them or join them with OR or AND")
			}
		}
		conj := conjNone
		if i > 0 {
			switch p.tok().kind {
			case lAnd:
				conj = conjAnd
				p.next()
			case lOr:
				conj = conjOr
				p.next()
			}
		}
		mods := modNone
		switch p.tok().kind {
		case lPlus:
			mods = modReq
			p.next()
		case lMinus, lNot:
			mods = modNot
			p.next()
		}
		c, err := p.clause(f)
		if err != nil {
			return nil, err
		}
		// QueryParserBase.addClause with the OR default operator.
		if len(clauses) > 0 && conj == conjAnd && clauses[len(clauses)-1].occur != mustNot {
			clauses[len(clauses)-1].occur = must
		}
		oc := should
		switch {
		case mods == modNot:
			oc = mustNot
		case mods == modReq, conj == conjAnd:
			oc = must
		}
		clauses = append(clauses, lclause{occur: oc, n: c})
		if i == 0 && mods == modNone {
			first = c
		}
	}
	if len(clauses) == 1 && first != nil {
		return first, nil
	}
	return booleanQuery(clauses, p.pos(start)), nil
}

// booleanQuery is how Lucene evaluates a BooleanQuery: with required
// clauses the optional ones do not matter; without, one optional clause
// must match; prohibited clauses must not. Elasticsearch adds a match_all
// to a query of prohibited clauses only (Queries.fixNegativeQueryIfNeeded).
func booleanQuery(cs []lclause, pos query.Pos) Node {
	var req, opt, neg []Node
	for _, c := range cs {
		switch c.occur {
		case must:
			req = append(req, c.n)
		case should:
			opt = append(opt, c.n)
		default:
			neg = append(neg, &Not{X: c.n, P: c.n.Pos()})
		}
	}
	var xs []Node
	switch {
	case len(req) > 0:
		xs = req
	case len(opt) == 1:
		xs = opt
	case len(opt) > 1:
		xs = []Node{&Bool{Op: "or", X: opt, P: pos}}
	}
	xs = append(xs, neg...)
	if len(xs) == 1 {
		return xs[0]
	}
	return &Bool{Op: "and", X: xs, P: pos}
}

func (p *luceneParser) clause(f lfield) (Node, error) {
	if t := p.tok(); (t.kind == lTerm || t.kind == lStar) && p.peek(1).kind == lColon {
		name, err := discardEscape(t.raw)
		if err != nil {
			return nil, query.Errorf(p.pos(t), "%v", err)
		}
		if strings.Contains(name, "*") && name != "*" {
			return nil, p.refuse(t, "wildcard field name "+name, "query_string expands it over the index's mapped fields, which firewarden does not have")
		}
		f = lfield{name: name, pos: p.pos(t)}
		if name == "*" {
			f = lfield{}
		}
		p.next()
		p.next()
	}
	if p.tok().kind == lLParen {
		p.depth++
		if p.depth > maxDepth {
			return nil, query.Errorf(p.pos(p.tok()), "query nested more than %d levels deep", maxDepth)
		}
		p.next()
		q, err := p.query(f)
		if err != nil {
			return nil, err
		}
		if p.tok().kind != lRParen {
			return nil, p.unexpected(`")", an operator or a term`)
		}
		p.next()
		p.depth--
		if t := p.tok(); t.kind == lCaret {
			return nil, p.refuse(t, "boost ^", "boosts change scores, not which events match; remove it")
		}
		return q, nil
	}
	return p.term(f)
}

func (p *luceneParser) term(f lfield) (Node, error) {
	t := p.tok()
	switch t.kind {
	case lTerm, lStar, lWild, lRegex, lQuoted, lRange:
	case lBareOp:
		return nil, p.refuse(t, "bare operator "+strconv.Quote(t.raw[:1]), "an operator followed by whitespace is searched as a term; escape it to search for it")
	default:
		return nil, p.unexpected("a term, a phrase, a range or \"(\"")
	}
	p.next()
	switch n := p.tok(); n.kind {
	case lFuzzy:
		if t.kind == lQuoted {
			return nil, p.refuse(n, "proximity search ~", "firewarden matches phrases exactly")
		}
		return nil, p.refuse(n, "fuzzy query ~", "edit-distance matching is not run")
	case lCaret:
		return nil, p.refuse(n, "boost ^", "boosts change scores, not which events match; remove it")
	}
	return p.leaf(f, t)
}

func (p *luceneParser) leaf(f lfield, t ltok) (Node, error) {
	pos := p.pos(t)
	term := &Term{Field: f.name, FieldPos: f.pos, P: pos}
	if f.name == "_exists_" {
		if t.kind != lTerm && t.kind != lQuoted {
			return nil, p.refuse(t, "_exists_ with a "+kindName(t.kind), "_exists_ takes a field name")
		}
		text := t.raw
		if t.kind == lQuoted {
			text = text[1 : len(text)-1]
		}
		name, err := discardEscape(text)
		if err != nil {
			return nil, query.Errorf(pos, "%v", err)
		}
		return &Term{Field: name, FieldPos: pos, Kind: Exists, P: pos}, nil
	}
	switch t.kind {
	case lTerm:
		text, err := discardEscape(t.raw)
		if err != nil {
			return nil, query.Errorf(pos, "%v", err)
		}
		// Elasticsearch's one-sided ranges: field:>5, >=5, <5, <=5.
		if len(text) > 1 && (text[0] == '>' || text[0] == '<') {
			if f.name == "" {
				return nil, p.refuse(t, "range "+t.raw+" without a field", "a range on every field depends on each field's type")
			}
			incl := len(text) > 2 && text[1] == '='
			rest := text[1:]
			if incl {
				rest = text[2:]
			}
			var b *Bound
			if rest != "*" {
				b = &Bound{Text: rest, P: pos}
			}
			term.Kind = Range
			if text[0] == '>' {
				term.Lo, term.LoIncl = b, incl
			} else {
				term.Hi, term.HiIncl = b, incl
			}
			return term, nil
		}
		term.Kind, term.Text = Exact, text
	case lQuoted:
		text, err := discardEscape(t.raw[1 : len(t.raw)-1])
		if err != nil {
			return nil, query.Errorf(pos, "%v", err)
		}
		term.Kind, term.Text, term.Quoted = Exact, text, true
	case lStar:
		if f.name == "" {
			return &MatchAll{P: pos}, nil
		}
		term.Kind = Exists
	case lWild:
		term.Kind, term.Text = Wildcard, t.raw
	case lRegex:
		if f.name == "" {
			return nil, p.refuse(t, "regular expression without a field", "a regular expression on every field is not run")
		}
		term.Kind, term.Text = Regexp, t.raw[1:len(t.raw)-1]
	case lRange:
		if f.name == "" {
			return nil, p.refuse(t, "range without a field", "a range on every field depends on each field's type")
		}
		term.Kind, term.Lo, term.Hi, term.LoIncl, term.HiIncl = Range, t.lo, t.hi, t.loIncl, t.hiIncl
	}
	return term, nil
}

func kindName(k lkind) string {
	switch k {
	case lWild:
		return "wildcard"
	case lRegex:
		return "regular expression"
	case lRange:
		return "range"
	case lStar:
		return "*"
	}
	return "term"
}
