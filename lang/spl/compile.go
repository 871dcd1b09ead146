package spl

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/query"
)

// Compile parses and compiles a search.
func Compile(text string, opts Options) (*query.Query, error) {
	s, err := Parse(text, opts)
	if err != nil {
		return nil, err
	}
	return CompileSearch(s)
}

// The search's phases: events (before any aggregation), the rows of a
// tstats (its group-by fields are per-event values, its aggregates are
// the aggregation's), and the rows of a stats.
const (
	phaseEvents = iota
	phaseTstats
	phaseStats
)

// binding is one step of what a name means: an eval or rex result, a
// rename, or a table/fields that keeps or drops names.
type binding struct {
	to   string     // the name bound (a pattern for rename and keep)
	expr query.Expr // assign: the value
	from string     // rename: the source pattern
	kind byte       // 'a' assign, 'r' rename, 'k' keep, 'd' drop
	keep []string   // keep: patterns
}

// column is one output of the aggregation.
type column struct {
	id   string // internal name the having expressions use
	name string // current name
	key  bool
	gone bool // dropped by table/fields
}

type compiler struct {
	dm       *dataModel
	auditd   bool
	scope    []query.Expr
	scopeKey string
	stages   []query.Stage
	bind     []binding
	phase    int
	n        int // counter for internal names
	foreach  string

	// tstats
	tsKeys      []query.Expr
	tsKeyNames  []string
	tsAggs      []query.AggFunc // As = the output name
	tsFill      bool
	tsFillValue string

	agg    *query.Aggregate
	cols   []column
	having []query.Expr
}

// CompileSearch lowers a parsed search.
func CompileSearch(s *Search) (*query.Query, error) {
	c := &compiler{}
	for i, cmd := range s.Commands {
		if err := c.command(cmd, i == 0); err != nil {
			return nil, err
		}
	}
	return c.finish()
}

func (c *compiler) command(cmd Command, first bool) error {
	switch x := cmd.(type) {
	case *SearchCmd:
		if c.phase != phaseEvents {
			return c.rowFilter(x.X, true)
		}
		if x.X == nil {
			return nil
		}
		e, err := c.searchBool(x.X, first)
		if err != nil {
			return err
		}
		c.filter(e)
		return nil
	case *Tstats:
		return c.tstats(x)
	case *Where:
		if c.phase != phaseEvents {
			return c.rowFilter(x.X, false)
		}
		e, err := c.boolExpr(x.X)
		if err != nil {
			return err
		}
		c.filter(e)
		return nil
	case *Eval:
		if c.phase == phaseStats {
			return &query.Unsupported{Pos: x.P, Construct: "eval after stats", Why: "firewarden tests a stats result only with where/search"}
		}
		for _, a := range x.Assigns {
			v, err := c.valueExpr(a.X)
			if err != nil {
				return err
			}
			if c.phase == phaseTstats && c.readsAggregate(a.X) {
				return &query.Unsupported{Pos: a.P, Construct: "eval of a tstats aggregate", Why: "only its group-by fields can be computed on"}
			}
			c.assign(c.subst(a.Field), v)
		}
		return nil
	case *Foreach:
		return c.foreachCmd(x)
	case *Rex:
		return c.rex(x)
	case *Regex:
		fe, err := c.resolveEvent(x.Field, x.P)
		if err != nil {
			return err
		}
		if _, err := regexp.Compile(x.Pattern); err != nil {
			return regexErr(x.P, x.Pattern, err)
		}
		var e query.Expr = query.Match{Field: fe, Op: query.Regex, Values: []string{x.Pattern}}
		if x.Neg {
			e = query.Not{X: e}
		}
		c.filter(e)
		return nil
	case *Rename:
		for _, p := range x.Pairs {
			if strings.Count(p[0], "*") != strings.Count(p[1], "*") {
				return query.Errorf(x.P, "rename %s as %s: the wildcards do not match", p[0], p[1])
			}
			if c.phase != phaseEvents {
				c.renameCols(p[0], p[1])
			}
			c.bind = append(c.bind, binding{kind: 'r', from: p[0], to: p[1]})
		}
		return nil
	case *Fields:
		if c.phase != phaseEvents {
			for i := range c.cols {
				m := matchesAny(x.Names, c.cols[i].name)
				if m == x.Remove {
					c.cols[i].gone = true
				}
			}
			return nil
		}
		if x.Remove {
			for _, n := range x.Names {
				c.bind = append(c.bind, binding{kind: 'd', to: n})
			}
			return nil
		}
		c.bind = append(c.bind, binding{kind: 'k', keep: x.Names})
		return nil
	case *Dedup:
		return &query.Unsupported{Pos: x.P, Construct: "dedup", Why: "a streaming search has no end to deduplicate at; alert deduplication and suppression do this"}
	case *Bin:
		if c.phase != phaseEvents {
			return &query.Unsupported{Pos: x.P, Construct: "bin after stats"}
		}
		span, err := parseSpan(x.Span)
		if err != nil {
			return query.Errorf(x.P, "bin: %v", err)
		}
		v, err := c.resolveEvent(x.Field, x.P)
		if err != nil {
			return err
		}
		to := x.Field
		if x.As != "" {
			to = x.As
		}
		c.assign(to, query.Call{Name: "timebucket", Args: []query.Expr{v, query.Lit{V: event.FloatV(span.Seconds())}}})
		return nil
	case *Convert:
		if c.phase == phaseEvents {
			return &query.Unsupported{Pos: x.P, Construct: "convert before stats"}
		}
		// After an aggregation convert only formats the output; alerts
		// carry the values as numbers (docs/spl.md).
		return nil
	case *Stats:
		return c.stats(x)
	}
	return fmt.Errorf("spl: unknown command %T", cmd)
}

