package eql

import (
	"errors"
	"strconv"

	"github.com/firewarden/firewarden/query"
)

// Parse reads one EQL query. base is where src starts in its file: an
// error on the first line of src at column c is reported at base.Line,
// base.Col+c-1, one on a later line n at base.Line+n-1, column c (columns
// count characters). A zero base means line 1, column 1 of an unnamed
// file. Errors are *query.Error; the first one stops the parse.
//
// The grammar is Elasticsearch's EqlBase.g4, recursive descent, with the
// precedence (low to high): or; and; not; comparisons and the predicates
// (== != < <= > >= : like like~ regex regex~ in in~ not in not in~); + -;
// * / %; unary - +. Elasticsearch's grammar binds a predicate (in, :,
// like, regex) to the primary just before it, so `a + b in (1)` there is
// a + (b in (1)); here the predicates sit with the comparisons and take
// an arithmetic left side, as Python eql reads them. The two readings
// differ only for queries that then fail Elasticsearch's type checks.
//
// Python eql's constructs (join, descendant/child/event of, 'single' and
// ?"raw" strings, !:, =, array indexes, pipes other than head and tail)
// are parsed so that the compiler can refuse them by name. The one
// construct refused here, as a *query.Unsupported, is early
// Elasticsearch's `fork` step option.
func Parse(src string, base query.Pos) (*Query, error) {
	p := &parser{sc: newScanner(src, base)}
	p.fill(1)
	q, err := p.query()
	if err != nil {
		return nil, err
	}
	return q, nil
}

// maxDepth bounds nesting (parentheses, not, unary minus, relationship
// brackets) so that hostile input cannot exhaust the stack.
const maxDepth = 1000

type parser struct {
	sc *scanner
	// buf holds the current token and any looked-ahead ones. A scan error
	// becomes a tInvalidToken carrying it, reported only if the parser
	// reaches it, so errors come out in source order.
	buf   []token
	errs  []error // errs[i] belongs to buf[i] when buf[i] is tInvalidToken
	done  bool    // the scanner hit EOF or an error; keep repeating that token
	depth int
}

func (p *parser) fill(n int) {
	for len(p.buf) < n {
		if p.done {
			p.buf = append(p.buf, p.buf[len(p.buf)-1])
			p.errs = append(p.errs, p.errs[len(p.errs)-1])
			continue
		}
		t, err := p.sc.next()
		if err != nil {
			var qe *query.Error
			pos := p.sc.here()
			if errors.As(err, &qe) {
				pos = qe.Pos
			}
			t = token{Kind: tInvalidToken, Pos: pos}
		}
		if t.Kind == tEOF || t.Kind == tInvalidToken {
			p.done = true
		}
		p.buf = append(p.buf, t)
		p.errs = append(p.errs, err)
	}
}

func (p *parser) tok() token { return p.buf[0] }

// peek returns the token n places after the current one.
func (p *parser) peek(n int) token {
	p.fill(n + 1)
	return p.buf[n]
}

func (p *parser) next() {
	p.buf = p.buf[1:]
	p.errs = p.errs[1:]
	p.fill(1)
}

func (p *parser) is(kind tokKind, text string) bool {
	t := p.tok()
	return t.Kind == kind && t.Text == text
}

func (p *parser) isOp(text string) bool      { return p.is(tOp, text) }
func (p *parser) isKeyword(text string) bool { return p.is(tKeyword, text) }

// unexpected reports the current token: "expected what, found it". At a
// token the scanner could not read, its own error is reported instead.
func (p *parser) unexpected(what string) error {
	t := p.tok()
	if t.Kind == tInvalidToken {
		return p.errs[0]
	}
	return query.Errorf(t.Pos, "expected %s, found %s", what, t.describe())
}

