package kuery

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/firewarden/firewarden/query"
)

// The KQL parser follows Kibana's grammar (kbn-es-query's grammar.peggy)
// character by character, as its PEG does; there is no separate token
// stream because KQL's tokens depend on context: an unquoted value runs,
// spaces included, up to a special character ( \ ( ) : < > " * { } ) or a
// keyword (` or `, ` and `, `not `, any case; or and and need whitespace
// on both sides, not after it), and is then trimmed.
//
//	query     = OrQuery?
//	OrQuery   = AndQuery (" or " AndQuery)*
//	AndQuery  = NotQuery (" and " NotQuery)*
//	NotQuery  = "not " SubQuery | SubQuery
//	SubQuery  = "(" OrQuery ")" | Field ":" "{" OrQuery "}"
//	          | Field RangeOp Literal | Field ":" ListOfValues | Value
//	ListOfValues = "(" OrList ")" | Value   (OrList/AndList/NotList as above, over values)
//
// Every choice of the PEG that fails after consuming input leaves the
// whole query unparsable, so the parser commits as soon as it has seen the
// first character of an alternative and reports the error there.

type kqlParser struct {
	s     *source
	src   string
	i     int
	depth int
}

func parseKQL(s *source) (Node, error) {
	p := &kqlParser{s: s, src: s.text}
	p.i = p.spacesFrom(0)
	if p.i == len(p.src) {
		return &MatchAll{P: s.pos(0)}, nil
	}
	n, err := p.orQuery()
	if err != nil {
		return nil, err
	}
	p.i = p.spacesFrom(p.i)
	if p.i < len(p.src) {
		return nil, p.unexpected(`"and", "or" or the end of the query`)
	}
	return n, nil
}

// isKQLSpace is the grammar's Space: space, tab, CR, LF and no-break space.
func isKQLSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\r' || r == '\n' || r == '\u00a0'
}

func (p *kqlParser) spacesFrom(i int) int {
	for i < len(p.src) {
		r, n := utf8.DecodeRuneInString(p.src[i:])
		if !isKQLSpace(r) {
			break
		}
		i += n
	}
	return i
}

func hasFoldPrefix(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// binaryAt matches Space+ word Space+ at i (word is "or" or "and", any
// case) and returns where it ends.
func (p *kqlParser) binaryAt(i int, word string) (int, bool) {
	j := p.spacesFrom(i)
	if j == i || !hasFoldPrefix(p.src[j:], word) {
		return 0, false
	}
	k := j + len(word)
	m := p.spacesFrom(k)
	if m == k {
		return 0, false
	}
	return m, true
}

// notAt matches "not" (any case) followed by Space+ at i.
func (p *kqlParser) notAt(i int) (int, bool) {
	if !hasFoldPrefix(p.src[i:], "not") {
		return 0, false
	}
	k := i + 3
	m := p.spacesFrom(k)
	if m == k {
		return 0, false
	}
	return m, true
}

func (p *kqlParser) keywordAt(i int) bool {
	if _, ok := p.binaryAt(i, "or"); ok {
		return true
	}
	if _, ok := p.binaryAt(i, "and"); ok {
		return true
	}
	_, ok := p.notAt(i)
	return ok
}

func (p *kqlParser) describe(i int) string {
	if i >= len(p.src) {
		return "end of query"
	}
	r, _ := utf8.DecodeRuneInString(p.src[i:])
	return strconv.Quote(string(r))
}

func (p *kqlParser) unexpected(what string) error {
	return query.Errorf(p.s.pos(p.i), "expected %s, found %s", what, p.describe(p.i))
}

func (p *kqlParser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return query.Errorf(p.s.pos(p.i), "query nested more than %d levels deep", maxDepth)
	}
	return nil
}

func (p *kqlParser) leave() { p.depth-- }

// boolean reads item (word item)*, word being "or" or "and".
func (p *kqlParser) boolean(word string, item func() (Node, error)) (Node, error) {
	start := p.i
	x, err := item()
	if err != nil {
		return nil, err
	}
	xs := []Node{x}
	for {
		j, ok := p.binaryAt(p.i, word)
		if !ok {
			break
		}
		p.i = j
		y, err := item()
		if err != nil {
			return nil, err
		}
		xs = append(xs, y)
	}
	if len(xs) == 1 {
		return x, nil
	}
	return &Bool{Op: word, X: xs, P: p.s.pos(start)}, nil
}

