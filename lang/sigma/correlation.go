package sigma

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/firewarden/firewarden/query"
)

// Correlation types of Sigma's correlation specification 2.1, and
// value_median (pySigma's: value_percentile at rank 50).
const (
	EventCount      = "event_count"
	ValueCount      = "value_count"
	Temporal        = "temporal"
	TemporalOrdered = "temporal_ordered"
	ValueSum        = "value_sum"
	ValueAvg        = "value_avg"
	ValuePercentile = "value_percentile"
	ValueMedian     = "value_median"
)

// correlationTypes lists the types with the aggregate each compiles to.
var correlationTypes = map[string]string{
	EventCount: "count", ValueCount: "distinct", Temporal: "inputs", TemporalOrdered: "inputs",
	ValueSum: "sum", ValueAvg: "avg", ValuePercentile: "percentile", ValueMedian: "percentile",
}

// Ref is a name as written in a rule, with its position.
type Ref struct {
	Text string
	Pos  query.Pos
}

// Alias is one entry of a correlation's aliases: a group-by name that
// stands for a different field in each referenced rule's events.
type Alias struct {
	Name   Ref
	Fields map[string]Ref // by rule reference (id or name) as written
	Order  []string       // the references in the order written
}

// Bound is one criterion of a correlation condition (gte: 3).
type Bound struct {
	Op  query.CmpOp
	N   float64
	Int bool
	Pos query.Pos
}

// Correlation is a parsed Sigma correlation rule.
type Correlation struct {
	Type     string
	TypePos  query.Pos
	Rules    []Ref
	GroupBy  []Ref
	Aliases  []Alias
	Timespan time.Duration
	// Generate keeps the referenced rules' own alerts (generate: true);
	// by default they only feed the correlation.
	Generate bool
	// Cond is the condition's criteria, ANDed (a range is two). Empty for
	// temporal types without a condition: every referenced rule must match.
	Cond []Bound
	// Fields are the condition's field(s) of the value_* types.
	Fields     []Ref
	Percentile float64
	Pos        query.Pos // the correlation key
	ecs        bool      // taxonomy ecs: field names are ECS paths as written
}

// DefaultTolerance bounds how late (in event time) an event may arrive
// and still count in a correlation's window: the smaller of this and the
// timespan.
const DefaultTolerance = time.Minute

var correlationKeys = []string{"type", "rules", "group-by", "timespan", "condition", "aliases", "generate"}

