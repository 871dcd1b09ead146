// Package hunt runs rules over telemetry files: it wires sources, the
// engine and alert sinks together for `firewarden hunt`.
package hunt

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"time"

	"github.com/firewarden/firewarden/alert"
	"github.com/firewarden/firewarden/engine"
	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/exception"
	"github.com/firewarden/firewarden/history"
	"github.com/firewarden/firewarden/lang/sigma"
	"github.com/firewarden/firewarden/query"
	"github.com/firewarden/firewarden/rule"
	"github.com/firewarden/firewarden/source"
	"github.com/firewarden/firewarden/source/process"
)

// Engine is a set of rules compiled into one engine, with what happens to
// their alerts on the way out (exceptions, new terms, suppression,
// deduplication, rate limits: see policy).
type Engine struct {
	eng *engine.Engine // every rule but chained correlations
	// chain runs chained Sigma correlations (rule.Chain.Level n > 0 in
	// chain[n-1]); see feed.
	chain []*level
	// rules and policies are by program id of eng, then the chain's.
	rules    []*rule.Rule
	policies []*policy
	synth    []*event.Event // the current event's synthetic events (feed)

	exceptions *exception.Set
	excepted   []int // alerts removed, by exception
	prefilters []int // stateful rules an exception is compiled into, by exception
	terms      *history.Store
	// procs remembers the execs read (per host, bounded) so an alert names
	// its culprit's ancestors; nil: no ancestors.
	procs *process.Lineage

	gen, hitGen uint64 // Match calls; the call hits were computed for
	hitEv       *event.Event
	hits        []bool
}

// level is the engine of one level of chained correlations.
type level struct {
	eng *engine.Engine
	ids []int // by program id: the index in Engine.rules
}

// CompileOptions tune how rules run.
type CompileOptions struct {
	// StrictIndex makes a rule with index patterns (Elastic's index) see
	// only events whose source maps to one of them, as Kibana would; by
	// default every rule sees every event of its category.
	StrictIndex bool
	// Exceptions silence known-good activity (package exception).
	Exceptions []*exception.Exception
	// History remembers new_terms rules' terms; nil: a store in memory.
	History *history.Store
	// Suppression applies to every rule without its own.
	Suppression *rule.Suppression
	// Now decides which exceptions have expired; zero: the wall clock.
	Now time.Time
	// Processes bounds the process table that gives each alert its
	// culprit's ancestors (process.ancestors): 0 is
	// process.DefaultCapacity execs, negative keeps no table.
	Processes int
}

// Compile compiles rules into an engine; a rule the engine cannot run is
// returned as a refusal.
func Compile(rules []*rule.Rule) (*Engine, []rule.Refusal) {
	return CompileWith(rules, CompileOptions{})
}

