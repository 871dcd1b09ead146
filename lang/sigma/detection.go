package sigma

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/firewarden/firewarden/query"
)

// item is one "field|mod|mod: value(s)" of a selection, or a keyword list.
type item struct {
	field   string // "" for keywords
	keyword bool
	all     bool
	neq     bool
	cased   bool
	vals    []*sval
}

// maxVariants bounds the alternatives a single value may expand to
// (windash makes 5^n of a value with n dashes).
const maxVariants = 1024

// maxWork bounds the values compiled for one rule, so that YAML aliases
// cannot make a small file expand without limit.
const maxWork = 200000

// compiler compiles one rule's detection.
type compiler struct {
	file  string
	lines []string
	src   *source
	work  int
}

func (c *compiler) pos(n *yaml.Node) query.Pos { return nodePos(c.file, n) }

func (c *compiler) spend(n int, at *yaml.Node) error {
	c.work += n
	if c.work > maxWork {
		return query.Errorf(c.pos(at), "rule expands to more than %d values, expected a rule of reasonable size", maxWork)
	}
	return nil
}

// selection compiles the value of one search identifier.
func (c *compiler) selection(n *yaml.Node, depth int) (query.Expr, error) {
	n = resolve(n)
	if depth > 32 {
		return nil, query.Errorf(c.pos(n), "selection nested deeper than 32 lists, expected a map or a list")
	}
	if err := c.spend(1, n); err != nil {
		return nil, err
	}
	switch n.Kind {
	case yaml.MappingNode:
		ps, err := pairs(c.file, n)
		if err != nil {
			return nil, err
		}
		if len(ps) == 0 {
			return nil, query.Errorf(c.pos(n), "empty selection, expected field: value pairs")
		}
		var xs []query.Expr
		for _, p := range ps {
			x, err := c.fieldItem(p.key, p.val)
			if err != nil {
				return nil, err
			}
			xs = append(xs, x)
		}
		return flatten(query.And{X: xs}), nil
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			return nil, query.Errorf(c.pos(n), "empty selection, expected field: value pairs or keywords")
		}
		scalars := true
		for _, e := range n.Content {
			if resolve(e).Kind != yaml.ScalarNode {
				scalars = false
			}
		}
		if scalars {
			it := &item{keyword: true}
			if err := c.values(it, n); err != nil {
				return nil, err
			}
			return c.build(it)
		}
		var xs []query.Expr
		for _, e := range n.Content {
			x, err := c.selection(e, depth+1)
			if err != nil {
				return nil, err
			}
			xs = append(xs, x)
		}
		return flatten(query.Or{X: xs}), nil
	case yaml.ScalarNode:
		if isNull(n) {
			return nil, query.Errorf(c.pos(n), "null selection, expected field: value pairs or keywords")
		}
		it := &item{keyword: true}
		if err := c.values(it, n); err != nil {
			return nil, err
		}
		return c.build(it)
	}
	return nil, query.Errorf(c.pos(n), "%s as a selection, expected a map or a list", kindName(n))
}

// fieldItem compiles "field|mods: value" (field may be empty: keywords with
// modifiers, such as '|all').
func (c *compiler) fieldItem(key, val *yaml.Node) (query.Expr, error) {
	parts := strings.Split(key.Value, "|")
	it := &item{field: parts[0], keyword: parts[0] == ""}
	if err := c.values(it, val); err != nil {
		return nil, err
	}
	if !it.keyword && c.src.style == auditdStyle && !strings.Contains(it.field, ".") && c.src.table[it.field] == "" && !isAuditdField(it.field) {
		return nil, &query.Unsupported{Pos: c.pos(key), Construct: fmt.Sprintf("auditd field %q", it.field), Why: "no Linux audit record carries it, so the rule could never match"}
	}
	off := len(parts[0])
	for _, name := range parts[1:] {
		off++ // the '|'
		at := keyOffsetPos(c.file, key, off)
		if err := c.modify(it, name, at); err != nil {
			return nil, err
		}
		off += len(name)
	}
	return c.build(it)
}

