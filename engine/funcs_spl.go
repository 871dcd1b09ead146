package engine

import (
	"encoding/hex"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strings"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/query"
)

// Functions of SPL's eval and where (lang/spl maps its names onto these;
// docs/spl.md). Over a multi-valued argument, string functions map over
// the values and predicates hold when any value satisfies them.
func init() {
	for name, f := range map[string]function{
		// if(cond, then, else): both branches are evaluated (they have no
		// effects).
		"if": {3, 3, func(a []event.Value, _ bool) event.Value {
			if a[0].Truth() {
				return a[1]
			}
			return a[2]
		}},
		// case(cond1, value1, cond2, value2, …): the value of the first
		// true condition; null when none is.
		"case": {2, -1, func(a []event.Value, _ bool) event.Value {
			for i := 0; i+1 < len(a); i += 2 {
				if a[i].Truth() {
					return a[i+1]
				}
			}
			return event.NullV()
		}},
		"coalesce": {1, -1, func(a []event.Value, _ bool) event.Value {
			for _, v := range a {
				if !v.IsNull() {
					return v
				}
			}
			return event.NullV()
		}},
		// epoch is a timestamp (RFC 3339 text or epoch milliseconds) as
		// seconds since 1970, a float (SPL's _time).
		"epoch": {1, 1, func(a []event.Value, _ bool) event.Value {
			t, ok := asTime(a[0])
			if !ok {
				return event.NullV()
			}
			return event.FloatV(float64(t.UnixNano()) / 1e9)
		}},
		// timebucket(t, span seconds): t rounded down to a multiple of span
		// (SPL bin/bucket span=).
		"timebucket": {2, 2, func(a []event.Value, _ bool) event.Value {
			t, ok1 := num(a[0])
			s, ok2 := num(a[1])
			if !ok1 || !ok2 || s <= 0 {
				return event.NullV()
			}
			return event.FloatV(math.Floor(t/s) * s)
		}},
		"mvappend": {1, -1, func(a []event.Value, _ bool) event.Value {
			var out []event.Value
			for _, v := range a {
				v.Each(func(x event.Value) bool {
					if !x.IsNull() {
						out = append(out, x)
					}
					return true
				})
			}
			switch len(out) {
			case 0:
				return event.NullV()
			case 1:
				return out[0]
			}
			return event.ListV(out...)
		}},
		"mvjoin": {2, 2, func(a []event.Value, _ bool) event.Value {
			if a[0].IsNull() {
				return event.NullV()
			}
			var parts []string
			a[0].Each(func(x event.Value) bool {
				if !x.IsNull() {
					parts = append(parts, x.String())
				}
				return true
			})
			return event.Str(strings.Join(parts, a[1].String()))
		}},
		// mvindex(list, start[, end]): 0-based, negative from the end, end
		// inclusive.
		"mvindex": {2, 3, func(a []event.Value, _ bool) event.Value {
			var vals []event.Value
			a[0].Each(func(x event.Value) bool { vals = append(vals, x); return true })
			n := len(vals)
			idx := func(v event.Value) (int, bool) {
				f, ok := num(v)
				if !ok {
					return 0, false
				}
				i := int(f)
				if i < 0 {
					i += n
				}
				return i, i >= 0 && i < n
			}
			i, ok := idx(a[1])
			if !ok {
				return event.NullV()
			}
			if len(a) == 2 {
				return vals[i]
			}
			j, ok := idx(a[2])
			if !ok || j < i {
				return event.NullV()
			}
			if i == j {
				return vals[i]
			}
			return event.ListV(vals[i : j+1]...)
		}},
		"trim":  {1, 2, trimFn(strings.Trim)},
		"ltrim": {1, 2, trimFn(strings.TrimLeft)},
		"rtrim": {1, 2, trimFn(strings.TrimRight)},
		"urldecode": {1, 1, func(a []event.Value, _ bool) event.Value {
			return mapStr(a[0], func(s string) string {
				if d, err := url.QueryUnescape(s); err == nil {
					return d
				}
				return s
			})
		}},
		// audithex is a value as the kernel writes it in an audit record:
		// upper-case hex when it holds a double quote, a control character,
		// a space or a byte above 0x7e; as it is otherwise (Splunk reads
		// audit.log undecoded).
		"audithex": {1, 1, func(a []event.Value, _ bool) event.Value {
			return mapStr(a[0], func(s string) string {
				for i := 0; i < len(s); i++ {
					if c := s[i]; c == '"' || c < 0x21 || c > 0x7e {
						return strings.ToUpper(hex.EncodeToString([]byte(s)))
					}
				}
				return s
			})
		}},
		// charlength is the number of characters (SPL len).
		"charlength": {1, 1, func(a []event.Value, _ bool) event.Value {
			if a[0].IsNull() || a[0].Kind == event.List {
				return event.NullV()
			}
			return event.IntV(int64(len([]rune(a[0].String()))))
		}},
		// substr(s, start[, length]): start is 1-based; negative counts from
		// the end (SPL).
		"substr": {2, 3, func(a []event.Value, _ bool) event.Value {
			if a[0].IsNull() {
				return event.NullV()
			}
			r := []rune(a[0].String())
			st, ok := num(a[1])
			if !ok {
				return event.NullV()
			}
			i := int(st)
			switch {
			case i < 0:
				i += len(r)
			case i > 0:
				i--
			}
			i = min(max(i, 0), len(r))
			j := len(r)
			if len(a) == 3 {
				l, ok := num(a[2])
				if !ok || l < 0 {
					return event.NullV()
				}
				j = min(i+int(l), len(r))
			}
			return event.Str(string(r[i:j]))
		}},
	} {
		functions[name] = f
	}
}

