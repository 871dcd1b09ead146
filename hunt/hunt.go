// Package hunt runs rules over telemetry files: it wires sources, the
// engine and alert sinks together for `firewarden hunt`.
package hunt

import (
	"context"
	"io"
	"sort"
	"time"

	"github.com/firewarden/firewarden/alert"
	"github.com/firewarden/firewarden/engine"
	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/rule"
	"github.com/firewarden/firewarden/source"
)

// Engine is a set of rules compiled into one engine.
type Engine struct {
	eng   *engine.Engine
	rules []*rule.Rule // by program id
}

// CompileOptions tune how rules run.
type CompileOptions struct {
	// StrictIndex makes a rule with index patterns (Elastic's index) see
	// only events whose source maps to one of them, as Kibana would; by
	// default every rule sees every event of its category.
	StrictIndex bool
}

// Compile compiles rules into an engine; a rule the engine cannot run is
// returned as a refusal.
func Compile(rules []*rule.Rule) (*Engine, []rule.Refusal) {
	return CompileWith(rules, CompileOptions{})
}

// CompileWith is Compile with options.
func CompileWith(rules []*rule.Rule, opts CompileOptions) (*Engine, []rule.Refusal) {
	e := &Engine{eng: engine.New()}
	e.eng.StrictIndex = opts.StrictIndex
	var refused []rule.Refusal
	for _, r := range rules {
		if r.Query == nil {
			continue
		}
		if _, err := e.eng.Add(r.Query); err != nil {
			refused = append(refused, rule.Refusal{Path: r.Path, Err: err, Rule: r})
			continue
		}
		e.rules = append(e.rules, r)
	}
	return e, refused
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
	// lists the events that occurred. The alert holds them past Match, and
	// the sink may keep it: the source must not reuse them.
	evs := make([]*event.Event, 0, len(m.Events))
	for _, ev := range m.Events {
		if ev != nil {
			ev.Retain()
			evs = append(evs, ev)
		}
	}
	var why []string
	if len(evs) == 1 {
		why = e.eng.Explain(m.ID, evs[0])
	}
	return fn(r, alert.New(r, evs, why))
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
}

// RuleCount is the alerts one rule raised.
type RuleCount struct {
	Rule  *rule.Rule
	Count int
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
	for r, n := range counts {
		sum.PerRule = append(sum.PerRule, RuleCount{Rule: r, Count: n})
	}
	sort.Slice(sum.PerRule, func(i, j int) bool {
		if sum.PerRule[i].Count != sum.PerRule[j].Count {
			return sum.PerRule[i].Count > sum.PerRule[j].Count
		}
		return sum.PerRule[i].Rule.Name < sum.PerRule[j].Rule.Name
	})
	return sum, err
}
