package engine

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/query"
)

// Aggregations (query.Aggregate: Sigma correlations, Elastic thresholds,
// SPL stats, KQL summarize) keep, per group, the state of a sliding window
// on event time and test the having condition each time an event arrives.
// docs/correlation.md ("Engine semantics") is the user-facing account;
// in short:
//
//   - Times are event times. The program keeps the newest time it has seen;
//     an event more than Tolerance older than it is late: counted
//     (StateStats.Late) and dropped. An event without a timestamp is taken
//     to occur at the newest time seen.
//   - A group's window is [newest-Window, newest], newest being the newest
//     event time of the group: an event exactly Window older than the
//     newest is still in it (inclusive, as EQL's maxspan), one a nanosecond
//     older is not. An out-of-order event (not late) that is already outside
//     its group's window has no effect. Window 0 is unbounded: nothing
//     expires and no event is late.
//   - An event whose group-by value is absent, null or an empty list takes
//     no part in that input (Sigma's and SPL's stats by both drop it;
//     counted in StateStats.Ungrouped). A multi-valued group-by value puts
//     the event in one group per distinct value (as a terms aggregation or
//     SPL's stats by do), at most maxKeyCombos groups per event.
//   - Having is evaluated for every group an event reaches, after the event
//     is counted. When it holds, one Result is emitted (the group's values,
//     the aggregates, and up to evidenceMax of its in-window events plus the
//     triggering one) and the group starts afresh, so one burst raises one
//     alert. A nil Having holds as soon as the group has an event: every
//     event is emitted with its own aggregates.
//   - End of input (Flush) emits nothing: having was evaluated on arrival.
//     All groups are dropped.
//
// Memory follows live groups, never input length: at most MaxGroups groups
// (least recently touched evicted first, StateStats.Evicted), at most
// MaxValues entries per group and structure (distinct values, numeric
// values, time runs; StateStats.Forgotten), and a group whose window has
// passed is dropped as soon as it is the least recently touched one
// (StateStats.Expired).

// DefaultMaxValues bounds, per group, the distinct values of one
// distinct/values aggregate, the numbers one min/max/sum/avg/percentile
// holds, and the distinct event times one count holds.
const DefaultMaxValues = 10_000

// evidenceMax is how many of a group's in-window events a result carries
// as evidence, besides the triggering one.
const evidenceMax = 10

// NamedValue is one output of an aggregation: a group-by value under its
// name or an aggregate under its As name.
type NamedValue struct {
	Name  string
	Value event.Value
}

type aggKind uint8

const (
	aggCount aggKind = iota
	aggDistinct
	aggValues
	aggMin
	aggMax
	aggSum
	aggAvg
	aggPercentile
	aggInputs
)

var aggKinds = map[string]aggKind{
	"count": aggCount, "distinct": aggDistinct, "values": aggValues,
	"min": aggMin, "max": aggMax, "sum": aggSum, "avg": aggAvg,
	"percentile": aggPercentile, "inputs": aggInputs,
}

type aggFunc struct {
	kind aggKind
	as   string
	arg  float64
	idx  int // count with a field: index into counts (-1: every event); distinct/values: sets; numeric: nums
}

type aggInput struct {
	filter pred // nil: every event reaching the stage
	keys   []valFn
}

type aggProg struct {
	e       *Engine
	id      int
	inputs  []aggInput
	names   []string
	window  int64 // ns; 0: unbounded
	tol     int64
	funcs   []aggFunc
	ordered bool
	inputsN bool // some function reads the inputs seen
	total   bool // some function counts every event

	cntFields []valFn // count(field)
	setFields []valFn
	setKeep   []bool // values(): keep the values, not only their keys
	numFields []valFn
	numSorted []bool // min, max, percentile: keep a value-ordered copy

	having pred
	hctx   *ctx
	hsrc   []int // per slot of the having engine: >= 0 a func, < 0 -1-name index

	groups    map[string]*aggGroup
	lru       aggGroup // sentinel: lru.next is the most recently touched
	MaxGroups int
	MaxValues int
	newest    int64
	started   bool
	ord       uint64
	stats     *StateStats
	agg       AggStats

	kbuf    []byte
	vbuf    []byte
	terms   [][]event.Value
	combo   []event.Value
	touched []*aggGroup
	out     []NamedValue
	evs     []*event.Event

	spareSnaps  []*snapshot // evidence copies for reuse
	spareGroups []*aggGroup // emptied groups for reuse
}

type aggGroup struct {
	key        string
	vals       []event.Value
	prev, next *aggGroup
	newest     int64
	ord        uint64 // the event that last touched it
	skip       bool   // the current event is outside the group's window
	held       int    // entries held, for StateStats.Values

	total    timeRuns
	counts   []timeRuns
	sets     []valueSet
	nums     []numWindow
	seen     []timeRuns // per input
	evidence []evidence
}

