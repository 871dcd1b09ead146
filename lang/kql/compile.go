package kql

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/query"
)

// Result is a compiled query and what it says about its own schedule.
type Result struct {
	Query *query.Query
	// LookBack is the d of a top-level `TimeGenerated > ago(d)` condition
	// (the smallest, when there are several): the rule's look-back. Zero
	// when the query has none.
	LookBack time.Duration
	// Table is the ASIM table the query reads.
	Table string
}

// Compile parses and compiles a KQL query.
func Compile(src string, opts Options) (*Result, error) {
	q, err := parseIndented(src, opts.Base, opts.Indent)
	if err != nil {
		return nil, err
	}
	return CompileAST(q)
}

// defaultTolerance bounds how late (in event time) an event may arrive and
// still count for a summarize (as Sigma correlations do).
const defaultTolerance = time.Minute

type compiler struct {
	tab      *table
	cols     map[string]column
	lets     map[string]*Let
	busy     map[string]bool
	stages   []query.Stage
	agg      *query.Aggregate
	having   []query.Expr
	lookBack time.Duration
	binned   time.Duration
}

// CompileAST compiles a parsed query.
func CompileAST(q *Query) (*Result, error) {
	tab, ok := tables[q.Table.Name]
	if !ok {
		return nil, &query.Unsupported{Pos: q.Table.Pos, Construct: "table " + q.Table.Name,
			Why: "firewarden serves the ASIM parsers " + strings.Join(sortedKeys(tables), ", ")}
	}
	c := &compiler{tab: tab, cols: map[string]column{}, lets: map[string]*Let{}, busy: map[string]bool{}}
	for k, v := range tab.Cols {
		c.cols[k] = v
	}
	for _, l := range q.Lets {
		if _, dup := c.lets[l.Name]; dup {
			return nil, query.Errorf(l.Pos, "let %s is declared twice", l.Name)
		}
		c.lets[l.Name] = l
	}
	for _, op := range q.Ops {
		if err := c.op(op); err != nil {
			return nil, err
		}
	}
	out := &query.Query{Scope: tab.Scope, ScopeKey: "kql:" + tab.Name, Stages: c.stages}
	if c.agg != nil {
		switch len(c.having) {
		case 0:
		case 1:
			c.agg.Having = c.having[0]
		default:
			c.agg.Having = query.And{X: c.having}
		}
		out.Stages = append(out.Stages, *c.agg)
	}
	return &Result{Query: out, LookBack: c.lookBack, Table: tab.Name}, nil
}

func (c *compiler) op(op Op) error {
	switch op := op.(type) {
	case *Where:
		if c.agg != nil {
			return c.havingOf(op.Cond)
		}
		var xs []query.Expr
		for _, e := range conjuncts(op.Cond) {
			if d, ok, err := c.agoBound(e); err != nil {
				return err
			} else if ok {
				if c.lookBack == 0 || d < c.lookBack {
					c.lookBack = d
				}
				continue
			}
			x, err := c.pred(e)
			if err != nil {
				return err
			}
			xs = append(xs, x)
		}
		switch len(xs) {
		case 0:
		case 1:
			c.stages = append(c.stages, query.Filter{Expr: xs[0]})
		default:
			c.stages = append(c.stages, query.Filter{Expr: query.And{X: xs}})
		}
		return nil
	case *Extend:
		add := map[string]column{}
		for _, it := range op.Items {
			if it.Name == "" {
				if id, ok := it.X.(*Ident); ok {
					if _, err := c.column(id); err != nil {
						return err
					}
					continue
				}
				return &query.Unsupported{Pos: it.Pos, Construct: "extend without a column name", Why: "write Name = expression"}
			}
			col, err := c.newColumn(it.X)
			if err != nil {
				return err
			}
			add[it.Name] = col
		}
		for k, v := range add {
			c.cols[k] = v
		}
		return nil
	case *Project:
		cols := map[string]column{}
		for _, it := range op.Items {
			name := it.Name
			if name == "" {
				id, ok := it.X.(*Ident)
				if !ok {
					return &query.Unsupported{Pos: it.Pos, Construct: "project of an unnamed expression", Why: "write Name = expression"}
				}
				name = id.Name
			}
			col, err := c.newColumn(it.X)
			if err != nil {
				return err
			}
			cols[name] = col
		}
		c.cols = cols
		return nil
	case *ProjectAway:
		for _, id := range op.Names {
			if _, ok := c.cols[id.Name]; !ok {
				return query.Errorf(id.Pos, "project-away: no column %s", id.Name)
			}
			delete(c.cols, id.Name)
		}
		return nil
	case *ProjectRename:
		add := map[string]column{}
		for _, it := range op.Items {
			id, _ := it.X.(*Ident)
			col, ok := c.cols[id.Name]
			if !ok {
				return query.Errorf(id.Pos, "project-rename: no column %s", id.Name)
			}
			add[it.Name] = col
			delete(c.cols, id.Name)
		}
		for k, v := range add {
			c.cols[k] = v
		}
		return nil
	case *Summarize:
		return c.summarize(op)
	case *ParseOp:
		return c.parse(op)
	}
	return fmt.Errorf("kql: unknown operator %T", op)
}

