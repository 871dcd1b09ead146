package engine

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/firewarden/firewarden/event"
)

// KQL's scalar functions (lang/kql). Kusto strings are never null: a
// missing string is the empty string, so these functions read an absent or
// null argument as "" and return "" where Kusto's result is an empty
// string. Registered here, under kql_ names, so lang/kql can name them in
// the IR.
func init() {
	for name, f := range map[string]function{
		"kql_tolower":  {1, 1, func(a []event.Value, _ bool) event.Value { return kqlMapStr(a[0], strings.ToLower) }},
		"kql_toupper":  {1, 1, func(a []event.Value, _ bool) event.Value { return kqlMapStr(a[0], strings.ToUpper) }},
		"kql_tostring": {1, 1, func(a []event.Value, _ bool) event.Value { return event.Str(kqlText(a[0])) }},
		"kql_strlen": {1, 1, func(a []event.Value, _ bool) event.Value {
			return event.IntV(int64(len([]rune(kqlText(a[0])))))
		}},
		"kql_strcat": {1, 64, func(a []event.Value, _ bool) event.Value {
			var b strings.Builder
			for _, v := range a {
				b.WriteString(kqlText(v))
			}
			return event.Str(b.String())
		}},
		// kql_split(s, delimiter[, index]): the parts as a list; with an
		// index, a list of the one part there (empty when out of range).
		"kql_split": {2, 3, func(a []event.Value, _ bool) event.Value {
			parts := strings.Split(kqlText(a[0]), kqlText(a[1]))
			if kqlText(a[1]) == "" {
				parts = []string{kqlText(a[0])}
			}
			if len(a) == 3 {
				i, ok := a[2].Number()
				if !ok || i < 0 || int(i) >= len(parts) {
					return event.ListV()
				}
				return event.ListV(event.Str(parts[int(i)]))
			}
			out := make([]event.Value, len(parts))
			for i, p := range parts {
				out[i] = event.Str(p)
			}
			return event.ListV(out...)
		}},
		// kql_extract(regex, group, s): the group's text of the first
		// match, "" when there is none (Kusto: an empty string).
		"kql_extract": {3, 3, func(a []event.Value, _ bool) event.Value {
			re := kqlRegex(kqlText(a[0]))
			g, ok := a[1].Number()
			if re == nil || !ok || g < 0 || int(g) > re.NumSubexp() {
				return event.Str("")
			}
			m := re.FindStringSubmatch(kqlText(a[2]))
			if m == nil {
				return event.Str("")
			}
			return event.Str(m[int(g)])
		}},
		// kql_tolong: the integer a string holds, null when it holds none.
		"kql_tolong": {1, 1, func(a []event.Value, _ bool) event.Value {
			switch a[0].Kind {
			case event.Int:
				return a[0]
			case event.Float:
				return event.IntV(int64(a[0].Num))
			}
			i, err := strconv.ParseInt(strings.TrimSpace(kqlText(a[0])), 10, 64)
			if err != nil {
				return event.NullV()
			}
			return event.IntV(i)
		}},
		// kql_epochms(t): a timestamp as epoch milliseconds.
		"kql_epochms": {1, 1, func(a []event.Value, _ bool) event.Value {
			t, ok := asTime(a[0])
			if !ok {
				return event.NullV()
			}
			return event.IntV(t.UnixMilli())
		}},
		// kql_bin(t, ms): the start of t's bin of ms milliseconds, as epoch
		// milliseconds (Kusto's bin() over a datetime: floor to the bin).
		"kql_bin": {2, 2, func(a []event.Value, _ bool) event.Value {
			t, ok := asTime(a[0])
			size, ok2 := a[1].Number()
			if !ok || !ok2 || size <= 0 {
				return event.NullV()
			}
			ms := t.UnixMilli()
			s := int64(size)
			return event.IntV(int64(math.Floor(float64(ms)/float64(s))) * s)
		}},
		// kql_file_event_type(event.type): ASIM's EventType of a file event.
		"kql_file_event_type": {1, 1, func(a []event.Value, _ bool) event.Value {
			out := ""
			a[0].Each(func(v event.Value) bool {
				switch v.String() {
				case "creation":
					out = "FileCreated"
				case "deletion":
					out = "FileDeleted"
				case "change":
					out = "FileModified"
				case "rename":
					out = "FileRenamed"
				case "access":
					out = "FileAccessed"
				default:
					return true
				}
				return false
			})
			return event.Str(out)
		}},
	} {
		functions[name] = f
	}
}

// kqlText is a value as Kusto's string conversion gives it: "" for
// absent or null.
func kqlText(v event.Value) string {
	if v.IsNull() {
		return ""
	}
	return v.String()
}

func kqlMapStr(v event.Value, f func(string) string) event.Value {
	if v.IsNull() {
		return event.Str("")
	}
	if v.Kind == event.List {
		return mapStr(v, f)
	}
	return event.Str(f(v.String()))
}

var kqlRegexes sync.Map // pattern → *regexp.Regexp (nil: does not compile)

func kqlRegex(p string) *regexp.Regexp {
	if r, ok := kqlRegexes.Load(p); ok {
		re, _ := r.(*regexp.Regexp)
		return re
	}
	re, err := regexp.Compile(p)
	if err != nil {
		re = nil
	}
	kqlRegexes.Store(p, re)
	return re
}