// parseCorrelation reads a correlation rule's correlation section (and
// its top-level generate attribute).
func parseCorrelation(r *Rule, ps []pair, cp *pair, ecs bool) error {
	file := r.Path
	if p := find(ps, "logsource"); p != nil {
		return query.Errorf(nodePos(file, p.key), "logsource in a correlation rule, expected the log source in the rules it references")
	}
	if cp.val.Kind != yaml.MappingNode {
		return query.Errorf(nodePos(file, cp.val), "%s as correlation, expected a mapping with type, rules, group-by, timespan and condition", kindName(cp.val))
	}
	cps, err := pairs(file, cp.val)
	if err != nil {
		return err
	}
	c := &Correlation{Pos: nodePos(file, cp.key), ecs: ecs}
	var generate *pair
	for i := range cps {
		p := &cps[i]
		known := false
		for _, k := range correlationKeys {
			known = known || p.key.Value == k
		}
		if !known {
			return query.Errorf(nodePos(file, p.key), "unknown correlation attribute %q, expected one of %s", p.key.Value, strings.Join(correlationKeys, ", "))
		}
	}
	tp := find(cps, "type")
	if tp == nil {
		return query.Errorf(c.Pos, "correlation without a type, expected type: event_count, value_count, temporal, temporal_ordered, value_sum, value_avg or value_percentile")
	}
	if tp.val.Kind != yaml.ScalarNode || isNull(tp.val) {
		return query.Errorf(nodePos(file, tp.val), "%s as correlation type, expected event_count, value_count, temporal, temporal_ordered, value_sum, value_avg or value_percentile", kindName(tp.val))
	}
	c.Type, c.TypePos = tp.val.Value, nodePos(file, tp.val)
	if _, ok := correlationTypes[c.Type]; !ok {
		return query.Errorf(c.TypePos, "correlation type %q, expected event_count, value_count, temporal, temporal_ordered, value_sum, value_avg or value_percentile", c.Type)
	}
	temporal := c.Type == Temporal || c.Type == TemporalOrdered

	rp := find(cps, "rules")
	if rp == nil {
		return query.Errorf(c.Pos, "correlation without rules, expected rules: a list of the ids or names of the rules it correlates")
	}
	if c.Rules, err = refList(file, rp.val, "rules"); err != nil {
		return err
	}
	if len(c.Rules) == 0 {
		return query.Errorf(nodePos(file, rp.val), "empty rules, expected the ids or names of the rules the correlation correlates")
	}
	for i, a := range c.Rules {
		for _, b := range c.Rules[:i] {
			if a.Text == b.Text {
				return query.Errorf(a.Pos, "rule %q referenced twice, expected each rule once", a.Text)
			}
		}
	}

	if gp := find(cps, "group-by"); gp != nil {
		if c.GroupBy, err = refList(file, gp.val, "group-by"); err != nil {
			return err
		}
		for i, a := range c.GroupBy {
			for _, b := range c.GroupBy[:i] {
				if a.Text == b.Text {
					return query.Errorf(a.Pos, "group-by field %q listed twice, expected each field once", a.Text)
				}
			}
		}
	}

	sp := find(cps, "timespan")
	if sp == nil {
		return query.Errorf(c.Pos, "correlation without a timespan, expected timespan: a number and a unit (s, m, h, d, w, M, y), such as 5m")
	}
	if c.Timespan, err = parseTimespan(file, sp.val); err != nil {
		return err
	}

	if ap := find(cps, "aliases"); ap != nil {
		if c.Aliases, err = parseAliases(file, ap.val, c.GroupBy); err != nil {
			return err
		}
	}

	if p := find(ps, "generate"); p != nil {
		generate = p
	}
	if p := find(cps, "generate"); p != nil {
		if generate != nil {
			return query.Errorf(nodePos(file, p.key), "generate both at the top level and in correlation, expected it once")
		}
		generate = p
	}
	if generate != nil {
		if generate.val.Kind != yaml.ScalarNode || generate.val.ShortTag() != "!!bool" {
			return query.Errorf(nodePos(file, generate.val), "%s as generate, expected true or false", describe(generate.val))
		}
		if err := generate.val.Decode(&c.Generate); err != nil {
			return query.Errorf(nodePos(file, generate.val), "%s as generate, expected true or false", describe(generate.val))
		}
	}

	condp := find(cps, "condition")
	if condp == nil {
		if !temporal {
			return query.Errorf(c.Pos, "%s correlation without a condition, expected condition: with gt, gte, lt, lte, eq or neq", c.Type)
		}
	} else if err := parseCorrelationCondition(file, c, condp.val); err != nil {
		return err
	}
	r.Correlation = c
	return nil
}

// describe names a node for an error: its text when it is a scalar.
func describe(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		return strconv.Quote(n.Value)
	}
	return kindName(n)
}

