package engine

import (
	"strconv"
	"strings"
	"time"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/query"
)

// function is a built-in of the IR: arguments already evaluated; fold is the
// case-insensitive variant.
type function struct {
	minArgs, maxArgs int // maxArgs < 0: variadic
	fn               func(args []event.Value, fold bool) event.Value
}

// functions are the IR's built-ins. Names are lower-case; languages map
// their own names onto these.
var functions = map[string]function{
	"lower": {1, 1, func(a []event.Value, _ bool) event.Value { return mapStr(a[0], strings.ToLower) }},
	"upper": {1, 1, func(a []event.Value, _ bool) event.Value { return mapStr(a[0], strings.ToUpper) }},
	// isnull is true when the value is absent or null (EQL's x == null
	// over an expression, SPL's and KQL's isnull).
	"isnull": {1, 1, func(a []event.Value, _ bool) event.Value { return event.BoolV(a[0].IsNull()) }},
	// valuecount is how many values a field holds: 0 absent or null, 1 a
	// scalar, n a list (SPL mvcount; exceptions' nested entries).
	"valuecount": {1, 1, func(a []event.Value, _ bool) event.Value {
		switch {
		case a[0].IsNull():
			return event.IntV(0)
		case a[0].Kind == event.List:
			return event.IntV(int64(len(a[0].List)))
		}
		return event.IntV(1)
	}},
	"minute": {1, 1, timePart(func(t time.Time) int { return t.Minute() })},
	"hour":   {1, 1, timePart(func(t time.Time) int { return t.Hour() })},
	"day":    {1, 1, timePart(func(t time.Time) int { return t.Day() })},
	"week": {1, 1, timePart(func(t time.Time) int {
		_, w := t.ISOWeek()
		return w
	})},
	"month": {1, 1, timePart(func(t time.Time) int { return int(t.Month()) })},
	// Two-string predicates (Sigma fieldref|startswith…, EQL's functions):
	// true when any value of the first argument satisfies it with any value
	// of the second; fold is the case-insensitive variant.
	"startswith":     {2, 2, strPred(strings.HasPrefix)},
	"endswith":       {2, 2, strPred(strings.HasSuffix)},
	"stringcontains": {2, 2, strPred(strings.Contains)},
	"year":           {1, 1, timePart(func(t time.Time) int { return t.Year() })},
}

func (c *compiler) call(x query.Call) (valFn, error) {
	name := strings.ToLower(x.Name)
	if rc, ok := regexCalls[name]; ok {
		return c.regexCall(x, rc)
	}
	f, ok := functions[name]
	if !ok {
		f, ok = eqlFunctions[name]
	}
	if !ok {
		return nil, &query.Unsupported{Construct: "function " + x.Name + "()"}
	}
	if len(x.Args) < f.minArgs || f.maxArgs >= 0 && len(x.Args) > f.maxArgs {
		return nil, &query.Error{Msg: "function " + x.Name + "(): wrong number of arguments (" + strconv.Itoa(len(x.Args)) + ")"}
	}
	args, err := c.values(x.Args)
	if err != nil {
		return nil, err
	}
	fold := x.Fold
	return func(k *ctx) event.Value {
		vals := make([]event.Value, len(args))
		for i, a := range args {
			vals[i] = a(k)
		}
		return f.fn(vals, fold)
	}, nil
}

func strPred(p func(s, sub string) bool) func([]event.Value, bool) event.Value {
	return func(a []event.Value, fold bool) event.Value {
		if a[0].IsNull() || a[1].IsNull() {
			return event.NullV()
		}
		hit := false
		a[0].Each(func(x event.Value) bool {
			a[1].Each(func(y event.Value) bool {
				hit = p(foldIf(x.String(), fold), foldIf(y.String(), fold))
				return !hit
			})
			return !hit
		})
		return event.BoolV(hit)
	}
}

func mapStr(v event.Value, f func(string) string) event.Value {
	switch v.Kind {
	case event.String:
		return event.Str(f(v.Str))
	case event.List:
		out := make([]event.Value, len(v.List))
		for i, e := range v.List {
			out[i] = mapStr(e, f)
		}
		return event.ListV(out...)
	}
	return v
}

// timePart extracts a calendar part (UTC) of a timestamp held as RFC 3339
// text or epoch milliseconds.
func timePart(part func(time.Time) int) func([]event.Value, bool) event.Value {
	return func(a []event.Value, _ bool) event.Value {
		t, ok := asTime(a[0])
		if !ok {
			return event.NullV()
		}
		return event.IntV(int64(part(t.UTC())))
	}
}

func asTime(v event.Value) (time.Time, bool) {
	switch v.Kind {
	case event.String:
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"} {
			if t, err := time.Parse(layout, v.Str); err == nil {
				return t, true
			}
		}
	case event.Int:
		return time.UnixMilli(v.Int), true
	case event.Float:
		return time.UnixMilli(int64(v.Num)), true
	case event.List:
		if len(v.List) > 0 {
			return asTime(v.List[0])
		}
	}
	return time.Time{}, false
}