func (p *kqlParser) orQuery() (Node, error)  { return p.boolean("or", p.andQuery) }
func (p *kqlParser) andQuery() (Node, error) { return p.boolean("and", p.notQuery) }

func (p *kqlParser) notQuery() (Node, error) {
	if j, ok := p.notAt(p.i); ok {
		pos := p.s.pos(p.i)
		p.i = j
		x, err := p.subQuery()
		if err != nil {
			return nil, err
		}
		return &Not{X: x, P: pos}, nil
	}
	return p.subQuery()
}

// group reads open OrQuery close, item reading what is inside.
func (p *kqlParser) group(close byte, item func() (Node, error)) (Node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	p.i = p.spacesFrom(p.i + 1)
	x, err := item()
	if err != nil {
		return nil, err
	}
	p.i = p.spacesFrom(p.i)
	if p.i >= len(p.src) || p.src[p.i] != close {
		return nil, p.unexpected(strconv.Quote(string(close)) + `, "and" or "or"`)
	}
	p.i++
	return x, nil
}

func (p *kqlParser) subQuery() (Node, error) {
	if p.i < len(p.src) && p.src[p.i] == '(' {
		return p.group(')', p.orQuery)
	}
	start := p.i
	f, err := p.literal("a field name, a value or \"(\"")
	if err != nil {
		return nil, err
	}
	afterField := p.i
	j := p.spacesFrom(p.i)
	if j < len(p.src) && p.src[j] == ':' {
		field, err := p.fieldName(f)
		if err != nil {
			return nil, err
		}
		k := p.spacesFrom(j + 1)
		if k < len(p.src) && p.src[k] == '{' {
			p.i = k
			x, err := p.group('}', p.orQuery)
			if err != nil {
				return nil, err
			}
			return &Nested{Path: field.name, X: x, P: p.s.pos(start)}, nil
		}
		p.i = k
		return p.listOfValues(field)
	}
	if op := rangeOpAt(p.src, j); op != "" {
		field, err := p.fieldName(f)
		if err != nil {
			return nil, err
		}
		p.i = p.spacesFrom(j + len(op))
		v, err := p.literal("a value after " + strconv.Quote(op))
		if err != nil {
			return nil, err
		}
		return p.rangeTerm(field, op, v)
	}
	p.i = afterField
	return p.valueTerm(kqlField{}, f)
}

func rangeOpAt(s string, i int) string {
	for _, op := range []string{"<=", ">=", "<", ">"} {
		if strings.HasPrefix(s[i:], op) {
			return op
		}
	}
	return ""
}

func (p *kqlParser) listOfValues(f kqlField) (Node, error) {
	if p.i < len(p.src) && p.src[p.i] == '(' {
		return p.group(')', func() (Node, error) { return p.orList(f) })
	}
	v, err := p.literal("a value or \"(\"")
	if err != nil {
		return nil, err
	}
	return p.valueTerm(f, v)
}

func (p *kqlParser) orList(f kqlField) (Node, error) {
	return p.boolean("or", func() (Node, error) { return p.andList(f) })
}

func (p *kqlParser) andList(f kqlField) (Node, error) {
	return p.boolean("and", func() (Node, error) { return p.notList(f) })
}

func (p *kqlParser) notList(f kqlField) (Node, error) {
	if j, ok := p.notAt(p.i); ok {
		pos := p.s.pos(p.i)
		p.i = j
		x, err := p.listOfValues(f)
		if err != nil {
			return nil, err
		}
		return &Not{X: x, P: pos}, nil
	}
	return p.listOfValues(f)
}

// piece is one character of an unquoted literal, or its wildcard.
type piece struct {
	r    rune
	wild bool
}

// kqlLit is a Literal: a quoted string or an unquoted run of characters.
type kqlLit struct {
	quoted bool
	text   string  // quoted: the value
	pieces []piece // unquoted: trimmed
	pos    query.Pos
}