func (c *compiler) filter(e query.Expr) {
	if k, ok := e.(query.Const); ok && k.V {
		return
	}
	c.stages = append(c.stages, query.Filter{Expr: e})
}

// assign binds name to a value computed per event (a program-local field).
func (c *compiler) assign(name string, v query.Expr) {
	c.n++
	id := fmt.Sprintf("spl:%d:%s", c.n, name)
	c.stages = append(c.stages, query.Assign{Field: id, Value: v})
	c.bind = append(c.bind, binding{kind: 'a', to: name, expr: query.Field{Path: id}})
}

func (c *compiler) subst(s string) string {
	if c.foreach != "" {
		s = strings.ReplaceAll(s, "<<FIELD>>", c.foreach)
	}
	return s
}

// resolve is what a field name means now: per event (agg false) or an
// aggregation output (agg true, the column id).
func (c *compiler) resolve(name string) (e query.Expr, agg bool) {
	return c.resolveAt(c.subst(name), len(c.bind))
}

func (c *compiler) resolveAt(name string, upto int) (query.Expr, bool) {
	for i := upto - 1; i >= 0; i-- {
		b := c.bind[i]
		switch b.kind {
		case 'a':
			if b.to == name {
				return b.expr, false
			}
		case 'r':
			if src, ok := wildRewrite(b.to, b.from, name); ok {
				return c.resolveAt(src, i)
			}
			if wildMatch(b.from, name) {
				return null, false
			}
		case 'd':
			if wildMatch(b.to, name) {
				return null, false
			}
		case 'k':
			if !matchesAny(b.keep, name) {
				return null, false
			}
		}
	}
	return c.base(name)
}