type evidence struct {
	t   int64
	ord uint64 // the event's arrival
	ev  *snapshot
}

// maxSpare bounds the emptied groups and evidence copies a program keeps
// for reuse.
const maxSpare = 1024

func (c *compiler) aggregate(a query.Aggregate) (*aggProg, error) {
	ap := &aggProg{
		e: c.e, id: c.prog.ID, names: a.Names, window: int64(a.Window), tol: int64(a.Tolerance),
		ordered: a.Ordered, groups: map[string]*aggGroup{}, MaxGroups: DefaultMaxKeys, MaxValues: DefaultMaxValues,
		stats: &StateStats{},
	}
	ap.lru.next, ap.lru.prev = &ap.lru, &ap.lru
	if a.Window < 0 || a.Tolerance < 0 {
		return nil, fmt.Errorf("aggregation: negative window or tolerance")
	}
	if a.Ordered && len(a.Inputs) < 2 {
		return nil, &query.Error{Msg: fmt.Sprintf("aggregation: ordered inputs (temporal_ordered) need at least two inputs, have %d", len(a.Inputs))}
	}
	// Inputs and their group-by keys.
	nkeys := len(a.GroupBy)
	if len(a.Inputs) == 0 {
		keys, err := c.values(a.GroupBy)
		if err != nil {
			return nil, err
		}
		ap.inputs = []aggInput{{keys: keys}}
	}
	for i, in := range a.Inputs {
		by := in.GroupBy
		if len(by) == 0 {
			by = a.GroupBy
		}
		if i == 0 {
			nkeys = len(by)
		} else if len(by) != nkeys {
			return nil, &query.Error{Msg: fmt.Sprintf("aggregation input %q has %d group-by values, input %q has %d", in.Name, len(by), a.Inputs[0].Name, nkeys)}
		}
		var f pred
		if in.Filter != nil {
			var err error
			if f, err = c.pred(in.Filter); err != nil {
				return nil, err
			}
		}
		keys, err := c.values(by)
		if err != nil {
			return nil, err
		}
		ap.inputs = append(ap.inputs, aggInput{filter: f, keys: keys})
	}
	if len(ap.names) == 0 {
		by := a.GroupBy
		if len(a.Inputs) > 0 {
			by = a.Inputs[0].GroupBy
			if len(by) == 0 {
				by = a.GroupBy
			}
		}
		for i, x := range by {
			if f, ok := x.(query.Field); ok {
				ap.names = append(ap.names, f.Path)
			} else {
				ap.names = append(ap.names, fmt.Sprintf("group%d", i+1))
			}
		}
	}
	if len(ap.names) != nkeys {
		return nil, &query.Error{Msg: fmt.Sprintf("aggregation has %d group-by names for %d group-by values", len(ap.names), nkeys)}
	}
	ap.terms = make([][]event.Value, nkeys)
	// Functions; fields read by several functions share one structure.
	seen := map[string]int{}
	for _, n := range ap.names {
		if seen[n] > 0 {
			return nil, &query.Error{Msg: fmt.Sprintf("aggregation: the name %q is used twice", n)}
		}
		seen[n] = 1
	}
	shared := map[string]int{}
	share := func(kind string, x query.Expr, add func(valFn) int) (int, error) {
		k := fmt.Sprintf("%s %#v", kind, x)
		if i, ok := shared[k]; ok {
			return i, nil
		}
		v, err := c.value(x)
		if err != nil {
			return 0, err
		}
		i := add(v)
		shared[k] = i
		return i, nil
	}
	for _, f := range a.Funcs {
		kind, ok := aggKinds[strings.ToLower(f.Name)]
		if !ok {
			return nil, &query.Unsupported{Construct: "aggregate function " + f.Name, Why: "the engine knows count, distinct, values, min, max, sum, avg, percentile and inputs"}
		}
		if f.As == "" {
			return nil, &query.Error{Msg: fmt.Sprintf("aggregation: %s has no output name", f.Name)}
		}
		if seen[f.As] > 0 {
			return nil, &query.Error{Msg: fmt.Sprintf("aggregation: the name %q is used twice", f.As)}
		}
		seen[f.As] = 1
		af := aggFunc{kind: kind, as: f.As, arg: f.Arg, idx: -1}
		var err error
		switch kind {
		case aggInputs:
			if f.Field != nil {
				return nil, &query.Error{Msg: fmt.Sprintf("aggregation: %s(%s) takes no field", f.Name, f.As)}
			}
			ap.inputsN = true
		case aggCount:
			ap.total = ap.total || f.Field == nil
			if f.Field != nil {
				af.idx, err = share("count", f.Field, func(v valFn) int { ap.cntFields = append(ap.cntFields, v); return len(ap.cntFields) - 1 })
			}
		case aggDistinct, aggValues:
			if f.Field == nil {
				return nil, &query.Error{Msg: fmt.Sprintf("aggregation: %s (%s) needs a field", f.Name, f.As)}
			}
			af.idx, err = share("set", f.Field, func(v valFn) int {
				ap.setFields, ap.setKeep = append(ap.setFields, v), append(ap.setKeep, false)
				return len(ap.setFields) - 1
			})
			if err == nil && kind == aggValues {
				ap.setKeep[af.idx] = true
			}
		default:
			if f.Field == nil {
				return nil, &query.Error{Msg: fmt.Sprintf("aggregation: %s (%s) needs a field", f.Name, f.As)}
			}
			if kind == aggPercentile && (f.Arg < 0 || f.Arg > 100 || math.IsNaN(f.Arg)) {
				return nil, &query.Error{Msg: fmt.Sprintf("aggregation: percentile rank %v of %s is not within 0-100", f.Arg, f.As)}
			}
			af.idx, err = share("num", f.Field, func(v valFn) int {
				ap.numFields, ap.numSorted = append(ap.numFields, v), append(ap.numSorted, false)
				return len(ap.numFields) - 1
			})
			if err == nil && (kind == aggMin || kind == aggMax || kind == aggPercentile) {
				ap.numSorted[af.idx] = true
			}
		}
		if err != nil {
			return nil, err
		}
		ap.funcs = append(ap.funcs, af)
	}
	if ap.ordered {
		ap.inputsN = true
	}
	if a.Having != nil {
		if err := ap.compileHaving(a.Having); err != nil {
			return nil, err
		}
	}
	return ap, nil
}