// CompileWith is Compile with options.
func CompileWith(rules []*rule.Rule, opts CompileOptions) (*Engine, []rule.Refusal) {
	e := &Engine{eng: engine.New(), terms: opts.History}
	if opts.Processes >= 0 {
		e.procs = process.NewLineage(opts.Processes)
	}
	e.eng.StrictIndex = opts.StrictIndex
	if e.terms == nil {
		e.terms, _ = history.Open("", 0)
	}
	var refused []rule.Refusal
	set, errs := exception.Compile(opts.Exceptions)
	for _, err := range errs {
		refused = append(refused, rule.Refusal{Path: "exceptions", Err: err})
	}
	e.exceptions = set
	e.excepted = make([]int, len(set.List))
	e.prefilters = make([]int, len(set.List))
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	// Chained correlations go after the rules whose results they read,
	// one engine per level.
	rules = slices.Clone(rules)
	slices.SortStableFunc(rules, func(a, b *rule.Rule) int { return chainLevel(a) - chainLevel(b) })
	fed := map[string]bool{} // the chain keys of the rules compiled
	for _, r := range rules {
		if r.Query == nil {
			continue
		}
		eng, lv := e.eng, chainLevel(r)
		if lv > 0 {
			if missing := unfed(r, fed); missing != "" {
				refused = append(refused, rule.Refusal{Path: r.Path, Err: fmt.Errorf("chained correlation %q reads the correlation at %s, which did not compile", r.Name, missing), Rule: r})
				continue
			}
			for len(e.chain) < lv {
				l := &level{eng: engine.New()}
				l.eng.StrictIndex = opts.StrictIndex
				e.chain = append(e.chain, l)
			}
			eng = e.chain[lv-1].eng
		}
		q := withDefaultWindow(r.Query, r.Schedule.LookBack)
		p := &policy{rule: r, suppress: r.Suppression}
		if p.suppress == nil {
			p.suppress = opts.Suppression
		}
		app := applicable(set.List, r, now)
		if exception.Stateful(q) && len(app) > 0 {
			var xs []query.Expr
			for _, i := range app {
				xs = append(xs, set.List[i].Match)
			}
			q = exception.Exclude(q, query.Or{X: xs})
		} else {
			p.exc = app
		}
		if _, err := eng.Add(q); err != nil {
			refused = append(refused, rule.Refusal{Path: r.Path, Err: err, Rule: r})
			continue
		}
		if lv > 0 {
			e.chain[lv-1].ids = append(e.chain[lv-1].ids, len(e.rules))
		}
		if r.Chain != nil && r.Chain.Key != "" {
			fed[r.Chain.Key] = true
		}
		if p.exc == nil {
			for _, i := range app {
				e.prefilters[i]++
			}
		}
		e.rules = append(e.rules, r)
		e.policies = append(e.policies, p)
	}
	return e, refused
}

func chainLevel(r *rule.Rule) int {
	if r.Chain == nil {
		return 0
	}
	return r.Chain.Level
}

// unfed is the first chain key r reads that no compiled rule feeds.
func unfed(r *rule.Rule, fed map[string]bool) string {
	for _, k := range r.Chain.Reads {
		if !fed[k] {
			return k
		}
	}
	return ""
}

// withDefaultWindow gives an aggregation without a window of its own the
// rule's look-back (Elastic's from), as Kibana counts a threshold over it.
func withDefaultWindow(q *query.Query, lookBack time.Duration) *query.Query {
	for i, st := range q.Stages {
		if a, ok := st.(query.Aggregate); ok && a.Window == 0 && lookBack > 0 {
			c := *q
			c.Stages = slices.Clone(q.Stages)
			a.Window = lookBack
			c.Stages[i] = a
			return &c
		}
	}
	return q
}

// hitsOf reports which exceptions match ev, computed once per event.
func (e *Engine) hitsOf(ev *event.Event) []bool {
	if e.hitGen != e.gen || e.hitEv != ev {
		e.hits = e.exceptions.Hits(ev)
		e.hitGen, e.hitEv = e.gen, ev
	}
	return e.hits
}

// Rules are the rules compiled, in program order (chained correlations
// last, by level).
func (e *Engine) Rules() []*rule.Rule { return e.rules }

// StateOf is what rule's stateful stages hold and have shed (nil for a
// rule without state).
type StateOf struct {
	Rule  *rule.Rule
	Stats engine.StateStats
}

// Shed lists the stateful rules whose bounds bit: join keys evicted by
// the key cap, missing-event history forgotten. Each is a place where the
// rule may have missed a match, so the summary names them.
func (e *Engine) Shed() []StateOf {
	var out []StateOf
	e.programs(func(eng *engine.Engine, id, ri int) {
		if st := eng.State(id); st != nil && (st.Evicted > 0 || st.Forgotten > 0) {
			out = append(out, StateOf{Rule: e.rules[ri], Stats: *st})
		}
	})
	return out
}