// base resolves a name no command bound.
func (c *compiler) base(name string) (query.Expr, bool) {
	switch c.phase {
	case phaseTstats:
		for i, n := range c.tsKeyNames {
			if n == name {
				return c.tsKeys[i], false
			}
		}
		for _, a := range c.tsAggs {
			if a.As == name {
				return query.Field{Path: a.As}, true
			}
		}
		return null, false
	case phaseStats:
		for _, col := range c.cols {
			if col.name == name && !col.gone {
				return query.Field{Path: col.id}, true
			}
		}
		return null, false
	}
	if name == "_time" {
		return timeField, false
	}
	if c.dm != nil {
		obj, field, ok := strings.Cut(name, ".")
		if ok && obj == c.dm.object {
			if e, ok := c.dm.fields[field]; ok {
				return e, false
			}
		}
		return null, false
	}
	if c.auditd {
		return auditdField(name), false
	}
	if name == "host" {
		return f("host.name"), false
	}
	return f(name), false
}

// resolveEvent resolves a name that must be a per-event value.
func (c *compiler) resolveEvent(name string, p query.Pos) (query.Expr, error) {
	if name == "_raw" {
		return nil, &query.Unsupported{Pos: p, Construct: "_raw", Why: "firewarden's events have no raw text; name a field"}
	}
	e, agg := c.resolve(name)
	if agg {
		return nil, &query.Unsupported{Pos: p, Construct: "per-event command on the aggregate " + name}
	}
	return e, nil
}

func wildMatch(pat, name string) bool {
	_, ok := wildCaptures(pat, name)
	return ok
}

// wildCaptures matches name against pat (* any run) and returns the runs.
func wildCaptures(pat, name string) ([]string, bool) {
	if !strings.Contains(pat, "*") {
		return nil, pat == name
	}
	re := "^" + strings.ReplaceAll(regexp.QuoteMeta(pat), `\*`, "(.*?)") + "$"
	m := regexp.MustCompile(re).FindStringSubmatch(name)
	if m == nil {
		return nil, false
	}
	return m[1:], true
}

// wildRewrite: name matches to; the corresponding name under from.
func wildRewrite(to, from, name string) (string, bool) {
	caps, ok := wildCaptures(to, name)
	if !ok {
		return "", false
	}
	out := from
	for _, c := range caps {
		out = strings.Replace(out, "*", c, 1)
	}
	return out, true
}

func matchesAny(pats []string, name string) bool {
	for _, p := range pats {
		if wildMatch(p, name) {
			return true
		}
	}
	return false
}

func (c *compiler) renameCols(from, to string) {
	for i := range c.cols {
		if caps, ok := wildCaptures(from, c.cols[i].name); ok {
			n := to
			for _, cp := range caps {
				n = strings.Replace(n, "*", cp, 1)
			}
			c.cols[i].name = n
		}
	}
	for i := range c.tsAggs {
		if caps, ok := wildCaptures(from, c.tsAggs[i].As); ok {
			n := to
			for _, cp := range caps {
				n = strings.Replace(n, "*", cp, 1)
			}
			c.tsAggs[i].As = n
		}
	}
	for i := range c.tsKeyNames {
		if caps, ok := wildCaptures(from, c.tsKeyNames[i]); ok {
			n := to
			for _, cp := range caps {
				n = strings.Replace(n, "*", cp, 1)
			}
			c.tsKeyNames[i] = n
		}
	}
}

// ---- tstats and stats ----