// compileHaving compiles Having on an engine of its own, whose fields are
// the group's names and aggregates: they are filled before each test.
func (ap *aggProg) compileHaving(x query.Expr) error {
	sub := New()
	hc := compiler{e: sub, prog: &Program{}}
	p, err := hc.pred(x)
	if err != nil {
		return fmt.Errorf("having: %w", err)
	}
	if len(sub.kw) > 0 {
		return &query.Unsupported{Construct: "keyword search in a having condition", Why: "having reads the group's names and aggregates only"}
	}
	for _, path := range sub.paths {
		src, ok := 0, false
		for i, n := range ap.names {
			if n == path {
				src, ok = -1-i, true
			}
		}
		for i, f := range ap.funcs {
			if f.as == path {
				src, ok = i, true
			}
		}
		if !ok {
			known := slices.Clone(ap.names)
			for _, f := range ap.funcs {
				known = append(known, f.as)
			}
			return &query.Error{Msg: fmt.Sprintf("having refers to %q, which is neither a group-by name nor an aggregate (have %s)", path, strings.Join(known, ", "))}
		}
		ap.hsrc = append(ap.hsrc, src)
	}
	ap.having = p
	ap.hctx = &sub.ctx
	ap.hctx.ev = event.New(0)
	return nil
}

// SetLimits changes program id's aggregation bounds (groups kept, entries
// per group and structure); zero keeps a bound as it is. It reports false
// when the program has no aggregation. Set it before the first Match.
func (e *Engine) SetLimits(id, groups, values int) bool {
	ap, ok := e.progs[id].state.(*aggProg)
	if !ok {
		return false
	}
	if groups > 0 {
		ap.MaxGroups = groups
	}
	if values > 0 {
		ap.MaxValues = values
	}
	return true
}

func (ap *aggProg) state() *StateStats { return ap.stats }

// AggStats is what an aggregation holds and sheds beyond StateStats, whose
// fields mean, for an aggregation: Keys, PeakKeys the groups live now and
// at most; Partials the entries held now (distinct values, numbers, time
// runs); Evicted the groups dropped because MaxGroups bit; Expired the
// groups dropped because their window passed; Forgotten the entries
// dropped (or, for counts, merged) because MaxValues bit.
type AggStats struct {
	Values     int   // entries held now (as StateStats.Partials)
	PeakValues int   // most entries held at once
	Late       int64 // events dropped: older than the newest seen by more than Tolerance
	Ungrouped  int64 // events (per input) dropped: a group-by value absent or null
	Fired      int64 // results emitted
}

// AggState reports program id's aggregation counters; nil when the
// program has no aggregation.
func (e *Engine) AggState(id int) *AggStats {
	ap, ok := e.progs[id].state.(*aggProg)
	if !ok {
		return nil
	}
	st := ap.agg
	return &st
}

// flush drops every group: a sliding window emits on arrival, never at the
// end of the input.
func (ap *aggProg) flush(func(*Result)) {
	for g := ap.lru.next; g != &ap.lru; {
		next := g.next
		ap.drop(g, true)
		g = next
	}
	ap.started = false
}