func trimFn(f func(string, string) string) func([]event.Value, bool) event.Value {
	return func(a []event.Value, _ bool) event.Value {
		cut := " \t"
		if len(a) == 2 {
			cut = a[1].String()
		}
		return mapStr(a[0], func(s string) string { return f(s, cut) })
	}
}

func num(v event.Value) (float64, bool) {
	switch v.Kind {
	case event.Int:
		return float64(v.Int), true
	case event.Float:
		return v.Num, true
	case event.String:
		var f float64
		if _, err := fmt.Sscan(strings.TrimSpace(v.Str), &f); err == nil {
			return f, true
		}
	}
	return 0, false
}

// regexCalls are functions whose second argument is a regular expression:
// a literal one is compiled once, with the rule.
var regexCalls = map[string]func(re *regexp.Regexp, a []event.Value) event.Value{
	// regexmatch(s, re): true when any value of s contains a match.
	"regexmatch": func(re *regexp.Regexp, a []event.Value) event.Value {
		if a[0].IsNull() {
			return event.NullV()
		}
		hit := false
		a[0].Each(func(x event.Value) bool {
			hit = !x.IsNull() && re.MatchString(x.String())
			return !hit
		})
		return event.BoolV(hit)
	},
	// regexreplace(s, re, replacement): every match replaced; \1…\9 in
	// the replacement are the groups (PCRE's, as SPL's replace takes).
	"regexreplace": func(re *regexp.Regexp, a []event.Value) event.Value {
		repl := backrefs.ReplaceAllString(a[2].String(), "$${$1}")
		return mapStr(a[0], func(s string) string { return re.ReplaceAllString(s, repl) })
	},
}

var backrefs = regexp.MustCompile(`\\([0-9])`)

// regexCall compiles a regexCalls function: its pattern once when it is a
// literal, per call otherwise.
func (c *compiler) regexCall(x query.Call, fn func(*regexp.Regexp, []event.Value) event.Value) (valFn, error) {
	want := 2
	if strings.EqualFold(x.Name, "regexreplace") {
		want = 3
	}
	if len(x.Args) != want {
		return nil, &query.Error{Msg: fmt.Sprintf("function %s(): wrong number of arguments (%d)", x.Name, len(x.Args))}
	}
	args, err := c.values(x.Args)
	if err != nil {
		return nil, err
	}
	var fixed *regexp.Regexp
	if l, ok := x.Args[1].(query.Lit); ok {
		re, err := regexp.Compile(l.V.String())
		if err != nil {
			return nil, &query.Error{Msg: fmt.Sprintf("function %s(): regular expression %q: %v", x.Name, l.V.String(), err)}
		}
		fixed = re
	}
	return func(k *ctx) event.Value {
		vals := make([]event.Value, len(args))
		for i, a := range args {
			vals[i] = a(k)
		}
		re := fixed
		if re == nil {
			var err error
			if re, err = regexp.Compile(vals[1].String()); err != nil {
				return event.NullV()
			}
		}
		return fn(re, vals)
	}, nil
}