// values reads the value node of an item: a scalar or a list of scalars.
// An empty list means null, as in pySigma.
func (c *compiler) values(it *item, n *yaml.Node) error {
	n = resolve(n)
	var ns []*yaml.Node
	switch n.Kind {
	case yaml.ScalarNode:
		ns = []*yaml.Node{n}
	case yaml.SequenceNode:
		if len(n.Content) == 0 && !it.keyword {
			ns = []*yaml.Node{{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}}
			break
		}
		for _, e := range n.Content {
			e = resolve(e)
			if e.Kind != yaml.ScalarNode {
				return query.Errorf(c.pos(e), "%s in a list of values, expected a string or number", kindName(e))
			}
			if isNull(e) {
				return query.Errorf(c.pos(e), "null in a list of values, expected null on its own (the spec forbids mixing it with other values)")
			}
			ns = append(ns, e)
		}
	default:
		return query.Errorf(c.pos(n), "%s as a field value, expected a value or a list of values", kindName(n))
	}
	if len(ns) == 0 {
		return query.Errorf(c.pos(n), "empty list of keywords, expected at least one")
	}
	if err := c.spend(len(ns), n); err != nil {
		return err
	}
	for _, e := range ns {
		v := &sval{node: e, text: scalarText(e)}
		switch e.ShortTag() {
		case "!!null":
			if it.keyword {
				return query.Errorf(c.pos(e), "null keyword, expected a value (null needs a field)")
			}
			v.kind = vNull
		case "!!int", "!!float":
			v.kind = vNum
			if i, err := strconv.ParseInt(v.text, 10, 64); err == nil {
				v.isInt, v.i, v.f = true, i, float64(i)
			} else if f, err := strconv.ParseFloat(v.text, 64); err == nil {
				v.f = f
			} else {
				v.kind = vStr
			}
		case "!!bool":
			v.kind = vBool
		default:
			v.kind = vStr
		}
		if v.kind == vStr {
			v.alts = []pattern{parseSigmaString(e.Value)}
		}
		it.vals = append(it.vals, v)
	}
	return nil
}

// spec is one pattern of a Match: the path, operator, text and case rule.
type spec struct {
	path string
	op   query.MatchOp
	text string
	fold bool
}

// build turns an item whose modifiers are applied into IR.
func (c *compiler) build(it *item) (query.Expr, error) {
	var xs []query.Expr
	var specs []spec // patterns of the OR of values
	for _, v := range it.vals {
		asString(v)
		if it.keyword {
			kw := query.Keyword{Fold: !it.cased, Fields: c.src.keywords}
			for _, p := range v.alts {
				kw.Values = append(kw.Values, p.glob())
			}
			xs = append(xs, kw)
			continue
		}
		var own []spec
		switch v.kind {
		case vStr:
			for _, p := range v.alts {
				op, text := p.matchSpec()
				own = append(own, spec{path: c.valuePath(it.field, p), op: op, text: text, fold: !it.cased})
			}
		case vRe:
			re, err := c.regex(v)
			if err != nil {
				return nil, err
			}
			own = []spec{{path: c.src.path(it.field), op: query.Regex, text: re}}
		case vCIDR:
			own = []spec{{path: c.src.path(it.field), op: query.CIDR, text: v.text}}
		default:
			x, err := c.scalar(it, v)
			if err != nil {
				return nil, err
			}
			xs = append(xs, x)
			continue
		}
		if it.all {
			xs = append(xs, matches(own))
		} else {
			specs = append(specs, own...)
		}
	}
	if len(specs) > 0 {
		xs = append(xs, matches(specs))
	}
	var x query.Expr
	switch {
	case it.keyword:
		x = mergeKeywords(xs, it.all)
	case len(xs) == 1:
		x = xs[0]
	case it.all:
		x = flatten(query.And{X: xs})
	default:
		x = flatten(query.Or{X: xs})
	}
	if it.neq {
		if n, ok := x.(query.Not); ok {
			return n.X, nil
		}
		x = query.Not{X: x}
	}
	return x, nil
}