// StateStats sums what the rules' stateful stages hold and have shed.
func (e *Engine) StateStats() engine.StateStats {
	var sum engine.StateStats
	e.programs(func(eng *engine.Engine, id, _ int) {
		if st := eng.State(id); st != nil {
			sum.Keys += st.Keys
			sum.PeakKeys += st.PeakKeys
			sum.Partials += st.Partials
			sum.Evicted += st.Evicted
			sum.Expired += st.Expired
			sum.Forgotten += st.Forgotten
			sum.Suppressed += st.Suppressed
		}
	})
	return sum
}

// programs calls fn with every program: its engine, its id there and its
// index in rules.
func (e *Engine) programs(fn func(eng *engine.Engine, id, ri int)) {
	// eng's programs are the first rules, their ids their indices.
	for ri := range len(e.rules) - e.chained() {
		fn(e.eng, ri, ri)
	}
	for _, l := range e.chain {
		for id, ri := range l.ids {
			fn(l.eng, id, ri)
		}
	}
}

// chained counts the programs of the chain's engines.
func (e *Engine) chained() int {
	n := 0
	for _, l := range e.chain {
		n += len(l.ids)
	}
	return n
}

// Fields lists every event field the compiled rules read.
func (e *Engine) Fields() []string {
	fs := e.eng.Fields()
	for _, l := range e.chain {
		for _, f := range l.eng.Fields() {
			if !slices.Contains(fs, f) {
				fs = append(fs, f)
			}
		}
	}
	if len(e.chain) > 0 {
		sort.Strings(fs)
	}
	return fs
}

// Match runs every rule over ev and calls fn with an alert for each match.
// Every event an alert (or the engine's state) holds is retained
// (event.Event.Retain), so a source may reuse the others.
//
// Chained correlations: each level's engine then matches the synthetic
// events the lower levels' correlations made of their results for this
// event (in the order made), then ev itself (see feed).
func (e *Engine) Match(ev *event.Event, fn func(*rule.Rule, *alert.Alert) error) error {
	var err error
	e.gen++
	if e.procs != nil {
		e.procs.Record(ev)
	}
	clear(e.synth)
	e.synth = e.synth[:0]
	e.eng.Match(ev, func(m *engine.Result) {
		if err == nil {
			err = e.alert(e.eng, m.ID, m.ID, m, ev, fn)
		}
	})
	if len(e.chain) == 0 {
		return err
	}
	// A source's event with the synthetic events' key field would pass
	// for one: the chain's engines do not read it (their detection-rule
	// inputs exclude such events anyway).
	raw := !ev.Has(sigma.ChainKeyField)
	for _, l := range e.chain {
		// Synthetic events made at this level go to the levels above.
		n := len(e.synth)
		for _, s := range e.synth[:n] {
			l.eng.Match(s, func(m *engine.Result) {
				if err == nil {
					err = e.alert(l.eng, m.ID, l.ids[m.ID], m, s, fn)
				}
			})
		}
		if raw {
			l.eng.Match(ev, func(m *engine.Result) {
				if err == nil {
					err = e.alert(l.eng, m.ID, l.ids[m.ID], m, ev, fn)
				}
			})
		}
	}
	return err
}

// Flush emits what the stateful rules held until the end of the input.
// (Aggregates emit nothing at the end, so no synthetic event is made
// then; a chain's engines are flushed in level order all the same.)
func (e *Engine) Flush(fn func(*rule.Rule, *alert.Alert) error) error {
	var err error
	e.synth = e.synth[:0]
	e.eng.Flush(func(m *engine.Result) {
		if err == nil {
			err = e.alert(e.eng, m.ID, m.ID, m, nil, fn)
		}
	})
	for _, l := range e.chain {
		n := len(e.synth)
		for _, s := range e.synth[:n] {
			l.eng.Match(s, func(m *engine.Result) {
				if err == nil {
					err = e.alert(l.eng, m.ID, l.ids[m.ID], m, s, fn)
				}
			})
		}
		l.eng.Flush(func(m *engine.Result) {
			if err == nil {
				err = e.alert(l.eng, m.ID, l.ids[m.ID], m, nil, fn)
			}
		})
	}
	return err
}

