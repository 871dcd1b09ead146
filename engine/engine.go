// Package engine runs compiled queries over events. Each query of the IR is
// compiled once into closures; the engine then evaluates every rule against
// each event, reading each field at most once per event and lower-casing it
// at most once per event, and evaluating each distinct scope (log source,
// event category) once per event for all the rules that share it.
//
// An Engine is not safe for concurrent use: run one per goroutine.
package engine

import (
	"fmt"
	"slices"
	"strings"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/query"
)

// Engine holds compiled programs and the per-event evaluation state.
type Engine struct {
	slotOf map[string]int
	paths  []string
	kwKeys map[string]int
	kw     []kwScope
	scopes []*scope
	progs  []*Program
	ctx    ctx
	// aux evaluates events other than Match's current one (MatchOne,
	// Explain of an earlier event), leaving ctx's caches and generation
	// alone.
	aux *ctx

	// NoPrefilter turns the literal prefilter off (for measurements and
	// equivalence tests); results are the same either way.
	NoPrefilter bool
	// StrictIndex makes a program with index patterns (query.Query.Index)
	// see only events whose Index matches them, as Kibana would. Set it
	// before the first Match.
	StrictIndex bool
	pf          *prefilter // nil: to be built before the next Match
	cand        []uint64   // cand[id] == ctx.gen: admitted by the prefilter
	guards      [][]lit    // literals of guarded predicates (compiler.guard)
	open        []uint64   // open[g] == ctx.gen: a literal of guard g occurs
	pathRefs    map[uintptr]pathRef
	res         Result
}

type scope struct {
	key   string
	pred  pred // nil: every event
	progs []int
}

// Program is one compiled query.
type Program struct {
	ID      int
	scope   *scope
	filters []pred
	named   []namedPred
	req     []lit // one must occur for the program to match
	hasReq  bool
	// state is the program's stateful stage (sequence, sample); nil for
	// single-event programs.
	state stateful
	limit *limiter
	index *indexPatterns
}

// stateful is a sequence or sample: it is fed every event in the
// program's scope and emits results when they complete.
type stateful interface {
	feed(k *ctx, emit func(*Result))
	flush(emit func(*Result))
	state() *StateStats
}

// waker is a stateful stage the prefilter may skip for an event none of
// its steps (including until and missing steps) can match, except when
// due says it has work that does not depend on matching: feeding it such
// an event must then be the same as not feeding it.
type waker interface {
	due(gen uint64) bool
}

// limiter is EQL's head and tail: the first (last) N results. Pipes
// chain (| head 5 | tail 2): each limiter passes what it keeps to then,
// so a chain holds at most the sum of its tails' counts.
type limiter struct {
	n, seen int
	tail    bool
	kept    []Result // tail: a ring of copies
	next    int
	then    *limiter
	stats   StateStats
}

func (l *limiter) pass(r *Result, fn func(*Result)) {
	if l.then != nil {
		l.then.admit(r, fn)
		return
	}
	fn(r)
}

func (l *limiter) admit(r *Result, fn func(*Result)) {
	l.seen++
	if !l.tail {
		if l.seen <= l.n {
			l.pass(r, fn)
		} else {
			l.stats.Suppressed++
		}
		return
	}
	cp := Result{ID: r.ID, Events: slices.Clone(r.Events), Keys: slices.Clone(r.Keys), Values: slices.Clone(r.Values)}
	retain(cp.Events)
	if len(l.kept) < l.n {
		l.kept = append(l.kept, cp)
		return
	}
	l.stats.Suppressed++
	if l.n > 0 {
		l.kept[l.next] = cp
		l.next = (l.next + 1) % l.n
	}
}

func (l *limiter) flush(fn func(*Result)) {
	if l.tail {
		for i := range l.kept {
			r := l.kept[(l.next+i)%len(l.kept)]
			l.pass(&r, fn)
		}
		l.kept, l.next = nil, 0
	}
	l.seen = 0
	if l.then != nil {
		l.then.flush(fn)
	}
}

// suppressed counts what the whole chain dropped.
func (l *limiter) suppressed() int64 {
	n := int64(0)
	for ; l != nil; l = l.then {
		n += l.stats.Suppressed
	}
	return n
}

type namedPred struct {
	name string
	p    pred
}

type pred func(c *ctx) bool
type valFn func(c *ctx) event.Value

type ctx struct {
	kw    []kwTexts
	e     *Engine
	ev    *event.Event
	epoch uint64 // ev.Epoch() when it became the current event
	gen   uint64
	pfgen uint64 // == gen: the prefilter has marked the current event
	// loaded == gen: every slot the current event has is filled (load)
	loaded uint64
	slots  []slot
}

// kwScope is a set of fields keyword searches read.
type kwScope struct {
	fields []string // exact paths, or prefixes ending in "."
}