// mergeKeywords joins the Keyword nodes of one item: an OR list becomes
// one node; an AND list of single patterns one node with All.
func mergeKeywords(xs []query.Expr, all bool) query.Expr {
	if len(xs) == 1 {
		return xs[0]
	}
	merged := query.Keyword{All: all}
	for _, x := range xs {
		k := x.(query.Keyword)
		merged.Fold, merged.Fields = k.Fold, k.Fields
		if all && len(k.Values) > 1 {
			return query.And{X: xs} // a value with alternatives: AND of ORs
		}
		merged.Values = append(merged.Values, k.Values...)
	}
	return merged
}

// valuePath maps an item's field for one pattern. For the numeric audit
// fields, text that is not a number can only be the interpreted value.
func (c *compiler) valuePath(field string, p pattern) string {
	if c.src.style == auditdStyle && auditdInterpreted[field] && !isRawNumber(p.text()) {
		return "auditd." + strings.ToUpper(field)
	}
	return c.src.path(field)
}

func isRawNumber(s string) bool {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "-"), "0x")
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
			return false
		}
	}
	return true
}

// matches groups specs by path, operator and case rule, keeping
// first-seen order, into one Match each (ORed).
func matches(specs []spec) query.Expr {
	type key struct {
		path string
		op   query.MatchOp
		fold bool
	}
	var order []key
	groups := map[key][]string{}
	for _, s := range specs {
		k := key{s.path, s.op, s.fold}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		if !slices.Contains(groups[k], s.text) {
			groups[k] = append(groups[k], s.text)
		}
	}
	var xs []query.Expr
	for _, k := range order {
		xs = append(xs, query.Match{Field: query.Field{Path: k.path}, Op: k.op, Values: groups[k], Fold: k.fold, Quant: query.Any})
	}
	if len(xs) == 1 {
		return xs[0]
	}
	return query.Or{X: xs}
}

// scalar compiles a value that is not a string pattern.
func (c *compiler) scalar(it *item, v *sval) (query.Expr, error) {
	path := c.src.path(it.field)
	f := query.Field{Path: path}
	switch v.kind {
	case vNull:
		return query.Not{X: query.Exists{Path: path}}, nil
	case vExists:
		if v.exists {
			return query.Exists{Path: path}, nil
		}
		return query.Not{X: query.Exists{Path: path}}, nil
	case vCmp:
		return query.Compare{Op: v.cmp, L: f, R: litNumber(v.isInt, v.i, v.f), Quant: query.Any}, nil
	case vTime:
		op := query.Eq
		if v.hasCmp {
			op = v.cmp
		}
		return query.Compare{Op: op, L: query.Call{Name: v.timePart, Args: []query.Expr{f}}, R: litNumber(true, v.i, 0), Quant: query.Any}, nil
	case vRef:
		other := query.Field{Path: c.src.path(v.text)}
		fold := !it.cased
		switch {
		case v.atStart && v.atEnd:
			return query.Truthy{X: query.Call{Name: "stringcontains", Args: []query.Expr{f, other}, Fold: fold}}, nil
		case v.atStart:
			return query.Truthy{X: query.Call{Name: "startswith", Args: []query.Expr{f, other}, Fold: fold}}, nil
		case v.atEnd:
			return query.Truthy{X: query.Call{Name: "endswith", Args: []query.Expr{f, other}, Fold: fold}}, nil
		}
		return query.Compare{Op: query.Eq, L: f, R: other, Fold: fold, Quant: query.Any}, nil
	}
	return nil, query.Errorf(c.pos(v.node), "internal: value of kind %v", v.kind)
}
