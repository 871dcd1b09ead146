package engine

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/query"
)

// Sequences follow Elasticsearch's matcher (its sequences.series-spec):
// per join key, each stage holds at most one partial sequence, the latest;
// an event that matches stage i extends the partial waiting at stage i-1
// (moving it to stage i, replacing what was there) and an event matching
// the first stage starts a new partial. Stages are tried last to first so
// one event never fills two stages of the same sequence.
//
// Missing-event stages (`![...]`) do not take part in matching. When the
// positive stages complete, the candidate is dropped (see blocked) if a
// missing stage matched, with the same join key, between two of its
// events; or, for leading or trailing missing stages, if their matches and
// the candidate fit within maxspan together. A candidate with a trailing
// missing stage is held until maxspan has passed in event time, or the
// input ends.

// DefaultMaxKeys bounds the join keys a stateful program keeps live. When
// it bites, the least recently touched key is dropped and counted.
const DefaultMaxKeys = 100_000

// missHistory bounds how many matches of one missing stage are remembered
// per key; older ones are forgotten (and counted) first.
const missHistory = 64

type seqStep struct {
	filter  pred
	keys    []valFn
	missing bool
	pos     int // index among positive steps; for a missing step, the positive step it precedes
}

type seqProg struct {
	e         *Engine
	id        int
	steps     []seqStep
	positive  []int // indexes into steps
	missing   []int
	maxspan   time.Duration
	until     pred
	untilKeys []valFn
	nkeys     int

	keys    map[string]*seqKey
	clock   uint64 // touches, for eviction
	maxKeys int
	pending []*partial // completed, waiting for a trailing missing stage
	stats   *StateStats

	keyBuf []event.Value
	sb     strings.Builder
}

type seqKey struct {
	vals    []event.Value
	stages  []*partial   // stages[i]: the partial that has matched positive steps 0..i
	misses  [][]seqMatch // per missing step
	touched uint64
}

type seqMatch struct {
	ord uint64
	t   time.Time
}

// A partial retains its events (event.Event.Retain) and releases them
// when it is dropped: replaced, expired, ruled out or emitted.
type partial struct {
	events []*event.Event
	ords   []uint64
	key    *seqKey
	start  time.Time
}

// drop releases the partial's events; it must not be used afterwards.
func (p *partial) drop() {
	for _, ev := range p.events {
		ev.Release()
	}
	p.events = nil
}

// StateStats is what the stateful stages of one program hold and shed.
type StateStats struct {
	Keys       int   // join keys live now
	PeakKeys   int   // most keys live at once
	Partials   int   // partial sequences live now
	Evicted    int64 // keys dropped because the key cap bit
	Expired    int64 // partial sequences dropped by maxspan
	Forgotten  int64 // missing-stage matches forgotten (history cap)
	Suppressed int64 // results dropped by a head/tail limit
}

func (c *compiler) sequence(s query.Sequence) (*seqProg, error) {
	sp := &seqProg{e: c.e, id: c.prog.ID, maxspan: s.MaxSpan, keys: map[string]*seqKey{}, maxKeys: DefaultMaxKeys, stats: &StateStats{}}
	if len(s.Steps) == 0 {
		return nil, fmt.Errorf("sequence without steps")
	}
	nkeys := -1
	for i, st := range s.Steps {
		runs := max(st.Runs, 1)
		f, err := c.pred(st.Filter)
		if err != nil {
			return nil, err
		}
		keys, err := c.values(append(slices.Clone(s.By), st.By...))
		if err != nil {
			return nil, err
		}
		if nkeys >= 0 && len(keys) != nkeys {
			return nil, &query.Error{Pos: st.Pos, Msg: fmt.Sprintf("sequence step %d has %d join keys, the first has %d", i+1, len(keys), nkeys)}
		}
		nkeys = len(keys)
		for range runs {
			step := seqStep{filter: f, keys: keys, missing: st.Missing, pos: len(sp.positive)}
			if st.Missing {
				sp.missing = append(sp.missing, len(sp.steps))
			} else {
				sp.positive = append(sp.positive, len(sp.steps))
			}
			sp.steps = append(sp.steps, step)
		}
	}
	if len(sp.positive) == 0 {
		return nil, fmt.Errorf("a sequence needs at least one step that is not missing")
	}
	sp.nkeys = nkeys
	if s.Until != nil {
		u, err := c.pred(s.Until)
		if err != nil {
			return nil, err
		}
		sp.until = u
		keys, err := c.values(append(slices.Clone(s.By), s.UntilBy...))
		if err != nil {
			return nil, err
		}
		if len(keys) != nkeys {
			return nil, fmt.Errorf("the until step has %d join keys, the steps have %d", len(keys), nkeys)
		}
		sp.untilKeys = keys
	}
	return sp, nil
}