func (c *compiler) tstats(t *Tstats) error {
	dm, ok := dataModels[strings.ToLower(t.DataModel)]
	if !ok {
		return &query.Unsupported{Pos: t.P, Construct: "datamodel=" + t.DataModel, Why: "firewarden maps Endpoint.Processes and Endpoint.Filesystem"}
	}
	c.dm = &dm
	c.scope = append(c.scope, dm.scope)
	c.scopeKey = "spl:" + strings.ToLower(t.DataModel)
	for k, v := range t.Opts {
		switch k {
		case "summariesonly", "allow_old_summaries", "chunk_size", "local":
		case "fillnull_value":
			c.tsFill = true
			c.tsFillValue = v
		case "prestats", "append":
			if v == "t" || v == "true" {
				return &query.Unsupported{Pos: t.P, Construct: "tstats " + k + "=true"}
			}
		default:
			return &query.Unsupported{Pos: t.P, Construct: "tstats " + k + "="}
		}
	}
	if t.Where != nil {
		e, err := c.searchBool(t.Where, false)
		if err != nil {
			return err
		}
		c.filter(e)
	}
	for _, b := range t.By {
		e, _ := c.resolve(b.Name)
		if b.Span != "" {
			span, err := parseSpan(b.Span)
			if err != nil {
				return query.Errorf(b.P, "span: %v", err)
			}
			e = query.Call{Name: "timebucket", Args: []query.Expr{e, query.Lit{V: event.FloatV(span.Seconds())}}}
		}
		if c.tsFill {
			e = query.Call{Name: "coalesce", Args: []query.Expr{e, str(c.tsFillValue)}}
		}
		c.tsKeys = append(c.tsKeys, e)
		c.tsKeyNames = append(c.tsKeyNames, b.Name)
	}
	for _, a := range t.Aggs {
		fn, err := c.aggFunc(a, false)
		if err != nil {
			return err
		}
		c.tsAggs = append(c.tsAggs, fn)
	}
	c.phase = phaseTstats
	c.bind = nil
	return nil
}

// aggFunc maps an SPL aggregate onto the IR's (the field resolved per
// event).
func (c *compiler) aggFunc(a Agg, _ bool) (query.AggFunc, error) {
	name := map[string]string{"count": "count", "c": "count", "dc": "distinct", "distinct_count": "distinct",
		"values": "values", "min": "min", "max": "max", "sum": "sum", "avg": "avg", "mean": "avg"}[a.Func]
	if name == "" {
		return query.AggFunc{}, &query.Unsupported{Pos: a.P, Construct: a.Func + "()", Why: "the aggregates are count, dc, values, min, max, sum, avg"}
	}
	as := a.As
	if as == "" {
		as = a.Func
		if a.Field != "" {
			as = a.Func + "(" + a.Field + ")"
		}
	}
	fn := query.AggFunc{Name: name, As: as}
	if a.Field != "" {
		e, agg := c.resolve(a.Field)
		if agg {
			return query.AggFunc{}, &query.Unsupported{Pos: a.P, Construct: a.Func + "(" + a.Field + ") over an aggregate"}
		}
		fn.Field = e
	} else if name != "count" {
		return query.AggFunc{}, query.Errorf(a.P, "%s() needs a field", a.Func)
	}
	return fn, nil
}

func (c *compiler) stats(s *Stats) error {
	if c.phase == phaseStats {
		return &query.Unsupported{Pos: s.P, Construct: "stats after stats"}
	}
	agg := &query.Aggregate{}
	c.cols = nil
	for _, b := range s.By {
		if b.Span != "" {
			return &query.Unsupported{Pos: b.P, Construct: "stats by _time span=", Why: "bin _time first"}
		}
		e, isAgg := c.resolve(b.Name)
		if isAgg {
			return &query.Unsupported{Pos: b.P, Construct: "stats by the tstats aggregate " + b.Name}
		}
		agg.GroupBy = append(agg.GroupBy, e)
		c.cols = append(c.cols, column{id: "key:" + strconv.Itoa(len(c.cols)), name: b.Name, key: true})
	}
	for _, a := range s.Aggs {
		var fn query.AggFunc
		var err error
		if c.phase == phaseTstats {
			fn, err = c.rowAgg(a)
		} else {
			fn, err = c.aggFunc(a, false)
		}
		if err != nil {
			return err
		}
		c.cols = append(c.cols, column{id: "agg:" + strconv.Itoa(len(c.cols)), name: fn.As})
		fn.As = c.cols[len(c.cols)-1].id
		agg.Funcs = append(agg.Funcs, fn)
	}
	if len(c.having) > 0 {
		return &query.Unsupported{Pos: s.P, Construct: "where on tstats aggregates before stats"}
	}
	c.agg = agg
	c.phase = phaseStats
	c.bind = nil
	return nil
}