// kwTexts caches, per event, the string values a keyword scope covers.
type kwTexts struct {
	gen, lgen uint64
	txt, low  []string
}

type slot struct {
	gen, lgen uint64
	val       event.Value
	low       []string // lower-cased text of each scalar, valid when lgen == gen
	txt       []string // text of each scalar
	tgen      uint64
}

// New returns an empty engine.
func New() *Engine {
	e := &Engine{slotOf: map[string]int{}, kwKeys: map[string]int{}}
	e.ctx.e = e
	return e
}

// Len is the number of programs.
func (e *Engine) Len() int { return len(e.progs) }

// Fields lists every field path the compiled programs read, in slot order.
// A source may use it to decode only what the rules need.
func (e *Engine) Fields() []string { return append([]string(nil), e.paths...) }

func (e *Engine) slot(path string) int {
	if i, ok := e.slotOf[path]; ok {
		return i
	}
	i := len(e.paths)
	e.slotOf[path] = i
	e.paths = append(e.paths, path)
	e.ctx.slots = append(e.ctx.slots, slot{})
	e.pathRefs = nil // it may say the path has no slot
	return i
}

// Add compiles q and returns the new program's id (its index).
func (e *Engine) Add(q *query.Query) (int, error) {
	p := &Program{ID: len(e.progs)}
	c := compiler{e: e, prog: p}
	var sc *scope
	for _, s := range e.scopes {
		if q.Scope == nil && s.pred == nil || q.Scope != nil && q.ScopeKey != "" && s.key == q.ScopeKey {
			sc = s
			break
		}
	}
	if sc == nil {
		sc = &scope{key: q.ScopeKey}
		if q.Scope != nil {
			pr, err := c.pred(q.Scope)
			if err != nil {
				return 0, fmt.Errorf("scope: %w", err)
			}
			sc.pred = pr
			if sc.key == "" {
				sc.key = fmt.Sprintf("anonymous-%d", len(e.scopes))
			}
		}
	}
	if len(q.Index) > 0 {
		p.index = newIndexPatterns(q.Index)
	}
	local := false // an assign or extract stage has run: fields may be local
	for _, st := range q.Stages {
		switch st := st.(type) {
		case query.Filter:
			pr, err := c.pred(st.Expr)
			if err != nil {
				return 0, err
			}
			p.filters = append(p.filters, pr)
		case query.Extract:
			if p.state != nil {
				return 0, fmt.Errorf("engine: an extract stage after the stateful stage")
			}
			pr, err := c.extract(st)
			if err != nil {
				return 0, err
			}
			p.filters = append(p.filters, pr)
			local = true
		case query.Assign:
			if p.state != nil {
				return 0, fmt.Errorf("engine: an assign stage after the stateful stage")
			}
			pr, err := c.assign(st)
			if err != nil {
				return 0, err
			}
			p.filters = append(p.filters, pr)
			local = true
		case query.Aggregate:
			if p.state != nil || p.limit != nil {
				return 0, fmt.Errorf("engine: a query has at most one stateful stage, before any limit")
			}
			c.guardTop = true
			ap, err := c.aggregate(st)
			c.guardTop = false
			if err != nil {
				return 0, err
			}
			p.state = ap
		case query.Sequence:
			if p.state != nil || p.limit != nil {
				return 0, fmt.Errorf("engine: a query has at most one stateful stage, before any limit")
			}
			c.guardTop = true
			sp, err := c.sequence(st)
			c.guardTop = false
			if err != nil {
				return 0, err
			}
			p.state = sp
		case query.Sample:
			if p.state != nil || p.limit != nil {
				return 0, fmt.Errorf("engine: a query has at most one stateful stage, before any limit")
			}
			c.guardTop = true
			sp, err := c.sample(st)
			c.guardTop = false
			if err != nil {
				return 0, err
			}
			p.state = sp
		case query.Limit:
			if st.N < 0 {
				return 0, fmt.Errorf("engine: negative limit %d", st.N)
			}
			l := &limiter{n: st.N, tail: st.Tail}
			if p.limit == nil {
				p.limit = l
			} else {
				last := p.limit
				for last.then != nil {
					last = last.then
				}
				last.then = l
			}
		default:
			return 0, fmt.Errorf("unknown stage %T", st)
		}
	}
	// The prefilter reads the event's own fields: only filters before the
	// first assign or extract stage may give it literals.
	var all []query.Expr
	var agg bool
	for _, st := range q.Stages {
		if _, ok := st.(query.Assign); ok {
			break
		}
		if _, ok := st.(query.Extract); ok {
			break
		}
		if f, ok := st.(query.Filter); ok {
			all = append(all, f.Expr)
		}
	}
	for _, st := range q.Stages {
		if a, ok := st.(query.Aggregate); ok && len(a.Inputs) == 0 {
			agg = true
		}
	}
	switch {
	case p.state == nil || agg:
		// An aggregate over the events that pass the filters has no work
		// for an event they reject (it keeps no timers).
		if len(all) > 0 {
			c.locals = nil
			p.req, p.hasReq = required(&c, query.And{X: all})
		}
	case !local:
		p.req, p.hasReq = stepLiterals(&c, q.Stages)
	}
	// Only now commit: a failed compile leaves the engine as it was (slots
	// added for a failed program are harmless).
	found := false
	for _, s := range e.scopes {
		if s == sc {
			found = true
		}
	}
	if !found {
		e.scopes = append(e.scopes, sc)
	}
	p.scope = sc
	sc.progs = append(sc.progs, p.ID)
	e.progs = append(e.progs, p)
	e.pf = nil
	return p.ID, nil
}

