package event

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"
	"time"
)

// Event is one normalised record: ECS field paths ("process.parent.name")
// mapped to values. Sources fill it; rules only read it.
type Event struct {
	fields map[string]Value
	// Time is the event's @timestamp, parsed once.
	Time time.Time
	// Format names the source format that produced the event ("auditd",
	// "sysmon", "ecs", "laurel"...); it decides which index patterns the event
	// would live under and is never a field a rule can overwrite.
	Format string
	// Index is the index name the event would live in had it been shipped
	// to Elasticsearch by its usual agent ("logs-endpoint.events.process-default",
	// "auditbeat-8", "endgame-1.4.0"...); rules with index patterns see it
	// only in strict-index mode. Sources set it; empty means unknown.
	Index string
	// File and Line say where the event came from (Line is 1-based; for
	// multi-line records, the first line).
	File string
	Line int

	// refs counts the holders that called Retain and not yet Release;
	// epoch counts Resets. pool is where the event goes back when nobody
	// holds it; pooled says it is there.
	refs   int32
	pooled bool
	epoch  uint64
	pool   *Pool
}

// New returns an empty event with room for n fields.
func New(n int) *Event { return &Event{fields: make(map[string]Value, n)} }

// Retain marks the event as held beyond the callback it was emitted to: a
// source that reuses events (a Pool) then leaves it alone until every
// holder has called Release. Whoever keeps an event — a sequence partial,
// a tail buffer, an alert — must call Retain before the emit callback
// returns (or while it still holds the event otherwise retained).
func (e *Event) Retain() { e.refs++ }

// Release undoes one Retain. When no holder is left the event goes back
// to its pool (if it came from one) and may be reset and refilled with a
// later record: a holder must not touch it after Release.
func (e *Event) Release() {
	if e.refs > 0 {
		e.refs--
	}
	if e.refs == 0 && e.pool != nil {
		e.pool.Put(e)
	}
}

// Retained reports whether someone holds the event (Retain without Release).
func (e *Event) Retained() bool { return e.refs > 0 }

// Reset empties the event, keeping its map's capacity. Caches keyed by the
// event's address should also compare Epoch, which Reset changes.
func (e *Event) Reset() {
	clear(e.fields)
	e.Time, e.Format, e.Index, e.File, e.Line = time.Time{}, "", "", "", 0
	e.refs = 0
	e.epoch++
}

// Epoch is how many times the event was Reset: an event's contents are
// identified by its address and its epoch.
func (e *Event) Epoch() uint64 { return e.epoch }

// Pool recycles events nobody retained. A source gets each event it fills
// from Get, and once the consumer's callback has returned, Puts it back;
// an event retained then is not pooled until its last Release. A Pool is
// not safe for concurrent use.
type Pool struct {
	free []*Event
}

// maxPooled bounds the events a pool keeps for reuse.
const maxPooled = 1024

// Get returns an empty event: a pooled one, or a new one with room for
// hint fields.
func (p *Pool) Get(hint int) *Event {
	if n := len(p.free); n > 0 {
		e := p.free[n-1]
		p.free[n-1] = nil
		p.free = p.free[:n-1]
		e.pooled = false
		e.Reset()
		return e
	}
	e := New(hint)
	e.pool = p
	return e
}

// Put returns an event got from p once its consumer is done with it; an
// event still retained, already pooled, or from elsewhere is left alone.
func (p *Pool) Put(e *Event) {
	if e.pool != p || e.pooled || e.refs > 0 || len(p.free) >= maxPooled {
		return
	}
	e.pooled = true
	p.free = append(p.free, e)
}

// Get returns the value at path, or an Absent value.
func (e *Event) Get(path string) Value { return e.fields[path] }

// Has reports whether path is present.
func (e *Event) Has(path string) bool { _, ok := e.fields[path]; return ok }

// Set stores v at path; setting an Absent value deletes the field.
func (e *Event) Set(path string, v Value) {
	if v.Kind == Absent {
		delete(e.fields, path)
		return
	}
	e.fields[path] = v
}