// refList reads a string or a list of non-empty strings.
func refList(file string, n *yaml.Node, what string) ([]Ref, error) {
	n = resolve(n)
	one := func(e *yaml.Node) (Ref, error) {
		e = resolve(e)
		if e.Kind != yaml.ScalarNode || isNull(e) || e.Value == "" {
			return Ref{}, query.Errorf(nodePos(file, e), "%s in %s, expected a name", kindName(e), what)
		}
		return Ref{Text: e.Value, Pos: nodePos(file, e)}, nil
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if isNull(n) {
			return nil, query.Errorf(nodePos(file, n), "null as %s, expected a name or a list of names", what)
		}
		r, err := one(n)
		if err != nil {
			return nil, err
		}
		return []Ref{r}, nil
	case yaml.SequenceNode:
		var out []Ref
		for _, e := range n.Content {
			r, err := one(e)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
		return out, nil
	}
	return nil, query.Errorf(nodePos(file, n), "%s as %s, expected a name or a list of names", kindName(n), what)
}

// timespanUnits are the units pySigma reads: the spec's s, m, h, d, and
// w, M (an average month) and y (an average year).
var timespanUnits = map[byte]time.Duration{
	's': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour,
	'M': 2629746 * time.Second, 'y': 31556952 * time.Second,
}

func parseTimespan(file string, n *yaml.Node) (time.Duration, error) {
	bad := func() (time.Duration, error) {
		return 0, query.Errorf(nodePos(file, n), "%s as timespan, expected a positive whole number and a unit (s, m, h, d, w, M, y), such as 5m", describe(n))
	}
	if n.Kind != yaml.ScalarNode || isNull(n) || len(n.Value) < 2 {
		return bad()
	}
	v := n.Value
	unit, ok := timespanUnits[v[len(v)-1]]
	if !ok {
		return bad()
	}
	num := v[:len(v)-1]
	for i := 0; i < len(num); i++ {
		if num[i] < '0' || num[i] > '9' {
			return bad()
		}
	}
	k, err := strconv.ParseInt(num, 10, 64)
	if err != nil || k <= 0 || k > int64(math.MaxInt64/unit) {
		return bad()
	}
	return time.Duration(k) * unit, nil
}

func parseAliases(file string, n *yaml.Node, groupBy []Ref) ([]Alias, error) {
	if n.Kind != yaml.MappingNode {
		return nil, query.Errorf(nodePos(file, n), "%s as aliases, expected a mapping of alias name to {rule name: field}", kindName(n))
	}
	aps, err := pairs(file, n)
	if err != nil {
		return nil, err
	}
	var out []Alias
	for _, ap := range aps {
		a := Alias{Name: Ref{Text: ap.key.Value, Pos: nodePos(file, ap.key)}, Fields: map[string]Ref{}}
		if ap.val.Kind != yaml.MappingNode || len(ap.val.Content) == 0 {
			return nil, query.Errorf(nodePos(file, ap.val), "%s as alias %q, expected a mapping of rule name to field name", kindName(ap.val), ap.key.Value)
		}
		fps, err := pairs(file, ap.val)
		if err != nil {
			return nil, err
		}
		for _, fp := range fps {
			if fp.val.Kind != yaml.ScalarNode || isNull(fp.val) || fp.val.Value == "" {
				return nil, query.Errorf(nodePos(file, fp.val), "%s as the field of alias %q for rule %q, expected a field name", kindName(fp.val), ap.key.Value, fp.key.Value)
			}
			a.Fields[fp.key.Value] = Ref{Text: fp.val.Value, Pos: nodePos(file, fp.val)}
			a.Order = append(a.Order, fp.key.Value)
		}
		used := false
		for _, g := range groupBy {
			used = used || g.Text == a.Name.Text
		}
		if !used {
			return nil, query.Errorf(a.Name.Pos, "alias %q is not in group-by, expected every alias to be grouped by", a.Name.Text)
		}
		out = append(out, a)
	}
	return out, nil
}

var condOps = map[string]query.CmpOp{"gt": query.Gt, "gte": query.Ge, "lt": query.Lt, "lte": query.Le, "eq": query.Eq, "neq": query.Ne}

func parseCorrelationCondition(file string, c *Correlation, n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && !isNull(n) && (c.Type == Temporal || c.Type == TemporalOrdered) {
		return &query.Unsupported{Pos: nodePos(file, n), Construct: "extended correlation condition", Why: "a boolean expression over rule names is pySigma's extension, not Sigma 2.1; firewarden's aggregation counts the rules matched"}
	}
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		return query.Errorf(nodePos(file, n), "%s as correlation condition, expected a mapping such as gte: 3", kindName(n))
	}
	cps, err := pairs(file, n)
	if err != nil {
		return err
	}
	value := strings.HasPrefix(c.Type, "value_")
	counting := c.Type == EventCount || c.Type == ValueCount || c.Type == Temporal || c.Type == TemporalOrdered
	var fieldKey, pctKey *yaml.Node
	for _, p := range cps {
		k := p.key.Value
		if op, ok := condOps[k]; ok {
			b := Bound{Op: op, Pos: nodePos(file, p.val)}
			tag := p.val.ShortTag()
			if p.val.Kind != yaml.ScalarNode || (tag != "!!int" && tag != "!!float") {
				return query.Errorf(b.Pos, "%s as %s, expected a number", describe(p.val), k)
			}
			if err := p.val.Decode(&b.N); err != nil || math.IsNaN(b.N) || math.IsInf(b.N, 0) {
				return query.Errorf(b.Pos, "%s as %s, expected a finite number", describe(p.val), k)
			}
			b.Int = tag == "!!int"
			if counting && (!b.Int || b.N < 0) {
				return query.Errorf(b.Pos, "%s as %s, expected a whole number of at least 0 (the %s condition is a count)", describe(p.val), k, c.Type)
			}
			c.Cond = append(c.Cond, b)
			continue
		}
		switch k {
		case "field":
			if !value {
				return query.Errorf(nodePos(file, p.key), "field in a %s condition, expected it only in value_count, value_sum, value_avg and value_percentile", c.Type)
			}
			fieldKey = p.key
			if c.Fields, err = refList(file, p.val, "field"); err != nil {
				return err
			}
			if len(c.Fields) == 0 {
				return query.Errorf(nodePos(file, p.val), "empty field, expected a field name")
			}
			if len(c.Fields) > 1 && c.Type != ValueCount {
				return query.Errorf(c.Fields[1].Pos, "%d fields in a %s condition, expected one (only value_count counts several fields, ANDed)", len(c.Fields), c.Type)
			}
		case "percentile":
			if c.Type != ValuePercentile {
				return query.Errorf(nodePos(file, p.key), "percentile in a %s condition, expected it only in value_percentile", c.Type)
			}
			pctKey = p.key
			tag := p.val.ShortTag()
			if p.val.Kind != yaml.ScalarNode || (tag != "!!int" && tag != "!!float") || p.val.Decode(&c.Percentile) != nil || !(c.Percentile >= 0 && c.Percentile <= 100) {
				return query.Errorf(nodePos(file, p.val), "%s as percentile, expected a rank from 0 to 100", describe(p.val))
			}
		default:
			return query.Errorf(nodePos(file, p.key), "unknown correlation condition %q, expected gt, gte, lt, lte, eq, neq%s", k, map[bool]string{true: ", field", false: ""}[value])
		}
	}
	if len(c.Cond) == 0 {
		return query.Errorf(nodePos(file, n), "correlation condition without a comparison, expected gt, gte, lt, lte, eq or neq")
	}
	if value && fieldKey == nil {
		return query.Errorf(nodePos(file, n), "%s condition without a field, expected field: the field whose values it aggregates", c.Type)
	}
	switch c.Type {
	case ValuePercentile:
		if pctKey == nil {
			return query.Errorf(nodePos(file, n), "value_percentile condition without a percentile, expected percentile: a rank from 0 to 100 (as pySigma requires)")
		}
	case ValueMedian:
		c.Percentile = 50
	}
	return nil
}

