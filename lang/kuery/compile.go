package kuery

import (
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/query"
)

// compile lowers the AST to the IR with Elasticsearch's semantics over
// keyword fields: every test is true when any value of a multi-valued
// field passes it, false on a missing or null field, and not (must_not)
// is true where its operand is false, missing fields included.
func compile(n Node) (query.Expr, error) {
	switch n := n.(type) {
	case *Bool:
		xs := make([]query.Expr, 0, len(n.X))
		for _, x := range n.X {
			e, err := compile(x)
			if err != nil {
				return nil, err
			}
			xs = append(xs, e)
		}
		if n.Op == "and" {
			return flatAnd(xs), nil
		}
		return flatOr(xs), nil
	case *Not:
		x, err := compile(n.X)
		if err != nil {
			return nil, err
		}
		return query.Not{X: x}, nil
	case *MatchAll:
		return query.Const{V: true}, nil
	case *Nested:
		return nil, &query.Unsupported{Pos: n.P, Construct: "nested query " + n.Path + ":{…}",
			Why: "its conditions must hold within one object of a nested array, which firewarden's flattened events cannot tell apart"}
	case *Term:
		return term(n)
	}
	return nil, fmt.Errorf("kuery: unknown node %T", n)
}

func term(t *Term) (query.Expr, error) {
	f := query.Field{Path: t.Field}
	if t.Field == "" {
		// A value with no field searches every field (Kibana's multi_match,
		// query_string's default field "*"): query.Keyword, which finds the
		// value anywhere in any string of the event.
		switch t.Kind {
		case Exact:
			return query.Keyword{Values: []string{escapeGlob(t.Text)}}, nil
		case Wildcard:
			return query.Keyword{Values: []string{t.Text}}, nil
		}
		return nil, &query.Unsupported{Pos: t.P, Construct: "this test without a field"}
	}
	switch t.Kind {
	case Exact:
		m := query.Match{Field: f, Op: query.Equal, Values: []string{t.Text}}
		if cidr, ok := network(t.Text); ok {
			// An ip field takes a CIDR block or an address as its term.
			return query.Or{X: []query.Expr{m, query.Match{Field: f, Op: query.CIDR, Values: []string{cidr}}}}, nil
		}
		return m, nil
	case Wildcard:
		return query.Match{Field: f, Op: query.Glob, Values: []string{t.Text}}, nil
	case Regexp:
		re, err := luceneRegex(t.Text)
		if err != nil {
			return nil, &query.Unsupported{Pos: t.P, Construct: "regular expression /" + t.Text + "/", Why: err.Error()}
		}
		if _, err := regexp.Compile(re); err != nil {
			return nil, &query.Unsupported{Pos: t.P, Construct: "regular expression /" + t.Text + "/", Why: "RE2 cannot run it: " + err.Error()}
		}
		return query.Match{Field: f, Op: query.Regex, Values: []string{re}}, nil
	case Exists:
		return query.Exists{Path: t.Field}, nil
	case Range:
		var xs []query.Expr
		for _, b := range []struct {
			b    *Bound
			incl bool
			op   [2]query.CmpOp // exclusive, inclusive
		}{{t.Lo, t.LoIncl, [2]query.CmpOp{query.Gt, query.Ge}}, {t.Hi, t.HiIncl, [2]query.CmpOp{query.Lt, query.Le}}} {
			if b.b == nil {
				continue
			}
			v, err := bound(b.b)
			if err != nil {
				return nil, err
			}
			op := b.op[0]
			if b.incl {
				op = b.op[1]
			}
			xs = append(xs, query.Compare{Op: op, L: f, R: v})
		}
		switch len(xs) {
		case 0:
			return query.Exists{Path: t.Field}, nil // [* TO *]: any value
		case 1:
			return xs[0], nil
		}
		return query.And{X: xs}, nil
	}
	return nil, fmt.Errorf("kuery: unknown term kind %d", t.Kind)
}

// network reads a value as an IP network: a CIDR block, or an address as
// a block of one.
func network(s string) (string, bool) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked().String(), true
	}
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()).String(), true
	}
	return "", false
}

var numberRE = regexp.MustCompile(`^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$`)

// bound is a range bound: a number when it reads as one (numeric fields
// compare numerically), else a string (compared by bytes, as on a keyword
// field). Date math is refused.
func bound(b *Bound) (query.Expr, error) {
	s := b.Text
	if strings.HasPrefix(s, "now") || strings.Contains(s, "||") {
		return nil, &query.Unsupported{Pos: b.P, Construct: "date math " + strconv.Quote(s), Why: "relative dates are resolved at search time; firewarden matches events as they arrive"}
	}
	if numberRE.MatchString(s) {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return query.Lit{V: event.IntV(i)}, nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) {
			return query.Lit{V: event.FloatV(f)}, nil
		}
	}
	return query.Lit{V: event.Str(s)}, nil
}

func flatAnd(xs []query.Expr) query.Expr {
	var out []query.Expr
	for _, x := range xs {
		if a, ok := x.(query.And); ok {
			out = append(out, a.X...)
		} else {
			out = append(out, x)
		}
	}
	if len(out) == 1 {
		return out[0]
	}
	return query.And{X: out}
}

// flatOr flattens nested disjunctions and merges the Matches that differ
// only in their values (a KQL value list becomes one Match).
func flatOr(xs []query.Expr) query.Expr {
	var flat []query.Expr
	for _, x := range xs {
		if o, ok := x.(query.Or); ok {
			flat = append(flat, o.X...)
		} else {
			flat = append(flat, x)
		}
	}
	type key struct {
		path string
		op   query.MatchOp
	}
	at := map[key]int{}
	owned := map[int]bool{} // out[i]'s Values is a slice of our own
	var out []query.Expr
	for _, x := range flat {
		m, ok := x.(query.Match)
		f, isField := m.Field.(query.Field)
		if !ok || !isField || m.All || m.Fold || m.Quant != query.Any {
			out = append(out, x)
			continue
		}
		k := key{f.Path, m.Op}
		if i, seen := at[k]; seen {
			prev := out[i].(query.Match)
			if !owned[i] {
				prev.Values = append([]string(nil), prev.Values...)
				owned[i] = true
			}
			prev.Values = append(prev.Values, m.Values...)
			out[i] = prev
			continue
		}
		at[k] = len(out)
		out = append(out, x)
	}
	if len(out) == 1 {
		return out[0]
	}
	return query.Or{X: out}
}

// escapeGlob makes text a glob that matches only itself.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == '*' || r == '?' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// luceneRegex translates a Lucene regular expression (which always matches
// the whole value) into RE2. Lucene's optional operators (~ complement,
// & intersection, <n-m> ranges, @ any string, # empty) are refused.
//
// Copied from lang/eql (compile.go), which has the same function for EQL's
// regex operator, rather than moved to a shared package that both would
// import; this copy differs in two places where RE2 and Lucene disagree:
// an escaped character is always that character (Lucene's \d is "d", not
// a digit), and . matches a newline too.
func luceneRegex(s string) (string, error) {
	var b strings.Builder
	b.WriteString(`^(?s:`)
	inClass := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '\\' && i+1 < len(s):
			r, n := utf8.DecodeRuneInString(s[i+1:])
			if r < utf8.RuneSelf && (unicode.IsPunct(r) || unicode.IsSymbol(r)) {
				b.WriteByte('\\')
				b.WriteRune(r)
			} else {
				b.WriteString(regexp.QuoteMeta(string(r)))
			}
			i += n
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