// newColumn is the column an extend or project expression makes: a
// plain column keeps its field (and so its missing-value rule).
func (c *compiler) newColumn(e Expr) (column, error) {
	if id, ok := e.(*Ident); ok {
		if col, ok := c.cols[id.Name]; ok {
			return col, nil
		}
	}
	x, ty, err := c.value(e)
	if err != nil {
		return column{}, err
	}
	col := column{X: x, Type: ty}
	if c.agg != nil && c.refsAggregate(e) {
		col.Agg = "derived"
	}
	return col, nil
}

func conjuncts(e Expr) []Expr {
	if b, ok := e.(*Binary); ok && b.Op == "and" {
		return append(conjuncts(b.L), conjuncts(b.R)...)
	}
	return []Expr{e}
}

// agoBound recognises TimeGenerated > ago(d) (or >=, or the mirror
// image) over a time column.
func (c *compiler) agoBound(e Expr) (time.Duration, bool, error) {
	b, ok := e.(*Binary)
	if !ok {
		return 0, false, nil
	}
	col, call := b.L, b.R
	op := b.Op
	if _, isCall := b.L.(*Call); isCall {
		col, call = b.R, b.L
		switch op {
		case "<":
			op = ">"
		case "<=":
			op = ">="
		default:
			op = ""
		}
	}
	cl, ok := call.(*Call)
	if !ok || cl.Name != "ago" || op != ">" && op != ">=" {
		return 0, false, nil
	}
	id, ok := col.(*Ident)
	if !ok {
		return 0, false, nil
	}
	cc, ok := c.cols[id.Name]
	if !ok || cc.Type != tyTime || cc.Path != "@timestamp" {
		return 0, false, nil
	}
	if len(cl.Args) != 1 {
		return 0, false, query.Errorf(cl.Pos, "ago() takes one timespan")
	}
	ts, ok := cl.Args[0].(*TimespanLit)
	if !ok || ts.D <= 0 {
		return 0, false, &query.Unsupported{Pos: cl.Pos, Construct: "ago() of anything but a positive timespan literal"}
	}
	return ts.D, true, nil
}

// column resolves a column name (or a let-bound name).
func (c *compiler) column(id *Ident) (column, error) {
	if col, ok := c.cols[id.Name]; ok {
		return col, nil
	}
	if l, ok := c.lets[id.Name]; ok {
		if c.busy[id.Name] {
			return column{}, query.Errorf(id.Pos, "let %s refers to itself", id.Name)
		}
		c.busy[id.Name] = true
		defer delete(c.busy, id.Name)
		x, ty, err := c.value(l.Value)
		if err != nil {
			return column{}, err
		}
		return column{X: x, Type: ty}, nil
	}
	if _, ok := c.tab.Cols[id.Name]; ok {
		return column{}, query.Errorf(id.Pos, "column %s was projected away", id.Name)
	}
	if c.agg != nil {
		return column{}, query.Errorf(id.Pos, "no column %s after summarize (its output columns: %s)", id.Name, strings.Join(sortedKeys(c.cols), ", "))
	}
	if unmapped[id.Name] {
		return column{}, &query.Unsupported{Pos: id.Pos, Construct: "ASIM column " + id.Name, Why: "firewarden has no ECS field for it in " + c.tab.Name}
	}
	return column{}, query.Errorf(id.Pos, "no column %s in %s", id.Name, c.tab.Name)
}

// constStrings reads a constant string or list of constants (a literal,
// a parenthesised list, dynamic([…]), or a let-bound one).
func (c *compiler) constStrings(e Expr) ([]string, bool) {
	switch e := e.(type) {
	case *StrLit:
		return []string{e.V}, true
	case *IntLit:
		return []string{strconv.FormatInt(e.V, 10)}, true
	case *RealLit:
		return []string{event.FloatV(e.V).String()}, true
	case *List:
		var out []string
		for _, it := range e.Items {
			vs, ok := c.constStrings(it)
			if !ok {
				return nil, false
			}
			out = append(out, vs...)
		}
		return out, true
	case *Ident:
		if _, isCol := c.cols[e.Name]; isCol {
			return nil, false
		}
		if l, ok := c.lets[e.Name]; ok && !c.busy[e.Name] {
			c.busy[e.Name] = true
			defer delete(c.busy, e.Name)
			return c.constStrings(l.Value)
		}
	}
	return nil, false
}