// rowAgg is a stats aggregate over tstats rows, computed over the events
// of those rows: exact for count (the distinct rows), for dc, values, min
// and max of the rows' group-by values and of what rex and eval computed
// from them, and for min(min), max(max) and sum(count) of its aggregates.
func (c *compiler) rowAgg(a Agg) (query.AggFunc, error) {
	as := a.As
	if as == "" {
		as = a.Func
		if a.Field != "" {
			as = a.Func + "(" + a.Field + ")"
		}
	}
	if a.Field == "" && (a.Func == "count" || a.Func == "c") {
		if len(c.tsKeys) == 0 {
			return query.AggFunc{}, &query.Unsupported{Pos: a.P, Construct: "stats count over a tstats without by"}
		}
		return query.AggFunc{Name: "distinct", Field: c.rowKey(), As: as}, nil
	}
	e, isAgg := c.resolve(a.Field)
	if !isAgg {
		fn, err := c.aggFunc(a, false)
		if err != nil {
			return fn, err
		}
		if fn.Name == "count" {
			// rows where the field is not null
			fn = query.AggFunc{Name: "distinct", As: as, Field: query.Call{Name: "if", Args: []query.Expr{
				query.Call{Name: "isnull", Args: []query.Expr{e}}, null, c.rowKey()}}}
		}
		if fn.Name == "sum" || fn.Name == "avg" {
			return query.AggFunc{}, &query.Unsupported{Pos: a.P, Construct: a.Func + "() of a tstats group-by field", Why: "rows, not events, would be summed"}
		}
		return fn, nil
	}
	var src query.AggFunc
	for _, t := range c.tsAggs {
		if e == (query.Field{Path: t.As}) {
			src = t
		}
	}
	fn := map[string]string{"min": "min", "max": "max", "sum": "sum"}[a.Func]
	switch {
	case fn == "min" && src.Name == "min", fn == "max" && src.Name == "max":
		return query.AggFunc{Name: fn, Field: src.Field, As: as}, nil
	case fn == "sum" && src.Name == "count" && src.Field == nil:
		return query.AggFunc{Name: "count", As: as}, nil
	}
	return query.AggFunc{}, &query.Unsupported{Pos: a.P, Construct: a.Func + "(" + a.Field + ") over the tstats aggregate " + src.Name + "()"}
}

// rowKey identifies a tstats row: its group-by values joined.
func (c *compiler) rowKey() query.Expr {
	args := []query.Expr{}
	for i, k := range c.tsKeys {
		if i > 0 {
			args = append(args, str("\x1f"))
		}
		args = append(args, query.Call{Name: "string", Args: []query.Expr{k}})
	}
	return query.Call{Name: "concat", Args: args}
}

// rowFilter is where or search after an aggregation: per event when it
// reads only a tstats' group-by fields, the aggregation's having
// otherwise.
func (c *compiler) rowFilter(x Expr, search bool) error {
	if x == nil {
		return nil
	}
	var e query.Expr
	var err error
	if search {
		e, err = c.searchBool(x, false)
	} else {
		e, err = c.boolExpr(x)
	}
	if err != nil {
		return err
	}
	if c.phase == phaseTstats && !c.readsAggregate(x) {
		c.filter(e)
		return nil
	}
	if c.phase == phaseTstats && c.readsDerived(x) {
		return &query.Unsupported{Pos: x.Pos(), Construct: "where on both a tstats aggregate and a computed field"}
	}
	c.having = append(c.having, e)
	return nil
}

// readsAggregate: x names an aggregation output.
func (c *compiler) readsAggregate(x Expr) bool {
	found := false
	walkIdents(x, func(n string) {
		if _, agg := c.resolve(n); agg {
			found = true
		}
	})
	return found
}

func (c *compiler) readsDerived(x Expr) bool {
	found := false
	walkIdents(x, func(n string) {
		e, agg := c.resolve(n)
		if fe, ok := e.(query.Field); !agg && ok && strings.HasPrefix(fe.Path, "spl:") {
			found = true
		}
	})
	return found
}