// Result is one match of a program: the events it covers, in order. A
// sequence step that must not occur (a missing event) is a nil entry. The
// Result and its slices are valid only during the callback; copy to keep,
// and Retain the events kept (a source may reuse an event otherwise).
type Result struct {
	ID     int
	Events []*event.Event
	// Keys are the join-key values of a sequence or sample, the group-by
	// values of an aggregation.
	Keys []event.Value
	// Values are an aggregation's outputs: the group-by values by name,
	// then each aggregate by its As name (engine/aggregate.go).
	Values []NamedValue
}

// Match evaluates every program against ev and calls fn with each match:
// single-event matches in id order within a scope.
func (e *Engine) Match(ev *event.Event, fn func(*Result)) {
	c := &e.ctx
	c.ev, c.epoch = ev, ev.Epoch()
	c.gen++
	c.load()
	usePF := !e.NoPrefilter
	if usePF {
		if e.pf == nil {
			e.pf = buildPrefilter(e)
			e.cand = make([]uint64, len(e.progs))
			e.open = make([]uint64, len(e.guards))
		}
		e.pf.mark(c, e.cand, e.open)
	}
	for _, s := range e.scopes {
		// The scope is evaluated once, and only if a program needs it.
		inScope := s.pred == nil
		checked := inScope
	progs:
		for _, id := range s.progs {
			if usePF && e.cand[id] != c.gen && !e.pf.always[id] && !e.progs[id].due(c.gen) {
				continue
			}
			if !checked {
				inScope, checked = s.pred(c), true
			}
			if !inScope {
				break
			}
			if e.StrictIndex && e.progs[id].index != nil && !e.progs[id].index.match(ev.Index) {
				continue
			}
			for _, f := range e.progs[id].filters {
				if !f(c) {
					continue progs
				}
			}
			p := e.progs[id]
			if p.state != nil {
				p.state.feed(c, e.sink(p, fn))
				continue
			}
			e.res.ID, e.res.Events, e.res.Keys = id, append(e.res.Events[:0], ev), nil
			e.sink(p, fn)(&e.res)
		}
	}
}

// due reports whether p's stateful stage has time-based work to do on the
// event of generation gen even if none of its steps can match it.
func (p *Program) due(gen uint64) bool {
	w, ok := p.state.(waker)
	return ok && w.due(gen)
}

// sink is where program p's results go: through its head/tail limit.
func (e *Engine) sink(p *Program, fn func(*Result)) func(*Result) {
	if p.limit == nil {
		return fn
	}
	return func(r *Result) { p.limit.admit(r, fn) }
}

// Flush ends the input: results a stateful stage was holding back (tail,
// samples, sequences ending in a missing event) are emitted now, and the
// stateful programs start afresh.
func (e *Engine) Flush(fn func(*Result)) {
	for _, p := range e.progs {
		if p.state != nil {
			p.state.flush(e.sink(p, fn))
		}
		if p.limit != nil {
			p.limit.flush(fn)
		}
	}
}

// State reports what program id's stateful stages hold and have shed; nil
// for a program without state.
func (e *Engine) State(id int) *StateStats {
	p := e.progs[id]
	if p.state == nil && p.limit == nil {
		return nil
	}
	st := &StateStats{}
	if p.state != nil {
		*st = *p.state.state()
	}
	if p.limit != nil {
		st.Suppressed += p.limit.suppressed()
	}
	return st
}