// SetStr stores a string at path.
func (e *Event) SetStr(path, s string) { e.fields[path] = Str(s) }

// Fill stores v at path unless the path is already present: derivation never
// rewrites what a source provided. It reports whether it stored.
func (e *Event) Fill(path string, v Value) bool {
	if v.Kind == Absent {
		return false
	}
	if _, ok := e.fields[path]; ok {
		return false
	}
	e.fields[path] = v
	return true
}

// Delete removes path.
func (e *Event) Delete(path string) { delete(e.fields, path) }

// Len is the number of fields.
func (e *Event) Len() int { return len(e.fields) }

// Range calls fn for every field, in no particular order, until fn returns false.
func (e *Event) Range(fn func(path string, v Value) bool) {
	for k, v := range e.fields {
		if !fn(k, v) {
			return
		}
	}
}

// Paths returns every field path, sorted.
func (e *Event) Paths() []string {
	ps := make([]string, 0, len(e.fields))
	for k := range e.fields {
		ps = append(ps, k)
	}
	sort.Strings(ps)
	return ps
}

// Clone returns a deep-enough copy (values are immutable once stored).
func (e *Event) Clone() *Event {
	c := *e
	c.refs, c.pooled, c.epoch, c.pool = 0, false, 0, nil
	c.fields = make(map[string]Value, len(e.fields))
	for k, v := range e.fields {
		c.fields[k] = v
	}
	return &c
}

// SetTree flattens a decoded JSON object into dotted paths under prefix, as
// Elasticsearch does: objects nest by ".", arrays of objects make each leaf
// multi-valued, keys that already contain dots are joined as they are.
func (e *Event) SetTree(prefix string, obj map[string]any) {
	for k, x := range obj {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		e.setAny(p, x)
	}
}

func (e *Event) setAny(p string, x any) {
	switch t := x.(type) {
	case map[string]any:
		e.SetTree(p, t)
	case []any:
		var scalars []Value
		objs := false
		for _, el := range t {
			switch et := el.(type) {
			case map[string]any:
				objs = true
				sub := New(len(et))
				sub.SetTree("", et)
				for k, v := range sub.fields {
					e.Append(p+"."+k, v)
				}
			default:
				v := FromInterface(el)
				if v.Kind == List {
					scalars = append(scalars, v.List...)
				} else {
					scalars = append(scalars, v)
				}
			}
		}
		if len(scalars) > 0 || !objs {
			e.Append(p, ListV(scalars...))
		}
	default:
		e.fields[p] = FromInterface(x)
	}
}

// Append adds v (a scalar or list) to the values at path, making it a list.
func (e *Event) Append(path string, v Value) {
	old, ok := e.fields[path]
	if !ok {
		if v.Kind != List {
			v = ListV(v)
		}
		e.fields[path] = v
		return
	}
	// Appending in place keeps building a long list linear; lists are only
	// appended to while a source builds its event.
	var list []Value
	if old.Kind == List {
		list = old.List
	} else {
		list = []Value{old}
	}
	if v.Kind == List {
		list = append(list, v.List...)
	} else {
		list = append(list, v)
	}
	e.fields[path] = ListV(list...)
}

// Tree returns the fields as nested maps (the inverse of SetTree, for
// output). A path that is both a leaf and a prefix of another keeps its
// dotted form at the level where they collide.
func (e *Event) Tree() map[string]any {
	root := map[string]any{}
	for _, p := range e.Paths() {
		v := e.fields[p].Interface()
		insert(root, p, v)
	}
	return root
}

func insert(m map[string]any, path string, v any) {
	head, rest, nested := strings.Cut(path, ".")
	if !nested || head == "" {
		m[path] = v
		return
	}
	switch sub := m[head].(type) {
	case map[string]any:
		insert(sub, rest, v)
	case nil:
		if _, taken := m[head]; taken {
			m[path] = v
			return
		}
		s := map[string]any{}
		m[head] = s
		insert(s, rest, v)
	default:
		m[path] = v
	}
}

// MarshalJSON renders the event as nested ECS JSON with sorted keys.
func (e *Event) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e.Tree()); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