func (l kqlLit) hasWild() bool {
	for _, pc := range l.pieces {
		if pc.wild {
			return true
		}
	}
	return false
}

// plain is an unquoted literal's text with its wildcards written as *.
func (l kqlLit) plain() string {
	if l.quoted {
		return l.text
	}
	var b strings.Builder
	for _, pc := range l.pieces {
		if pc.wild {
			b.WriteByte('*')
		} else {
			b.WriteRune(pc.r)
		}
	}
	return b.String()
}

// glob is an unquoted literal as an IR glob: * for its wildcards, every
// other character literal.
func (l kqlLit) glob() string {
	var b strings.Builder
	for _, pc := range l.pieces {
		switch {
		case pc.wild:
			b.WriteByte('*')
		case pc.r == '*' || pc.r == '?' || pc.r == '\\':
			b.WriteByte('\\')
			b.WriteRune(pc.r)
		default:
			b.WriteRune(pc.r)
		}
	}
	return b.String()
}

func isKQLSpecial(c byte) bool { return strings.IndexByte(`\():<>"*{}`, c) >= 0 }

// jsSpace is what JavaScript's String.prototype.trim removes.
func jsSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', '\u00a0', '\u1680', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000', '\ufeff':
		return true
	}
	return r >= '\u2000' && r <= '\u200a'
}

func (p *kqlParser) literal(what string) (kqlLit, error) {
	start := p.i
	l := kqlLit{pos: p.s.pos(start)}
	if p.i < len(p.src) && p.src[p.i] == '"' {
		s, err := p.quoted()
		if err != nil {
			return l, err
		}
		l.quoted, l.text = true, s
		return l, nil
	}
	var ps []piece
loop:
	for p.i < len(p.src) {
		if j := p.spacesFrom(p.i); j > p.i {
			// A run of spaces: "or" or "and" after it ends the literal
			// here; otherwise the whole run belongs to it.
			if p.keywordAt(p.i) {
				break
			}
			for _, r := range p.src[p.i:j] {
				ps = append(ps, piece{r: r})
			}
			p.i = j
			continue
		}
		if p.keywordAt(p.i) {
			break
		}
		c := p.src[p.i]
		switch {
		case c == '\\':
			r, n, err := p.unquotedEscape()
			if err != nil {
				return l, err
			}
			if n == 0 {
				break loop
			}
			for _, x := range r {
				ps = append(ps, piece{r: x})
			}
			p.i += n
		case c == '*':
			ps = append(ps, piece{wild: true})
			p.i++
		case isKQLSpecial(c):
			break loop
		default:
			r, n := utf8.DecodeRuneInString(p.src[p.i:])
			ps = append(ps, piece{r: r})
			p.i += n
		}
	}
	if len(ps) == 0 {
		return l, p.unexpected(what)
	}
	for len(ps) > 0 && !ps[0].wild && jsSpace(ps[0].r) {
		ps = ps[1:]
	}
	for len(ps) > 0 && !ps[len(ps)-1].wild && jsSpace(ps[len(ps)-1].r) {
		ps = ps[:len(ps)-1]
	}
	l.pieces = ps
	return l, nil
}

// unquotedEscape reads an escape at p.i in an unquoted literal: \t \r \n,
// a backslash before a special character, \uXXXX, or a backslash before
// or/and/not (any case). n is 0 when the backslash starts none of them:
// the literal ends there.
func (p *kqlParser) unquotedEscape() (string, int, error) {
	rest := p.src[p.i+1:]
	if rest == "" {
		return "", 0, nil
	}
	switch c := rest[0]; {
	case c == 't':
		return "\t", 2, nil
	case c == 'r':
		return "\r", 2, nil
	case c == 'n':
		return "\n", 2, nil
	case isKQLSpecial(c):
		return string(c), 2, nil
	}
	if r, n, ok, err := p.unicodeEscape(p.i); ok || err != nil {
		return string(r), n, err
	}
	for _, kw := range []string{"or", "and", "not"} {
		if hasFoldPrefix(rest, kw) {
			return rest[:len(kw)], 1 + len(kw), nil
		}
	}
	return "", 0, nil
}