func (ap *aggProg) feed(k *ctx, emit func(*Result)) {
	ev := k.ev
	ap.ord++
	t := ap.newest
	if !ev.Time.IsZero() {
		t = ev.Time.UnixNano()
	}
	if ap.started && ap.window > 0 && t < ap.newest-ap.tol {
		ap.agg.Late++
		return
	}
	if !ap.started || t > ap.newest {
		ap.newest, ap.started = t, true
	}
	ap.sweep()
	ap.touched = ap.touched[:0]
	for ii := range ap.inputs {
		in := &ap.inputs[ii]
		if in.filter != nil && !in.filter(k) {
			continue
		}
		if !ap.collect(k, in.keys) {
			ap.agg.Ungrouped++
			continue
		}
		ap.combo = ap.combo[:0]
		ap.each(0, 0, func() { ap.add(ap.group(), ii, k, t) })
	}
	for _, g := range ap.touched {
		if g.skip || g.prev == nil {
			continue // outside its window, or evicted by a later group of this event
		}
		if ap.having != nil && !ap.test(g) {
			continue
		}
		ap.fire(g, ev, t, emit)
	}
}

// collect gathers the group-by terms of the current event per position;
// false when a position has none.
func (ap *aggProg) collect(k *ctx, keys []valFn) bool {
	for j, f := range keys {
		ts := ap.terms[j][:0]
		v := f(k)
		v.Each(func(x event.Value) bool {
			if x.Kind == event.Null || x.Kind == event.Absent {
				return true
			}
			for _, y := range ts {
				if y.Equal(x) {
					return true
				}
			}
			ts = append(ts, x)
			return true
		})
		ap.terms[j] = ts
		if len(ts) == 0 {
			return false
		}
	}
	return true
}

// each calls fn for each combination of terms (at most maxKeyCombos), with
// ap.combo holding it.
func (ap *aggProg) each(j, n int, fn func()) int {
	if j == len(ap.terms) {
		if n >= maxKeyCombos {
			return n
		}
		fn()
		return n + 1
	}
	for _, v := range ap.terms[j] {
		ap.combo = append(ap.combo, v)
		n = ap.each(j+1, n, fn)
		ap.combo = ap.combo[:j]
		if n >= maxKeyCombos {
			break
		}
	}
	return n
}

// appendKey encodes a scalar unambiguously: a kind byte, then the text
// (length-prefixed). Numbers of either kind with the same value are one key.
func appendKey(b []byte, v event.Value) []byte {
	switch v.Kind {
	case event.String:
		b = append(b, 's')
		b = binary.AppendUvarint(b, uint64(len(v.Str)))
		return append(b, v.Str...)
	case event.Int:
		return binary.AppendVarint(append(b, 'i'), v.Int)
	case event.Float:
		if v.Num == math.Trunc(v.Num) && math.Abs(v.Num) < 1<<62 {
			return binary.AppendVarint(append(b, 'i'), int64(v.Num))
		}
		return binary.BigEndian.AppendUint64(append(b, 'f'), math.Float64bits(v.Num))
	case event.Bool:
		return append(b, 'b', byte(v.Int))
	}
	return append(b, 'n')
}

// group returns the group of ap.combo, creating it (and evicting the least
// recently touched group when the cap bites), and marks it most recent.
func (ap *aggProg) group() *aggGroup {
	ap.kbuf = ap.kbuf[:0]
	for _, v := range ap.combo {
		ap.kbuf = appendKey(ap.kbuf, v)
	}
	g := ap.groups[string(ap.kbuf)]
	if g == nil {
		for len(ap.groups) >= max(ap.MaxGroups, 1) {
			ap.drop(ap.lru.prev, false)
			ap.stats.Evicted++
		}
		if n := len(ap.spareGroups); n > 0 {
			g = ap.spareGroups[n-1]
			ap.spareGroups[n-1] = nil
			ap.spareGroups = ap.spareGroups[:n-1]
			g.key, g.vals, g.ord, g.skip = string(ap.kbuf), append(g.vals[:0], ap.combo...), 0, false
		} else {
			g = &aggGroup{key: string(ap.kbuf), vals: slices.Clone(ap.combo)}
			if n := len(ap.cntFields); n > 0 {
				g.counts = make([]timeRuns, n)
			}
			if n := len(ap.setFields); n > 0 {
				g.sets = make([]valueSet, n)
			}
			if n := len(ap.numFields); n > 0 {
				g.nums = make([]numWindow, n)
			}
			if ap.inputsN {
				g.seen = make([]timeRuns, len(ap.inputs))
			}
		}
		ap.groups[g.key] = g
		ap.stats.Keys = len(ap.groups)
		ap.stats.PeakKeys = max(ap.stats.PeakKeys, len(ap.groups))
	} else {
		g.prev.next, g.next.prev = g.next, g.prev
	}
	g.prev, g.next = &ap.lru, ap.lru.next
	ap.lru.next.prev = g
	ap.lru.next = g
	return g
}