// stringOp is one of Kusto's string operators: its match and case rule.
type stringOp struct {
	op   query.MatchOp
	fold bool
	all  bool
	list bool // the right side is a list (in, has_any, has_all)
}

var stringOps2 = map[string]stringOp{
	"==": {op: query.Equal}, "=~": {op: query.Equal, fold: true},
	"contains": {op: query.Contains, fold: true}, "contains_cs": {op: query.Contains},
	"startswith": {op: query.Prefix, fold: true}, "startswith_cs": {op: query.Prefix},
	"endswith": {op: query.Suffix, fold: true}, "endswith_cs": {op: query.Suffix},
	"has": {op: query.Term, fold: true}, "has_cs": {op: query.Term},
	"has_any": {op: query.Term, fold: true, list: true}, "has_all": {op: query.Term, fold: true, all: true, list: true},
	"in": {op: query.Equal, list: true}, "in~": {op: query.Equal, fold: true, list: true},
	"matches regex": {op: query.Regex},
}

// negatable are the operators with a ! form.
var negatable = map[string]bool{
	"contains": true, "contains_cs": true, "startswith": true, "startswith_cs": true,
	"endswith": true, "endswith_cs": true, "has": true, "has_cs": true, "in": true, "in~": true,
}

func (c *compiler) pred(e Expr) (query.Expr, error) {
	switch e := e.(type) {
	case *Binary:
		switch e.Op {
		case "and", "or":
			l, err := c.pred(e.L)
			if err != nil {
				return nil, err
			}
			r, err := c.pred(e.R)
			if err != nil {
				return nil, err
			}
			if e.Op == "and" {
				return flatAnd(l, r), nil
			}
			return flatOr(l, r), nil
		case "+", "-", "*", "/", "%":
			return nil, query.Errorf(e.Pos, "%s is arithmetic, not a condition", e.Op)
		}
		return c.binary(e)
	case *Between:
		return c.between(e)
	case *BoolLit:
		return query.Const{V: e.V}, nil
	case *Call:
		switch e.Name {
		case "not":
			if len(e.Args) != 1 {
				return nil, query.Errorf(e.Pos, "not() takes one argument")
			}
			x, err := c.pred(e.Args[0])
			if err != nil {
				return nil, err
			}
			return query.Not{X: x}, nil
		case "isempty", "isnotempty", "isnull", "isnotnull":
			return c.emptiness(e)
		}
	}
	x, ty, err := c.value(e)
	if err != nil {
		return nil, err
	}
	if ty != tyBool {
		return nil, query.Errorf(e.exprPos(), "a %s is not a condition", ty)
	}
	if _, isLit := x.(query.Lit); !isLit {
		return query.Truthy{X: x}, nil
	}
	return query.Const{V: x.(query.Lit).V.Truth()}, nil
}

func flatAnd(xs ...query.Expr) query.Expr {
	var out []query.Expr
	for _, x := range xs {
		if a, ok := x.(query.And); ok {
			out = append(out, a.X...)
		} else {
			out = append(out, x)
		}
	}
	return query.And{X: out}
}

func flatOr(xs ...query.Expr) query.Expr {
	var out []query.Expr
	for _, x := range xs {
		if a, ok := x.(query.Or); ok {
			out = append(out, a.X...)
		} else {
			out = append(out, x)
		}
	}
	return query.Or{X: out}
}