// feed makes a synthetic event of a result of correlation r, which a
// chained correlation reads: at the time of trigger (the event being
// matched; nil at the end of the input: the newest evidence event's), with
// r's group-by values under their names, its aggregates under
// sigma.ChainValuePrefix and their As names, and r's identity
// (sigma.ChainKeyField and the others). The event is hunt's own: the
// engines copy what they keep of it, and an alert that holds it retains
// it; it never goes back to a source's pool.
func (e *Engine) feed(r *rule.Rule, m *engine.Result, trigger *event.Event) {
	c := r.Chain
	s := event.New(len(m.Values) + 5)
	s.Format = sigma.ChainFormat
	if trigger == nil && len(m.Events) > 0 {
		trigger = m.Events[len(m.Events)-1]
	}
	if trigger != nil {
		s.Time, s.File, s.Line = trigger.Time, trigger.File, trigger.Line
	}
	for i, v := range m.Values {
		if i < len(m.Keys) {
			s.Set(v.Name, v.Value)
		} else {
			s.Set(sigma.ChainValuePrefix+v.Name, v.Value)
		}
	}
	s.SetStr(sigma.ChainKeyField, c.Key)
	for _, f := range []struct{ path, v string }{{sigma.ChainIDField, c.ID}, {sigma.ChainNameField, c.Name}, {sigma.ChainTitleField, c.Title}} {
		if f.v != "" {
			s.SetStr(f.path, f.v)
		}
	}
	e.synth = append(e.synth, s)
}

// alert handles result m of program id of eng, the rule at index ri,
// matched on trigger (nil in Flush).
func (e *Engine) alert(eng *engine.Engine, id, ri int, m *engine.Result, trigger *event.Event, fn func(*rule.Rule, *alert.Alert) error) error {
	r := e.rules[ri]
	if r.Chain != nil && r.Chain.Key != "" && len(e.chain) > 0 {
		e.feed(r, m, trigger)
	}
	if r.CorrelationOnly {
		// A Sigma rule that only feeds correlations (generate: false)
		// raises no alerts of its own; the correlations read its events.
		return nil
	}
	// A missing-event step of a sequence is a nil placeholder: the alert
	// lists the events that occurred.
	evs := make([]*event.Event, 0, len(m.Events))
	for _, ev := range m.Events {
		if ev != nil {
			evs = append(evs, ev)
		}
	}
	var why []string
	if len(evs) == 1 {
		why = eng.Explain(id, evs[0])
	}
	a := alert.New(r, evs, why)
	for _, v := range m.Values {
		a.Aggregate = append(a.Aggregate, alert.Value{Name: v.Name, Value: v.Value.Interface()})
	}
	if !e.policies[ri].admit(a, evs, e.hitsOf, e.terms, e.excepted) {
		return nil
	}
	// The alert holds its events past Match, and the sink may keep it:
	// the source must not reuse them.
	for _, ev := range evs {
		ev.Retain()
	}
	e.ancestors(a)
	return fn(r, a)
}

// ancestors fills the culprit's process tree from the execs read so far:
// the parent the event names (or the culprit's exec names), then its
// parent, and so on. When the table does not know the parent, the event's
// own parent fields stand for it; an older ancestor the table does not
// know ends the chain with its pid alone.
func (e *Engine) ancestors(a *alert.Alert) {
	p := a.Process
	if e.procs == nil || p == nil || p.PID <= 0 || len(a.Events) == 0 {
		return
	}
	var ppid int64
	if p.Parent != nil {
		ppid = p.Parent.PID
	}
	at := a.Events[0].Time
	if self := e.procs.Lookup(a.Host.Name, p.PID, at); self != nil && self.User != "" && (p.Executable == "" || p.Executable == self.Executable) {
		p.User = &alert.Named{Name: self.User}
	}
	chain, unknown := e.procs.Ancestors(a.Host.Name, p.PID, ppid, at)
	for _, q := range chain {
		anc := &alert.Process{PID: q.PID, Executable: q.Executable, Name: q.Name, CommandLine: q.CommandLine}
		if q.User != "" {
			anc.User = &alert.Named{Name: q.User}
		}
		p.Ancestors = append(p.Ancestors, anc)
	}
	switch {
	case len(p.Ancestors) == 0 && p.Parent != nil && p.Parent.PID > 0:
		pp := *p.Parent
		p.Ancestors = []*alert.Process{&pp}
	case unknown > 0:
		p.Ancestors = append(p.Ancestors, &alert.Process{PID: unknown})
	}
}