func walkIdents(x Expr, fn func(string)) {
	switch x := x.(type) {
	case *Ident:
		fn(x.Name)
	case *Binary:
		walkIdents(x.L, fn)
		walkIdents(x.R, fn)
	case *Unary:
		walkIdents(x.X, fn)
	case *Call:
		for _, a := range x.Args {
			walkIdents(a, fn)
		}
	case *In:
		walkIdents(x.X, fn)
	case *FieldTerm:
		fn(x.Field)
	case *FieldIn:
		fn(x.Field)
	}
}

func (c *compiler) finish() (*query.Query, error) {
	q := &query.Query{ScopeKey: c.scopeKey}
	switch len(c.scope) {
	case 0:
	case 1:
		q.Scope = c.scope[0]
	default:
		q.Scope = query.And{X: c.scope}
	}
	if q.Scope == nil {
		q.ScopeKey = ""
	}
	q.Stages = c.stages
	if c.phase == phaseTstats {
		// The tstats is the aggregation.
		agg := &query.Aggregate{GroupBy: c.tsKeys}
		c.cols = nil
		for i, n := range c.tsKeyNames {
			c.cols = append(c.cols, column{id: "key:" + strconv.Itoa(i), name: n, key: true})
		}
		idOf := map[string]string{}
		for _, a := range c.tsAggs {
			id := "agg:" + strconv.Itoa(len(c.cols))
			c.cols = append(c.cols, column{id: id, name: a.As})
			idOf[a.As] = id
			a.As = id
			agg.Funcs = append(agg.Funcs, a)
		}
		for i, h := range c.having {
			c.having[i] = renameFields(h, idOf)
		}
		c.agg = agg
	}
	if c.agg != nil {
		ren := map[string]string{}
		names := map[string]bool{}
		for _, col := range c.cols {
			n := col.name
			if names[n] {
				return nil, &query.Error{Msg: fmt.Sprintf("stats: the output name %q is used twice", n)}
			}
			names[n] = true
			ren[col.id] = n
			if col.key {
				c.agg.Names = append(c.agg.Names, n)
			}
		}
		for i := range c.agg.Funcs {
			c.agg.Funcs[i].As = ren[c.agg.Funcs[i].As]
		}
		switch len(c.having) {
		case 0:
		case 1:
			c.agg.Having = renameFields(c.having[0], ren)
		default:
			c.agg.Having = renameFields(query.And{X: c.having}, ren)
		}
		q.Stages = append(q.Stages, *c.agg)
	}
	return q, nil
}

// renameFields rewrites the field paths of a having expression.
func renameFields(x query.Expr, ren map[string]string) query.Expr {
	r := func(y query.Expr) query.Expr { return renameFields(y, ren) }
	switch x := x.(type) {
	case query.Field:
		if n, ok := ren[x.Path]; ok {
			x.Path = n
		}
		return x
	case query.And:
		out := make([]query.Expr, len(x.X))
		for i, y := range x.X {
			out[i] = r(y)
		}
		return query.And{X: out}
	case query.Or:
		out := make([]query.Expr, len(x.X))
		for i, y := range x.X {
			out[i] = r(y)
		}
		return query.Or{X: out}
	case query.Not:
		return query.Not{X: r(x.X)}
	case query.Match:
		x.Field = r(x.Field)
		return x
	case query.Compare:
		x.L, x.R = r(x.L), r(x.R)
		return x
	case query.Call:
		args := make([]query.Expr, len(x.Args))
		for i, a := range x.Args {
			args[i] = r(a)
		}
		x.Args = args
		return x
	case query.Truthy:
		return query.Truthy{X: r(x.X)}
	case query.Exists:
		if n, ok := ren[x.Path]; ok {
			x.Path = n
		}
		return x
	}
	return x
}

// ---- rex and foreach ----

var namedGroup = regexp.MustCompile(`\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>`)