func (c *compiler) binary(e *Binary) (query.Expr, error) {
	name := e.Op
	neg := false
	switch name {
	case "!=", "<>":
		name, neg = "==", true
	case "!~":
		name, neg = "=~", true
	case "<", "<=", ">", ">=":
		return c.order(e)
	}
	if strings.HasPrefix(name, "!") {
		name, neg = name[1:], true
		if !negatable[name] {
			return nil, &query.Unsupported{Pos: e.Pos, Construct: "operator " + e.Op}
		}
	}
	sop, ok := stringOps2[name]
	if !ok {
		return nil, &query.Unsupported{Pos: e.Pos, Construct: "operator " + e.Op}
	}
	if isAgo(e.L) || isAgo(e.R) {
		return nil, agoRefusal(e.Pos)
	}
	lx, lty, err := c.value(e.L)
	if err != nil {
		return nil, err
	}
	vals, isConst := c.constStrings(e.R)
	if _, isList := e.R.(*List); isList && !sop.list {
		return nil, query.Errorf(e.R.exprPos(), "%s takes one value, not a list", e.Op)
	}
	if !isConst {
		if sop.list || sop.op != query.Equal {
			return nil, &query.Unsupported{Pos: e.R.exprPos(), Construct: e.Op + " with a non-constant right side"}
		}
		// A column compared with a column (or a computed value).
		rx, _, err := c.value(e.R)
		if err != nil {
			return nil, err
		}
		x := query.Expr(query.Compare{Op: query.Eq, L: lx, R: rx, Fold: sop.fold})
		if neg {
			x = query.Not{X: x}
		}
		return x, nil
	}
	if _, isNum := e.R.(*IntLit); isNum && sop.op == query.Equal || lty == tyNumber && sop.op == query.Equal && !sop.list {
		if _, isStr := e.R.(*StrLit); !isStr {
			rx, _, err := c.value(e.R)
			if err != nil {
				return nil, err
			}
			x := query.Expr(query.Compare{Op: query.Eq, L: lx, R: rx})
			if neg {
				x = query.Not{X: x}
			}
			return x, nil
		}
	}
	if lty == tyTime {
		return nil, &query.Unsupported{Pos: e.Pos, Construct: e.Op + " on a datetime column"}
	}
	if sop.op == query.Regex {
		if _, err := regexp.Compile(vals[0]); err != nil {
			return nil, query.Errorf(e.R.exprPos(), "regular expression: %v", err)
		}
	}
	if !sop.list && len(vals) != 1 {
		return nil, query.Errorf(e.R.exprPos(), "%s takes one value", e.Op)
	}
	if len(vals) == 0 {
		// x in () is false; x !in () is true.
		return query.Const{V: neg}, nil
	}
	m := query.Match{Field: lx, Op: sop.op, Values: vals, Fold: sop.fold, All: sop.all}
	var x query.Expr = m
	// Kusto strings are never null: a missing string column is "".
	if f, ok := lx.(query.Field); ok && lty == tyString && holdsOnEmpty(sop, vals) {
		x = query.Or{X: []query.Expr{query.Not{X: query.Exists{Path: f.Path}}, m}}
	}
	if neg {
		x = query.Not{X: x}
	}
	return x, nil
}

// holdsOnEmpty reports whether the operator holds for the empty string.
func holdsOnEmpty(s stringOp, vals []string) bool {
	one := func(v string) bool {
		switch s.op {
		case query.Regex:
			re, err := regexp.Compile(v)
			return err == nil && re.MatchString("")
		}
		return v == "" // "" equals, contains, starts, ends with and has only ""
	}
	for _, v := range vals {
		if one(v) != s.all {
			return !s.all
		}
	}
	return s.all
}

func isAgo(e Expr) bool {
	c, ok := e.(*Call)
	return ok && (c.Name == "ago" || c.Name == "now")
}

func agoRefusal(p query.Pos) error {
	return &query.Unsupported{Pos: p, Construct: "ago() outside a top-level TimeGenerated > ago(…) condition",
		Why: "firewarden reads ago() as the rule's look-back; there is no query time to compare with"}
}

func cmpOp(s string) query.CmpOp {
	switch s {
	case "<":
		return query.Lt
	case "<=":
		return query.Le
	case ">":
		return query.Gt
	}
	return query.Ge
}

// order compiles < <= > >= over numbers.
func (c *compiler) order(e *Binary) (query.Expr, error) {
	if isAgo(e.L) || isAgo(e.R) {
		return nil, agoRefusal(e.Pos)
	}
	lx, lty, err := c.value(e.L)
	if err != nil {
		return nil, err
	}
	rx, rty, err := c.value(e.R)
	if err != nil {
		return nil, err
	}
	if lty != tyNumber || rty != tyNumber {
		return nil, &query.Unsupported{Pos: e.Pos, Construct: fmt.Sprintf("%s between a %s and a %s", e.Op, lty, rty), Why: "firewarden orders numbers only"}
	}
	return query.Compare{Op: cmpOp(e.Op), L: lx, R: rx}, nil
}

func (c *compiler) between(e *Between) (query.Expr, error) {
	x, xty, err := c.value(e.X)
	if err != nil {
		return nil, err
	}
	lo, lty, err := c.value(e.Lo)
	if err != nil {
		return nil, err
	}
	hi, hty, err := c.value(e.Hi)
	if err != nil {
		return nil, err
	}
	if xty != tyNumber || lty != tyNumber || hty != tyNumber {
		return nil, &query.Unsupported{Pos: e.Pos, Construct: "between over a " + xty.String(), Why: "firewarden runs between over numbers only"}
	}
	var out query.Expr = query.And{X: []query.Expr{
		query.Compare{Op: query.Ge, L: x, R: lo},
		query.Compare{Op: query.Le, L: x, R: hi},
	}}
	if e.Not {
		// !between is true when the value is outside the range; a null
		// value is in no range and outside none (Kusto: null).
		out = query.And{X: []query.Expr{
			query.Not{X: query.Call{Name: "isnull", Args: []query.Expr{x}}},
			query.Not{X: out},
		}}
	}
	return out, nil
}