// Resolved is a correlation's referenced rule once loaded: the rule and
// the query it runs (its own, with any filter rules applied; for a
// correlation, its compiled aggregate).
type Resolved struct {
	Rule  *Rule
	Query *query.Query
}

// Chained correlations. A correlation that references another correlation
// reads the inner one's results as synthetic events, which the runner
// (package hunt) makes from each result and matches after the event that
// triggered it. A synthetic event has the triggering event's time, the
// inner correlation's group-by values under its group-by names (aliases
// as written, not mapped) and these fields; its Format is ChainFormat.
const (
	// ChainKeyField holds ChainKey of the inner correlation: the outer
	// correlation's input selects its results by it.
	ChainKeyField   = "sigma.correlation.key"
	ChainIDField    = "sigma.correlation.id"    // the inner correlation's id
	ChainNameField  = "sigma.correlation.name"  // its name
	ChainTitleField = "sigma.correlation.title" // its title
	// ChainValuePrefix prefixes the inner result's aggregates, by their
	// As names (sigma.correlation.event_count).
	ChainValuePrefix = "sigma.correlation."
	ChainFormat      = "sigma-correlation"
	// MaxChain bounds how many correlations deep a chain goes: a
	// correlation over a correlation is level 1.
	MaxChain = 8
)

// ChainKey identifies correlation rule r's results as synthetic events:
// the position of its document, unique among the loaded rules.
func ChainKey(r *Rule) string { return r.Pos.String() }

// isChainKey is the filter of an input that reads correlation r's results.
func isChainKey(r *Rule) query.Expr {
	return query.Match{Field: query.Field{Path: ChainKeyField}, Op: query.Equal, Values: []string{ChainKey(r)}}
}

// outputs reports whether correlation r's results carry group-by name.
func outputs(r *Rule, name string) bool {
	for _, g := range r.Correlation.GroupBy {
		if g.Text == name {
			return true
		}
	}
	return false
}

func groupNames(r *Rule) string {
	var ns []string
	for _, g := range r.Correlation.GroupBy {
		ns = append(ns, strconv.Quote(g.Text))
	}
	if len(ns) == 0 {
		return "it groups by nothing"
	}
	return "it groups by " + strings.Join(ns, ", ")
}

