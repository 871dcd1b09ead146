package engine

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/query"
)

// Samples follow Elasticsearch's SampleIterator: events are grouped by join
// key, timestamps play no part, and a sample is one distinct event per step.
//
//   - Keys are terms, as its composite aggregation sees them: a multi-valued
//     key contributes each of its values (the event joins every combination),
//     and an event whose key is null or absent takes no part in that step,
//     unless the key is an optional field (?field), whose missing value is a
//     key of its own ("missing bucket").
//   - For every key, each step keeps the first steps+perKey-1 matching events
//     in document order (index, then the order the documents were written:
//     file and line, then arrival) — the hits of its per-key final query.
//   - Samples are formed from those candidates depth first, step by step,
//     skipping an event already in the sample, until perKey samples are found
//     (max_samples_per_key); one event may appear in several samples.
//   - At the end of the input the samples are returned in ascending key
//     order, as the composite aggregation pages them.
//
// State is keys × steps × candidates, bounded by the key cap.
type sampleProg struct {
	e       *Engine
	id      int
	steps   []sampleStep
	perKey  int // samples wanted per key
	keep    int // candidates kept per step and key
	keys    map[string]*sampleKey
	order   []string // keys in first-seen order, for eviction
	maxKeys int
	stats   *StateStats

	vals  [][]event.Value // per key position, the terms of the current event
	combo []event.Value
	sb    strings.Builder
}

type sampleStep struct {
	filter   pred
	keys     []valFn
	optional []bool // per key: an optional field, whose null is a key
}

type sampleKey struct {
	vals  []event.Value
	cands [][]sampleCand // per step, in document order
}

type sampleCand struct {
	ev  *event.Event
	gen uint64
}

// maxKeyCombos bounds the keys one event joins when its join keys are
// multi-valued (the cross product of their values).
const maxKeyCombos = 64

func (c *compiler) sample(s query.Sample) (*sampleProg, error) {
	sp := &sampleProg{e: c.e, id: c.prog.ID, perKey: max(s.MaxPerKey, 1), keys: map[string]*sampleKey{}, maxKeys: DefaultMaxKeys, stats: &StateStats{}}
	if len(s.Steps) < 2 {
		return nil, fmt.Errorf("a sample needs at least two steps")
	}
	nkeys := -1
	for i, st := range s.Steps {
		f, err := c.pred(st.Filter)
		if err != nil {
			return nil, err
		}
		xs := append(slices.Clone(s.By), st.By...)
		keys, err := c.values(xs)
		if err != nil {
			return nil, err
		}
		if nkeys >= 0 && len(keys) != nkeys {
			return nil, &query.Error{Pos: st.Pos, Msg: fmt.Sprintf("sample step %d has %d join keys, the first has %d", i+1, len(keys), nkeys)}
		}
		nkeys = len(keys)
		opt := make([]bool, len(xs))
		for j, x := range xs {
			if f, ok := x.(query.Field); ok && f.Optional {
				opt[j] = true
			}
		}
		sp.steps = append(sp.steps, sampleStep{filter: f, keys: keys, optional: opt})
	}
	// Elasticsearch asks each step's final query for the fewest hits that
	// can still give perKey samples: steps + perKey - 1.
	sp.keep = len(sp.steps) + sp.perKey - 1
	sp.vals = make([][]event.Value, nkeys)
	return sp, nil
}

// due implements waker: a sample does nothing with an event none of its
// steps matches.
func (sp *sampleProg) due(uint64) bool { return false }

func (sp *sampleProg) feed(k *ctx, _ func(*Result)) {
	for i := range sp.steps {
		st := &sp.steps[i]
		if !st.filter(k) || !sp.terms(k, st) {
			continue
		}
		sp.combo = sp.combo[:0]
		sp.each(0, 1, func() { sp.add(i, k) })
	}
}

// terms collects the current event's terms for each key position of step
// st; false when a position has none (the event takes no part).
func (sp *sampleProg) terms(k *ctx, st *sampleStep) bool {
	for j, f := range st.keys {
		ts := sp.vals[j][:0]
		v := f(k)
		if v.Kind == event.List {
			for _, x := range v.List {
				if x.Kind != event.Null && x.Kind != event.Absent && x.Kind != event.List && !slices.ContainsFunc(ts, func(y event.Value) bool { return cmpKey(x, y) == 0 && x.Kind == y.Kind }) {
					ts = append(ts, x)
				}
			}
		} else if v.Kind != event.Null && v.Kind != event.Absent {
			ts = append(ts, v)
		}
		if len(ts) == 0 {
			if !st.optional[j] {
				sp.vals[j] = ts
				return false
			}
			ts = append(ts, event.NullV())
		}
		sp.vals[j] = ts
	}
	return true
}

