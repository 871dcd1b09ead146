package spl

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/query"
)

// ---- search terms: case-insensitive, * wildcards ----

func (c *compiler) searchBool(x Expr, first bool) (query.Expr, error) {
	switch x := x.(type) {
	case nil:
		return query.Const{V: true}, nil
	case *Binary:
		l, err := c.searchBool(x.L, first)
		if err != nil {
			return nil, err
		}
		r, err := c.searchBool(x.R, first)
		if err != nil {
			return nil, err
		}
		if x.Op == "OR" {
			return query.Or{X: []query.Expr{l, r}}, nil
		}
		return and(l, r), nil
	case *Unary:
		e, err := c.searchBool(x.X, first)
		if err != nil {
			return nil, err
		}
		return query.Not{X: e}, nil
	case *Term:
		if x.Text == "*" && !x.Quoted {
			return query.Const{V: true}, nil
		}
		if c.dm != nil || c.phase != phaseEvents {
			return nil, &query.Unsupported{Pos: x.P, Construct: "search term " + strconv.Quote(x.Text) + " without a field", Why: "data model and result searches match fields only"}
		}
		kw := query.Keyword{Values: []string{globOf(x.Text)}, Fold: true}
		if c.auditd {
			kw.Fields = []string{"auditd."}
		}
		return kw, nil
	case *FieldTerm:
		return c.fieldTerm(x, first)
	case *FieldIn:
		e, _ := c.resolve(x.Field)
		var vals []string
		for _, v := range x.Values {
			vals = append(vals, globsOf(v)...)
		}
		return query.Match{Field: e, Op: query.Glob, Values: vals, Fold: true}, nil
	}
	return nil, query.Errorf(x.Pos(), "search: unexpected expression")
}

func and(l, r query.Expr) query.Expr {
	if a, ok := l.(query.And); ok {
		return query.And{X: append(a.X[:len(a.X):len(a.X)], r)}
	}
	return query.And{X: []query.Expr{l, r}}
}

func (c *compiler) fieldTerm(x *FieldTerm, first bool) (query.Expr, error) {
	if c.phase == phaseEvents {
		switch strings.ToLower(x.Field) {
		case "sourcetype":
			st, ok := sourcetypes[strings.ToLower(x.Value)]
			if !ok || x.Op != "=" {
				return nil, &query.Unsupported{Pos: x.P, Construct: "sourcetype" + x.Op + x.Value, Why: "firewarden maps sourcetype=linux:audit and sysmon:linux"}
			}
			if strings.EqualFold(x.Value, "linux:audit") {
				c.auditd = true
			}
			c.scope = append(c.scope, st)
			c.scopeKey = "spl:sourcetype=" + strings.ToLower(x.Value)
			return query.Const{V: true}, nil
		case "index":
			if x.Value == "*" && x.Op == "=" {
				return query.Const{V: true}, nil
			}
			return nil, &query.Unsupported{Pos: x.P, Construct: "index=" + x.Value, Why: "firewarden has no Splunk indexes"}
		case "source", "eventtype", "tag", "host_tag":
			return nil, &query.Unsupported{Pos: x.P, Construct: x.Field + "=", Why: "firewarden's events have no " + x.Field}
		}
	}
	e, _ := c.resolve(x.Field)
	switch x.Op {
	case "=", "!=":
		var m query.Expr
		if x.Value == "*" && !x.Quoted {
			m = notNull(e)
		} else {
			m = query.Match{Field: e, Op: query.Glob, Values: globsOf(x.Value), Fold: true}
		}
		if x.Op == "!=" {
			if x.Value == "*" && !x.Quoted {
				return query.Const{V: false}, nil
			}
			return query.And{X: []query.Expr{notNull(e), query.Not{X: m}}}, nil
		}
		return m, nil
	}
	op := map[string]query.CmpOp{"<": query.Lt, "<=": query.Le, ">": query.Gt, ">=": query.Ge}[x.Op]
	return query.Compare{Op: op, L: e, R: literal(x.Value), Fold: true}, nil
}

func notNull(e query.Expr) query.Expr {
	if f, ok := e.(query.Field); ok {
		return query.Exists{Path: f.Path}
	}
	if l, ok := e.(query.Lit); ok {
		return query.Const{V: !l.V.IsNull()}
	}
	return query.Not{X: query.Call{Name: "isnull", Args: []query.Expr{e}}}
}

// literal is a number when the text is one, a string otherwise.
func literal(s string) query.Expr {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return query.Lit{V: event.IntV(i)}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return query.Lit{V: event.FloatV(f)}
	}
	return str(s)
}

