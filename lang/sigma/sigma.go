// Package sigma reads Sigma rules (specification 2.1) and compiles their
// detection to firewarden's query IR.
//
// A rule file is YAML; each document is one rule. Detection selections
// become Match, Keyword, Compare and Exists nodes, each selection wrapped
// in a query.Named carrying its identifier; the condition is parsed by a
// hand-written recursive-descent parser (condition.go). The log source
// becomes the query's Scope and selects the field map (fieldmap.go).
// Correlation rules (correlation.go) and filter rules (filter.go) are
// read here and compiled once the rules they reference are known (Link).
// Constructs firewarden cannot run exactly — Sigma v1 aggregations,
// |expand, PCRE-only regular expressions, correlation chains deeper than
// MaxChain — are
// refused with a *query.Unsupported naming them, never approximated.
package sigma

import (
	"bytes"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/firewarden/firewarden/query"
)

// Rule is one parsed Sigma document: metadata and the compiled query of a
// detection rule, or a correlation rule (Correlation set, Query nil until
// CompileCorrelation), or a filter (Filter set, Query nil).
type Rule struct {
	Path, ID, Title, Status, Description, Author, Date, Modified, Level string
	// Name is the rule's name attribute: how correlations and filters may
	// refer to it instead of its id.
	Name                                     string
	References, Tags, FalsePositives, Fields []string
	LogSource                                LogSource
	Query                                    *query.Query
	Correlation                              *Correlation
	Filter                                   *Filter
	Raw                                      []byte // the document as read
	Pos                                      query.Pos

	src *source // the resolved log source (detection rules and filters)
}

// Kind names what the document is: "rule", "correlation" or "filter".
func (r *Rule) Kind() string {
	switch {
	case r.Correlation != nil:
		return "correlation"
	case r.Filter != nil:
		return "filter"
	}
	return "rule"
}

// ParseFile parses and compiles every rule of a YAML file. path is used in
// positions. Sigma v1 rule collections (action: global, reset, repeat) are
// expanded as the v1 specification describes. Any document that fails
// fails the file: its other rules may depend on it.
func ParseFile(path string, data []byte) ([]*Rule, error) {
	docs, err := decodeDocuments(path, data)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(string(data), "\n")
	var (
		rules     []*Rule
		global    *yaml.Node
		globalRaw []byte
		prev      *yaml.Node
		prevRaw   []byte
	)
	for _, d := range docs {
		if d.root.Kind != yaml.MappingNode {
			return nil, query.Errorf(nodePos(path, d.root), "%s at the top of the document, expected a Sigma rule (a mapping)", kindName(d.root))
		}
		ps, err := pairs(path, d.root)
		if err != nil {
			return nil, err
		}
		node, raw := d.root, d.raw
		if a := find(ps, "action"); a != nil {
			body := without(d.root, "action")
			switch a.val.Value {
			case "global":
				global = mergeNodes(global, body)
				globalRaw = append(append(globalRaw, d.raw...), "---\n"...)
				continue
			case "reset":
				global, globalRaw = nil, nil
				continue
			case "repeat":
				if prev == nil {
					return nil, query.Errorf(nodePos(path, a.val), `action "repeat" before any rule, expected a rule to repeat first`)
				}
				node = mergeNodes(prev, body)
				raw = append(append(append([]byte{}, prevRaw...), "---\n"...), d.raw...)
			default:
				return nil, query.Errorf(nodePos(path, a.val), "action %q, expected global, reset or repeat", a.val.Value)
			}
		} else if global != nil {
			// As in Sigma v1's reference tool, the global document's values
			// win over the rule's own where both set a non-mapping key.
			node = mergeNodes(d.root, global)
			raw = append(append([]byte{}, globalRaw...), d.raw...)
		}
		prev, prevRaw = node, raw
		r, err := compileRule(path, node, raw, lines)
		if err != nil {
			return nil, err
		}
		rules = append(rules, r)
	}
	if len(rules) == 0 {
		return nil, query.Errorf(query.Pos{File: path, Line: 1, Col: 1}, "no Sigma rule in the file, expected a YAML mapping with title, logsource and detection")
	}
	return rules, nil
}

func find(ps []pair, key string) *pair {
	for i := range ps {
		if ps[i].key.Value == key {
			return &ps[i]
		}
	}
	return nil
}