func (c *compiler) emptiness(e *Call) (query.Expr, error) {
	if len(e.Args) != 1 {
		return nil, query.Errorf(e.Pos, "%s() takes one argument", e.Name)
	}
	x, ty, err := c.value(e.Args[0])
	if err != nil {
		return nil, err
	}
	var empty, null query.Expr
	f, isField := x.(query.Field)
	if isField {
		null = query.Not{X: query.Exists{Path: f.Path}}
	} else {
		null = query.Call{Name: "isnull", Args: []query.Expr{x}}
	}
	if ty == tyString {
		empty = query.Or{X: []query.Expr{null, query.Match{Field: x, Op: query.Equal, Values: []string{""}}}}
		// Kusto strings are never null.
		null = query.Const{V: false}
	} else {
		empty = null
	}
	switch e.Name {
	case "isempty":
		return empty, nil
	case "isnotempty":
		return query.Not{X: empty}, nil
	case "isnull":
		return null, nil
	}
	return query.Not{X: null}, nil
}

// functions maps KQL scalar functions onto the IR's (engine/funcs_kql.go).
var functions = map[string]struct {
	ir       string
	min, max int
	ret      colType
}{
	"tolower":  {"kql_tolower", 1, 1, tyString},
	"toupper":  {"kql_toupper", 1, 1, tyString},
	"tostring": {"kql_tostring", 1, 1, tyString},
	"strlen":   {"kql_strlen", 1, 1, tyNumber},
	"strcat":   {"kql_strcat", 1, 64, tyString},
	"split":    {"kql_split", 2, 3, tyDynamic},
	"extract":  {"kql_extract", 3, 3, tyString},
	"tolong":   {"kql_tolong", 1, 1, tyNumber},
	"toint":    {"kql_tolong", 1, 1, tyNumber},
}

// value compiles a scalar expression.
func (c *compiler) value(e Expr) (query.Expr, colType, error) {
	switch e := e.(type) {
	case *Ident:
		col, err := c.column(e)
		if err != nil {
			return nil, 0, err
		}
		return col.expr(), col.Type, nil
	case *StrLit:
		return query.Lit{V: strValue(e.V)}, tyString, nil
	case *IntLit:
		return query.Lit{V: event.IntV(e.V)}, tyNumber, nil
	case *RealLit:
		return query.Lit{V: event.FloatV(e.V)}, tyNumber, nil
	case *BoolLit:
		return query.Lit{V: event.BoolV(e.V)}, tyBool, nil
	case *TimespanLit:
		return nil, 0, &query.Unsupported{Pos: e.Pos, Construct: "timespan value", Why: "timespans are read only in ago() and bin()"}
	case *List:
		return nil, 0, &query.Unsupported{Pos: e.Pos, Construct: "dynamic array value", Why: "lists are read only on the right of in, has_any and has_all"}
	case *Binary:
		switch e.Op {
		case "+", "-", "*", "/", "%":
			return nil, 0, &query.Unsupported{Pos: e.Pos, Construct: "arithmetic " + e.Op}
		}
	case *Call:
		switch e.Name {
		case "ago", "now":
			return nil, 0, agoRefusal(e.Pos)
		case "bin":
			return nil, 0, &query.Unsupported{Pos: e.Pos, Construct: "bin() outside summarize … by"}
		case "not", "isempty", "isnotempty", "isnull", "isnotnull":
		default:
			return c.call(e)
		}
	}
	// A condition used as a value: a bool.
	p, err := c.pred(e)
	if err != nil {
		return nil, 0, err
	}
	return p, tyBool, nil
}