// ExceptionCount is what one exception did in a hunt.
type ExceptionCount struct {
	Exception *exception.Exception
	// Removed counts the alerts of single-event rules it dropped;
	// Prefilters counts the stateful rules it filters events for.
	Removed, Prefilters int
}

// Exceptions reports what each exception did.
func (e *Engine) Exceptions() []ExceptionCount {
	out := make([]ExceptionCount, len(e.exceptions.List))
	for i, x := range e.exceptions.List {
		out[i] = ExceptionCount{Exception: x, Removed: e.excepted[i], Prefilters: e.prefilters[i]}
	}
	return out
}

// Options configure a hunt.
type Options struct {
	Formats []source.Format
	Stdin   io.Reader
	Sink    alert.Sink
	// OnInput and Counter are passed to the source reader (progress).
	OnInput func(name string, size int64)
	Counter func(io.Reader) io.Reader
}

// Summary is what a hunt did.
type Summary struct {
	Sources *source.Result
	// Shed names the stateful rules whose memory bounds bit.
	Shed     []StateOf
	Events   int64
	Alerts   int
	PerRule  []RuleCount
	Duration time.Duration
	// Exceptions reports what each exception removed.
	Exceptions []ExceptionCount
	// Terms is what the new_terms history holds and has forgotten.
	Terms history.Stats
}

// RuleCount is the alerts one rule raised, and those its policy held back.
type RuleCount struct {
	Rule  *rule.Rule
	Count int
	Held  PolicyCounts
}

// Run reads paths, runs the engine over every event and writes alerts to
// the sink. It does not close the sink.
func Run(ctx context.Context, e *Engine, opts Options, paths []string) (*Summary, error) {
	start := time.Now()
	counts := map[*rule.Rule]int{}
	sum := &Summary{}
	// Events are reused unless retained: Match retains what alerts and
	// stateful rules hold.
	rd := &source.Reader{Formats: opts.Formats, Stdin: opts.Stdin, OnInput: opts.OnInput, Counter: opts.Counter, Reuse: true}
	emit := func(r *rule.Rule, a *alert.Alert) error {
		sum.Alerts++
		counts[r]++
		return opts.Sink.Write(a)
	}
	res, err := rd.Read(ctx, paths, func(ev *event.Event) error {
		sum.Events++
		return e.Match(ev, emit)
	})
	if err == nil {
		err = e.Flush(emit)
	}
	sum.Sources = res
	sum.Duration = time.Since(start)
	sum.Shed = e.Shed()
	for _, p := range e.policies {
		if n := counts[p.rule]; n > 0 || p.counts.any() {
			sum.PerRule = append(sum.PerRule, RuleCount{Rule: p.rule, Count: n, Held: p.counts})
		}
	}
	sum.Exceptions = e.Exceptions()
	sum.Terms = e.terms.Stats()
	sort.Slice(sum.PerRule, func(i, j int) bool {
		if sum.PerRule[i].Count != sum.PerRule[j].Count {
			return sum.PerRule[i].Count > sum.PerRule[j].Count
		}
		return sum.PerRule[i].Rule.Name < sum.PerRule[j].Rule.Name
	})
	return sum, err
}
