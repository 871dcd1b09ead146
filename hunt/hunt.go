// Package hunt runs rules over telemetry files: it wires sources, the
// engine and alert sinks together for `firewarden hunt`.
package hunt

import (
	"context"
	"io"
	"slices"
	"sort"
	"time"

	"github.com/firewarden/firewarden/alert"
	"github.com/firewarden/firewarden/engine"
	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/exception"
	"github.com/firewarden/firewarden/history"
	"github.com/firewarden/firewarden/query"
	"github.com/firewarden/firewarden/rule"
	"github.com/firewarden/firewarden/source"
)

// Engine is a set of rules compiled into one engine, with what happens to
// their alerts on the way out (exceptions, new terms, suppression,
// deduplication, rate limits: see policy).
type Engine struct {
	eng      *engine.Engine
	rules    []*rule.Rule // by program id
	policies []*policy    // by program id

	exceptions *exception.Set
	excepted   []int // alerts removed, by exception
	prefilters []int // stateful rules an exception is compiled into, by exception
	terms      *history.Store

	gen, hitGen uint64 // Match calls; the call hits were computed for
	hits        []bool
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
}

// Compile compiles rules into an engine; a rule the engine cannot run is
// returned as a refusal.
func Compile(rules []*rule.Rule) (*Engine, []rule.Refusal) {
	return CompileWith(rules, CompileOptions{})
}

// CompileWith is Compile with options.
func CompileWith(rules []*rule.Rule, opts CompileOptions) (*Engine, []rule.Refusal) {
	e := &Engine{eng: engine.New(), terms: opts.History}
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
	for _, r := range rules {
		if r.Query == nil {
			continue
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
		if _, err := e.eng.Add(q); err != nil {
			refused = append(refused, rule.Refusal{Path: r.Path, Err: err, Rule: r})
			continue
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
	if e.hitGen != e.gen {
		e.hits = e.exceptions.Hits(ev)
		e.hitGen = e.gen
	}
	return e.hits
}

// Rules are the rules compiled, in program order.
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
	for id, r := range e.rules {
		if st := e.eng.State(id); st != nil && (st.Evicted > 0 || st.Forgotten > 0) {
			out = append(out, StateOf{Rule: r, Stats: *st})
		}
	}
	return out
}

// StateStats sums what the rules' stateful stages hold and have shed.
func (e *Engine) StateStats() engine.StateStats {
	var sum engine.StateStats
	for id := range e.rules {
		if st := e.eng.State(id); st != nil {
			sum.Keys += st.Keys
			sum.PeakKeys += st.PeakKeys
			sum.Partials += st.Partials
			sum.Evicted += st.Evicted
			sum.Expired += st.Expired
			sum.Forgotten += st.Forgotten
			sum.Suppressed += st.Suppressed
		}
	}
	return sum
}

// Fields lists every event field the compiled rules read.
func (e *Engine) Fields() []string { return e.eng.Fields() }

// Match runs every rule over ev and calls fn with an alert for each match.
// Every event an alert (or the engine's state) holds is retained
// (event.Event.Retain), so a source may reuse the others.
func (e *Engine) Match(ev *event.Event, fn func(*rule.Rule, *alert.Alert) error) error {
	var err error
	e.gen++
	e.eng.Match(ev, func(m *engine.Result) {
		if err == nil {
			err = e.alert(m, fn)
		}
	})
	return err
}

// Flush emits what the stateful rules held until the end of the input.
func (e *Engine) Flush(fn func(*rule.Rule, *alert.Alert) error) error {
	var err error
	e.eng.Flush(func(m *engine.Result) {
		if err == nil {
			err = e.alert(m, fn)
		}
	})
	return err
}

func (e *Engine) alert(m *engine.Result, fn func(*rule.Rule, *alert.Alert) error) error {
	r := e.rules[m.ID]
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
		why = e.eng.Explain(m.ID, evs[0])
	}
	a := alert.New(r, evs, why)
	for _, v := range m.Values {
		a.Aggregate = append(a.Aggregate, alert.Value{Name: v.Name, Value: v.Value.Interface()})
	}
	if !e.policies[m.ID].admit(a, evs, e.hitsOf, e.terms, e.excepted) {
		return nil
	}
	// The alert holds its events past Match, and the sink may keep it:
	// the source must not reuse them.
	for _, ev := range evs {
		ev.Retain()
	}
	return fn(r, a)
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