// globOf turns an SPL search value (* is the only wildcard) into the
// engine's glob syntax (* ? and \ escapes).
func globOf(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '?', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// globsOf is the glob of v, and, when v holds XML character entities,
// the glob of its decoded text too: ESCU rules written against Sysmon for
// Linux as Splunk indexes it (XML undecoded, "&amp;&gt;/dev/null") match
// firewarden's decoded events as their authors meant (docs/spl.md).
func globsOf(v string) []string {
	out := []string{globOf(v)}
	if d := decodeEntities(v); d != v {
		out = append(out, globOf(d))
	}
	return out
}

var entities = strings.NewReplacer("&amp;", "&", "&gt;", ">", "&lt;", "<", "&quot;", `"`, "&apos;", "'")

func decodeEntities(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	return entities.Replace(s)
}

// ---- eval and where expressions: case-sensitive ----

func (c *compiler) boolExpr(x Expr) (query.Expr, error) {
	switch x := x.(type) {
	case *Binary:
		switch x.Op {
		case "AND", "OR", "XOR":
			l, err := c.boolExpr(x.L)
			if err != nil {
				return nil, err
			}
			r, err := c.boolExpr(x.R)
			if err != nil {
				return nil, err
			}
			switch x.Op {
			case "AND":
				return and(l, r), nil
			case "OR":
				return query.Or{X: []query.Expr{l, r}}, nil
			}
			return query.Or{X: []query.Expr{
				query.And{X: []query.Expr{l, query.Not{X: r}}},
				query.And{X: []query.Expr{query.Not{X: l}, r}}}}, nil
		case "=", "!=", "<", "<=", ">", ">=":
			return c.comparison(x)
		case "LIKE":
			return c.like(x.L, x.R, x.P)
		}
	case *Unary:
		if x.Op == "NOT" {
			e, err := c.boolExpr(x.X)
			if err != nil {
				return nil, err
			}
			return query.Not{X: e}, nil
		}
	case *In:
		l, err := c.valueExpr(x.X)
		if err != nil {
			return nil, err
		}
		var or []query.Expr
		for _, v := range x.Values {
			r, err := c.valueExpr(v)
			if err != nil {
				return nil, err
			}
			or = append(or, cmp(query.Eq, l, r))
		}
		return query.Or{X: or}, nil
	case *Call:
		switch x.Name {
		case "like":
			if len(x.Args) != 2 {
				return nil, query.Errorf(x.P, "like() takes 2 arguments, has %d", len(x.Args))
			}
			return c.like(x.Args[0], x.Args[1], x.P)
		case "match":
			if len(x.Args) != 2 {
				return nil, query.Errorf(x.P, "match() takes 2 arguments, has %d", len(x.Args))
			}
			l, err := c.valueExpr(x.Args[0])
			if err != nil {
				return nil, err
			}
			if s, ok := x.Args[1].(*Str); ok {
				if err := checkRegex(s.V); err != nil {
					return nil, regexErr(x.P, s.V, err)
				}
				return query.Match{Field: l, Op: query.Regex, Values: []string{s.V}}, nil
			}
		case "isnotnull":
			if len(x.Args) != 1 {
				return nil, query.Errorf(x.P, "isnotnull() takes 1 argument")
			}
			v, err := c.valueExpr(x.Args[0])
			if err != nil {
				return nil, err
			}
			return notNull(v), nil
		}
	}
	v, err := c.valueExpr(x)
	if err != nil {
		return nil, err
	}
	switch v := v.(type) {
	case query.Match, query.Compare, query.And, query.Or, query.Not, query.Exists, query.Const:
		return v, nil
	case query.Lit:
		return query.Const{V: v.V.Truth()}, nil
	}
	return query.Truthy{X: v}, nil
}

func cmp(op query.CmpOp, l, r query.Expr) query.Expr {
	if s, ok := r.(query.Lit); ok && s.V.Kind == event.String && op == query.Eq {
		return query.Match{Field: l, Op: query.Equal, Values: []string{s.V.Str}}
	}
	return query.Compare{Op: op, L: l, R: r}
}

func (c *compiler) comparison(x *Binary) (query.Expr, error) {
	l, err := c.valueExpr(x.L)
	if err != nil {
		return nil, err
	}
	r, err := c.valueExpr(x.R)
	if err != nil {
		return nil, err
	}
	switch x.Op {
	case "=":
		return cmp(query.Eq, l, r), nil
	case "!=":
		return query.Compare{Op: query.Ne, L: l, R: r}, nil
	}
	op := map[string]query.CmpOp{"<": query.Lt, "<=": query.Le, ">": query.Gt, ">=": query.Ge}[x.Op]
	return query.Compare{Op: op, L: l, R: r}, nil
}

// like is SQL LIKE: % any run, _ one character, case-sensitive.
func (c *compiler) like(lx, px Expr, p query.Pos) (query.Expr, error) {
	l, err := c.valueExpr(lx)
	if err != nil {
		return nil, err
	}
	s, ok := px.(*Str)
	if !ok {
		return nil, &query.Unsupported{Pos: p, Construct: "like() with a pattern that is not a string literal"}
	}
	vals := []string{likeGlob(s.V)}
	if d := decodeEntities(s.V); d != s.V {
		vals = append(vals, likeGlob(d))
	}
	return query.Match{Field: l, Op: query.Glob, Values: vals}, nil
}

func likeGlob(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; ch {
		case '%':
			b.WriteByte('*')
		case '_':
			b.WriteByte('?')
		case '*', '?', '\\':
			b.WriteByte('\\')
			b.WriteByte(ch)
		default:
			b.WriteByte(ch)
		}
	}
	return b.String()
}