func (c *compiler) call(e *Call) (query.Expr, colType, error) {
	f, ok := functions[e.Name]
	if !ok {
		return nil, 0, &query.Unsupported{Pos: e.Pos, Construct: "function " + e.Name + "()"}
	}
	if len(e.Args) < f.min || len(e.Args) > f.max {
		if e.Name == "extract" && len(e.Args) == 4 {
			return nil, 0, &query.Unsupported{Pos: e.Pos, Construct: "extract() with a type argument"}
		}
		return nil, 0, query.Errorf(e.Pos, "%s() takes %d to %d arguments, not %d", e.Name, f.min, f.max, len(e.Args))
	}
	if e.Name == "extract" {
		re, ok := e.Args[0].(*StrLit)
		if !ok {
			return nil, 0, &query.Unsupported{Pos: e.Args[0].exprPos(), Construct: "extract() of a non-constant regular expression"}
		}
		r, err := regexp.Compile(re.V)
		if err != nil {
			return nil, 0, query.Errorf(re.Pos, "regular expression: %v", err)
		}
		g, ok := e.Args[1].(*IntLit)
		if !ok || g.V < 0 || int(g.V) > r.NumSubexp() {
			return nil, 0, query.Errorf(e.Args[1].exprPos(), "extract(): the capture group must be a number from 0 to %d", r.NumSubexp())
		}
	}
	args := make([]query.Expr, len(e.Args))
	for i, a := range e.Args {
		x, _, err := c.value(a)
		if err != nil {
			return nil, 0, err
		}
		args[i] = x
	}
	return query.Call{Name: f.ir, Args: args}, f.ret, nil
}

func strValue(s string) event.Value { return event.Str(s) }

// parse compiles the parse operator: one regular expression over the
// source, each column a capture of it.
func (c *compiler) parse(op *ParseOp) error {
	if c.agg != nil {
		return &query.Unsupported{Pos: op.Pos, Construct: "parse after summarize"}
	}
	if op.Kind != "simple" && op.Kind != "regex" {
		return &query.Unsupported{Pos: op.Pos, Construct: "parse kind=" + op.Kind}
	}
	flags := "s"
	if op.Kind == "regex" {
		flags = ""
		for _, f := range op.Flags {
			if !strings.ContainsRune("ims", f) {
				return &query.Unsupported{Pos: op.Pos, Construct: "parse flag " + string(f)}
			}
			if !strings.ContainsRune(flags, f) {
				flags += string(f)
			}
		}
	} else if op.Flags != "" {
		return query.Errorf(op.Pos, "parse flags need kind=regex")
	}
	src, _, err := c.value(op.Src)
	if err != nil {
		return err
	}
	var re strings.Builder
	if flags != "" {
		re.WriteString("(?" + flags + ")")
	}
	re.WriteString("^")
	type capture struct {
		name string
		typ  string
		pos  query.Pos
	}
	var caps []capture
	for i, el := range op.Elems {
		last := i == len(op.Elems)-1
		switch {
		case el.Star:
			if !last {
				re.WriteString(".*?")
			}
		case el.Lit != nil:
			if op.Kind == "regex" {
				re.WriteString(*el.Lit)
			} else {
				re.WriteString(regexp.QuoteMeta(*el.Lit))
			}
		default:
			switch el.Type {
			case "", "string":
				if last {
					re.WriteString("(?P<" + group(len(caps)) + ">.*)")
				} else {
					re.WriteString("(?P<" + group(len(caps)) + ">.*?)")
				}
			case "int", "long":
				re.WriteString("(?P<" + group(len(caps)) + `>-?\d+)`)
			default:
				return &query.Unsupported{Pos: el.Pos, Construct: "parse column type " + el.Type}
			}
			caps = append(caps, capture{el.Col, el.Type, el.Pos})
		}
	}
	compiled, err := regexp.Compile(re.String())
	if err != nil {
		return query.Errorf(op.Pos, "parse pattern: %v", err)
	}
	if len(caps) == 0 {
		return query.Errorf(op.Pos, "parse pattern names no column")
	}
	for i, cp := range caps {
		x := query.Expr(query.Call{Name: "kql_extract", Args: []query.Expr{
			query.Lit{V: event.Str(re.String())}, query.Lit{V: event.IntV(int64(compiled.SubexpIndex(group(i))))}, src}})
		ty := tyString
		if cp.typ == "int" || cp.typ == "long" {
			x = query.Call{Name: "kql_tolong", Args: []query.Expr{x}}
			ty = tyNumber
		}
		c.cols[cp.name] = column{X: x, Type: ty}
	}
	return nil
}

// group names the capture of a parse pattern's i-th column (a name no
// user regex of a parse uses, so its own groups cannot shift the columns).
func group(i int) string { return "kqlparse" + strconv.Itoa(i) }

// aggregates maps KQL's aggregation functions onto the IR's, with Kusto's
// default output name prefix.
var aggregates = map[string]struct{ ir, prefix string }{
	"count":    {"count", "count_"},
	"dcount":   {"distinct", "dcount_"},
	"make_set": {"values", "set_"},
	"min":      {"min", "min_"},
	"max":      {"max", "max_"},
}

