package sigma

import (
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/firewarden/firewarden/query"
)

// A tiny reference evaluator for the IR this package emits, so tests can
// check what a rule matches rather than only how it is spelt. Events are
// flat: path → values (several for a multi-valued field). It follows the
// IR's documented semantics; the real engine lives elsewhere.
type testEvent map[string][]string

func evalIR(t *testing.T, x query.Expr, ev testEvent) bool {
	t.Helper()
	switch n := x.(type) {
	case query.And:
		for _, y := range n.X {
			if !evalIR(t, y, ev) {
				return false
			}
		}
		return true
	case query.Or:
		for _, y := range n.X {
			if evalIR(t, y, ev) {
				return true
			}
		}
		return false
	case query.Not:
		return !evalIR(t, n.X, ev)
	case query.Named:
		return evalIR(t, n.X, ev)
	case query.Const:
		return n.V
	case query.Exists:
		return len(ev[n.Path]) > 0
	case query.Match:
		vals := ev[n.Field.(query.Field).Path]
		for _, v := range vals {
			for _, p := range n.Values {
				if matchOne(t, n.Op, n.Fold, p, v) {
					return true
				}
			}
		}
		return false
	case query.Keyword:
		found := func(p string) bool {
			for _, vs := range ev {
				for _, v := range vs {
					if globMatch("*"+p+"*", v, n.Fold) {
						return true
					}
				}
			}
			return false
		}
		for _, p := range n.Values {
			if f := found(p); f && !n.All {
				return true
			} else if !f && n.All {
				return false
			}
		}
		return n.All
	case query.Compare:
		l := n.L.(query.Field)
		want, _ := n.R.(query.Lit).V.Number()
		for _, v := range ev[l.Path] {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			switch n.Op {
			case query.Lt:
				if f < want {
					return true
				}
			case query.Le:
				if f <= want {
					return true
				}
			case query.Gt:
				if f > want {
					return true
				}
			case query.Ge:
				if f >= want {
					return true
				}
			case query.Eq:
				if f == want {
					return true
				}
			}
		}
		return false
	}
	t.Fatalf("evalIR: %T not supported by the test evaluator", x)
	return false
}

func matchOne(t *testing.T, op query.MatchOp, fold bool, p, v string) bool {
	if fold && op != query.Regex && op != query.CIDR {
		p, v = strings.ToLower(p), strings.ToLower(v)
	}
	switch op {
	case query.Equal:
		return v == p
	case query.Contains:
		return strings.Contains(v, p)
	case query.Prefix:
		return strings.HasPrefix(v, p)
	case query.Suffix:
		return strings.HasSuffix(v, p)
	case query.Glob:
		return globMatch(p, v, false)
	case query.Regex:
		return regexp.MustCompile(p).MatchString(v)
	case query.CIDR:
		a, err := netip.ParseAddr(v)
		return err == nil && netip.MustParsePrefix(p).Contains(a)
	}
	t.Fatalf("matchOne: op %v", op)
	return false
}

// globMatch matches the IR's canonical glob syntax, by recursion.
func globMatch(p, s string, fold bool) bool {
	if fold {
		p, s = strings.ToLower(p), strings.ToLower(s)
	}
	if p == "" {
		return s == ""
	}
	switch p[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if globMatch(p[1:], s[i:], false) {
				return true
			}
		}
		return false
	case '?':
		if s == "" {
			return false
		}
		_, size := utf8.DecodeRuneInString(s)
		return globMatch(p[1:], s[size:], false)
	case '\\':
		if len(p) > 1 {
			p = p[1:]
		}
	}
	return s != "" && s[0] == p[0] && globMatch(p[1:], s[1:], false)
}
