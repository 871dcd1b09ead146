package kql

import (
	"math"
	"strconv"
	"strings"

	"github.com/firewarden/firewarden/query"
)

// maxDepth bounds expression nesting, so hostile input cannot exhaust the
// stack.
const maxDepth = 200

// Parse reads a KQL query. base is where the text starts in its file.
func Parse(src string, base query.Pos) (*Query, error) {
	return parseIndented(src, base, 0)
}

func parseIndented(src string, base query.Pos, indent int) (*Query, error) {
	p := &parser{s: newScanner(src, base)}
	p.s.indent = indent
	if err := p.fill(); err != nil {
		return nil, err
	}
	return p.query()
}

type parser struct {
	s     *scanner
	buf   [3]token
	n     int // tokens buffered
	depth int
}

// fill keeps three tokens of look-ahead.
func (p *parser) fill() error {
	for p.n < len(p.buf) {
		t, err := p.s.next()
		if err != nil {
			return err
		}
		p.buf[p.n] = t
		p.n++
	}
	return nil
}

func (p *parser) tok() token         { return p.buf[0] }
func (p *parser) peek(i int) token   { return p.buf[i] }
func (p *parser) isOp(s string) bool { return p.tok().Kind == tOp && p.tok().Text == s }
func (p *parser) isWord(s string) bool {
	return p.tok().Kind == tIdent && p.tok().Text == s
}

func (p *parser) next() error {
	copy(p.buf[:], p.buf[1:])
	p.n--
	return p.fill()
}

func (p *parser) unexpected(what string) error {
	return query.Errorf(p.tok().Pos, "expected %s, found %s", what, p.tok().describe())
}

func (p *parser) expectOp(s, what string) error {
	if !p.isOp(s) {
		return p.unexpected(what)
	}
	return p.next()
}

func (p *parser) ident(what string) (Ident, error) {
	t := p.tok()
	if t.Kind != tIdent {
		return Ident{}, p.unexpected(what)
	}
	return Ident{Pos: t.Pos, Name: t.Text}, p.next()
}

func (p *parser) query() (*Query, error) {
	q := &Query{}
	for p.isWord("let") {
		l, err := p.let()
		if err != nil {
			return nil, err
		}
		q.Lets = append(q.Lets, l)
	}
	if p.isWord("set") || p.isWord("declare") || p.isWord("alias") || p.isWord("pattern") {
		return nil, &query.Unsupported{Pos: p.tok().Pos, Construct: p.tok().Text + " statement"}
	}
	t, err := p.ident("a table name")
	if err != nil {
		return nil, err
	}
	if tabularStarts[t.Name] {
		return nil, &query.Unsupported{Pos: t.Pos, Construct: t.Name, Why: "a query starts with one ASIM table"}
	}
	q.Table = t
	if p.isOp("(") {
		// A parameterised ASIM parser called without parameters.
		if err := p.next(); err != nil {
			return nil, err
		}
		if !p.isOp(")") {
			return nil, &query.Unsupported{Pos: p.tok().Pos, Construct: t.Name + "() parameters", Why: "write the filters as where clauses"}
		}
		if err := p.next(); err != nil {
			return nil, err
		}
	}
	for p.isOp("|") {
		if err := p.next(); err != nil {
			return nil, err
		}
		op, err := p.operator()
		if err != nil {
			return nil, err
		}
		q.Ops = append(q.Ops, op)
	}
	if p.isOp(";") {
		if err := p.next(); err != nil {
			return nil, err
		}
	}
	if p.tok().Kind != tEOF {
		if p.isOp(";") || p.tok().Kind == tIdent {
			return nil, &query.Unsupported{Pos: p.tok().Pos, Construct: "several tabular statements", Why: "a rule is one query"}
		}
		return nil, p.unexpected(`"|" or the end of the query`)
	}
	return q, nil
}

// tabularStarts are tabular expressions that are not a table.
var tabularStarts = map[string]bool{
	"union": true, "search": true, "find": true, "range": true, "print": true,
	"datatable": true, "externaldata": true, "materialize": true, "evaluate": true,
}