func (c *compiler) values(xs []query.Expr) ([]valFn, error) {
	out := make([]valFn, len(xs))
	for i, x := range xs {
		v, err := c.value(x)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// key evaluates join keys on the current event. A multi-valued key is
// used as a whole; null is a key value like any other (Elasticsearch
// returns it as "null").
func (sp *seqProg) key(k *ctx, fns []valFn) string {
	sp.keyBuf = sp.keyBuf[:0]
	sp.sb.Reset()
	for _, f := range fns {
		v := f(k)
		if v.Kind == event.Absent {
			v = event.NullV()
		}
		sp.keyBuf = append(sp.keyBuf, v)
		writeKey(&sp.sb, v)
	}
	return sp.sb.String()
}

func writeKey(sb *strings.Builder, v event.Value) {
	switch v.Kind {
	case event.List:
		sb.WriteByte('[')
		for _, x := range v.List {
			writeKey(sb, x)
		}
		sb.WriteByte(']')
	case event.Null, event.Absent:
		sb.WriteString("\x00n")
	case event.String:
		sb.WriteString("\x00s")
		sb.WriteString(v.Str)
	default:
		sb.WriteString("\x00v")
		sb.WriteString(v.String())
	}
}

func (sp *seqProg) lookup(key string, create bool) *seqKey {
	sk := sp.keys[key]
	if sk == nil && create {
		if len(sp.keys) >= sp.maxKeys {
			sp.evict()
		}
		sk = &seqKey{vals: slices.Clone(sp.keyBuf), stages: make([]*partial, len(sp.positive)), misses: make([][]seqMatch, len(sp.missing))}
		sp.keys[key] = sk
		sp.stats.Keys = len(sp.keys)
		sp.stats.PeakKeys = max(sp.stats.PeakKeys, len(sp.keys))
	}
	if sk != nil {
		sp.clock++
		sk.touched = sp.clock
	}
	return sk
}

// evict drops the least recently touched key (the cap is a safety net: a
// linear scan when it bites is cheaper than an LRU list on every event).
func (sp *seqProg) evict() {
	var oldest string
	var t uint64 = ^uint64(0)
	for k, sk := range sp.keys {
		if sk.touched < t {
			oldest, t = k, sk.touched
		}
	}
	if sk := sp.keys[oldest]; sk != nil {
		for _, p := range sk.stages {
			if p != nil {
				sp.stats.Partials--
				p.drop()
			}
		}
	}
	delete(sp.keys, oldest)
	sp.stats.Evicted++
}

// sweepEvery is how often (in events) a sequence with a maxspan sweeps
// its state.
const sweepEvery = 4096

// due implements waker: held candidates may be released by any event's
// time, and the sweep runs on a fixed schedule, so that results do not
// depend on which events the prefilter skips.
func (sp *seqProg) due(gen uint64) bool {
	return len(sp.pending) > 0 || sp.maxspan > 0 && gen%sweepEvery == 0
}

func (sp *seqProg) feed(k *ctx, emit func(*Result)) {
	ev := k.ev
	ord := k.gen
	sp.release(ev.Time, emit, false)
	if sp.until != nil && sp.until(k) {
		if sk := sp.lookup(sp.key(k, sp.untilKeys), false); sk != nil {
			sp.dropKey(sk)
		}
	}
	// Missing stages: remember where they occurred, per key.
	for mi, si := range sp.missing {
		st := &sp.steps[si]
		if !st.filter(k) {
			continue
		}
		sk := sp.lookup(sp.key(k, st.keys), true)
		h := append(sk.misses[mi], seqMatch{ord: ord, t: ev.Time})
		if len(h) > missHistory {
			h = h[1:]
			sp.stats.Forgotten++
		}
		sk.misses[mi] = h
	}
	n := len(sp.positive)
	for pi := n - 1; pi >= 0; pi-- {
		st := &sp.steps[sp.positive[pi]]
		if !st.filter(k) {
			continue
		}
		key := sp.key(k, st.keys)
		if pi == 0 {
			ev.Retain() // held by the partial
			sk := sp.lookup(key, true)
			p := &partial{events: []*event.Event{ev}, ords: []uint64{ord}, key: sk, start: ev.Time}
			if n == 1 {
				sp.complete(p, emit)
				continue
			}
			sp.put(sk, 0, p)
			continue
		}
		sk := sp.lookup(key, false)
		if sk == nil || sk.stages[pi-1] == nil {
			continue
		}
		p := sk.stages[pi-1]
		if sp.maxspan > 0 && ev.Time.Sub(p.start) > sp.maxspan {
			sk.stages[pi-1] = nil
			sp.stats.Partials--
			sp.stats.Expired++
			p.drop()
			continue
		}
		sk.stages[pi-1] = nil
		sp.stats.Partials--
		ev.Retain()
		p.events = append(p.events, ev)
		p.ords = append(p.ords, ord)
		if pi == n-1 {
			sp.complete(p, emit)
			continue
		}
		sp.put(sk, pi, p)
	}
	if sp.maxspan > 0 && ord%sweepEvery == 0 {
		sp.sweep(ev.Time)
	}
}

func (sp *seqProg) put(sk *seqKey, i int, p *partial) {
	if old := sk.stages[i]; old == nil {
		sp.stats.Partials++
	} else {
		old.drop()
	}
	sk.stages[i] = p
}

func (sp *seqProg) dropKey(sk *seqKey) {
	for i, p := range sk.stages {
		if p != nil {
			sk.stages[i] = nil
			sp.stats.Partials--
			p.drop()
		}
	}
}

// sweep drops partials that maxspan has made unreachable and keys left
// with nothing, so state follows live keys rather than input length.
func (sp *seqProg) sweep(now time.Time) {
	for key, sk := range sp.keys {
		live := false
		for i, p := range sk.stages {
			if p == nil {
				continue
			}
			if now.Sub(p.start) > sp.maxspan {
				sk.stages[i] = nil
				sp.stats.Partials--
				sp.stats.Expired++
				p.drop()
				continue
			}
			live = true
		}
		for mi, h := range sk.misses {
			j := 0
			for j < len(h) && now.Sub(h[j].t) > 2*sp.maxspan {
				j++
			}
			sk.misses[mi] = h[j:]
			if len(h) > j {
				live = true
			}
		}
		if !live {
			delete(sp.keys, key)
		}
	}
	sp.stats.Keys = len(sp.keys)
}

// complete checks a candidate against the missing stages and emits it, or
// holds it while a trailing missing stage may still occur.
func (sp *seqProg) complete(p *partial, emit func(*Result)) {
	if len(sp.missing) == 0 {
		sp.emit(p, emit)
		p.drop()
		return
	}
	if sp.blocked(p) {
		p.drop()
		return
	}
	if sp.steps[len(sp.steps)-1].missing {
		sp.pending = append(sp.pending, p)
		return
	}
	sp.emit(p, emit)
	p.drop()
}

// release emits held candidates whose trailing window has passed (all of
// them at the end of the input).
func (sp *seqProg) release(now time.Time, emit func(*Result), all bool) {
	j := 0
	for _, p := range sp.pending {
		if !all && (sp.maxspan == 0 || now.Sub(p.start) <= sp.maxspan) {
			sp.pending[j] = p
			j++
			continue
		}
		if !sp.blocked(p) {
			sp.emit(p, emit)
		}
		p.drop()
	}
	clear(sp.pending[j:])
	sp.pending = sp.pending[:j]
}

// blocked reports whether events of the missing stages rule the candidate
// out, as Elasticsearch's missing-event check does (its spec,
// test_missing_events): a match of any missing stage between two positive
// events does, whatever the other missing stages hold; a leading (or
// trailing) missing stage does when one of its matches falls within
// maxspan of the candidate's last (or first) event. When the sequence has
// both leading and trailing missing stages, a leading and a trailing match
// are needed, and within maxspan of each other.
func (sp *seqProg) blocked(p *partial) bool {
	sk := p.key
	n := len(p.ords)
	first, last := p.events[0].Time, p.events[n-1].Time
	var lead, trail *seqMatch
	hasLead, hasTrail := false, false
	for mi, si := range sp.missing {
		h := sk.misses[mi]
		switch pos := sp.steps[si].pos; {
		case pos == 0:
			hasLead = true
			if m, ok := latestBefore(h, p.ords[0]); ok && (lead == nil || m.ord > lead.ord) {
				lead = &m
			}
		case pos == n:
			hasTrail = true
			if m, ok := earliestAfter(h, p.ords[n-1], ^uint64(0)); ok && (trail == nil || m.ord < trail.ord) {
				trail = &m
			}
		default:
			if _, ok := earliestAfter(h, p.ords[pos-1], p.ords[pos]); ok {
				return true
			}
		}
	}
	within := func(a, b time.Time) bool { return sp.maxspan == 0 || b.Sub(a) <= sp.maxspan }
	switch {
	case hasLead && hasTrail:
		return lead != nil && trail != nil && within(lead.t, trail.t)
	case hasLead:
		return lead != nil && within(lead.t, last)
	case hasTrail:
		return trail != nil && within(first, trail.t)
	}
	return false
}

func latestBefore(h []seqMatch, ord uint64) (seqMatch, bool) {
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].ord < ord {
			return h[i], true
		}
	}
	return seqMatch{}, false
}

func earliestAfter(h []seqMatch, ord, limit uint64) (seqMatch, bool) {
	for _, m := range h {
		if m.ord > ord && m.ord < limit {
			return m, true
		}
	}
	return seqMatch{}, false
}

func (sp *seqProg) emit(p *partial, emit func(*Result)) {
	r := &sp.e.res
	r.ID = sp.id
	r.Events = r.Events[:0]
	pi := 0
	for _, st := range sp.steps {
		if st.missing {
			r.Events = append(r.Events, nil)
			continue
		}
		r.Events = append(r.Events, p.events[pi])
		pi++
	}
	r.Keys = p.key.vals
	emit(r)
}

func (sp *seqProg) flush(emit func(*Result)) { sp.release(time.Time{}, emit, true) }

func (sp *seqProg) state() *StateStats { return sp.stats }