// drop forgets a group; spare keeps it for reuse (only groups the current
// event has not touched).
func (ap *aggProg) drop(g *aggGroup, spare bool) {
	if g == &ap.lru {
		return
	}
	ap.reset(g)
	g.prev.next, g.next.prev = g.next, g.prev
	g.prev, g.next = nil, nil
	delete(ap.groups, g.key)
	g.key = ""
	ap.stats.Keys = len(ap.groups)
	if spare && len(ap.spareGroups) < maxSpare {
		ap.spareGroups = append(ap.spareGroups, g)
	}
}

// sweep drops least recently touched groups whose window has passed: any
// event they could still get comes after their state has expired.
func (ap *aggProg) sweep() {
	if ap.window == 0 {
		return
	}
	for n := 0; n < 2; n++ {
		g := ap.lru.prev
		if g == &ap.lru || ap.newest-ap.tol-g.newest <= ap.window {
			return
		}
		ap.drop(g, true)
		ap.stats.Expired++
	}
}

// add counts the current event (of input in, at time t) in group g.
func (ap *aggProg) add(g *aggGroup, in int, k *ctx, t int64) {
	first := g.ord != ap.ord
	if first {
		g.ord = ap.ord
		ap.touched = append(ap.touched, g)
		g.skip = false
		if g.held == 0 && len(g.evidence) == 0 {
			g.newest = t
		} else if t > g.newest {
			g.newest = t
			if ap.window > 0 {
				ap.expire(g, t-ap.window)
			}
		} else if ap.window > 0 && t < g.newest-ap.window {
			g.skip = true
		}
	}
	if g.skip {
		return
	}
	if ap.inputsN {
		ap.held(g, g.seen[in].add(t, ap))
	}
	if !first {
		return // the event counts once per group, whatever inputs it matched
	}
	if ap.total {
		ap.held(g, g.total.add(t, ap))
	}
	for i, f := range ap.cntFields {
		if v := f(k); !v.IsNull() && (v.Kind != event.List || len(v.List) > 0) {
			ap.held(g, g.counts[i].add(t, ap))
		}
	}
	for i, f := range ap.setFields {
		s, keep := &g.sets[i], ap.setKeep[i]
		f(k).Each(func(x event.Value) bool {
			if x.Kind != event.Null {
				ap.vbuf = appendKey(ap.vbuf[:0], x)
				ap.held(g, s.add(ap.vbuf, x, t, keep, ap))
			}
			return true
		})
	}
	for i, f := range ap.numFields {
		w, sorted := &g.nums[i], ap.numSorted[i]
		f(k).Each(func(x event.Value) bool {
			if n, ok := x.Number(); ok && !math.IsNaN(n) {
				ap.held(g, w.add(t, n, sorted, ap))
			}
			return true
		})
	}
	if len(g.evidence) < evidenceMax {
		g.evidence = append(g.evidence, evidence{t: t, ord: ap.ord, ev: ap.snap(k.ev)})
	}
}

// held records a change in the entries group g holds.
func (ap *aggProg) held(g *aggGroup, d int) {
	g.held += d
	ap.agg.Values += d
	ap.agg.PeakValues = max(ap.agg.PeakValues, ap.agg.Values)
	ap.stats.Partials = ap.agg.Values
}

// expire drops what falls before cutoff from group g.
func (ap *aggProg) expire(g *aggGroup, cutoff int64) {
	d := g.total.expire(cutoff)
	for i := range g.counts {
		d += g.counts[i].expire(cutoff)
	}
	for i := range g.sets {
		d += g.sets[i].expire(cutoff)
	}
	for i := range g.nums {
		d += g.nums[i].expire(cutoff)
	}
	for i := range g.seen {
		d += g.seen[i].expire(cutoff)
	}
	ap.held(g, -d)
	j := 0
	for _, e := range g.evidence {
		if e.t >= cutoff {
			g.evidence[j] = e
			j++
		} else {
			ap.release(e.ev)
		}
	}
	clear(g.evidence[j:])
	g.evidence = g.evidence[:j]
}

// reset empties a group (after it fired, or when it is dropped).
func (ap *aggProg) reset(g *aggGroup) {
	ap.held(g, -g.held)
	g.total.reset()
	for i := range g.counts {
		g.counts[i].reset()
	}
	for i := range g.sets {
		g.sets[i].reset()
	}
	for i := range g.nums {
		g.nums[i].reset()
	}
	for i := range g.seen {
		g.seen[i].reset()
	}
	for _, e := range g.evidence {
		ap.release(e.ev)
	}
	clear(g.evidence)
	g.evidence = g.evidence[:0]
}