func (c *compiler) summarize(op *Summarize) error {
	if c.agg != nil {
		return &query.Unsupported{Pos: op.Pos, Construct: "a second summarize"}
	}
	agg := &query.Aggregate{}
	out := map[string]column{}
	taken := func(name string, p query.Pos) error {
		if _, dup := out[name]; dup {
			return query.Errorf(p, "summarize: column %s is named twice", name)
		}
		return nil
	}
	for _, it := range op.By {
		name := it.Name
		if cl, ok := it.X.(*Call); ok && cl.Name == "bin" {
			x, d, colName, err := c.bin(cl)
			if err != nil {
				return err
			}
			if name == "" {
				name = colName
			}
			if err := taken(name, it.Pos); err != nil {
				return err
			}
			if c.binned != 0 && c.binned != d {
				return &query.Unsupported{Pos: cl.Pos, Construct: "bin() of two sizes in one summarize"}
			}
			c.binned = d
			agg.GroupBy = append(agg.GroupBy, x)
			agg.Names = append(agg.Names, name)
			out[name] = column{Path: name, Type: tyNumber}
			continue
		}
		x, ty, err := c.value(it.X)
		if err != nil {
			return err
		}
		if name == "" {
			id, ok := it.X.(*Ident)
			if !ok {
				return &query.Unsupported{Pos: it.Pos, Construct: "summarize by an unnamed expression", Why: "write Name = expression"}
			}
			name = id.Name
		}
		if err := taken(name, it.Pos); err != nil {
			return err
		}
		agg.GroupBy = append(agg.GroupBy, x)
		agg.Names = append(agg.Names, name)
		out[name] = column{Path: name, Type: ty}
	}
	for _, it := range op.Aggs {
		cl, ok := it.X.(*Call)
		if !ok {
			return query.Errorf(it.Pos, "expected an aggregation function such as count()")
		}
		a, ok := aggregates[cl.Name]
		if !ok {
			return &query.Unsupported{Pos: cl.Pos, Construct: "aggregation " + cl.Name + "()"}
		}
		f := query.AggFunc{Name: a.ir}
		name := it.Name
		ty := tyNumber
		if cl.Name == "count" {
			if len(cl.Args) != 0 {
				return query.Errorf(cl.Pos, "count() takes no argument")
			}
			if name == "" {
				name = "count_"
			}
		} else {
			if len(cl.Args) != 1 {
				return &query.Unsupported{Pos: cl.Pos, Construct: cl.Name + "() with " + strconv.Itoa(len(cl.Args)) + " arguments", Why: "firewarden takes the column only"}
			}
			x, xty, err := c.value(cl.Args[0])
			if err != nil {
				return err
			}
			switch cl.Name {
			case "min", "max":
				switch xty {
				case tyNumber:
				case tyTime:
					// Compared as epoch milliseconds.
					x = query.Call{Name: "kql_epochms", Args: []query.Expr{x}}
				default:
					return &query.Unsupported{Pos: cl.Pos, Construct: cl.Name + "() of a " + xty.String(), Why: "firewarden takes min and max of numbers and datetimes"}
				}
			case "make_set":
				ty = tyDynamic
			}
			f.Field = x
			if name == "" {
				id, ok := cl.Args[0].(*Ident)
				if !ok {
					return &query.Unsupported{Pos: it.Pos, Construct: "unnamed " + cl.Name + "() of an expression", Why: "write Name = " + cl.Name + "(…)"}
				}
				name = a.prefix + id.Name
			}
		}
		if err := taken(name, it.Pos); err != nil {
			return err
		}
		f.As = name
		agg.Funcs = append(agg.Funcs, f)
		out[name] = column{Path: name, Type: ty, Agg: cl.Name}
	}
	switch {
	case c.binned > 0:
		agg.Window = c.binned
	case c.lookBack > 0:
		agg.Window = c.lookBack
	}
	agg.Tolerance = defaultTolerance
	if agg.Window > 0 {
		agg.Tolerance = min(agg.Window, defaultTolerance)
	}
	c.agg = agg
	c.cols = out
	return nil
}