func (p *parser) expectOp(text, what string) (query.Pos, error) {
	if !p.isOp(text) {
		return query.Pos{}, p.unexpected(what)
	}
	pos := p.tok().Pos
	p.next()
	return pos, nil
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return query.Errorf(p.tok().Pos, "query nested more than %d levels deep", maxDepth)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

func (p *parser) query() (*Query, error) {
	q := &Query{Pos: p.tok().Pos}
	var err error
	switch {
	case p.isKeyword("sequence"):
		q.Kind = SequenceKind
		err = p.sequence(q)
	case p.isKeyword("sample"):
		q.Kind = SampleKind
		err = p.sample(q)
	case p.isKeyword("join"):
		q.Kind = JoinKind
		err = p.join(q)
	default:
		q.Kind = EventKind
		q.Event, err = p.eventQuery()
	}
	if err != nil {
		return nil, err
	}
	for p.isOp("|") {
		pipe, err := p.pipe()
		if err != nil {
			return nil, err
		}
		q.Pipes = append(q.Pipes, pipe)
	}
	if p.tok().Kind != tEOF {
		if q.Kind == EventKind && len(q.Pipes) == 0 {
			return nil, p.unexpected(`an operator, "|" or end of query`)
		}
		return nil, p.unexpected(`"|" or end of query`)
	}
	return q, nil
}

// eventQuery reads `category where condition`; the category is a name,
// any, or a string.
func (p *parser) eventQuery() (*EventQuery, error) {
	t := p.tok()
	e := &EventQuery{Pos: t.Pos, CategoryPos: t.Pos}
	switch {
	case t.Kind == tKeyword && t.Text == "any", t.Kind == tIdent:
		e.Category = t.Text
	case t.Kind == tString:
		e.Category, e.CategoryQuote = t.Text, t.Quote
	default:
		return nil, p.unexpected(`an event category (a name, "any" or a string) or "sequence", "sample" or "join"`)
	}
	p.next()
	if !p.isKeyword("where") {
		return nil, p.unexpected(`"where" after the event category`)
	}
	p.next()
	w, err := p.expr()
	if err != nil {
		return nil, err
	}
	e.Where = w
	return e, nil
}

// sequence reads `sequence [by keys] [with maxspan=N unit] step step...
// [until step]`. Elasticsearch's grammar also reads the with before the
// by (and then refuses it); both orders are accepted here.
func (p *parser) sequence(q *Query) error {
	p.next()
	for {
		switch {
		case p.isKeyword("by") && q.By == nil:
			by, err := p.keys()
			if err != nil {
				return err
			}
			q.By = by
			continue
		case p.isKeyword("with") && q.MaxSpan == nil:
			p.next()
			if !p.isKeyword("maxspan") {
				return p.unexpected(`"maxspan" after "with"`)
			}
			p.next()
			if _, err := p.expectOp("=", `"=" after "maxspan"`); err != nil {
				return err
			}
			d, err := p.duration()
			if err != nil {
				return err
			}
			q.MaxSpan = d
			continue
		}
		break
	}
	if err := p.steps(q, "sequence"); err != nil {
		return err
	}
	return p.until(q, "sequence")
}

// sample reads `sample [by keys] step step...`.
func (p *parser) sample(q *Query) error {
	p.next()
	if p.isKeyword("by") {
		by, err := p.keys()
		if err != nil {
			return err
		}
		q.By = by
	}
	return p.steps(q, "sample")
}

// join reads Python eql's `join [by keys] step step... [until step]`.
func (p *parser) join(q *Query) error {
	p.next()
	if p.isKeyword("by") {
		by, err := p.keys()
		if err != nil {
			return err
		}
		q.By = by
	}
	if err := p.steps(q, "join"); err != nil {
		return err
	}
	return p.until(q, "join")
}

// atStep reports whether a step starts here: `[`, `![`, or the `-[` of
// the older missing-event syntax that the conformance suite still uses.
func (p *parser) atStep() bool {
	t := p.tok()
	return t.Kind == tMissingOpen || t.Kind == tOp && t.Text == "[" ||
		t.Kind == tOp && t.Text == "-" && p.peek(1).Kind == tOp && p.peek(1).Text == "["
}

// missingStepNext reports whether the current "-" starts a `-[` step
// rather than a subtraction: after `by k` a step may follow directly.
func (p *parser) missingStepNext() bool {
	n := p.peek(1)
	return n.Kind == tOp && n.Text == "["
}

// steps reads the bracketed steps. Every kind needs at least two, where
// a step `with runs=N` counts N times, as Elasticsearch counts them (a
// sequence of one step with runs=5 is five steps).
func (p *parser) steps(q *Query, kind string) error {
	n := 0
	for p.atStep() {
		s, err := p.step(kind)
		if err != nil {
			return err
		}
		q.Steps = append(q.Steps, s)
		n += max(s.Runs, 1)
	}
	switch {
	case len(q.Steps) == 0:
		return p.unexpected(`"[" to start the first ` + kind + " step")
	case n < 2:
		return p.unexpected(`"[" to start the second ` + kind + " step (a " + kind + " has at least two)")
	}
	return nil
}

func (p *parser) until(q *Query, kind string) error {
	if !p.isKeyword("until") {
		return nil
	}
	p.next()
	if !p.atStep() {
		return p.unexpected(`"[" to start the until step`)
	}
	s, err := p.step("until")
	if err != nil {
		return err
	}
	q.Until = s
	return nil
}

// step reads `[query] [by keys] [with runs=N]`, or a missing-event step
// `![query]` (also `-[query]`).
func (p *parser) step(kind string) (*Step, error) {
	s := &Step{Pos: p.tok().Pos}
	switch {
	case p.tok().Kind == tMissingOpen:
		s.Missing = true
		p.next()
	case p.isOp("-"):
		s.Missing = true
		p.next()
		p.next() // the [ that atStep saw
	default:
		p.next()
	}
	if err := p.enter(); err != nil {
		return nil, err
	}
	e, err := p.eventQuery()
	p.leave()
	if err != nil {
		return nil, err
	}
	s.Query = e
	if _, err := p.expectOp("]", `"]" to close the `+kind+" step"); err != nil {
		return nil, err
	}
	if p.is(tIdent, "fork") {
		// Elasticsearch's early grammar had `[q] fork[=bool]` and later
		// dropped it; Python eql never had it. Refuse it by name here
		// rather than carry an option nothing downstream honours.
		return nil, &query.Unsupported{Pos: p.tok().Pos, Construct: "fork", Why: "a step option of early Elasticsearch EQL that current Elasticsearch does not have"}
	}
	if p.isKeyword("by") {
		by, err := p.keys()
		if err != nil {
			return nil, err
		}
		s.By = by
	}
	if p.isKeyword("with") {
		p.next()
		if !p.is(tIdent, "runs") {
			return nil, p.unexpected(`"runs" after "with"`)
		}
		p.next()
		if _, err := p.expectOp("=", `"=" after "runs"`); err != nil {
			return nil, err
		}
		t := p.tok()
		if t.Kind != tInt {
			return nil, p.unexpected("the number of runs")
		}
		n, err := strconv.Atoi(t.Text)
		if err != nil || n < 1 {
			return nil, query.Errorf(t.Pos, "runs=%s is out of range, expected a positive integer", t.Text)
		}
		s.Runs, s.RunsPos = n, t.Pos
		p.next()
	}
	return s, nil
}

// keys reads `by expr, expr...`.
func (p *parser) keys() ([]Expr, error) {
	p.next()
	var keys []Expr
	for {
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		keys = append(keys, x)
		if !p.isOp(",") {
			return keys, nil
		}
		p.next()
	}
}

// duration reads a time span: an integer and an optional unit name,
// together (10s) or apart (10 s). Elasticsearch refuses decimals.
func (p *parser) duration() (*Duration, error) {
	t := p.tok()
	switch t.Kind {
	case tInt:
	case tFloat:
		return nil, query.Errorf(t.Pos, "decimal time span %s is not supported, expected an integer such as 10s", t.Text)
	default:
		return nil, p.unexpected("a time span such as 10s, 5m or 500ms")
	}
	v, err := strconv.ParseInt(t.Text, 10, 64)
	if err != nil {
		return nil, query.Errorf(t.Pos, "time span %s is out of range", t.Text)
	}
	d := &Duration{Value: v, Pos: t.Pos}
	p.next()
	if p.tok().Kind == tIdent {
		d.Unit = p.tok().Text
		p.next()
	}
	return d, nil
}

// pipe reads `| name args...`. Arguments are expressions separated by
// commas, or (as Python eql allows for sort and unique) by spaces.
func (p *parser) pipe() (*Pipe, error) {
	pipe := &Pipe{Pos: p.tok().Pos}
	p.next()
	t := p.tok()
	if t.Kind != tIdent {
		return nil, p.unexpected(`a pipe name such as "head" or "tail" after "|"`)
	}
	pipe.Name, pipe.NamePos = t.Text, t.Pos
	p.next()
	for p.tok().Kind != tEOF && !p.isOp("|") {
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		pipe.Args = append(pipe.Args, x)
		if p.isOp(",") {
			p.next()
			if p.tok().Kind == tEOF || p.isOp("|") {
				return nil, p.unexpected("another argument after \",\"")
			}
		}
	}
	return pipe, nil
}

func (p *parser) expr() (Expr, error) { return p.or() }

func (p *parser) or() (Expr, error) {
	x, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("or") {
		pos := p.tok().Pos
		p.next()
		y, err := p.and()
		if err != nil {
			return nil, err
		}
		x = &Binary{Op: "or", X: x, Y: y, At: pos}
	}
	return x, nil
}

func (p *parser) and() (Expr, error) {
	x, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("and") {
		pos := p.tok().Pos
		p.next()
		y, err := p.not()
		if err != nil {
			return nil, err
		}
		x = &Binary{Op: "and", X: x, Y: y, At: pos}
	}
	return x, nil
}

// relationships are Python eql's lineage tests, `kind of [query]`.
var relationships = map[string]bool{"descendant": true, "child": true, "event": true}

func (p *parser) not() (Expr, error) {
	t := p.tok()
	if t.Kind == tKeyword && t.Text == "not" {
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
		p.next()
		x, err := p.not()
		if err != nil {
			return nil, err
		}
		return &Unary{Op: "not", X: x, At: t.Pos}, nil
	}
	if t.Kind == tIdent && p.peek(1).Kind == tKeyword && p.peek(1).Text == "of" {
		return p.relationship()
	}
	return p.comparison()
}

func (p *parser) relationship() (Expr, error) {
	t := p.tok()
	if !relationships[t.Text] {
		return nil, query.Errorf(t.Pos, `unknown relationship "%s of", expected "descendant of", "child of" or "event of"`, t.Text)
	}
	p.next() // the name
	p.next() // of
	if _, err := p.expectOp("[", `"[" after "`+t.Text+` of"`); err != nil {
		return nil, err
	}
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	e, err := p.eventQuery()
	if err != nil {
		return nil, err
	}
	if _, err := p.expectOp("]", `"]" to close the `+t.Text+" of query"); err != nil {
		return nil, err
	}
	return &Relationship{Kind: t.Text, Query: e, At: t.Pos}, nil
}

// comparisonOps include "=", which Elasticsearch 7.x (EQ: '=' | '==') and
// Python eql read as "=="; later Elasticsearch refuses it. It is kept as
// written so that the compiler decides.
var comparisonOps = map[string]bool{"=": true, "==": true, "!=": true, "<": true, "<=": true, ">": true, ">=": true}

// patternOps take one pattern or a parenthesised list; !: is the old
// Elasticsearch / Python form of "not :".
var patternOps = map[string]bool{":": true, "!:": true, "like": true, "like~": true, "regex": true, "regex~": true}

// comparison reads an arithmetic operand and at most one comparison or
// predicate after it: comparisons do not chain.
func (p *parser) comparison() (Expr, error) {
	x, err := p.additive()
	if err != nil {
		return nil, err
	}
	t := p.tok()
	switch {
	case t.Kind == tOp && comparisonOps[t.Text]:
		p.next()
		y, err := p.additive()
		if err != nil {
			return nil, err
		}
		return &Binary{Op: t.Text, X: x, Y: y, At: t.Pos}, nil
	case (t.Kind == tOp || t.Kind == tKeyword) && patternOps[t.Text]:
		p.next()
		if p.isOp("(") {
			list, err := p.list(t.Text)
			if err != nil {
				return nil, err
			}
			return &Match{X: x, Op: t.Text, Patterns: list, At: t.Pos}, nil
		}
		y, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &Binary{Op: t.Text, X: x, Y: y, At: t.Pos}, nil
	case t.Kind == tKeyword && (t.Text == "in" || t.Text == "in~"):
		p.next()
		return p.in(x, t, false)
	case t.Kind == tKeyword && t.Text == "not":
		n := p.peek(1)
		if n.Kind != tKeyword || n.Text != "in" && n.Text != "in~" {
			p.next()
			return nil, p.unexpected(`"in" or "in~" after "not"`)
		}
		p.next()
		p.next()
		return p.in(x, n, true)
	}
	return x, nil
}

func (p *parser) in(x Expr, op token, not bool) (Expr, error) {
	in := &In{X: x, Not: not, Fold: op.Text == "in~", At: op.Pos}
	if !p.isOp("(") {
		return nil, p.unexpected(`"(" to start the list after "` + op.Text + `"`)
	}
	list, err := p.list(op.Text)
	if err != nil {
		return nil, err
	}
	in.List = list
	return in, nil
}

// list reads `(expr, expr...)`, at least one element.
func (p *parser) list(op string) ([]Expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	p.next() // (
	var xs []Expr
	for {
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		xs = append(xs, x)
		if p.isOp(",") {
			p.next()
			continue
		}
		if _, err := p.expectOp(")", `"," or ")" to close the list of "`+op+`"`); err != nil {
			return nil, err
		}
		return xs, nil
	}
}

func (p *parser) additive() (Expr, error) {
	x, err := p.multiplicative()
	if err != nil {
		return nil, err
	}
	for p.isOp("+") || p.isOp("-") && !p.missingStepNext() {
		t := p.tok()
		p.next()
		y, err := p.multiplicative()
		if err != nil {
			return nil, err
		}
		x = &Binary{Op: t.Text, X: x, Y: y, At: t.Pos}
	}
	return x, nil
}

func (p *parser) multiplicative() (Expr, error) {
	x, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.isOp("*") || p.isOp("/") || p.isOp("%") {
		t := p.tok()
		p.next()
		y, err := p.unary()
		if err != nil {
			return nil, err
		}
		x = &Binary{Op: t.Text, X: x, Y: y, At: t.Pos}
	}
	return x, nil
}

func (p *parser) unary() (Expr, error) {
	t := p.tok()
	if t.Kind == tOp && (t.Text == "-" || t.Text == "+") {
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
		p.next()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &Unary{Op: t.Text, X: x, At: t.Pos}, nil
	}
	return p.primary()
}

func (p *parser) primary() (Expr, error) {
	t := p.tok()
	switch t.Kind {
	case tOp:
		if t.Text == "(" {
			if err := p.enter(); err != nil {
				return nil, err
			}
			defer p.leave()
			p.next()
			x, err := p.expr()
			if err != nil {
				return nil, err
			}
			if _, err := p.expectOp(")", `")" to close the parenthesis`); err != nil {
				return nil, err
			}
			return x, nil
		}
	case tInt:
		v, err := strconv.ParseInt(t.Text, 10, 64)
		if err != nil {
			return nil, query.Errorf(t.Pos, "integer %s is out of range, expected at most %d", t.Text, int64(1<<63-1))
		}
		p.next()
		return &Literal{Kind: IntLit, Int: v, At: t.Pos}, nil
	case tFloat:
		v, err := strconv.ParseFloat(t.Text, 64)
		if err != nil {
			return nil, query.Errorf(t.Pos, "decimal %s is out of range", t.Text)
		}
		p.next()
		return &Literal{Kind: FloatLit, Float: v, At: t.Pos}, nil
	case tString:
		p.next()
		return &Literal{Kind: StringLit, Str: t.Text, Quote: t.Quote, At: t.Pos}, nil
	case tKeyword:
		switch t.Text {
		case "true", "false":
			p.next()
			return &Literal{Kind: BoolLit, Bool: t.Text == "true", At: t.Pos}, nil
		case "null":
			p.next()
			return &Literal{Kind: NullLit, At: t.Pos}, nil
		}
	case tTildeIdent:
		if n := p.peek(1); n.Kind != tOp || n.Text != "(" {
			p.next()
			return nil, p.unexpected(`"(" after the function name "` + t.Text + `~"`)
		}
		return p.call(true)
	case tIdent:
		if n := p.peek(1); n.Kind == tOp && n.Text == "(" {
			return p.call(false)
		}
		return p.field()
	case tQuotedIdent, tOptional:
		return p.field()
	}
	return nil, p.unexpected("an expression")
}

func (p *parser) call(fold bool) (Expr, error) {
	t := p.tok()
	c := &Call{Name: t.Text, Fold: fold, At: t.Pos}
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	p.next() // name
	p.next() // (
	if p.isOp(")") {
		p.next()
		return c, nil
	}
	for {
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		c.Args = append(c.Args, x)
		if p.isOp(",") {
			p.next()
			continue
		}
		if _, err := p.expectOp(")", `"," or ")" to close the arguments of `+t.Text+"()"); err != nil {
			return nil, err
		}
		return c, nil
	}
}

// field reads [?]name(.name | [N])*, where a name is an identifier or
// `backtick quoted`. A [ is an index only when an integer follows, so
// that `by user [process where …]` still reads as a key and a step.
func (p *parser) field() (Expr, error) {
	t := p.tok()
	f := &FieldRef{At: t.Pos}
	if t.Kind == tOptional {
		f.Optional = true
		p.next()
	}
	if err := p.fieldPart(f, `a field name after "?"`); err != nil {
		return nil, err
	}
	for {
		switch {
		case p.isOp("."):
			p.next()
			if err := p.fieldPart(f, `a field name after "."`); err != nil {
				return nil, err
			}
		case p.isOp("[") && p.peek(1).Kind == tInt:
			p.next()
			n := p.tok()
			v, err := strconv.Atoi(n.Text)
			if err != nil {
				return nil, query.Errorf(n.Pos, "array index %s is out of range", n.Text)
			}
			p.next()
			if _, err := p.expectOp("]", `"]" to close the array index`); err != nil {
				return nil, err
			}
			f.Index = append(f.Index, v)
			f.IndexAt = append(f.IndexAt, len(f.Parts))
		default:
			f.Path = joinParts(f.Parts)
			return f, nil
		}
	}
}

func (p *parser) fieldPart(f *FieldRef, what string) error {
	t := p.tok()
	if t.Kind != tIdent && t.Kind != tQuotedIdent {
		return p.unexpected(what)
	}
	f.Parts = append(f.Parts, t.Text)
	f.Quoted = append(f.Quoted, t.Kind == tQuotedIdent)
	p.next()
	return nil
}

func joinParts(parts []string) string {
	n := 0
	for _, s := range parts {
		n += len(s) + 1
	}
	b := make([]byte, 0, n)
	for i, s := range parts {
		if i > 0 {
			b = append(b, '.')
		}
		b = append(b, s...)
	}
	return string(b)
}