// value is function i's value for group g.
func (ap *aggProg) value(g *aggGroup, i int) event.Value {
	f := &ap.funcs[i]
	switch f.kind {
	case aggCount:
		if f.idx < 0 {
			return event.IntV(g.total.n)
		}
		return event.IntV(g.counts[f.idx].n)
	case aggDistinct:
		return event.IntV(int64(g.sets[f.idx].live))
	case aggValues:
		return g.sets[f.idx].values()
	case aggInputs:
		return event.IntV(int64(ap.inputsSeen(g)))
	}
	w := &g.nums[f.idx]
	switch f.kind {
	case aggSum:
		return event.FloatV(w.sum)
	case aggAvg:
		if w.n() == 0 {
			return event.NullV()
		}
		return event.FloatV(w.sum / float64(w.n()))
	}
	if len(w.sorted) == 0 {
		return event.NullV()
	}
	switch f.kind {
	case aggMin:
		return event.FloatV(w.sorted[0])
	case aggMax:
		return event.FloatV(w.sorted[len(w.sorted)-1])
	}
	return event.FloatV(percentile(w.sorted, f.arg))
}

// percentile interpolates linearly between the closest ranks (numpy's
// default, Hyndman and Fan's type 7) over sorted values.
func percentile(s []float64, p float64) float64 {
	r := p / 100 * float64(len(s)-1)
	lo := int(math.Floor(r))
	if lo >= len(s)-1 {
		return s[len(s)-1]
	}
	return s[lo] + (r-float64(lo))*(s[lo+1]-s[lo])
}

// inputsSeen counts the inputs that occurred in the group's window; when
// ordered, the longest prefix of the inputs that occurred in that order.
func (ap *aggProg) inputsSeen(g *aggGroup) int {
	n := 0
	if !ap.ordered {
		for i := range g.seen {
			if g.seen[i].n > 0 {
				n++
			}
		}
		return n
	}
	bound := int64(math.MinInt64)
	for i := range g.seen {
		t, ok := g.seen[i].first(bound)
		if !ok {
			break
		}
		bound = t
		n++
	}
	return n
}

// test evaluates Having for group g.
func (ap *aggProg) test(g *aggGroup) bool {
	hc := ap.hctx
	hc.gen++
	hc.loaded = hc.gen
	for i, src := range ap.hsrc {
		s := &hc.slots[i]
		s.gen = hc.gen
		if src < 0 {
			s.val = g.vals[-1-src]
		} else {
			s.val = ap.value(g, src)
		}
	}
	return ap.having(hc)
}

// fire emits group g's result and starts the group afresh.
func (ap *aggProg) fire(g *aggGroup, ev *event.Event, t int64, emit func(*Result)) {
	ap.out = ap.out[:0]
	for i, n := range ap.names {
		ap.out = append(ap.out, NamedValue{Name: n, Value: g.vals[i]})
	}
	for i, f := range ap.funcs {
		ap.out = append(ap.out, NamedValue{Name: f.as, Value: ap.value(g, i)})
	}
	sort.SliceStable(g.evidence, func(i, j int) bool { return g.evidence[i].t < g.evidence[j].t })
	ap.evs = ap.evs[:0]
	in := false
	for _, e := range g.evidence {
		if e.ord == ap.ord {
			ap.evs = append(ap.evs, ev) // the trigger as it is
			in = true
			continue
		}
		ap.evs = append(ap.evs, e.ev.event())
	}
	if !in {
		at := len(ap.evs)
		for at > 0 && g.evidence[at-1].t > t {
			at--
		}
		ap.evs = slices.Insert(ap.evs, at, ev)
	}
	ap.agg.Fired++
	r := &ap.e.res
	r.ID, r.Events, r.Keys, r.Values = ap.id, ap.evs, g.vals, ap.out
	emit(r)
	r.Values = nil
	clear(ap.evs)
	ap.reset(g)
}

// snapshot is an evidence event's contents, copied when it arrives (the
// input's event is not retained, so a source may reuse it) and made an
// event again only when its group fires: copying fields into a slice is
// cheaper than into a map, and most groups never fire.
type snapshot struct {
	fields []snapField
	time   time.Time
	format string
	index  string
	file   string
	line   int
}

type snapField struct {
	path string
	v    event.Value
}

func (ap *aggProg) snap(src *event.Event) *snapshot {
	var sn *snapshot
	if n := len(ap.spareSnaps); n > 0 {
		sn = ap.spareSnaps[n-1]
		ap.spareSnaps = ap.spareSnaps[:n-1]
		sn.fields = sn.fields[:0]
	} else {
		sn = &snapshot{fields: make([]snapField, 0, src.Len())}
	}
	src.Range(func(p string, v event.Value) bool {
		sn.fields = append(sn.fields, snapField{p, v})
		return true
	})
	sn.time, sn.format, sn.index, sn.file, sn.line = src.Time, src.Format, src.Index, src.File, src.Line
	return sn
}