// CompileCorrelation compiles correlation rule c over its referenced
// rules, one per c.Correlation.Rules entry in the same order, into a
// query whose one stage is a query.Aggregate.
func CompileCorrelation(c *Rule, refs []Resolved) (*query.Query, error) {
	cor := c.Correlation
	if cor == nil {
		return nil, query.Errorf(c.Pos, "internal: %q is not a correlation", c.Title)
	}
	if len(refs) != len(cor.Rules) {
		return nil, query.Errorf(cor.Pos, "internal: %d rules resolved for %d references", len(refs), len(cor.Rules))
	}
	chained := false
	for i, rf := range refs {
		if rf.Rule.Correlation != nil {
			if rf.Query == nil {
				return nil, query.Errorf(cor.Rules[i].Pos, "internal: correlation %q referenced before it compiled", cor.Rules[i].Text)
			}
			chained = true
		} else if rf.Rule.Filter != nil || rf.Query == nil {
			return nil, query.Errorf(cor.Rules[i].Pos, "%q is a filter rule, expected a detection rule", cor.Rules[i].Text)
		}
		for j := range refs[:i] {
			if refs[j].Rule == rf.Rule {
				return nil, query.Errorf(cor.Rules[i].Pos, "%q and %q are the same rule, expected each rule once", cor.Rules[j].Text, cor.Rules[i].Text)
			}
		}
	}
	// An alias names, for each rule, the field it stands for.
	aliasOf := map[string]*Alias{}
	for i := range cor.Aliases {
		a := &cor.Aliases[i]
		aliasOf[a.Name.Text] = a
		for _, key := range a.Order {
			found := false
			for _, rf := range refs {
				found = found || refersTo(key, rf.Rule)
			}
			if !found {
				return nil, query.Errorf(a.Fields[key].Pos, "alias %q names rule %q, which the correlation does not reference", a.Name.Text, key)
			}
		}
	}

	// A scope shared by every input is the query's; otherwise each input
	// carries its own. A chained correlation's inputs that read another
	// correlation's results have no scope.
	common := !chained
	for _, rf := range refs {
		common = common && rf.Query.ScopeKey == refs[0].Query.ScopeKey && rf.Query.ScopeKey != ""
	}
	agg := query.Aggregate{Window: cor.Timespan, Tolerance: min(cor.Timespan, DefaultTolerance), Ordered: cor.Type == TemporalOrdered}
	for _, g := range cor.GroupBy {
		agg.Names = append(agg.Names, g.Text)
	}
	var valuePaths [][]string // per input, per condition field
	for i, rf := range refs {
		if rf.Rule.Correlation != nil {
			in, paths, err := chainInput(cor, cor.Rules[i], rf.Rule, aliasOf)
			if err != nil {
				return nil, err
			}
			agg.Inputs = append(agg.Inputs, in)
			valuePaths = append(valuePaths, paths)
			continue
		}
		var xs []query.Expr
		if chained {
			// Synthetic events are not a detection rule's events.
			xs = append(xs, query.Not{X: query.Exists{Path: ChainKeyField}})
		}
		if !common && rf.Query.Scope != nil {
			xs = append(xs, rf.Query.Scope)
		}
		for _, st := range rf.Query.Stages {
			f, ok := st.(query.Filter)
			if !ok {
				return nil, &query.Unsupported{Pos: cor.Rules[i].Pos, Construct: fmt.Sprintf("correlation over %q, a rule with a %T stage", cor.Rules[i].Text, st), Why: "a correlation input is a single-event rule"}
			}
			xs = append(xs, f.Expr)
		}
		in := query.AggInput{Name: cor.Rules[i].Text, Filter: query.Const{V: true}}
		if len(xs) > 0 {
			in.Filter = flatten(query.And{X: xs})
		}
		for _, g := range cor.GroupBy {
			name := g.Text
			if a := aliasOf[g.Text]; a != nil {
				f, ok := aliasField(a, rf.Rule)
				if !ok {
					return nil, query.Errorf(a.Name.Pos, "alias %q has no field for rule %q, expected one for every rule the correlation references", a.Name.Text, cor.Rules[i].Text)
				}
				name = f
			}
			in.GroupBy = append(in.GroupBy, query.Field{Path: cor.fieldPath(rf.Rule, name)})
		}
		agg.Inputs = append(agg.Inputs, in)
		var paths []string
		for _, f := range cor.Fields {
			paths = append(paths, cor.fieldPath(rf.Rule, f.Text))
		}
		valuePaths = append(valuePaths, paths)
	}

	fn := correlationTypes[cor.Type]
	var funcs []query.AggFunc
	switch {
	case len(cor.Fields) == 0:
		funcs = []query.AggFunc{{Name: fn, As: cor.Type}}
	default:
		for k, f := range cor.Fields {
			path := valuePaths[0][k]
			for i := range refs {
				if valuePaths[i][k] != path {
					return nil, &query.Unsupported{Pos: f.Pos, Construct: fmt.Sprintf("field %q mapped to %s for %q and %s for %q", f.Text, path, cor.Rules[0].Text, valuePaths[i][k], cor.Rules[i].Text),
						Why: "a correlation aggregates one event field"}
				}
			}
			as := cor.Type
			if len(cor.Fields) > 1 {
				as = cor.Type + "_" + f.Text
			}
			af := query.AggFunc{Name: fn, Field: query.Field{Path: path}, As: as}
			if fn == "percentile" {
				af.Arg = cor.Percentile
			}
			funcs = append(funcs, af)
		}
	}
	agg.Funcs = funcs
	bounds := cor.Cond
	if len(bounds) == 0 { // temporal without a condition: every rule
		bounds = []Bound{{Op: query.Ge, N: float64(len(refs)), Int: true}}
	}
	var having []query.Expr
	for _, f := range funcs {
		for _, b := range bounds {
			having = append(having, query.Compare{Op: b.Op, L: query.Field{Path: f.As}, R: litNumber(b.Int, int64(b.N), b.N)})
		}
	}
	agg.Having = flatten(query.And{X: having})

	q := &query.Query{Stages: []query.Stage{agg}}
	if common {
		q.Scope, q.ScopeKey = refs[0].Query.Scope, refs[0].Query.ScopeKey
	}
	return q, nil
}