// unicodeEscape reads \uXXXX at i (JavaScript's UTF-16 code units: a high
// surrogate must be followed by a \u low surrogate).
func (p *kqlParser) unicodeEscape(i int) (rune, int, bool, error) {
	unit := func(j int) (rune, bool) {
		if j+6 > len(p.src) || p.src[j] != '\\' || p.src[j+1] != 'u' {
			return 0, false
		}
		v, err := strconv.ParseUint(p.src[j+2:j+6], 16, 32)
		if err != nil || strings.ContainsAny(p.src[j+2:j+6], "+-_xX") {
			return 0, false
		}
		return rune(v), true
	}
	r, ok := unit(i)
	if !ok {
		return 0, 0, false, nil
	}
	switch {
	case r >= 0xD800 && r <= 0xDBFF:
		if lo, ok := unit(i + 6); ok && lo >= 0xDC00 && lo <= 0xDFFF {
			return (r-0xD800)<<10 + (lo - 0xDC00) + 0x10000, 12, true, nil
		}
		fallthrough
	case r >= 0xDC00 && r <= 0xDFFF:
		return 0, 0, true, query.Errorf(p.s.pos(i), `invalid escape \u%s: a lone UTF-16 surrogate`, p.src[i+2:i+6])
	}
	return r, 6, true, nil
}

// quoted reads "…": \t \r \n, \uXXXX, \\ and \" are escapes; any other
// backslash is itself.
func (p *kqlParser) quoted() (string, error) {
	start := p.i
	p.i++
	var b strings.Builder
	for {
		if p.i >= len(p.src) {
			return "", query.Errorf(p.s.pos(start), `unterminated quoted string, expected a closing '"'`)
		}
		c := p.src[p.i]
		if c == '"' {
			p.i++
			return b.String(), nil
		}
		if c == '\\' && p.i+1 < len(p.src) {
			switch p.src[p.i+1] {
			case 't':
				b.WriteByte('\t')
				p.i += 2
				continue
			case 'r':
				b.WriteByte('\r')
				p.i += 2
				continue
			case 'n':
				b.WriteByte('\n')
				p.i += 2
				continue
			}
			r, n, ok, err := p.unicodeEscape(p.i)
			if err != nil {
				return "", err
			}
			if ok {
				b.WriteRune(r)
				p.i += n
				continue
			}
			if d := p.src[p.i+1]; d == '\\' || d == '"' {
				b.WriteByte(d)
				p.i += 2
				continue
			}
		}
		r, n := utf8.DecodeRuneInString(p.src[p.i:])
		b.WriteRune(r)
		p.i += n
	}
}

// kqlField is a field name; none means the value searches every field.
type kqlField struct {
	name string
	pos  query.Pos
	none bool
	all  bool // *: every field
}

func (p *kqlParser) fieldName(l kqlLit) (kqlField, error) {
	f := kqlField{name: l.plain(), pos: l.pos}
	if l.quoted {
		return f, nil
	}
	if f.name == "null" {
		// Kibana reads an unquoted null as the null literal, and a field
		// named null as no field at all.
		return kqlField{none: true}, nil
	}
	if l.hasWild() {
		if f.name == "*" {
			f.all = true
			return f, nil
		}
		return f, &query.Unsupported{Pos: l.pos, Construct: "wildcard field name " + f.name, Why: "Kibana expands it over the data view's fields, which firewarden does not have"}
	}
	return f, nil
}