// event makes the snapshot an event.
func (sn *snapshot) event() *event.Event {
	ev := event.New(len(sn.fields))
	for _, f := range sn.fields {
		ev.Set(f.path, f.v)
	}
	ev.Time, ev.Format, ev.Index, ev.File, ev.Line = sn.time, sn.format, sn.index, sn.file, sn.line
	return ev
}

// release takes back a snapshot no longer needed.
func (ap *aggProg) release(sn *snapshot) {
	if len(ap.spareSnaps) < maxSpare {
		clear(sn.fields)
		ap.spareSnaps = append(ap.spareSnaps, sn)
	}
}

// timeRuns counts events by time: runs of (time, count) in time order.
type timeRuns struct {
	r []run
	h int   // r[h:] are live
	n int64 // events in the live runs
}

type run struct{ t, n int64 }

// add counts an event at t and returns the change in runs held.
func (q *timeRuns) add(t int64, ap *aggProg) int {
	q.n++
	r, l := q.r, len(q.r)
	if l > q.h && r[l-1].t <= t {
		if r[l-1].t == t {
			r[l-1].n++
			return 0
		}
		q.r = append(r, run{t, 1})
	} else {
		i, found := sort.Find(l-q.h, func(i int) int { return cmpInt(t, r[q.h+i].t) })
		i += q.h
		if found {
			r[i].n++
			return 0
		}
		q.r = slices.Insert(r, i, run{t, 1})
	}
	if len(q.r)-q.h > max(ap.MaxValues, 2) {
		// Merge the oldest run into the next: its events now expire with
		// that one, a little late.
		q.r[q.h+1].n += q.r[q.h].n
		q.h++
		ap.stats.Forgotten++
		return 0
	}
	return 1
}

// first returns the earliest time at or after t.
func (q *timeRuns) first(t int64) (int64, bool) {
	live := q.r[q.h:]
	i, _ := sort.Find(len(live), func(i int) int { return cmpInt(t, live[i].t) })
	if i == len(live) {
		return 0, false
	}
	return live[i].t, true
}

// expire drops runs before cutoff and returns how many.
func (q *timeRuns) expire(cutoff int64) int {
	h0 := q.h
	for q.h < len(q.r) && q.r[q.h].t < cutoff {
		q.n -= q.r[q.h].n
		q.h++
	}
	d := q.h - h0
	if q.h == len(q.r) {
		q.r, q.h = q.r[:0], 0
	} else if q.h > 32 && q.h > len(q.r)/2 {
		q.r = q.r[:copy(q.r, q.r[q.h:])]
		q.h = 0
	}
	return d
}

func (q *timeRuns) reset() { q.r, q.h, q.n = q.r[:0], 0, 0 }

// valueSet holds the distinct values of a field in a window: per value the
// last time it was seen, and a queue of sightings in time order from which
// values expire. A sighting superseded by a later one is stale and skipped;
// the queue is rebuilt when stale sightings outnumber live values.
type valueSet struct {
	idx  map[string]int32 // nil while there are few values: ents is scanned
	live int
	ents []setEnt
	free []int32
	q    []sighting
	h    int
}

type setEnt struct {
	key  string // "": free
	v    event.Value
	last int64
}

type sighting struct {
	t int64
	i int32
}

// add records value v (key b) at t and returns the change in values held.
func (s *valueSet) add(b []byte, v event.Value, t int64, keep bool, ap *aggProg) int {
	if i, ok := s.find(b); ok {
		e := &s.ents[i]
		if t > e.last {
			e.last = t
			s.push(t, i)
		}
		return 0
	}
	d := 1
	if s.live >= max(ap.MaxValues, 1) {
		s.evictOldest()
		ap.stats.Forgotten++
		d = 0
	}
	if s.idx == nil && len(s.ents) >= smallSet {
		s.idx = make(map[string]int32, 2*smallSet)
		for i, e := range s.ents {
			if e.key != "" {
				s.idx[e.key] = int32(i)
			}
		}
	}
	e := setEnt{key: string(b), last: t}
	if keep {
		e.v = v
	}
	var i int32
	if n := len(s.free); n > 0 {
		i = s.free[n-1]
		s.free = s.free[:n-1]
		s.ents[i] = e
	} else {
		i = int32(len(s.ents))
		s.ents = append(s.ents, e)
	}
	if s.idx != nil {
		s.idx[e.key] = i
	}
	s.live++
	s.push(t, i)
	return d
}

// smallSet is how many values a set scans before it indexes them.
const smallSet = 8

func (s *valueSet) find(b []byte) (int32, bool) {
	if s.idx != nil {
		i, ok := s.idx[string(b)]
		return i, ok
	}
	for i := range s.ents {
		if s.ents[i].key == string(b) {
			return int32(i), true
		}
	}
	return 0, false
}