// chainInput is the input of correlation cor that reads the results of
// correlation inner (referenced as ref): its synthetic events, grouped by
// the names inner outputs. Group-by and value fields are inner's group-by
// names as written (an alias names one for inner); a name inner does not
// output would never have a value, so it is an error.
func chainInput(cor *Correlation, ref Ref, inner *Rule, aliasOf map[string]*Alias) (query.AggInput, []string, error) {
	in := query.AggInput{Name: ref.Text, Filter: isChainKey(inner)}
	for _, g := range cor.GroupBy {
		name, pos := g.Text, g.Pos
		if a := aliasOf[g.Text]; a != nil {
			f, ok := aliasField(a, inner)
			if !ok {
				return in, nil, query.Errorf(a.Name.Pos, "alias %q has no field for rule %q, expected one for every rule the correlation references", a.Name.Text, ref.Text)
			}
			name = f
			for _, key := range a.Order {
				if refersTo(key, inner) {
					pos = a.Fields[key].Pos
					break
				}
			}
		}
		if !outputs(inner, name) {
			return in, nil, query.Errorf(pos, "group-by %q: the correlation %q (%q) has no %q in its results (%s), expected one of its group-by names or an alias naming one", g.Text, inner.Title, ref.Text, name, groupNames(inner))
		}
		in.GroupBy = append(in.GroupBy, query.Field{Path: name})
	}
	var paths []string
	for _, f := range cor.Fields {
		if !outputs(inner, f.Text) {
			return in, nil, query.Errorf(f.Pos, "field %q: the correlation %q (%q) has no %q in its results (%s), expected one of its group-by names", f.Text, inner.Title, ref.Text, f.Text, groupNames(inner))
		}
		paths = append(paths, f.Text)
	}
	return in, paths, nil
}

// fieldPath maps a Sigma field name with a referenced rule's field map.
func (c *Correlation) fieldPath(r *Rule, name string) string {
	if c.ecs || r.src == nil {
		return name
	}
	return r.src.path(name)
}

// refersTo reports whether a reference (an id or a name) names r.
func refersTo(ref string, r *Rule) bool {
	return ref != "" && (ref == r.ID || ref == r.Name)
}

func aliasField(a *Alias, r *Rule) (string, bool) {
	for _, key := range a.Order {
		if refersTo(key, r) {
			return a.Fields[key].Text, true
		}
	}
	return "", false
}