func (p *parser) let() (*Let, error) {
	pos := p.tok().Pos
	if err := p.next(); err != nil {
		return nil, err
	}
	name, err := p.ident("a name after let")
	if err != nil {
		return nil, err
	}
	if err := p.expectOp("=", `"=" after the let name`); err != nil {
		return nil, err
	}
	if p.isOp("(") && p.peek(1).Kind == tIdent && p.peek(2).Kind == tOp && p.peek(2).Text == ":" ||
		p.isOp("(") && p.peek(1).Kind == tOp && p.peek(1).Text == ")" && p.peek(2).Kind == tOp && p.peek(2).Text == "{" {
		return nil, &query.Unsupported{Pos: p.tok().Pos, Construct: "let function " + name.Name}
	}
	if p.tok().Kind == tIdent && p.peek(1).Kind == tOp && p.peek(1).Text == "|" || p.tok().Kind == tIdent && tabularStarts[p.tok().Text] {
		return nil, &query.Unsupported{Pos: p.tok().Pos, Construct: "tabular let " + name.Name}
	}
	x, err := p.expr()
	if err != nil {
		return nil, err
	}
	if err := p.expectOp(";", `";" after the let statement`); err != nil {
		return nil, err
	}
	return &Let{Pos: pos, Name: name.Name, Value: x}, nil
}

func (p *parser) operator() (Op, error) {
	t := p.tok()
	if t.Kind != tIdent {
		return nil, p.unexpected("an operator after |")
	}
	switch t.Text {
	case "where", "filter":
		if err := p.next(); err != nil {
			return nil, err
		}
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		return &Where{Pos: t.Pos, Cond: x}, nil
	case "extend":
		if err := p.next(); err != nil {
			return nil, err
		}
		items, err := p.items(true)
		return &Extend{Pos: t.Pos, Items: items}, err
	case "project":
		if err := p.next(); err != nil {
			return nil, err
		}
		items, err := p.items(true)
		return &Project{Pos: t.Pos, Items: items}, err
	case "project-away":
		if err := p.next(); err != nil {
			return nil, err
		}
		var names []Ident
		for {
			if p.isOp("*") || p.peek(1).Kind == tOp && p.peek(1).Text == "*" {
				return nil, &query.Unsupported{Pos: p.tok().Pos, Construct: "project-away with a wildcard"}
			}
			id, err := p.ident("a column name")
			if err != nil {
				return nil, err
			}
			names = append(names, id)
			if !p.isOp(",") {
				return &ProjectAway{Pos: t.Pos, Names: names}, nil
			}
			if err := p.next(); err != nil {
				return nil, err
			}
		}
	case "project-rename":
		if err := p.next(); err != nil {
			return nil, err
		}
		items, err := p.items(false)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			if _, ok := it.X.(*Ident); !ok || it.Name == "" {
				return nil, query.Errorf(it.Pos, "project-rename takes new = old column pairs")
			}
		}
		return &ProjectRename{Pos: t.Pos, Items: items}, nil
	case "summarize":
		return p.summarize()
	case "parse":
		return p.parse()
	}
	return nil, &query.Unsupported{Pos: t.Pos, Construct: "operator " + t.Text}
}

// items reads a comma-separated list of `[name =] expr`.
func (p *parser) items(allowBare bool) ([]Item, error) {
	var items []Item
	for {
		it, err := p.item()
		if err != nil {
			return nil, err
		}
		if it.Name == "" && !allowBare {
			return nil, query.Errorf(it.Pos, "expected name = column")
		}
		items = append(items, it)
		if !p.isOp(",") {
			return items, nil
		}
		if err := p.next(); err != nil {
			return nil, err
		}
	}
}

func (p *parser) item() (Item, error) {
	pos := p.tok().Pos
	if p.tok().Kind == tIdent && p.peek(1).Kind == tOp && p.peek(1).Text == "=" {
		name := p.tok().Text
		if err := p.next(); err != nil {
			return Item{}, err
		}
		if err := p.next(); err != nil {
			return Item{}, err
		}
		x, err := p.expr()
		return Item{Pos: pos, Name: name, X: x}, err
	}
	if p.isOp("(") && p.peek(1).Kind == tIdent && p.peek(2).Kind == tOp && p.peek(2).Text == "," {
		return Item{}, &query.Unsupported{Pos: pos, Construct: "tuple assignment (a, b) = …"}
	}
	x, err := p.expr()
	return Item{Pos: pos, X: x}, err
}