// valueTerm is field:value (or a value with no field).
func (p *kqlParser) valueTerm(f kqlField, v kqlLit) (Node, error) {
	t := &Term{Field: f.name, FieldPos: f.pos, P: v.pos}
	if f.none || f.name == "" && !f.all {
		t.Field, t.FieldPos = "", query.Pos{}
	}
	if v.quoted {
		t.Kind, t.Text, t.Quoted = Exact, v.text, true
		if f.all {
			return nil, &query.Unsupported{Pos: f.pos, Construct: "*:value", Why: "a value on every field is written without a field"}
		}
		return t, nil
	}
	text := v.plain()
	if !v.hasWild() {
		if text == "null" {
			return nil, &query.Unsupported{Pos: v.pos, Construct: "unquoted null value", Why: `Kibana sends a match query on null, which Elasticsearch rejects; quote it to search the text "null"`}
		}
		if f.all {
			return nil, &query.Unsupported{Pos: f.pos, Construct: "*:value", Why: "a value on every field is written without a field"}
		}
		t.Kind, t.Text = Exact, text
		return t, nil
	}
	if text == "*" {
		if t.Field == "" || f.all {
			return &MatchAll{P: v.pos}, nil // *:* and a lone * match everything
		}
		t.Kind = Exists
		return t, nil
	}
	if f.all {
		return nil, &query.Unsupported{Pos: f.pos, Construct: "*:value", Why: "a value on every field is written without a field"}
	}
	if words := splitWords(v.pieces); len(words) > 1 {
		return p.wildcardWords(t, v, words)
	}
	t.Kind, t.Text = Wildcard, v.glob()
	return t, nil
}

// isQueryStringSpace is Lucene's whitespace, which separates terms.
func isQueryStringSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\u3000'
}

func splitWords(ps []piece) [][]piece {
	var words [][]piece
	var cur []piece
	for _, pc := range ps {
		if !pc.wild && isQueryStringSpace(pc.r) {
			if len(cur) > 0 {
				words = append(words, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, pc)
	}
	if len(cur) > 0 {
		words = append(words, cur)
	}
	return words
}

// wildcardWords is an unquoted wildcard value with whitespace inside, as
// Elasticsearch reads it: Kibana sends a wildcard value as a query_string
// query with its reserved characters escaped but not its whitespace, so
// query_string splits it into terms ORed together (* curl* is "any value,
// or a value starting with curl"). Two adjacent words without a wildcard
// would be analysed together, and a plain word starting with > or < would
// be a range; both are refused.
func (p *kqlParser) wildcardWords(t *Term, v kqlLit, words [][]piece) (Node, error) {
	or := &Bool{Op: "or", P: v.pos}
	prevPlain := false
	for _, w := range words {
		l := kqlLit{pieces: w, pos: v.pos}
		text := l.plain()
		x := &Term{Field: t.Field, FieldPos: t.FieldPos, P: v.pos}
		switch {
		case text == "*":
			x.Kind = Exists
		case l.hasWild():
			x.Kind, x.Text = Wildcard, l.glob()
		case prevPlain:
			return nil, &query.Unsupported{Pos: v.pos, Construct: "unquoted wildcard value with adjacent plain words " + strconv.Quote(v.plain()),
				Why: "Kibana passes it to query_string, which analyses the adjacent words together; quote the words or separate them with or"}
		case text == "AND" || text == "OR" || text == "NOT" || text[0] == '>' || text[0] == '<':
			return nil, &query.Unsupported{Pos: v.pos, Construct: "unquoted wildcard value with the word " + strconv.Quote(text),
				Why: "Kibana passes it to query_string, which reads the word as an operator or a range"}
		default:
			x.Kind, x.Text = Exact, text
		}
		prevPlain = !l.hasWild()
		or.X = append(or.X, x)
	}
	return or, nil
}

func (p *kqlParser) rangeTerm(f kqlField, op string, v kqlLit) (Node, error) {
	if f.none || f.all {
		return nil, query.Errorf(v.pos, "a range needs a field")
	}
	if !v.quoted && v.hasWild() {
		return nil, &query.Unsupported{Pos: v.pos, Construct: "wildcard in a range " + strconv.Quote(v.plain())}
	}
	if !v.quoted && v.plain() == "null" {
		return nil, &query.Unsupported{Pos: v.pos, Construct: "range on null"}
	}
	b := &Bound{Text: v.plain(), Quoted: v.quoted, P: v.pos}
	t := &Term{Field: f.name, FieldPos: f.pos, Kind: Range, P: f.pos}
	switch op {
	case "<", "<=":
		t.Hi, t.HiIncl = b, op == "<="
	default:
		t.Lo, t.LoIncl = b, op == ">="
	}
	return t, nil
}
