package ecs

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/valyala/fastjson"

	"github.com/firewarden/firewarden/event"
)

// flattener writes a parsed document into an event as dotted paths, with
// the semantics of event.Event.SetTree (Elasticsearch's): objects nest by
// ".", a key that already contains dots is joined as it is, an array of
// objects makes each of its leaves multi-valued, an array of scalars is a
// list, an empty array is an empty list, null is null.
//
// It avoids per-field allocations: paths come from a per-input intern
// table, and string values are copied into one arena per event and
// referenced from there (an event's strings share its arena).
type flattener struct {
	ev    *event.Event
	path  []byte
	cache map[string]string
	lists map[string]event.Value // shared one-string lists
	// values gathered under an array of objects, by path, in first-seen order
	accIdx map[string]int
	accs   []accum
	arena  []byte
	num    []byte
}

// maxPaths bounds the path intern table of one input; maxLists and
// maxListKey the shared one-string lists.
const (
	maxPaths   = 1 << 14
	maxLists   = 1 << 10
	maxListKey = 64
)

// arenaChunk is the size of the blocks string values are carved from.
// Events share a block, so one event kept alive keeps at most one block
// alive; a string longer than a quarter block gets its own allocation.
const arenaChunk = 32 << 10

// Flattener writes parsed JSON documents into events with the semantics
// above, for the other JSON readers (Endgame): one per input, not safe
// for concurrent use.
type Flattener struct{ f flattener }

// NewFlattener returns a flattener for one input.
func NewFlattener() *Flattener {
	x := &Flattener{}
	x.f.init()
	return x
}

// Flatten writes document o into ev.
func (x *Flattener) Flatten(ev *event.Event, o *fastjson.Object) {
	x.f.reset(ev)
	x.f.object(o, 0, false)
	x.f.flush()
	x.f.ev = nil
}

func (f *flattener) init() {
	f.cache = make(map[string]string, 256)
	f.lists = make(map[string]event.Value, 64)
	f.accIdx = make(map[string]int)
}

// reset starts a new event.
func (f *flattener) reset(ev *event.Event) {
	f.ev = ev
}

// object flattens o under the path f.path[:plen]. app selects Append
// semantics (inside an array of objects) over Set.
func (f *flattener) object(o *fastjson.Object, plen int, app bool) {
	o.Visit(func(k []byte, v *fastjson.Value) {
		if plen > 0 {
			f.path = append(f.path[:plen], '.')
			f.path = append(f.path, k...)
		} else {
			f.path = append(f.path[:0], k...)
		}
		f.value(v, len(f.path), app)
	})
}

func (f *flattener) value(v *fastjson.Value, plen int, app bool) {
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		f.object(o, plen, app)
	case fastjson.TypeArray:
		p := f.pathString()
		arr, _ := v.Array()
		if !app && len(arr) == 1 && arr[0].Type() == fastjson.TypeString {
			// ["process"], ["start"], ["bash"]: one-string lists recur in
			// every document; share them (values are immutable).
			b, _ := arr[0].StringBytes()
			if l, ok := f.lists[string(b)]; ok {
				f.ev.Set(p, l)
				return
			}
			if len(b) <= maxListKey && len(f.lists) < maxLists {
				s := string(sanitizeUTF8(b))
				l := event.ListV(event.Str(s))
				f.lists[string(b)] = l
				f.ev.Set(p, l)
				return
			}
		}
		scalars, objs := f.array(arr, plen, nil)
		if len(scalars) == 0 && objs {
			return
		}
		if app || f.ev.Has(p) || f.pending(p) {
			f.add(p, scalars...)
		} else {
			f.ev.Set(p, event.ListV(scalars...))
		}
	default:
		p := f.pathString()
		if app {
			f.add(p, f.scalar(v))
		} else {
			f.ev.Set(p, f.scalar(v))
		}
	}
}

// accum gathers the values of one path under an array of objects.
type accum struct {
	path string
	vals []event.Value
}

// add gathers values for path, under an array of objects or for a path
// written twice. They are stored when the document is done (flush):
// appending to the event's value each time would copy the list each time,
// quadratic in the array's length.
func (f *flattener) add(path string, vs ...event.Value) {
	i, ok := f.accIdx[path]
	if !ok {
		i = len(f.accs)
		f.accIdx[path] = i
		f.accs = append(f.accs, accum{path: path})
	}
	f.accs[i].vals = append(f.accs[i].vals, vs...)
}

func (f *flattener) pending(path string) bool {
	_, ok := f.accIdx[path]
	return ok
}

// flush stores the gathered values after what the event already holds at
// each path (Event.Append's order). It ends every document.
func (f *flattener) flush() {
	for i := range f.accs {
		a := &f.accs[i]
		vals := a.vals
		if old := f.ev.Get(a.path); old.Exists() {
			if old.Kind == event.List {
				vals = append(append(make([]event.Value, 0, len(old.List)+len(vals)), old.List...), vals...)
			} else {
				vals = append(append(make([]event.Value, 0, 1+len(vals)), old), vals...)
			}
		}
		f.ev.Set(a.path, event.ListV(vals...))
		*a = accum{}
	}
	f.accs = f.accs[:0]
	clear(f.accIdx)
}