// without returns a copy of mapping m lacking key.
func without(m *yaml.Node, key string) *yaml.Node {
	c := *m
	c.Content = nil
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value != key {
			c.Content = append(c.Content, m.Content[i], m.Content[i+1])
		}
	}
	return &c
}

// mergeNodes deep-merges mapping src into a copy of dest: mappings merge
// key by key, anything else in src replaces dest's value. Neither input
// is modified.
func mergeNodes(dest, src *yaml.Node) *yaml.Node {
	if dest == nil {
		return src
	}
	out := *dest
	out.Content = append([]*yaml.Node{}, dest.Content...)
	for i := 0; i+1 < len(src.Content); i += 2 {
		k, v := src.Content[i], resolve(src.Content[i+1])
		found := false
		for j := 0; j+1 < len(out.Content); j += 2 {
			if out.Content[j].Value != k.Value {
				continue
			}
			found = true
			if old := resolve(out.Content[j+1]); old.Kind == yaml.MappingNode && v.Kind == yaml.MappingNode {
				out.Content[j+1] = mergeNodes(old, v)
			} else {
				out.Content[j+1] = v
			}
			break
		}
		if !found {
			out.Content = append(out.Content, k, v)
		}
	}
	return &out
}

// compileRule reads one rule document.
func compileRule(file string, root *yaml.Node, raw []byte, lines []string) (*Rule, error) {
	ps, err := pairs(file, root)
	if err != nil {
		return nil, err
	}
	r := &Rule{Path: file, Raw: bytes.Clone(raw), Pos: query.Pos{File: file, Line: root.Line, Col: root.Column}}
	scalars := []struct {
		key string
		dst *string
	}{
		{"title", &r.Title}, {"id", &r.ID}, {"status", &r.Status}, {"description", &r.Description},
		{"date", &r.Date}, {"modified", &r.Modified}, {"level", &r.Level}, {"name", &r.Name},
	}
	for _, s := range scalars {
		if p := find(ps, s.key); p != nil {
			if p.val.Kind != yaml.ScalarNode {
				return nil, query.Errorf(nodePos(file, p.val), "%s as %s, expected a string", kindName(p.val), s.key)
			}
			if !isNull(p.val) {
				*s.dst = p.val.Value
			}
		}
	}
	lists := []struct {
		key string
		dst *[]string
	}{
		{"references", &r.References}, {"tags", &r.Tags}, {"falsepositives", &r.FalsePositives}, {"fields", &r.Fields},
	}
	for _, l := range lists {
		if p := find(ps, l.key); p != nil {
			if *l.dst, err = stringOrList(file, p.val); err != nil {
				return nil, err
			}
		}
	}
	if p := find(ps, "author"); p != nil {
		authors, err := stringOrList(file, p.val)
		if err != nil {
			return nil, err
		}
		r.Author = strings.Join(authors, ", ")
	}
	start := r.Pos
	if r.Title == "" {
		return nil, query.Errorf(start, "rule without a title, expected title: ...")
	}
	ecs := false
	if p := find(ps, "taxonomy"); p != nil {
		switch strings.ToLower(p.val.Value) {
		case "", "sigma":
		case "ecs":
			ecs = true
		default:
			return nil, &query.Unsupported{Pos: nodePos(file, p.val), Construct: "taxonomy " + p.val.Value, Why: "firewarden maps the sigma taxonomy and reads ecs field names as written"}
		}
	}

	cp, fp := find(ps, "correlation"), find(ps, "filter")
	if cp != nil && fp != nil {
		return nil, query.Errorf(nodePos(file, fp.key), "filter in a correlation rule, expected either correlation or filter")
	}
	if cp != nil {
		if p := find(ps, "detection"); p != nil {
			return nil, query.Errorf(nodePos(file, p.key), "detection in a correlation rule, expected the detection in a rule of its own that the correlation references")
		}
		if err := parseCorrelation(r, ps, cp, ecs); err != nil {
			return nil, err
		}
		return r, nil
	}

	lp := find(ps, "logsource")
	if lp == nil {
		return nil, query.Errorf(start, "rule without a logsource, expected logsource: with product, category or service")
	}
	if lp.val.Kind != yaml.MappingNode {
		return nil, query.Errorf(nodePos(file, lp.val), "%s as logsource, expected a mapping of product, category, service", kindName(lp.val))
	}
	lps, err := pairs(file, lp.val)
	if err != nil {
		return nil, err
	}
	lsNodes := map[string]*yaml.Node{}
	for _, p := range lps {
		var dst *string
		switch p.key.Value {
		case "product":
			dst = &r.LogSource.Product
		case "category":
			dst = &r.LogSource.Category
		case "service":
			dst = &r.LogSource.Service
		case "definition":
			dst = &r.LogSource.Definition
		default:
			continue
		}
		if p.val.Kind != yaml.ScalarNode {
			return nil, query.Errorf(nodePos(file, p.val), "%s as logsource %s, expected a string", kindName(p.val), p.key.Value)
		}
		if !isNull(p.val) {
			*dst = p.val.Value
		}
		lsNodes[p.key.Value] = p.val
	}
	src, err := resolveLogSource(file, r.LogSource, lsNodes, ecs)
	if err != nil {
		return nil, err
	}
	r.src = src
	if fp != nil {
		if p := find(ps, "detection"); p != nil {
			return nil, query.Errorf(nodePos(file, p.key), "detection in a filter rule, expected the selections and condition under filter:")
		}
		if err := parseFilter(r, fp, lines); err != nil {
			return nil, err
		}
		return r, nil
	}

	dp := find(ps, "detection")
	if dp == nil {
		return nil, query.Errorf(start, "rule without a detection, expected detection: with search identifiers and a condition")
	}
	if dp.val.Kind != yaml.MappingNode {
		return nil, query.Errorf(nodePos(file, dp.val), "%s as detection, expected a mapping of search identifiers and a condition", kindName(dp.val))
	}
	c := &compiler{file: file, lines: lines, src: src}
	expr, err := c.detection(dp.key, dp.val)
	if err != nil {
		return nil, err
	}
	r.Query = &query.Query{
		Scope:    src.scope,
		ScopeKey: src.key,
		Stages:   []query.Stage{query.Filter{Expr: expr}},
	}
	return r, nil
}