// use returns the evaluation context of ev: Match's own when ev is its
// current event (Explain called from inside Match's callback), whose
// per-event caches are then shared; otherwise a separate one, so that
// evaluating another event — a sequence's earlier event being explained
// while Match is under way — does not disturb Match's event, generation
// or prefilter marks. A source may reuse an event for the next record
// (event.Event.Reset), so the event is the same one only if its epoch is
// too.
func (e *Engine) use(ev *event.Event) *ctx {
	if c := &e.ctx; c.ev == ev && c.epoch == ev.Epoch() {
		return c
	}
	c := e.aux
	if c == nil {
		c = &ctx{e: e}
		e.aux = c
	}
	if len(c.slots) < len(e.ctx.slots) {
		c.slots = append(c.slots, make([]slot, len(e.ctx.slots)-len(c.slots))...)
	}
	if len(c.kw) < len(e.ctx.kw) {
		c.kw = append(c.kw, make([]kwTexts, len(e.ctx.kw)-len(c.kw))...)
	}
	if c.ev != ev || c.epoch != ev.Epoch() {
		c.ev, c.epoch = ev, ev.Epoch()
		c.gen++
	}
	return c
}

// retain marks events a stateful stage or limiter holds past Match (a
// missing step's nil placeholder is skipped).
func retain(evs []*event.Event) {
	for _, ev := range evs {
		if ev != nil {
			ev.Retain()
		}
	}
}

// MatchOne evaluates one program.
func (e *Engine) MatchOne(id int, ev *event.Event) bool {
	p := e.progs[id]
	c := e.use(ev)
	if p.scope.pred != nil && !p.scope.pred(c) {
		return false
	}
	for _, f := range p.filters {
		if !f(c) {
			return false
		}
	}
	return true
}

// Explain lists the names of the labelled parts of program id (Sigma
// selections, say) that are true for ev.
func (e *Engine) Explain(id int, ev *event.Event) []string {
	p := e.progs[id]
	c := e.use(ev)
	var out []string
	for _, n := range p.named {
		if n.p(c) {
			out = append(out, n.name)
		}
	}
	return out
}

// get returns the value of slot i for the current event.
func (c *ctx) get(i int) *slot {
	s := &c.slots[i]
	if s.gen != c.gen {
		s.gen = c.gen
		if c.loaded == c.gen {
			s.val = event.Value{}
		} else {
			s.val = c.ev.Get(c.e.paths[i])
		}
	}
	return s
}

// texts returns the text of each scalar of slot i, lowered when fold.
func (c *ctx) texts(i int, fold bool) []string {
	s := c.get(i)
	if s.tgen != c.gen {
		s.tgen = c.gen
		s.txt = s.txt[:0]
		s.val.Each(func(v event.Value) bool {
			if v.Kind != event.Null {
				s.txt = append(s.txt, v.String())
			}
			return true
		})
	}
	if !fold {
		return s.txt
	}
	if s.lgen != c.gen {
		s.lgen = c.gen
		s.low = s.low[:0]
		for _, t := range s.txt {
			s.low = append(s.low, lower(t))
		}
	}
	return s.low
}

// lower is strings.ToLower without an allocation for the common case of
// text that is already lower-case ASCII.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 0x80 {
			return strings.ToLower(s)
		}
	}
	return s
}

// keywordScope returns the index of the keyword scope over fields.
func (e *Engine) keywordScope(fields []string) int {
	key := strings.Join(fields, "\x00")
	if i, ok := e.kwKeys[key]; ok {
		return i
	}
	i := len(e.kw)
	e.kwKeys[key] = i
	e.kw = append(e.kw, kwScope{fields: fields})
	e.ctx.kw = append(e.ctx.kw, kwTexts{})
	return i
}

// keywordTexts collects once per event the string values under keyword
// scope i (lowered when fold), so that every keyword rule shares one pass
// over the event.
func (c *ctx) keywordTexts(i int, fold bool) []string {
	kt := &c.kw[i]
	if kt.gen != c.gen {
		kt.gen = c.gen
		kt.txt = kt.txt[:0]
		add := func(v event.Value) {
			v.Each(func(x event.Value) bool {
				if x.Kind == event.String {
					kt.txt = append(kt.txt, x.Str)
				}
				return true
			})
		}
		sc := c.e.kw[i]
		exact := true
		for _, f := range sc.fields {
			if strings.HasSuffix(f, ".") {
				exact = false
			}
		}
		if exact && len(sc.fields) > 0 {
			for _, f := range sc.fields {
				add(c.ev.Get(f))
			}
		} else {
			c.ev.Range(func(path string, v event.Value) bool {
				if inFields(path, sc.fields) {
					add(v)
				}
				return true
			})
		}
	}
	if !fold {
		return kt.txt
	}
	if kt.lgen != c.gen {
		kt.lgen = c.gen
		kt.low = kt.low[:0]
		for _, t := range kt.txt {
			kt.low = append(kt.low, lower(t))
		}
	}
	return kt.low
}

func inFields(path string, fields []string) bool {
	if len(fields) == 0 {
		return true
	}
	for _, f := range fields {
		if path == f || strings.HasSuffix(f, ".") && strings.HasPrefix(path, f) {
			return true
		}
	}
	return false
}