// evalFuncs maps SPL eval functions onto the IR's; n is the argument
// count (-1 any).
var evalFuncs = map[string]struct {
	name     string
	min, max int
}{
	"lower": {"lower", 1, 1}, "upper": {"upper", 1, 1}, "len": {"charlength", 1, 1},
	"if": {"if", 3, 3}, "case": {"case", 2, -1}, "coalesce": {"coalesce", 1, -1},
	"replace": {"regexreplace", 3, 3}, "match": {"regexmatch", 2, 2}, "urldecode": {"urldecode", 1, 1},
	"mvappend": {"mvappend", 1, -1}, "mvjoin": {"mvjoin", 2, 2}, "mvindex": {"mvindex", 2, 3},
	"mvcount": {"valuecount", 1, 1}, "trim": {"trim", 1, 2}, "ltrim": {"ltrim", 1, 2}, "rtrim": {"rtrim", 1, 2},
	"substr": {"substr", 2, 3}, "tostring": {"string", 1, 1}, "isnull": {"isnull", 1, 1},
}

func (c *compiler) valueExpr(x Expr) (query.Expr, error) {
	switch x := x.(type) {
	case *Ident:
		name := c.subst(x.Name)
		e, _ := c.resolve(name)
		return e, nil
	case *Str:
		return str(c.subst(x.V)), nil
	case *Num:
		return literal(x.Text), nil
	case *Unary:
		if x.Op == "-" {
			v, err := c.valueExpr(x.X)
			if err != nil {
				return nil, err
			}
			return query.Call{Name: "negate", Args: []query.Expr{v}}, nil
		}
		return c.boolExpr(x)
	case *Binary:
		fn := map[string]string{"+": "add", "-": "subtract", "*": "multiply", "/": "divide", "%": "modulo", ".": "concat"}[x.Op]
		if fn == "" {
			return c.boolExpr(x)
		}
		l, err := c.valueExpr(x.L)
		if err != nil {
			return nil, err
		}
		r, err := c.valueExpr(x.R)
		if err != nil {
			return nil, err
		}
		return query.Call{Name: fn, Args: []query.Expr{l, r}}, nil
	case *In:
		return c.boolExpr(x)
	case *Call:
		switch x.Name {
		case "null":
			return null, nil
		case "true", "false":
			return query.Lit{V: event.BoolV(x.Name == "true")}, nil
		case "like", "isnotnull", "searchmatch_":
			return c.boolExpr(x)
		case "match":
			if _, ok := x.Args[1].(*Str); ok && len(x.Args) == 2 {
				return c.boolExpr(x)
			}
		}
		m, ok := evalFuncs[x.Name]
		if !ok {
			return nil, &query.Unsupported{Pos: x.P, Construct: "function " + x.Name + "()", Why: "not an eval function firewarden runs"}
		}
		if len(x.Args) < m.min || m.max >= 0 && len(x.Args) > m.max {
			return nil, query.Errorf(x.P, "%s(): wrong number of arguments (%d)", x.Name, len(x.Args))
		}
		args := make([]query.Expr, len(x.Args))
		for i, a := range x.Args {
			v, err := c.valueExpr(a)
			if err != nil {
				return nil, err
			}
			args[i] = v
		}
		if m.name == "regexmatch" || m.name == "regexreplace" {
			if l, ok := args[1].(query.Lit); ok {
				if err := checkRegex(l.V.String()); err != nil {
					return nil, regexErr(x.P, l.V.String(), err)
				}
			}
		}
		return query.Call{Name: m.name, Args: args}, nil
	}
	return nil, query.Errorf(x.Pos(), "unexpected expression")
}

func checkRegex(s string) error {
	_, err := regexp.Compile(s)
	return err
}