// bin compiles bin(TimeGenerated, span) in a summarize's by.
func (c *compiler) bin(cl *Call) (query.Expr, time.Duration, string, error) {
	if len(cl.Args) != 2 {
		return nil, 0, "", query.Errorf(cl.Pos, "bin() takes a column and a timespan")
	}
	id, ok := cl.Args[0].(*Ident)
	if !ok {
		return nil, 0, "", &query.Unsupported{Pos: cl.Pos, Construct: "bin() of an expression"}
	}
	col, err := c.column(id)
	if err != nil {
		return nil, 0, "", err
	}
	if col.Type != tyTime {
		return nil, 0, "", &query.Unsupported{Pos: cl.Pos, Construct: "bin() of a " + col.Type.String(), Why: "firewarden bins datetimes only"}
	}
	ts, ok := cl.Args[1].(*TimespanLit)
	if !ok || ts.D < time.Millisecond {
		return nil, 0, "", &query.Unsupported{Pos: cl.Args[1].exprPos(), Construct: "bin() by anything but a timespan literal of at least 1ms"}
	}
	x := query.Call{Name: "kql_bin", Args: []query.Expr{col.expr(), query.Lit{V: event.IntV(ts.D.Milliseconds())}}}
	return x, ts.D, id.Name, nil
}

// refsAggregate reports whether e reads an aggregate column.
func (c *compiler) refsAggregate(e Expr) bool {
	found := false
	walk(e, func(x Expr) {
		if id, ok := x.(*Ident); ok {
			if col, ok := c.cols[id.Name]; ok && col.Agg != "" {
				found = true
			}
		}
	})
	return found
}

func walk(e Expr, fn func(Expr)) {
	if e == nil {
		return
	}
	fn(e)
	switch e := e.(type) {
	case *Binary:
		walk(e.L, fn)
		walk(e.R, fn)
	case *Call:
		for _, a := range e.Args {
			walk(a, fn)
		}
	case *List:
		for _, a := range e.Items {
			walk(a, fn)
		}
	case *Between:
		walk(e.X, fn)
		walk(e.Lo, fn)
		walk(e.Hi, fn)
	}
}

// havingOf compiles a where after summarize into the aggregate's having.
// The engine decides having as each event arrives, and a group fires once
// per burst, so only conditions that stay true once true as a group
// grows may read an aggregate: count, dcount and max above a bound, min
// below one, and a make_set holding a value. Anything else over an
// aggregate (<, ==, negation…) could only be decided when the window
// closes, which the engine does not do: it is refused.
func (c *compiler) havingOf(cond Expr) error {
	if err := c.monotone(cond, false); err != nil {
		return err
	}
	x, err := c.pred(cond)
	if err != nil {
		return err
	}
	c.having = append(c.having, x)
	return nil
}

func (c *compiler) monotone(e Expr, negated bool) error {
	if !c.refsAggregate(e) {
		return nil
	}
	refuse := func(p query.Pos, what string) error {
		return &query.Unsupported{Pos: p, Construct: what + " over an aggregate after summarize",
			Why: "firewarden decides a summarize as events arrive; only a condition that stays true as a group grows (count_ > n, dcount > n, max > n, min < n, a set has a value) can be decided then"}
	}
	switch e := e.(type) {
	case *Binary:
		switch e.Op {
		case "and", "or":
			if err := c.monotone(e.L, negated); err != nil {
				return err
			}
			return c.monotone(e.R, negated)
		case ">", ">=", "<", "<=":
			if negated {
				return refuse(e.Pos, "negated "+e.Op)
			}
			id, other, op := aggSide(e)
			if id == nil || c.refsAggregate(other) {
				return refuse(e.Pos, e.Op)
			}
			col := c.cols[id.Name]
			grows := col.Agg == "count" || col.Agg == "dcount" || col.Agg == "max"
			if grows && (op == ">" || op == ">=") || col.Agg == "min" && (op == "<" || op == "<=") {
				return nil
			}
			return refuse(e.Pos, e.Op+" on "+id.Name)
		case "has", "has_cs", "contains", "contains_cs", "==", "=~", "in", "in~", "has_any", "startswith", "endswith":
			id, ok := e.L.(*Ident)
			if !negated && ok && c.cols[id.Name].Agg == "make_set" && !c.refsAggregate(e.R) {
				return nil
			}
		}
		return refuse(e.Pos, "operator "+e.Op)
	case *Call:
		switch e.Name {
		case "not":
			if len(e.Args) == 1 {
				return c.monotone(e.Args[0], !negated)
			}
		case "isnotempty":
			if !negated {
				return nil
			}
		}
		return refuse(e.Pos, e.Name+"()")
	}
	return refuse(e.exprPos(), "this condition")
}

// aggSide finds the aggregate column of a comparison, mirroring the
// operator when it is on the right.
func aggSide(e *Binary) (*Ident, Expr, string) {
	if id, ok := e.L.(*Ident); ok {
		return id, e.R, e.Op
	}
	if id, ok := e.R.(*Ident); ok {
		mirror := map[string]string{">": "<", ">=": "<=", "<": ">", "<=": ">="}
		return id, e.L, mirror[e.Op]
	}
	return nil, nil, ""
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