func (s *valueSet) push(t int64, i int32) {
	if n := len(s.q); n == s.h || s.q[n-1].t <= t {
		s.q = append(s.q, sighting{t, i})
	} else {
		live := s.q[s.h:]
		j, _ := sort.Find(len(live), func(j int) int { return cmpInt(t, live[j].t) })
		s.q = slices.Insert(s.q, s.h+j, sighting{t, i})
	}
	if len(s.q)-s.h > 2*s.live+16 {
		s.rebuild()
	}
}

// rebuild makes the queue one sighting per live value.
func (s *valueSet) rebuild() {
	s.q = s.q[:0]
	s.h = 0
	for i, e := range s.ents {
		if e.key != "" {
			s.q = append(s.q, sighting{e.last, int32(i)})
		}
	}
	slices.SortFunc(s.q, func(a, b sighting) int { return cmpInt(a.t, b.t) })
}

func (s *valueSet) del(i int32) {
	if s.idx != nil {
		delete(s.idx, s.ents[i].key)
	}
	s.live--
	s.ents[i] = setEnt{}
	s.free = append(s.free, i)
}

// evictOldest drops the least recently seen value.
func (s *valueSet) evictOldest() {
	for s.h < len(s.q) {
		x := s.q[s.h]
		s.h++
		if e := &s.ents[x.i]; e.key != "" && e.last == x.t {
			s.del(x.i)
			return
		}
	}
}

// expire drops values last seen before cutoff and returns how many.
func (s *valueSet) expire(cutoff int64) int {
	d := 0
	for s.h < len(s.q) && s.q[s.h].t < cutoff {
		x := s.q[s.h]
		s.h++
		if e := &s.ents[x.i]; e.key != "" && e.last < cutoff {
			s.del(x.i)
			d++
		}
	}
	if s.h == len(s.q) {
		s.q, s.h = s.q[:0], 0
	} else if s.h > 32 && s.h > len(s.q)/2 {
		s.q = s.q[:copy(s.q, s.q[s.h:])]
		s.h = 0
	}
	return d
}

func (s *valueSet) reset() {
	if len(s.ents) > 4*smallSet {
		*s = valueSet{} // a large set's memory goes with its window
		return
	}
	clear(s.ents)
	s.idx, s.live = nil, 0
	s.ents, s.free, s.q, s.h = s.ents[:0], s.free[:0], s.q[:0], 0
}

// values lists the distinct values, ordered by their text (as SPL's
// values() does).
func (s *valueSet) values() event.Value {
	out := make([]event.Value, 0, s.live)
	for _, e := range s.ents {
		if e.key != "" {
			out = append(out, e.v)
		}
	}
	slices.SortFunc(out, func(a, b event.Value) int { return strings.Compare(a.String(), b.String()) })
	return event.ListV(out...)
}

// numWindow holds the numbers of a field in a window, in time order, with
// their sum and, when min, max or a percentile needs it, a sorted copy.
type numWindow struct {
	q      []numEnt
	h      int
	sum    float64
	sorted []float64
}

type numEnt struct {
	t int64
	x float64
}

func (w *numWindow) n() int { return len(w.q) - w.h }

// add records x at t and returns the change in values held.
func (w *numWindow) add(t int64, x float64, sorted bool, ap *aggProg) int {
	if n := len(w.q); n == w.h || w.q[n-1].t <= t {
		w.q = append(w.q, numEnt{t, x})
	} else {
		live := w.q[w.h:]
		j, _ := sort.Find(len(live), func(j int) int { return cmpInt(t, live[j].t) })
		w.q = slices.Insert(w.q, w.h+j, numEnt{t, x})
	}
	w.sum += x
	if sorted {
		i, _ := slices.BinarySearch(w.sorted, x)
		w.sorted = slices.Insert(w.sorted, i, x)
	}
	if w.n() > max(ap.MaxValues, 1) {
		w.pop()
		ap.stats.Forgotten++
		return 0
	}
	return 1
}

// pop drops the oldest number.
func (w *numWindow) pop() {
	x := w.q[w.h].x
	w.h++
	w.sum -= x
	if w.sorted != nil {
		if i, ok := slices.BinarySearch(w.sorted, x); ok {
			w.sorted = slices.Delete(w.sorted, i, i+1)
		}
	}
	if w.h == len(w.q) {
		w.q, w.h, w.sum = w.q[:0], 0, 0 // no drift survives an empty window
	} else if w.h > 32 && w.h > len(w.q)/2 {
		w.q = w.q[:copy(w.q, w.q[w.h:])]
		w.h = 0
	}
}

// expire drops numbers before cutoff and returns how many.
func (w *numWindow) expire(cutoff int64) int {
	d := 0
	for w.h < len(w.q) && w.q[w.h].t < cutoff {
		w.pop()
		d++
	}
	return d
}

func (w *numWindow) reset() { w.q, w.h, w.sum, w.sorted = w.q[:0], 0, 0, w.sorted[:0] }
