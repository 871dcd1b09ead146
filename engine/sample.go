package engine

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/query"
)

// Samples follow Elasticsearch: events are grouped by join key, timestamps
// play no part, and each sample is one distinct event per step. For every
// key the first candidates of each step (in input order) are kept; at the
// end of the input the samples are formed and returned in ascending key
// order, as Elasticsearch's composite aggregation returns them. State is
// keys × steps × candidates, bounded by the key cap.
type sampleProg struct {
	e        *Engine
	id       int
	steps    []seqStep
	perKey   int // samples wanted per key
	keys     map[string]*sampleKey
	order    []string // keys in first-seen order, for eviction
	maxKeys  int
	stats    *StateStats
	keyer    seqProg // reuses the key builder
	keepEach int     // candidates kept per step and key
}

type sampleKey struct {
	vals  []event.Value
	cands [][]*event.Event
}

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
		keys, err := c.values(append(slices.Clone(s.By), st.By...))
		if err != nil {
			return nil, err
		}
		if nkeys >= 0 && len(keys) != nkeys {
			return nil, &query.Error{Pos: st.Pos, Msg: fmt.Sprintf("sample step %d has %d join keys, the first has %d", i+1, len(keys), nkeys)}
		}
		nkeys = len(keys)
		sp.steps = append(sp.steps, seqStep{filter: f, keys: keys})
	}
	// Enough candidates per step that perKey disjoint samples can be formed
	// even when one event matches every step.
	sp.keepEach = sp.perKey * len(sp.steps)
	return sp, nil
}

func (sp *sampleProg) feed(k *ctx, _ func(*Result)) {
	for i := range sp.steps {
		st := &sp.steps[i]
		if !st.filter(k) {
			continue
		}
		key := sp.keyer.key(k, st.keys)
		sk := sp.keys[key]
		if sk == nil {
			if len(sp.keys) >= sp.maxKeys {
				old := sp.order[0]
				sp.order = sp.order[1:]
				delete(sp.keys, old)
				sp.stats.Evicted++
			}
			sk = &sampleKey{vals: slices.Clone(sp.keyer.keyBuf), cands: make([][]*event.Event, len(sp.steps))}
			sp.keys[key] = sk
			sp.order = append(sp.order, key)
			sp.stats.Keys = len(sp.keys)
			sp.stats.PeakKeys = max(sp.stats.PeakKeys, len(sp.keys))
		}
		if len(sk.cands[i]) < sp.keepEach {
			sk.cands[i] = append(sk.cands[i], k.ev)
		}
	}
}

func (sp *sampleProg) flush(emit func(*Result)) {
	keys := make([]*sampleKey, 0, len(sp.keys))
	for _, sk := range sp.keys {
		keys = append(keys, sk)
	}
	slices.SortFunc(keys, func(a, b *sampleKey) int { return cmpKeys(a.vals, b.vals) })
	r := &sp.e.res
	for _, sk := range keys {
		used := map[*event.Event]bool{}
		for range sp.perKey {
			r.Events = r.Events[:0]
			for _, cands := range sk.cands {
				var pick *event.Event
				for _, ev := range cands {
					if !used[ev] && !slices.Contains(r.Events, ev) {
						pick = ev
						break
					}
				}
				if pick == nil {
					break
				}
				r.Events = append(r.Events, pick)
			}
			if len(r.Events) < len(sp.steps) {
				break
			}
			for _, ev := range r.Events {
				used[ev] = true
			}
			r.ID, r.Keys = sp.id, sk.vals
			emit(r)
		}
	}
	clear(sp.keys)
	sp.order = nil
}

func (sp *sampleProg) state() *StateStats { return sp.stats }

// cmpKeys orders join keys as Elasticsearch's composite aggregation does:
// value by value, nulls first, numbers numerically, strings by bytes.
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