func (p *parser) summarize() (Op, error) {
	pos := p.tok().Pos
	if err := p.next(); err != nil {
		return nil, err
	}
	if p.isWord("hint") || p.tok().Kind == tIdent && strings.HasPrefix(p.tok().Text, "hint") && p.peek(1).Kind == tOp && p.peek(1).Text == "." {
		return nil, &query.Unsupported{Pos: p.tok().Pos, Construct: "summarize hints"}
	}
	s := &Summarize{Pos: pos}
	if !p.isWord("by") {
		aggs, err := p.items(true)
		if err != nil {
			return nil, err
		}
		s.Aggs = aggs
	}
	if p.isWord("by") {
		if err := p.next(); err != nil {
			return nil, err
		}
		by, err := p.items(true)
		if err != nil {
			return nil, err
		}
		s.By = by
	}
	if len(s.Aggs) == 0 && len(s.By) == 0 {
		return nil, p.unexpected("aggregates or by after summarize")
	}
	return s, nil
}

func (p *parser) parse() (Op, error) {
	op := &ParseOp{Pos: p.tok().Pos, Kind: "simple"}
	if err := p.next(); err != nil {
		return nil, err
	}
	for p.tok().Kind == tIdent && (p.tok().Text == "kind" || p.tok().Text == "flags") && p.peek(1).Kind == tOp && p.peek(1).Text == "=" {
		key := p.tok().Text
		if err := p.next(); err != nil {
			return nil, err
		}
		if err := p.next(); err != nil {
			return nil, err
		}
		v, err := p.ident("a value for " + key)
		if err != nil {
			return nil, err
		}
		if key == "kind" {
			op.Kind = v.Name
		} else {
			op.Flags = v.Name
		}
	}
	src, err := p.additive()
	if err != nil {
		return nil, err
	}
	op.Src = src
	if !p.isWord("with") {
		return nil, p.unexpected(`"with" after the parsed expression`)
	}
	if err := p.next(); err != nil {
		return nil, err
	}
	for {
		t := p.tok()
		switch {
		case t.Kind == tOp && t.Text == "*":
			op.Elems = append(op.Elems, ParseElem{Pos: t.Pos, Star: true})
		case t.Kind == tString:
			v := t.Text
			op.Elems = append(op.Elems, ParseElem{Pos: t.Pos, Lit: &v})
		case t.Kind == tIdent && !(t.Text == "and" || t.Text == "or"):
			el := ParseElem{Pos: t.Pos, Col: t.Text}
			if p.peek(1).Kind == tOp && p.peek(1).Text == ":" {
				if err := p.next(); err != nil {
					return nil, err
				}
				if err := p.next(); err != nil {
					return nil, err
				}
				ty, err := p.ident("a column type")
				if err != nil {
					return nil, err
				}
				el.Type = ty.Name
				op.Elems = append(op.Elems, el)
				continue
			}
			op.Elems = append(op.Elems, el)
		default:
			if len(op.Elems) == 0 {
				return nil, p.unexpected("a parse pattern")
			}
			return op, nil
		}
		if err := p.next(); err != nil {
			return nil, err
		}
	}
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return query.Errorf(p.tok().Pos, "expression nested too deeply")
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

func (p *parser) expr() (Expr, error) { return p.or() }

func (p *parser) or() (Expr, error) {
	x, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.isWord("or") {
		pos := p.tok().Pos
		if err := p.next(); err != nil {
			return nil, err
		}
		y, err := p.and()
		if err != nil {
			return nil, err
		}
		x = &Binary{Pos: pos, Op: "or", L: x, R: y}
	}
	return x, nil
}

func (p *parser) and() (Expr, error) {
	x, err := p.comparison()
	if err != nil {
		return nil, err
	}
	for p.isWord("and") {
		pos := p.tok().Pos
		if err := p.next(); err != nil {
			return nil, err
		}
		y, err := p.comparison()
		if err != nil {
			return nil, err
		}
		x = &Binary{Pos: pos, Op: "and", L: x, R: y}
	}
	return x, nil
}

// stringOps are the word operators (without a leading !) firewarden knows
// the name of; which of them it runs is the compiler's business.
var stringOps = map[string]bool{
	"contains": true, "contains_cs": true, "startswith": true, "startswith_cs": true,
	"endswith": true, "endswith_cs": true, "has": true, "has_cs": true,
	"hasprefix": true, "hasprefix_cs": true, "hassuffix": true, "hassuffix_cs": true,
	"has_any": true, "has_all": true, "in": true, "in~": true, "like": true,
	"notcontains": true, "notcontainscs": true, "notlike": true, "notbetween": true,
}

var cmpOps = map[string]bool{"==": true, "!=": true, "<": true, "<=": true, ">": true, ">=": true, "=~": true, "!~": true, "<>": true}

func (p *parser) comparison() (Expr, error) {
	x, err := p.additive()
	if err != nil {
		return nil, err
	}
	t := p.tok()
	switch {
	case t.Kind == tOp && cmpOps[t.Text]:
		if err := p.next(); err != nil {
			return nil, err
		}
		y, err := p.additive()
		if err != nil {
			return nil, err
		}
		return &Binary{Pos: t.Pos, Op: t.Text, L: x, R: y}, nil
	case t.Kind == tIdent && t.Text == "matches":
		if err := p.next(); err != nil {
			return nil, err
		}
		if !p.isWord("regex") {
			return nil, p.unexpected(`"regex" after matches`)
		}
		if err := p.next(); err != nil {
			return nil, err
		}
		y, err := p.additive()
		if err != nil {
			return nil, err
		}
		return &Binary{Pos: t.Pos, Op: "matches regex", L: x, R: y}, nil
	case t.Kind == tIdent && t.Text == "between" || t.Kind == tBangWord && t.Text == "!between":
		if err := p.next(); err != nil {
			return nil, err
		}
		if err := p.expectOp("(", `"(" after between`); err != nil {
			return nil, err
		}
		lo, err := p.additive()
		if err != nil {
			return nil, err
		}
		if err := p.expectOp("..", `".." between the bounds`); err != nil {
			return nil, err
		}
		hi, err := p.additive()
		if err != nil {
			return nil, err
		}
		if err := p.expectOp(")", `")" after the bounds`); err != nil {
			return nil, err
		}
		return &Between{Pos: t.Pos, Not: t.Kind == tBangWord, X: x, Lo: lo, Hi: hi}, nil
	case t.Kind == tIdent && stringOps[t.Text] || t.Kind == tBangWord:
		if err := p.next(); err != nil {
			return nil, err
		}
		var y Expr
		if p.isOp("(") && (strings.TrimPrefix(t.Text, "!") == "in" || strings.TrimPrefix(t.Text, "!") == "in~" || strings.HasPrefix(t.Text, "has_")) {
			y, err = p.list()
		} else {
			y, err = p.additive()
		}
		if err != nil {
			return nil, err
		}
		return &Binary{Pos: t.Pos, Op: t.Text, L: x, R: y}, nil
	}
	return x, nil
}

// list reads ( expr, … ).
func (p *parser) list() (Expr, error) {
	l := &List{Pos: p.tok().Pos}
	if err := p.next(); err != nil {
		return nil, err
	}
	for !p.isOp(")") {
		x, err := p.additive()
		if err != nil {
			return nil, err
		}
		l.Items = append(l.Items, x)
		if p.isOp(",") {
			if err := p.next(); err != nil {
				return nil, err
			}
			continue
		}
		if !p.isOp(")") {
			return nil, p.unexpected(`"," or ")"`)
		}
	}
	return l, p.next()
}

func (p *parser) additive() (Expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	x, err := p.multiplicative()
	if err != nil {
		return nil, err
	}
	for p.isOp("+") || p.isOp("-") {
		t := p.tok()
		if err := p.next(); err != nil {
			return nil, err
		}
		y, err := p.multiplicative()
		if err != nil {
			return nil, err
		}
		x = &Binary{Pos: t.Pos, Op: t.Text, L: x, R: y}
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
		if err := p.next(); err != nil {
			return nil, err
		}
		y, err := p.unary()
		if err != nil {
			return nil, err
		}
		x = &Binary{Pos: t.Pos, Op: t.Text, L: x, R: y}
	}
	return x, nil
}

func (p *parser) unary() (Expr, error) {
	if p.isOp("-") {
		t := p.tok()
		if err := p.next(); err != nil {
			return nil, err
		}
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		switch v := x.(type) {
		case *IntLit:
			return &IntLit{Pos: t.Pos, V: -v.V}, nil
		case *RealLit:
			return &RealLit{Pos: t.Pos, V: -v.V}, nil
		case *TimespanLit:
			return &TimespanLit{Pos: t.Pos, D: -v.D}, nil
		}
		return &Binary{Pos: t.Pos, Op: "-", L: &IntLit{Pos: t.Pos}, R: x}, nil
	}
	return p.postfix()
}

func (p *parser) postfix() (Expr, error) {
	x, err := p.primary()
	if err != nil {
		return nil, err
	}
	if p.isOp(".") || p.isOp("[") {
		return nil, &query.Unsupported{Pos: p.tok().Pos, Construct: "member access " + p.tok().Text, Why: "dynamic values are not supported"}
	}
	return x, nil
}

func (p *parser) primary() (Expr, error) {
	t := p.tok()
	switch t.Kind {
	case tString:
		return &StrLit{Pos: t.Pos, V: t.Text}, p.next()
	case tInt:
		v, err := strconv.ParseInt(t.Text, 10, 64)
		if err != nil {
			return nil, query.Errorf(t.Pos, "integer %s out of range", t.Text)
		}
		return &IntLit{Pos: t.Pos, V: v}, p.next()
	case tReal:
		v, err := strconv.ParseFloat(t.Text, 64)
		if err != nil || math.IsInf(v, 0) {
			return nil, query.Errorf(t.Pos, "bad real %s", t.Text)
		}
		return &RealLit{Pos: t.Pos, V: v}, p.next()
	case tTimespan:
		return &TimespanLit{Pos: t.Pos, D: t.Dur}, p.next()
	case tOp:
		if t.Text == "(" {
			if err := p.next(); err != nil {
				return nil, err
			}
			if err := p.enter(); err != nil {
				return nil, err
			}
			x, err := p.expr()
			p.leave()
			if err != nil {
				return nil, err
			}
			return x, p.expectOp(")", `")"`)
		}
	case tIdent:
		switch t.Text {
		case "true", "false":
			if !(p.peek(1).Kind == tOp && p.peek(1).Text == "(") {
				return &BoolLit{Pos: t.Pos, V: t.Text == "true"}, p.next()
			}
		case "dynamic":
			return p.dynamic()
		case "time", "timespan":
			if p.peek(1).Kind == tOp && p.peek(1).Text == "(" && p.peek(2).Kind == tTimespan {
				d := p.peek(2)
				for range 3 {
					if err := p.next(); err != nil {
						return nil, err
					}
				}
				return &TimespanLit{Pos: t.Pos, D: d.Dur}, p.expectOp(")", `")"`)
			}
		case "datetime", "todatetime", "now":
		}
		if err := p.next(); err != nil {
			return nil, err
		}
		if !p.isOp("(") {
			return &Ident{Pos: t.Pos, Name: t.Text}, nil
		}
		if err := p.next(); err != nil {
			return nil, err
		}
		c := &Call{Pos: t.Pos, Name: t.Text}
		for !p.isOp(")") {
			if p.isOp("*") && (p.peek(1).Kind == tOp && (p.peek(1).Text == "," || p.peek(1).Text == ")")) {
				// arg_max(x, *): a column wildcard, refused by the compiler.
				c.Args = append(c.Args, &Ident{Pos: p.tok().Pos, Name: "*"})
				if err := p.next(); err != nil {
					return nil, err
				}
				if p.isOp(",") {
					if err := p.next(); err != nil {
						return nil, err
					}
				}
				continue
			}
			if err := p.enter(); err != nil {
				return nil, err
			}
			x, err := p.expr()
			p.leave()
			if err != nil {
				return nil, err
			}
			c.Args = append(c.Args, x)
			if p.isOp(",") {
				if err := p.next(); err != nil {
					return nil, err
				}
				continue
			}
			if !p.isOp(")") {
				return nil, p.unexpected(`"," or ")"`)
			}
		}
		return c, p.next()
	}
	return nil, p.unexpected("an expression")
}

// dynamic reads dynamic([…]) of literals, or dynamic(literal).
func (p *parser) dynamic() (Expr, error) {
	pos := p.tok().Pos
	if err := p.next(); err != nil {
		return nil, err
	}
	if err := p.expectOp("(", `"(" after dynamic`); err != nil {
		return nil, err
	}
	if p.isOp("{") {
		return nil, &query.Unsupported{Pos: p.tok().Pos, Construct: "dynamic property bag"}
	}
	var x Expr
	if p.isOp("[") {
		l := &List{Pos: pos}
		if err := p.next(); err != nil {
			return nil, err
		}
		for !p.isOp("]") {
			if p.isOp("[") || p.isOp("{") {
				return nil, &query.Unsupported{Pos: p.tok().Pos, Construct: "nested dynamic value"}
			}
			y, err := p.unary()
			if err != nil {
				return nil, err
			}
			l.Items = append(l.Items, y)
			if p.isOp(",") {
				if err := p.next(); err != nil {
					return nil, err
				}
				continue
			}
			if !p.isOp("]") {
				return nil, p.unexpected(`"," or "]"`)
			}
		}
		if err := p.next(); err != nil {
			return nil, err
		}
		x = l
	} else {
		y, err := p.unary()
		if err != nil {
			return nil, err
		}
		x = y
	}
	return x, p.expectOp(")", `")" after the dynamic value`)
}