// selections are a detection's search identifiers in definition order.
type selections struct {
	names []string
	exprs map[string]query.Expr
}

// detection compiles the detection block: every selection, then the
// condition (a list of conditions is their OR).
func (c *compiler) detection(key, det *yaml.Node) (query.Expr, error) {
	ps, err := pairs(c.file, det)
	if err != nil {
		return nil, err
	}
	sels := &selections{exprs: map[string]query.Expr{}}
	var cond *yaml.Node
	for _, p := range ps {
		switch p.key.Value {
		case "condition":
			cond = p.val
			continue
		case "timeframe":
			// Sigma v1's window for aggregations; an aggregation in the
			// condition is refused, and without one it changes nothing.
			continue
		}
		x, err := c.selection(p.val, 0)
		if err != nil {
			return nil, err
		}
		sels.names = append(sels.names, p.key.Value)
		sels.exprs[p.key.Value] = x
	}
	if cond == nil {
		return nil, query.Errorf(nodePos(c.file, key), "detection without a condition, expected condition: ...")
	}
	if len(sels.names) == 0 {
		return nil, query.Errorf(nodePos(c.file, det), "detection without search identifiers, expected at least one selection")
	}
	var conds []*yaml.Node
	switch cond.Kind {
	case yaml.ScalarNode:
		conds = []*yaml.Node{cond}
	case yaml.SequenceNode:
		for _, e := range cond.Content {
			conds = append(conds, resolve(e))
		}
	}
	if len(conds) == 0 {
		return nil, query.Errorf(nodePos(c.file, cond), "%s as condition, expected a string or a list of strings", kindName(cond))
	}
	var xs []query.Expr
	for _, n := range conds {
		if n.Kind != yaml.ScalarNode || isNull(n) {
			return nil, query.Errorf(nodePos(c.file, n), "%s as condition, expected a string", kindName(n))
		}
		at := func(off int) query.Pos { return scalarOffsetPos(c.file, n, c.lines, off) }
		ast, err := parseCondition(n.Value)
		if err != nil {
			ce := err.(*condError)
			if ce.unsupported != "" {
				return nil, &query.Unsupported{Pos: at(ce.off), Construct: ce.unsupported, Why: ce.why}
			}
			return nil, &query.Error{Pos: at(ce.off), Msg: ce.msg}
		}
		x, err := c.condition(ast, sels, at)
		if err != nil {
			return nil, err
		}
		xs = append(xs, x)
	}
	return flatten(query.Or{X: xs}), nil
}