func (c *compiler) rex(r *Rex) error {
	if c.phase == phaseStats {
		return &query.Unsupported{Pos: r.P, Construct: "rex after stats"}
	}
	src, err := c.resolveEvent(r.Field, r.P)
	if err != nil {
		return err
	}
	// A pattern written over several lines (the seed's) is one pattern:
	// line breaks and the indentation around them are layout.
	pat := joinLines(r.Pattern)
	c.n++
	prefix := fmt.Sprintf("spl_rex%d_", c.n)
	var names []string
	pat = namedGroup.ReplaceAllStringFunc(pat, func(m string) string {
		n := namedGroup.FindStringSubmatch(m)[1]
		names = append(names, n)
		return "(?P<" + prefix + n + ">"
	})
	if len(names) == 0 {
		return query.Errorf(r.P, "rex: the regular expression has no named group (?<name>…)")
	}
	if _, err := regexp.Compile(pat); err != nil {
		return regexErr(r.P, r.Pattern, err)
	}
	// The extract stage reads a field: give the source a name.
	field := ""
	if fe, ok := src.(query.Field); ok {
		field = fe.Path
	} else {
		c.assign(r.Field, src)
		field = c.bind[len(c.bind)-1].expr.(query.Field).Path
	}
	c.stages = append(c.stages, query.Extract{Field: field, Regex: pat})
	for _, n := range names {
		prev, _ := c.resolve(n)
		var v query.Expr = query.Field{Path: prefix + n}
		if l, ok := prev.(query.Lit); !ok || !l.V.IsNull() {
			v = query.Call{Name: "coalesce", Args: []query.Expr{v, prev}}
		}
		c.bind = append(c.bind, binding{kind: 'a', to: n, expr: v})
	}
	return nil
}

func joinLines(s string) string {
	if !strings.ContainsAny(s, "\n\r") {
		return s
	}
	lines := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
	for i := range lines {
		if i > 0 {
			lines[i] = strings.TrimLeft(lines[i], " \t")
		}
		if i < len(lines)-1 {
			lines[i] = strings.TrimRight(lines[i], " \t")
		}
	}
	return strings.Join(lines, "")
}

func regexErr(p query.Pos, pat string, err error) error {
	return &query.Unsupported{Pos: p, Construct: "regular expression " + strconv.Quote(pat), Why: "not RE2 syntax: " + err.Error()}
}

func (c *compiler) foreachCmd(x *Foreach) error {
	if c.phase != phaseEvents {
		return &query.Unsupported{Pos: x.P, Construct: "foreach after stats"}
	}
	var names []string
	switch {
	case c.auditd:
		names = auditdFieldNames()
	case c.dm != nil:
		for k := range c.dm.fields {
			names = append(names, c.dm.object+"."+k)
		}
	default:
		return &query.Unsupported{Pos: x.P, Construct: "foreach", Why: "firewarden expands foreach patterns only over linux:audit and data model fields"}
	}
	for _, n := range names {
		if !wildMatch(x.Pattern, n) {
			continue
		}
		c.foreach = n
		for _, cmd := range x.Body {
			if err := c.command(cmd, false); err != nil {
				c.foreach = ""
				return err
			}
		}
	}
	c.foreach = ""
	return nil
}

// parseSpan reads a span: 10s, 15m, 1h, 1d, or seconds.
func parseSpan(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && (isDigit(s[i]) || s[i] == '.') {
		i++
	}
	n, err := strconv.ParseFloat(s[:i], 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("bad span %q", s)
	}
	unit := map[string]time.Duration{"": time.Second, "s": time.Second, "sec": time.Second, "secs": time.Second,
		"m": time.Minute, "min": time.Minute, "mins": time.Minute, "h": time.Hour, "hr": time.Hour, "hrs": time.Hour,
		"d": 24 * time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour, "w": 7 * 24 * time.Hour}[strings.ToLower(s[i:])]
	if unit == 0 {
		return 0, fmt.Errorf("bad span unit %q", s[i:])
	}
	return time.Duration(n * float64(unit)), nil
}
