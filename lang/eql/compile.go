package eql

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/query"
)

// CategoryField is the field an EQL event category tests (Elasticsearch's
// event_category_field default).
const CategoryField = "event.category"

// Compile parses and compiles an EQL query.
func Compile(src string, opts Options) (*query.Query, error) {
	q, err := Parse(src, opts.Base)
	if err != nil {
		return nil, err
	}
	c := &compiler{fold: opts.CaseInsensitive}
	return c.query(q)
}

type compiler struct {
	fold bool // Elasticsearch 7.10's case-insensitive request mode
}

func unsupported(p query.Pos, construct, why string) error {
	return &query.Unsupported{Pos: p, Construct: construct, Why: why}
}

func (c *compiler) query(q *Query) (*query.Query, error) {
	out := &query.Query{}
	switch q.Kind {
	case EventKind:
		scope, key := c.category(q.Event)
		out.Scope, out.ScopeKey = scope, key
		w, err := c.pred(q.Event.Where)
		if err != nil {
			return nil, err
		}
		out.Stages = append(out.Stages, query.Filter{Expr: w})
	case SequenceKind:
		seq := query.Sequence{}
		by, err := c.values(q.By)
		if err != nil {
			return nil, err
		}
		seq.By = by
		if q.MaxSpan != nil {
			d, err := duration(q.MaxSpan)
			if err != nil {
				return nil, err
			}
			seq.MaxSpan = d
		}
		for _, st := range q.Steps {
			s, err := c.step(st)
			if err != nil {
				return nil, err
			}
			seq.Steps = append(seq.Steps, s)
		}
		if q.Until != nil {
			u, err := c.step(q.Until)
			if err != nil {
				return nil, err
			}
			seq.Until, seq.UntilBy = u.Filter, u.By
		}
		n := 0
		for _, st := range seq.Steps {
			n += max(st.Runs, 1)
		}
		if n < 2 {
			return nil, query.Errorf(q.Pos, "a sequence needs at least two steps (a step with runs=N counts N times)")
		}
		out.Stages = append(out.Stages, seq)
	case SampleKind:
		s := query.Sample{}
		by, err := c.values(q.By)
		if err != nil {
			return nil, err
		}
		s.By = by
		for _, st := range q.Steps {
			if st.Missing || st.Runs > 1 {
				return nil, query.Errorf(st.Pos, "a sample step cannot be missing or repeated")
			}
			x, err := c.step(st)
			if err != nil {
				return nil, err
			}
			s.Steps = append(s.Steps, x)
		}
		out.Stages = append(out.Stages, s)
	case JoinKind:
		return nil, unsupported(q.Pos, "join", "Elasticsearch's EQL does not run join")
	default:
		return nil, query.Errorf(q.Pos, "unknown query kind")
	}
	for _, p := range q.Pipes {
		st, err := c.pipe(p)
		if err != nil {
			return nil, err
		}
		out.Stages = append(out.Stages, st)
	}
	return out, nil
}

// category filters on the event category; "any" is every event.
func (c *compiler) category(eq *EventQuery) (query.Expr, string) {
	if eq.Category == "any" {
		return nil, ""
	}
	return query.Match{Field: query.Field{Path: CategoryField}, Op: query.Equal, Values: []string{eq.Category}}, "eql:category:" + eq.Category
}

func (c *compiler) step(st *Step) (query.Step, error) {
	w, err := c.pred(st.Query.Where)
	if err != nil {
		return query.Step{}, err
	}
	if cat, _ := c.category(st.Query); cat != nil {
		w = query.And{X: []query.Expr{cat, w}}
	}
	by, err := c.values(st.By)
	if err != nil {
		return query.Step{}, err
	}
	return query.Step{Filter: w, By: by, Missing: st.Missing, Runs: st.Runs, Pos: st.Pos}, nil
}

func (c *compiler) pipe(p *Pipe) (query.Stage, error) {
	switch strings.ToLower(p.Name) {
	case "head", "tail":
		if len(p.Args) != 1 {
			return nil, query.Errorf(p.Pos, "%s takes one number, the count of results", p.Name)
		}
		l, ok := p.Args[0].(*Literal)
		if !ok || l.Kind != IntLit || l.Int < 0 {
			return nil, query.Errorf(p.Pos, "%s takes a non-negative integer", p.Name)
		}
		return query.Limit{N: int(l.Int), Tail: p.Name == "tail"}, nil
	}
	return nil, unsupported(p.Pos, "pipe "+p.Name, "Elasticsearch's EQL has only head and tail")
}

