package engine

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/query"
)

type compiler struct {
	e    *Engine
	prog *Program
	// guardTop makes every outermost predicate compiled a guarded one
	// (compiler.guard): the steps of sequences and samples, which are
	// evaluated for every event, skip the events the prefilter rules out.
	guardTop bool
	depth    int
	// locals maps the fields a query's Assign and Extract stages set to
	// slots of the program's own (stages.go): a later stage reading the
	// field reads the value set, other programs never see it.
	locals map[string]int
}

// slot is the slot a field reference of the program being compiled reads.
func (c *compiler) slot(path string) int {
	if i, ok := c.locals[path]; ok {
		return i
	}
	return c.e.slot(path)
}

func (c *compiler) pred(x query.Expr) (pred, error) {
	c.depth++
	p, err := c.pred1(x)
	c.depth--
	if err != nil {
		return nil, err
	}
	if c.guardTop && c.depth == 0 {
		p = c.guard(x, p)
	}
	return p, nil
}

func (c *compiler) pred1(x query.Expr) (pred, error) {
	switch x := x.(type) {
	case query.And:
		ps, err := c.preds(x.X)
		if err != nil {
			return nil, err
		}
		switch len(ps) {
		case 0:
			return func(*ctx) bool { return true }, nil
		case 1:
			return ps[0], nil
		case 2:
			a, b := ps[0], ps[1]
			return func(k *ctx) bool { return a(k) && b(k) }, nil
		}
		return func(k *ctx) bool {
			for _, p := range ps {
				if !p(k) {
					return false
				}
			}
			return true
		}, nil
	case query.Or:
		ps, err := c.preds(x.X)
		if err != nil {
			return nil, err
		}
		switch len(ps) {
		case 0:
			return func(*ctx) bool { return false }, nil
		case 1:
			return ps[0], nil
		case 2:
			a, b := ps[0], ps[1]
			return func(k *ctx) bool { return a(k) || b(k) }, nil
		}
		return func(k *ctx) bool {
			for _, p := range ps {
				if p(k) {
					return true
				}
			}
			return false
		}, nil
	case query.Not:
		p, err := c.pred(x.X)
		if err != nil {
			return nil, err
		}
		return func(k *ctx) bool { return !p(k) }, nil
	case query.Const:
		v := x.V
		return func(*ctx) bool { return v }, nil
	case query.Named:
		p, err := c.pred(x.X)
		if err != nil {
			return nil, err
		}
		c.prog.named = append(c.prog.named, namedPred{name: x.Name, p: p})
		return p, nil
	case query.Match:
		return c.match(x)
	case query.Compare:
		return c.compare(x)
	case query.Exists:
		i := c.slot(x.Path)
		return func(k *ctx) bool { return !k.get(i).val.IsNull() }, nil
	case query.Keyword:
		return c.keyword(x)
	case query.Truthy:
		v, err := c.value(x.X)
		if err != nil {
			return nil, err
		}
		return func(k *ctx) bool { return v(k).Truth() }, nil
	case query.Call:
		v, err := c.value(x)
		if err != nil {
			return nil, err
		}
		return func(k *ctx) bool { return v(k).Truth() }, nil
	}
	return nil, fmt.Errorf("engine: %T is not a predicate", x)
}

func (c *compiler) preds(xs []query.Expr) ([]pred, error) {
	ps := make([]pred, len(xs))
	for i, x := range xs {
		p, err := c.pred(x)
		if err != nil {
			return nil, err
		}
		ps[i] = p
	}
	return ps, nil
}

// strMatcher tests one text value.
type strMatcher func(s string) bool