// each calls fn for every combination of the collected terms (at most
// maxKeyCombos), with sp.combo holding it.
func (sp *sampleProg) each(j, n int, fn func()) int {
	if j == len(sp.vals) {
		if n > maxKeyCombos {
			return n
		}
		fn()
		return n + 1
	}
	for _, v := range sp.vals[j] {
		sp.combo = append(sp.combo, v)
		n = sp.each(j+1, n, fn)
		sp.combo = sp.combo[:j]
		if n > maxKeyCombos {
			break
		}
	}
	return n
}

func (sp *sampleProg) add(step int, k *ctx) {
	sp.sb.Reset()
	for _, v := range sp.combo {
		writeKey(&sp.sb, v)
	}
	key := sp.sb.String()
	sk := sp.keys[key]
	if sk == nil {
		if len(sp.keys) >= sp.maxKeys {
			old := sp.order[0]
			sp.order = sp.order[1:]
			delete(sp.keys, old)
			sp.stats.Evicted++
		}
		sk = &sampleKey{vals: slices.Clone(sp.combo), cands: make([][]sampleCand, len(sp.steps))}
		sp.keys[key] = sk
		sp.order = append(sp.order, key)
		sp.stats.Keys = len(sp.keys)
		sp.stats.PeakKeys = max(sp.stats.PeakKeys, len(sp.keys))
	}
	c := sampleCand{ev: k.ev, gen: k.gen}
	cs := sk.cands[step]
	at, _ := slices.BinarySearchFunc(cs, c, docOrder)
	if at >= sp.keep {
		return
	}
	if len(cs) == sp.keep {
		cs = cs[:len(cs)-1]
	}
	k.ev.Retain() // held as a candidate
	sk.cands[step] = slices.Insert(cs, at, c)
}

// docOrder is the order Elasticsearch returns equally scored hits in:
// by index (shards sort by index name), then by document, which follows
// the order the documents were written — the source file and line, and
// arrival for events without them.
func docOrder(a, b sampleCand) int {
	if c := cmp.Compare(a.ev.Index, b.ev.Index); c != 0 {
		return c
	}
	if c := cmp.Compare(a.ev.File, b.ev.File); c != 0 {
		return c
	}
	if c := cmp.Compare(a.ev.Line, b.ev.Line); c != 0 {
		return c
	}
	return cmp.Compare(a.gen, b.gen)
}

func (sp *sampleProg) flush(emit func(*Result)) {
	keys := make([]*sampleKey, 0, len(sp.keys))
	for _, sk := range sp.keys {
		keys = append(keys, sk)
	}
	slices.SortFunc(keys, func(a, b *sampleKey) int { return cmpKeys(a.vals, b.vals) })
	r := &sp.e.res
	for _, sk := range keys {
		if slices.ContainsFunc(sk.cands, func(cs []sampleCand) bool { return len(cs) == 0 }) {
			continue
		}
		found := 0
		r.Events = r.Events[:0]
		sp.match(sk, 0, r, &found, emit)
	}
	clear(sp.keys)
	sp.order = nil
	sp.stats.Keys = 0
}

// match extends the sample in r.Events with a candidate of step i not
// already in it, depth first, emitting each complete sample until perKey
// have been found; false stops the search.
func (sp *sampleProg) match(sk *sampleKey, i int, r *Result, found *int, emit func(*Result)) bool {
	for _, c := range sk.cands[i] {
		if slices.Contains(r.Events, c.ev) {
			continue
		}
		r.Events = append(r.Events, c.ev)
		if i == len(sp.steps)-1 {
			r.ID, r.Keys = sp.id, sk.vals
			emit(r)
			*found++
		} else if !sp.match(sk, i+1, r, found, emit) {
			return false
		}
		if *found >= sp.perKey {
			return false
		}
		r.Events = r.Events[:i]
	}
	return true
}

func (sp *sampleProg) state() *StateStats { return sp.stats }

// cmpKeys orders join keys as Elasticsearch's composite aggregation does:
// value by value, nulls (the missing bucket) first, numbers numerically,
// strings by bytes.
func cmpKeys(a, b []event.Value) int {
	for i := range min(len(a), len(b)) {
		if c := cmpKey(a[i], b[i]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

func cmpKey(a, b event.Value) int {
	an, bn := a.IsNull(), b.IsNull()
	switch {
	case an && bn:
		return 0
	case an:
		return -1
	case bn:
		return 1
	}
	if d, ok := numCmp(a, b); ok {
		return d
	}
	return cmp.Compare(a.String(), b.String())
}