// array flattens the objects of arr (Append semantics) and returns its
// scalars; nested arrays are flattened into the same list, as
// Elasticsearch does.
func (f *flattener) array(arr []*fastjson.Value, plen int, scalars []event.Value) ([]event.Value, bool) {
	objs := false
	for _, el := range arr {
		switch el.Type() {
		case fastjson.TypeObject:
			objs = true
			o, _ := el.Object()
			f.object(o, plen, true)
		case fastjson.TypeArray:
			sub, _ := el.Array()
			var o bool
			scalars, o = f.array(sub, plen, scalars)
			objs = objs || o
		default:
			if scalars == nil {
				scalars = make([]event.Value, 0, len(arr))
			}
			scalars = append(scalars, f.scalar(el))
		}
	}
	return scalars, objs
}

// pathString interns f.path.
func (f *flattener) pathString() string {
	if s, ok := f.cache[string(f.path)]; ok {
		return s
	}
	if !utf8.Valid(f.path) {
		return string(sanitizeUTF8(f.path))
	}
	s := string(f.path)
	if len(f.cache) < maxPaths {
		f.cache[s] = s
	}
	return s
}

func (f *flattener) scalar(v *fastjson.Value) event.Value {
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return event.Str(f.str(b))
	case fastjson.TypeNumber:
		f.num = v.MarshalTo(f.num[:0])
		return number(f.num)
	case fastjson.TypeTrue:
		return event.BoolV(true)
	case fastjson.TypeFalse:
		return event.BoolV(false)
	}
	return event.NullV()
}

// str copies b into the event's arena and returns it as a string. Invalid
// UTF-8 is replaced by U+FFFD.
func (f *flattener) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if !utf8.Valid(b) {
		b = sanitizeUTF8(b)
	}
	if cap(f.arena)-len(f.arena) < len(b) {
		if len(b) > arenaChunk/4 {
			return string(b)
		}
		f.arena = make([]byte, 0, arenaChunk)
	}
	start := len(f.arena)
	f.arena = append(f.arena, b...)
	return unsafe.String(&f.arena[start], len(b))
}

// sanitizeUTF8 returns b with every invalid UTF-8 sequence replaced by
// U+FFFD (a new slice only when b is invalid).
func sanitizeUTF8(b []byte) []byte {
	if utf8.Valid(b) {
		return b
	}
	out := make([]byte, 0, len(b)+8)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			out = utf8.AppendRune(out, utf8.RuneError)
		} else {
			out = append(out, b[:n]...)
		}
		b = b[n:]
	}
	return out
}

// number converts a JSON number: integers that fit int64 are Int, other
// numbers Float; an integral float below 1e18 in magnitude is Int (as
// event.FromInterface does). A number Go cannot represent (1e400, or
// fastjson's lenient NaN/Inf) is kept as its text.
func number(b []byte) event.Value {
	s := unsafe.String(unsafe.SliceData(b), len(b))
	isInt := len(b) > 0
	for i, c := range b {
		if c < '0' || c > '9' {
			if i == 0 && c == '-' && len(b) > 1 {
				continue
			}
			isInt = false
			break
		}
	}
	if isInt {
		if len(b) <= 18 {
			var n int64
			neg := b[0] == '-'
			for _, c := range b {
				if c != '-' {
					n = n*10 + int64(c-'0')
				}
			}
			if neg {
				n = -n
			}
			return event.IntV(n)
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return event.IntV(n)
		}
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		return event.Str(string(b))
	}
	if x == math.Trunc(x) && x < 1e18 && x > -1e18 {
		return event.IntV(int64(x))
	}
	return event.FloatV(x)
}

// timestamp parses @timestamp: RFC 3339 (any fraction, "Z" or an
// offset; a space for the "T" and a missing zone, read as UTC, are
// accepted), or epoch milliseconds as a number or a string of digits
// (Elasticsearch's default date format). Anything else gives the zero time.
func timestamp(v event.Value) time.Time {
	switch v.Kind {
	case event.String:
		return parseTime(v.Str)
	case event.Int:
		return time.UnixMilli(v.Int).UTC()
	case event.Float:
		return time.UnixMicro(int64(v.Num * 1000)).UTC()
	case event.List:
		if len(v.List) == 1 {
			return timestamp(v.List[0])
		}
	}
	return time.Time{}
}

func parseTime(s string) time.Time {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t
	}
	if s != "" && len(s) <= 18 {
		digits := true
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				digits = false
				break
			}
		}
		if digits {
			n, _ := strconv.ParseInt(s, 10, 64)
			return time.UnixMilli(n).UTC()
		}
	}
	for _, layout := range [...]string{
		"2006-01-02 15:04:05.999999999Z07:00",
		"2006-01-02T15:04:05.999999999",
		"2006-01-02 15:04:05.999999999",
		"2006-01-02T15:04:05.999999999Z0700",
	} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}