// maxCombinations bounds "N of X" expanded into ORs of ANDs.
const maxCombinations = 1024

// condition compiles a parsed condition.
func (c *compiler) condition(x condExpr, sels *selections, at func(int) query.Pos) (query.Expr, error) {
	named := func(name string) query.Expr { return query.Named{Name: name, X: sels.exprs[name]} }
	switch t := x.(type) {
	case condIdent:
		if _, ok := sels.exprs[t.name]; !ok {
			return nil, query.Errorf(at(t.off), "unknown search identifier %q, expected one of %s", t.name, strings.Join(sels.names, ", "))
		}
		return named(t.name), nil
	case condNot:
		y, err := c.condition(t.x, sels, at)
		if err != nil {
			return nil, err
		}
		if n, ok := y.(query.Not); ok {
			return n.X, nil
		}
		return query.Not{X: y}, nil
	case condBin:
		var xs []query.Expr
		for _, e := range t.xs {
			y, err := c.condition(e, sels, at)
			if err != nil {
				return nil, err
			}
			xs = append(xs, y)
		}
		if t.or {
			return flatten(query.Or{X: xs}), nil
		}
		return flatten(query.And{X: xs}), nil
	case condOf:
		var names []string
		for _, n := range sels.names {
			if t.them && !strings.HasPrefix(n, "_") ||
				!t.them && matchIdent(t.target, n) && (strings.HasPrefix(t.target, "_") || !strings.HasPrefix(n, "_")) {
				names = append(names, n)
			}
		}
		if len(names) == 0 {
			what := fmt.Sprintf("no search identifier matches %q", t.target)
			if t.them {
				what = `"them" matches no search identifier (those starting with _ are excluded)`
			}
			return nil, query.Errorf(at(t.tgtOff), "%s, expected one of %s", what, strings.Join(sels.names, ", "))
		}
		var xs []query.Expr
		for _, n := range names {
			xs = append(xs, named(n))
		}
		switch {
		case len(xs) == 1 && (t.all || t.n == 1):
			return xs[0], nil
		case t.all || t.n == len(xs):
			return query.And{X: xs}, nil
		case t.n == 1:
			return query.Or{X: xs}, nil
		case t.n > len(xs):
			return nil, query.Errorf(at(t.off), "%q needs at least %d search identifiers, found %d (%s)", t.quantTx+" of "+t.target, t.n, len(xs), strings.Join(names, ", "))
		}
		if binomial(len(xs), t.n) > maxCombinations {
			return nil, &query.Unsupported{Pos: at(t.off), Construct: fmt.Sprintf(`"%d of %s" over %d search identifiers`, t.n, t.target, len(xs)), Why: fmt.Sprintf("more than %d combinations", maxCombinations)}
		}
		var ors []query.Expr
		for _, comb := range combinations(len(xs), t.n) {
			and := query.And{}
			for _, i := range comb {
				and.X = append(and.X, xs[i])
			}
			ors = append(ors, and)
		}
		return query.Or{X: ors}, nil
	}
	return nil, query.Errorf(at(x.offset()), "internal: condition node %T", x)
}

// matchIdent matches a search identifier against a pattern where '*'
// stands for any run of characters.
func matchIdent(pat, name string) bool {
	star := strings.IndexByte(pat, '*')
	if star < 0 {
		return pat == name
	}
	if !strings.HasPrefix(name, pat[:star]) {
		return false
	}
	rest := pat[star+1:]
	for i := star; i <= len(name); i++ {
		if matchIdent(rest, name[i:]) {
			return true
		}
	}
	return false
}

func binomial(n, k int) int {
	r := 1
	for i := 1; i <= k; i++ {
		r = r * (n - k + i) / i
		if r > maxCombinations*2 {
			return r
		}
	}
	return r
}

// combinations lists the k-subsets of 0..n-1 in lexicographic order.
func combinations(n, k int) [][]int {
	var out [][]int
	comb := make([]int, k)
	var rec func(start, depth int)
	rec = func(start, depth int) {
		if depth == k {
			out = append(out, append([]int{}, comb...))
			return
		}
		for i := start; i <= n-(k-depth); i++ {
			comb[depth] = i
			rec(i+1, depth+1)
		}
	}
	rec(0, 0)
	return out
}