func (c *compiler) match(m query.Match) (pred, error) {
	fold := m.Fold
	var ms []strMatcher
	switch m.Op {
	case query.Equal:
		if !m.All && len(m.Values) > 4 {
			set := make(map[string]struct{}, len(m.Values))
			for _, v := range m.Values {
				set[foldIf(v, fold)] = struct{}{}
			}
			ms = append(ms, func(s string) bool { _, ok := set[s]; return ok })
			break
		}
		for _, v := range m.Values {
			v := foldIf(v, fold)
			ms = append(ms, func(s string) bool { return s == v })
		}
	case query.Contains:
		for _, v := range m.Values {
			v := foldIf(v, fold)
			ms = append(ms, func(s string) bool { return strings.Contains(s, v) })
		}
	case query.Prefix:
		for _, v := range m.Values {
			v := foldIf(v, fold)
			ms = append(ms, func(s string) bool { return strings.HasPrefix(s, v) })
		}
	case query.Suffix:
		for _, v := range m.Values {
			v := foldIf(v, fold)
			ms = append(ms, func(s string) bool { return strings.HasSuffix(s, v) })
		}
	case query.Glob:
		for _, v := range m.Values {
			g := compileGlob(v, fold)
			ms = append(ms, g.match)
		}
	case query.Regex:
		for _, v := range m.Values {
			if fold {
				v = "(?i)" + v
			}
			re, err := regexp.Compile(v)
			if err != nil {
				return nil, fmt.Errorf("regular expression %q: %w", v, err)
			}
			ms = append(ms, re.MatchString)
		}
		fold = false // the regex folds itself; match the original text
	case query.CIDR:
		for _, v := range m.Values {
			pfx, err := netip.ParsePrefix(strings.TrimSpace(v))
			if err != nil {
				return nil, fmt.Errorf("cidr %q: %w", v, err)
			}
			ms = append(ms, func(s string) bool {
				a, err := netip.ParseAddr(strings.TrimSpace(s))
				return err == nil && pfx.Contains(a.Unmap())
			})
		}
		fold = false
	case query.Term:
		for _, v := range m.Values {
			v := foldIf(v, fold)
			ms = append(ms, func(s string) bool { return hasTerm(s, v) })
		}
	default:
		return nil, fmt.Errorf("engine: unknown match op %v", m.Op)
	}
	one := combine(ms, m.All)
	if f, ok := m.Field.(query.Field); ok {
		i := c.slot(f.Path)
		if m.Quant == query.Every {
			return func(k *ctx) bool {
				ts := k.texts(i, fold)
				for _, t := range ts {
					if !one(t) {
						return false
					}
				}
				return len(ts) > 0
			}, nil
		}
		return func(k *ctx) bool {
			for _, t := range k.texts(i, fold) {
				if one(t) {
					return true
				}
			}
			return false
		}, nil
	}
	// A computed value (a function of fields).
	v, err := c.value(m.Field)
	if err != nil {
		return nil, err
	}
	every := m.Quant == query.Every
	return func(k *ctx) bool {
		val := v(k)
		n := 0
		ok := val.Each(func(x event.Value) bool {
			if x.Kind == event.Null {
				return true
			}
			n++
			r := one(foldIf(x.String(), fold))
			if every {
				return r
			}
			return !r
		})
		if every {
			return ok && n > 0
		}
		return !ok
	}, nil
}

// combine ORs (or ANDs, when all) the matchers of one Match.
func combine(ms []strMatcher, all bool) strMatcher {
	if len(ms) == 1 {
		return ms[0]
	}
	if all {
		return func(s string) bool {
			for _, m := range ms {
				if !m(s) {
					return false
				}
			}
			return len(ms) > 0
		}
	}
	return func(s string) bool {
		for _, m := range ms {
			if m(s) {
				return true
			}
		}
		return false
	}
}

func foldIf(s string, fold bool) string {
	if fold {
		return lower(s)
	}
	return s
}

// hasTerm reports whether term occurs in s as a whole term: bounded on both
// sides by the start or end of s or by a character that is not a letter or
// digit (Kusto's has operator).
func hasTerm(s, term string) bool {
	if term == "" {
		return true
	}
	for i := 0; ; {
		j := strings.Index(s[i:], term)
		if j < 0 {
			return false
		}
		start := i + j
		end := start + len(term)
		if (start == 0 || !isAlnum(s[start-1])) && (end == len(s) || !isAlnum(s[end])) {
			return true
		}
		i = start + 1
		if i >= len(s) {
			return false
		}
	}
}

func isAlnum(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b >= 0x80
}

func (c *compiler) keyword(kw query.Keyword) (pred, error) {
	gs := make([]*glob, len(kw.Values))
	for i, v := range kw.Values {
		// Keywords match anywhere in a value.
		if !strings.HasPrefix(v, "*") {
			v = "*" + v
		}
		if !strings.HasSuffix(v, "*") || strings.HasSuffix(v, `\*`) {
			v += "*"
		}
		gs[i] = compileGlob(v, kw.Fold)
	}
	fold := kw.Fold
	scope := c.e.keywordScope(kw.Fields)
	anyValue := func(k *ctx, g *glob) bool {
		for _, t := range k.keywordTexts(scope, fold) {
			if g.match(t) {
				return true
			}
		}
		return false
	}
	if kw.All {
		return func(k *ctx) bool {
			for _, g := range gs {
				if !anyValue(k, g) {
					return false
				}
			}
			return len(gs) > 0
		}, nil
	}
	return func(k *ctx) bool {
		for _, g := range gs {
			if anyValue(k, g) {
				return true
			}
		}
		return false
	}, nil
}

// value compiles a value expression.
func (c *compiler) value(x query.Expr) (valFn, error) {
	switch x := x.(type) {
	case query.Field:
		i := c.slot(x.Path)
		return func(k *ctx) event.Value { return k.get(i).val }, nil
	case query.Lit:
		v := x.V
		return func(*ctx) event.Value { return v }, nil
	case query.Call:
		return c.call(x)
	}
	// A predicate used as a value: a boolean.
	p, err := c.pred(x)
	if err != nil {
		return nil, err
	}
	return func(k *ctx) event.Value { return event.BoolV(p(k)) }, nil
}