func duration(d *Duration) (time.Duration, error) {
	var unit time.Duration
	switch d.Unit {
	case "ms":
		unit = time.Millisecond
	case "s":
		unit = time.Second
	case "m":
		unit = time.Minute
	case "h":
		unit = time.Hour
	case "d":
		unit = 24 * time.Hour
	default:
		return 0, query.Errorf(d.Pos, "unknown time unit %q, expected ms, s, m, h or d", d.Unit)
	}
	if d.Value <= 0 {
		return 0, query.Errorf(d.Pos, "maxspan must be positive")
	}
	return time.Duration(d.Value) * unit, nil
}

func (c *compiler) values(xs []Expr) ([]query.Expr, error) {
	var out []query.Expr
	for _, x := range xs {
		v, err := c.value(x)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// pred lowers a condition. Elasticsearch turns field-versus-constant tests
// into Lucene queries and the rest into scripts; at each leaf a missing or
// null value makes the test false, and `not` is Lucene's must_not, true
// where the inner test is false, missing fields included.
func (c *compiler) pred(x Expr) (query.Expr, error) {
	switch x := x.(type) {
	case *Binary:
		switch x.Op {
		case "and", "or":
			l, err := c.pred(x.X)
			if err != nil {
				return nil, err
			}
			r, err := c.pred(x.Y)
			if err != nil {
				return nil, err
			}
			if x.Op == "and" {
				return flatAnd(l, r), nil
			}
			return flatOr(l, r), nil
		case "==", "!=", "<", "<=", ">", ">=", "=":
			return c.comparison(x)
		case ":", "!:":
			return c.insensitiveEquals(x.Pos(), x.X, x.Y, x.Op == "!:")
		case "like", "like~", "regex", "regex~":
			return c.match(x.Pos(), x.X, x.Op, []Expr{x.Y})
		}
		if _, ok := arith[x.Op]; !ok {
			return nil, query.Errorf(x.Pos(), "unknown operator %q", x.Op)
		}
		// Arithmetic used as a condition: true only when it is the boolean true.
		v, err := c.value(x)
		if err != nil {
			return nil, err
		}
		return query.Truthy{X: v}, nil
	case *Match:
		if (x.Op == ":" || x.Op == "!:") && len(x.Patterns) == 1 {
			// x : (expr) is Elasticsearch 7.10's comparison form.
			return c.insensitiveEquals(x.Pos(), x.X, x.Patterns[0], x.Op == "!:")
		}
		if x.Op == "!:" {
			m, err := c.match(x.Pos(), x.X, ":", x.Patterns)
			if err != nil {
				return nil, err
			}
			return query.Not{X: m}, nil
		}
		return c.match(x.Pos(), x.X, x.Op, x.Patterns)
	case *In:
		p, err := c.in(x)
		if err != nil {
			return nil, err
		}
		if x.Not {
			return query.Not{X: p}, nil
		}
		return p, nil
	case *Unary:
		if x.Op == "not" {
			p, err := c.pred(x.X)
			if err != nil {
				return nil, err
			}
			return query.Not{X: p}, nil
		}
	case *Literal:
		switch x.Kind {
		case BoolLit:
			return query.Const{V: x.Bool}, nil
		case NullLit:
			return query.Const{V: false}, nil
		}
		return nil, query.Errorf(x.Pos(), "a %s is not a condition", x.Kind)
	case *Call:
		if n := strings.ToLower(x.Name); n == "match" || n == "matchlite" {
			return c.regexCall(x)
		}
	case *Relationship:
		return nil, unsupported(x.Pos(), x.Kind+" of", "process lineage is Python eql only; Elasticsearch does not run it")
	}
	v, err := c.value(x)
	if err != nil {
		return nil, err
	}
	return query.Truthy{X: v}, nil
}

func flatAnd(l, r query.Expr) query.Expr {
	var xs []query.Expr
	for _, e := range []query.Expr{l, r} {
		if a, ok := e.(query.And); ok {
			xs = append(xs, a.X...)
		} else {
			xs = append(xs, e)
		}
	}
	return query.And{X: xs}
}

func flatOr(l, r query.Expr) query.Expr {
	var xs []query.Expr
	for _, e := range []query.Expr{l, r} {
		if o, ok := e.(query.Or); ok {
			xs = append(xs, o.X...)
		} else {
			xs = append(xs, e)
		}
	}
	return query.Or{X: xs}
}

// cmpOps: "=" is Elasticsearch 7.x's other spelling of "==" (EQ: '=' | '==').
var cmpOps = map[string]query.CmpOp{"=": query.Eq, "==": query.Eq, "!=": query.Ne, "<": query.Lt, "<=": query.Le, ">": query.Gt, ">=": query.Ge}

var flipped = map[query.CmpOp]query.CmpOp{query.Eq: query.Eq, query.Ne: query.Ne, query.Lt: query.Gt, query.Le: query.Ge, query.Gt: query.Lt, query.Ge: query.Le}

func (c *compiler) comparison(x *Binary) (query.Expr, error) {
	op := cmpOps[x.Op]
	l, r := x.X, x.Y
	// Constants go on the right, as Elasticsearch's optimizer puts them.
	if isConst(l) && !isConst(r) {
		l, r = r, l
		op = flipped[op]
	}
	if f, ok := l.(*FieldRef); ok {
		if lit, ok := r.(*Literal); ok {
			return c.fieldVsLiteral(f, op, lit)
		}
	}
	if lit, ok := r.(*Literal); ok && lit.Kind == NullLit && !isConst(l) {
		// The optimizer's null check: x == null is IsNull(x).
		switch op {
		case query.Eq:
			return c.isNull(l)
		case query.Ne:
			n, err := c.isNull(l)
			if err != nil {
				return nil, err
			}
			return query.Not{X: n}, nil
		}
		return query.Const{V: false}, nil
	}
	lv, err := c.value(l)
	if err != nil {
		return nil, err
	}
	rv, err := c.value(r)
	if err != nil {
		return nil, err
	}
	cmp := query.Compare{Op: op, L: lv, R: rv, Fold: c.fold && (op == query.Eq || op == query.Ne)}
	if op == query.Eq || op == query.Ne {
		return c.optionalOperands(cmp, l, r)
	}
	return cmp, nil
}

// optionalOperands: Elasticsearch replaces an optional field that is in no
// mapping by the null literal, and its optimizer then turns ?x == y into
// IsNull(y) and ?x != y into IsNotNull(y). firewarden has no mapping, so
// an optional field absent from the event is that null.
func (c *compiler) optionalOperands(cmp query.Compare, l, r Expr) (query.Expr, error) {
	alts := []query.Expr{cmp}
	guarded := false
	for _, side := range [][2]Expr{{l, r}, {r, l}} {
		f, ok := side[0].(*FieldRef)
		if !ok || !f.Optional || len(f.Index) > 0 {
			continue
		}
		other, err := c.isNull(side[1])
		if err != nil {
			return nil, err
		}
		if cmp.Op == query.Ne {
			other = query.Not{X: other}
		}
		alts = append(alts, query.And{X: []query.Expr{query.Not{X: query.Exists{Path: f.Path}}, other}})
		guarded = true
	}
	if !guarded {
		return cmp, nil
	}
	return query.Or{X: alts}, nil
}

// fieldVsLiteral is a Lucene query in Elasticsearch: `==` a term query
// (never a wildcard), `!=` its must_not (true on a missing field), ranges
// a range query, `== null` a must_not exists.
func (c *compiler) fieldVsLiteral(f *FieldRef, op query.CmpOp, lit *Literal) (query.Expr, error) {
	fv, err := c.value(f)
	if err != nil {
		return nil, err
	}
	if lit.Kind == NullLit {
		switch op {
		case query.Eq:
			return query.Not{X: query.Exists{Path: f.Path}}, nil
		case query.Ne:
			return query.Exists{Path: f.Path}, nil
		}
		return query.Const{V: false}, nil
	}
	var eq query.Expr
	if lit.Kind == StringLit {
		eq = query.Match{Field: fv, Op: query.Equal, Values: []string{lit.Str}, Fold: c.fold}
	} else {
		lv, err := c.value(lit)
		if err != nil {
			return nil, err
		}
		if op != query.Eq && op != query.Ne {
			return query.Compare{Op: op, L: fv, R: lv}, nil
		}
		eq = query.Compare{Op: query.Eq, L: fv, R: lv}
	}
	switch op {
	case query.Eq:
		return eq, nil
	case query.Ne:
		return query.Not{X: eq}, nil
	}
	lv, err := c.value(lit)
	if err != nil {
		return nil, err
	}
	return query.Compare{Op: op, L: fv, R: lv}, nil
}

// insensitiveEquals is `l : r` (or `l !: r`). Against a constant it is
// the pattern match of match(); in Elasticsearch 7.10, where ":" was a
// comparison operator, either side may be any expression: the constant
// goes on the right, a null constant tests for null (the optimizer's null
// check), and two expressions compare case-insensitively without
// wildcards.
func (c *compiler) insensitiveEquals(pos query.Pos, l, r Expr, negate bool) (query.Expr, error) {
	if isConst(l) && !isConst(r) {
		l, r = r, l
	}
	var p query.Expr
	var err error
	if isConst(r) {
		p, err = c.match(pos, l, ":", []Expr{r})
	} else {
		var lv, rv query.Expr
		if lv, err = c.value(l); err == nil {
			if rv, err = c.value(r); err == nil {
				p = query.Compare{Op: query.Eq, L: lv, R: rv, Fold: true}
			}
		}
	}
	if err != nil {
		return nil, err
	}
	if negate {
		return query.Not{X: p}, nil
	}
	return p, nil
}

// isNull tests an expression for null: a field by its absence (Lucene's
// exists), anything else by its value.
func (c *compiler) isNull(x Expr) (query.Expr, error) {
	if f, ok := x.(*FieldRef); ok && len(f.Index) == 0 {
		return query.Not{X: query.Exists{Path: f.Path}}, nil
	}
	if b, ok := x.(*Binary); ok && isComparison(b.Op) {
		// A comparison is null when either side is.
		l, err := c.isNull(b.X)
		if err != nil {
			return nil, err
		}
		r, err := c.isNull(b.Y)
		if err != nil {
			return nil, err
		}
		return flatOr(l, r), nil
	}
	v, err := c.value(x)
	if err != nil {
		return nil, err
	}
	return query.Truthy{X: query.Call{Name: "isnull", Args: []query.Expr{v}}}, nil
}

// regexCall is Elasticsearch 7.10's match(value, "re", …) (and
// matchLite, the same there): Java regular expressions over the whole
// value, case-sensitive unless the request folds case. Later versions
// replaced it with the regex operator; old rules still use it.
func (c *compiler) regexCall(x *Call) (query.Expr, error) {
	if x.Fold {
		return nil, query.Errorf(x.Pos(), "function %s() has no case-insensitive ~ variant", x.Name)
	}
	if len(x.Args) < 2 {
		return nil, query.Errorf(x.Pos(), "%s() takes a value and at least one pattern", x.Name)
	}
	v, err := c.value(x.Args[0])
	if err != nil {
		return nil, err
	}
	var res []string
	for _, a := range x.Args[1:] {
		lit, ok := a.(*Literal)
		if !ok || lit.Kind != StringLit {
			return nil, query.Errorf(a.Pos(), "%s() takes constant string patterns", x.Name)
		}
		re := `^(?:` + lit.Str + `)$`
		if _, err := regexp.Compile(re); err != nil {
			return nil, unsupported(a.Pos(), "Java regular expression "+strconv.Quote(lit.Str), "RE2 cannot run it: "+err.Error())
		}
		res = append(res, re)
	}
	return query.Match{Field: v, Op: query.Regex, Values: res, Fold: c.fold}, nil
}

func isComparison(op string) bool {
	_, ok := cmpOps[op]
	return ok
}

func isConst(x Expr) bool {
	_, ok := x.(*Literal)
	return ok
}

// match lowers `:` (case-insensitive, wildcards), like/like~ (wildcards)
// and regex/regex~ (a Lucene regular expression over the whole value).
func (c *compiler) match(pos query.Pos, field Expr, op string, pats []Expr) (query.Expr, error) {
	fv, err := c.value(field)
	if err != nil {
		return nil, err
	}
	fold := op == ":" || strings.HasSuffix(op, "~") || c.fold
	var texts []string
	var alts []query.Expr
	for _, p := range pats {
		lit, ok := p.(*Literal)
		if !ok {
			return nil, query.Errorf(p.Pos(), "%s takes constant patterns", op)
		}
		switch {
		case lit.Kind == NullLit && op == ":":
			n, err := c.isNull(field)
			if err != nil {
				return nil, err
			}
			alts = append(alts, n)
			continue
		case lit.Kind != StringLit && op == ":":
			lv, err := c.value(lit)
			if err != nil {
				return nil, err
			}
			alts = append(alts, query.Compare{Op: query.Eq, L: fv, R: lv})
			continue
		case lit.Kind != StringLit:
			return nil, query.Errorf(lit.Pos(), "%s takes string patterns, found a %s", op, lit.Kind)
		}
		texts = append(texts, lit.Str)
	}
	if len(texts) > 0 {
		switch op {
		case ":", "like", "like~":
			var glob, plain []string
			for _, t := range texts {
				if strings.ContainsAny(t, "*?") {
					glob = append(glob, escapeGlob(t))
				} else {
					plain = append(plain, t)
				}
			}
			if len(plain) > 0 {
				alts = append(alts, query.Match{Field: fv, Op: query.Equal, Values: plain, Fold: fold})
			}
			if len(glob) > 0 {
				alts = append(alts, query.Match{Field: fv, Op: query.Glob, Values: glob, Fold: fold})
			}
		default:
			var res []string
			for _, t := range texts {
				re, err := luceneRegex(t)
				if err != nil {
					return nil, unsupported(pos, "regular expression "+strconv.Quote(t), err.Error())
				}
				res = append(res, re)
			}
			alts = append(alts, query.Match{Field: fv, Op: query.Regex, Values: res, Fold: fold})
		}
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	return query.Or{X: alts}, nil
}

// escapeGlob turns an EQL wildcard pattern (only * and ? are special; a
// backslash was already consumed by the string's own escapes) into the
// IR's glob, where a backslash escapes.
func escapeGlob(s string) string { return strings.ReplaceAll(s, `\`, `\\`) }

// luceneRegex translates a Lucene regular expression (which always matches
// the whole value) into RE2. Lucene's optional operators (~ complement,
// & intersection, <n-m> ranges, @ any string, # empty) are refused.
func luceneRegex(s string) (string, error) {
	var b strings.Builder
	b.WriteString(`^(?:`)
	inClass := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '\\' && i+1 < len(s):
			b.WriteByte(ch)
			b.WriteByte(s[i+1])
			i++
			continue
		case inClass:
			if ch == ']' {
				inClass = false
			}
		case ch == '[':
			inClass = true
		case ch == '^' || ch == '$':
			// Anchors do not exist in Lucene: these are literal characters.
			b.WriteByte('\\')
		case ch == '"':
			return "", fmt.Errorf(`the "quoted" literal of Lucene is not supported`)
		case ch == '~' || ch == '&' || ch == '<' || ch == '>' || ch == '@' || ch == '#':
			return "", fmt.Errorf("the optional operator %q of Lucene is not supported", ch)
		}
		b.WriteByte(ch)
	}
	b.WriteString(`)$`)
	return b.String(), nil
}

// in lowers `x in (a, b)` / `in~`: a term query on the values.
func (c *compiler) in(x *In) (query.Expr, error) {
	fv, err := c.value(x.X)
	if err != nil {
		return nil, err
	}
	var strs []string
	var alts []query.Expr
	for _, e := range x.List {
		lit, ok := e.(*Literal)
		if !ok {
			// A non-constant member: a script comparison.
			v, err := c.value(e)
			if err != nil {
				return nil, err
			}
			alts = append(alts, query.Compare{Op: query.Eq, L: fv, R: v, Fold: x.Fold || c.fold})
			continue
		}
		switch lit.Kind {
		case StringLit:
			strs = append(strs, lit.Str)
		case NullLit:
			if f, ok := x.X.(*FieldRef); ok {
				alts = append(alts, query.Not{X: query.Exists{Path: f.Path}})
			}
		default:
			lv, err := c.value(lit)
			if err != nil {
				return nil, err
			}
			alts = append(alts, query.Compare{Op: query.Eq, L: fv, R: lv})
		}
	}
	if len(strs) > 0 {
		alts = append([]query.Expr{query.Match{Field: fv, Op: query.Equal, Values: strs, Fold: x.Fold || c.fold}}, alts...)
	}
	switch len(alts) {
	case 0:
		return query.Const{V: false}, nil
	case 1:
		return alts[0], nil
	}
	return query.Or{X: alts}, nil
}

var arith = map[string]string{"+": "add", "-": "subtract", "*": "multiply", "/": "divide", "%": "modulo"}

// functions are Elasticsearch EQL's, by lower-cased name: the IR name and
// whether a ~ variant exists.
var functions = map[string]struct {
	ir       string
	foldable bool
}{
	"add":            {"add", false},
	"between":        {"between", true},
	"cidrmatch":      {"cidrmatch", false},
	"concat":         {"concat", false},
	"divide":         {"divide", false},
	"endswith":       {"endswith", true},
	"indexof":        {"indexof", true},
	"length":         {"length", false},
	"modulo":         {"modulo", false},
	"multiply":       {"multiply", false},
	"number":         {"number", false},
	"startswith":     {"startswith", true},
	"string":         {"string", false},
	"stringcontains": {"stringcontains", true},
	"substring":      {"substring", false},
	"subtract":       {"subtract", false},
}

// pythonOnly are functions of the Python eql library that Elasticsearch
// does not have.
var pythonOnly = map[string]bool{
	"arraycontains": true, "arraycount": true, "arraysearch": true,
	"safe": true, "wildcard": true, "descendantof": true, "childof": true, "eventof": true,
}

func (c *compiler) value(x Expr) (query.Expr, error) {
	switch x := x.(type) {
	case *FieldRef:
		if len(x.Index) > 0 {
			return nil, unsupported(x.Pos(), "array index "+x.Path+"[…]", "Elasticsearch's EQL does not index arrays")
		}
		return query.Field{Path: x.Path, Optional: x.Optional}, nil
	case *Literal:
		switch x.Kind {
		case StringLit:
			if x.Quote == SingleQuote || x.Quote == PythonRawQuote {
				return nil, unsupported(x.Pos(), "single-quoted string", "Elasticsearch's EQL takes double-quoted or \"\"\"raw\"\"\" strings")
			}
			return query.Lit{V: event.Str(x.Str)}, nil
		case IntLit:
			return query.Lit{V: event.IntV(x.Int)}, nil
		case FloatLit:
			return query.Lit{V: event.FloatV(x.Float)}, nil
		case BoolLit:
			return query.Lit{V: event.BoolV(x.Bool)}, nil
		case NullLit:
			return query.Lit{V: event.NullV()}, nil
		}
	case *Call:
		name := strings.ToLower(x.Name)
		fn, ok := functions[name]
		if name == "match" || name == "matchlite" {
			return nil, query.Errorf(x.Pos(), "%s() is a condition, not a value", x.Name)
		}
		if !ok {
			if pythonOnly[name] {
				return nil, unsupported(x.Pos(), "function "+x.Name+"()", "Python eql only; Elasticsearch does not have it")
			}
			return nil, unsupported(x.Pos(), "function "+x.Name+"()", "not an Elasticsearch EQL function")
		}
		if x.Fold && !fn.foldable {
			return nil, query.Errorf(x.Pos(), "function %s() has no case-insensitive ~ variant", x.Name)
		}
		args, err := c.values(x.Args)
		if err != nil {
			return nil, err
		}
		return query.Call{Name: fn.ir, Args: args, Fold: x.Fold || c.fold && fn.foldable}, nil
	case *Binary:
		if name, ok := arith[x.Op]; ok {
			args, err := c.values([]Expr{x.X, x.Y})
			if err != nil {
				return nil, err
			}
			return query.Call{Name: name, Args: args}, nil
		}
	case *Unary:
		if x.Op == "-" {
			if l, ok := x.X.(*Literal); ok && l.Kind == IntLit {
				return query.Lit{V: event.IntV(-l.Int)}, nil
			}
			if l, ok := x.X.(*Literal); ok && l.Kind == FloatLit {
				return query.Lit{V: event.FloatV(-l.Float)}, nil
			}
			v, err := c.value(x.X)
			if err != nil {
				return nil, err
			}
			return query.Call{Name: "negate", Args: []query.Expr{v}}, nil
		}
		if x.Op == "+" {
			return c.value(x.X)
		}
	case *Relationship:
		return nil, unsupported(x.Pos(), x.Kind+" of", "process lineage is Python eql only; Elasticsearch does not run it")
	}
	// A condition used as a value.
	switch x := x.(type) {
	case *Binary, *Match, *In:
		return c.pred(x)
	case *Unary:
		if x.Op == "not" {
			return c.pred(x)
		}
	}
	return nil, query.Errorf(x.Pos(), "unexpected %s in a value", x)
}
