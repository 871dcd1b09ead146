// Package exception holds rule exceptions: known-good activity a user
// silences without editing the rules. Two kinds are read:
//
//   - Elastic exception lists as Kibana exports them (NDJSON: the list,
//     then its items). Each item is one exception; its entries are ANDed
//     (is, is not, is one of, is not one of, exists, does not exist,
//     matches, does not match, nested); items are ORed. A rule applies the
//     lists its exceptions_list names, or those a user attaches.
//   - firewarden exceptions files (YAML), where an exclusion is written in
//     any rule language firewarden reads (EQL, a Sigma detection, or
//     Elastic's entries) for one or more rules, a tag, or all rules.
//
// An exception is a predicate over one event. For a single-event rule an
// alert whose event it matches is dropped (and counted); for a sequence,
// sample or aggregate it filters events before they reach the rule's
// state, as Kibana adds exceptions to a rule's request filter.
package exception

import (
	"slices"
	"strings"
	"time"

	"github.com/firewarden/firewarden/query"
)

// Exception is one exclusion.
type Exception struct {
	Name        string
	Description string
	Pos         query.Pos // where it is written
	// What it applies to: rules by id or name, rules carrying a tag, every
	// rule, or (Elastic lists) the rules whose exceptions_list names ListID.
	Rules  []string
	Tags   []string
	All    bool
	ListID string
	// Expires: after this time (wall clock) the exception no longer
	// applies, as Kibana ignores expired items. Zero: never.
	Expires time.Time
	// Match is true for the events the exception silences.
	Match query.Expr
}

// AppliesTo reports whether x silences the rule with this id, name, tags
// and exception lists at time now.
func (x *Exception) AppliesTo(id, name string, tags, lists []string, now time.Time) bool {
	if !x.Expires.IsZero() && now.After(x.Expires) {
		return false
	}
	switch {
	case x.All:
		return true
	case x.ListID != "":
		return slices.Contains(lists, x.ListID)
	}
	for _, r := range x.Rules {
		if r == id || r == name {
			return true
		}
	}
	for _, t := range x.Tags {
		for _, rt := range tags {
			if strings.EqualFold(t, rt) {
				return true
			}
		}
	}
	return false
}

// Predicate turns a single-event query (its scope and filters) into one
// expression. Stateful stages are refused: an exception tests one event.
func Predicate(q *query.Query, at query.Pos) (query.Expr, error) {
	var xs []query.Expr
	if q.Scope != nil {
		xs = append(xs, q.Scope)
	}
	for _, st := range q.Stages {
		f, ok := st.(query.Filter)
		if !ok {
			return nil, &query.Unsupported{Pos: at, Construct: "a stateful query in an exception", Why: "an exception tests one event at a time"}
		}
		xs = append(xs, f.Expr)
	}
	switch len(xs) {
	case 0:
		return query.Const{V: true}, nil
	case 1:
		return xs[0], nil
	}
	return query.And{X: xs}, nil
}

// Exclude returns a copy of q whose stateful stage sees no event matching
// x: every sequence or sample step, until, and aggregate input is ANDed
// with not x (a Filter stage in front of a stage without inputs). Single-
// event queries are returned unchanged: their alerts are checked instead,
// so each exception's removals can be counted.
func Exclude(q *query.Query, x query.Expr) *query.Query {
	out := *q
	out.Stages = slices.Clone(q.Stages)
	not := query.Not{X: x}
	and := func(e query.Expr) query.Expr {
		if e == nil {
			return not
		}
		return query.And{X: []query.Expr{e, not}}
	}
	steps := func(ss []query.Step) []query.Step {
		ss = slices.Clone(ss)
		for i := range ss {
			ss[i].Filter = and(ss[i].Filter)
		}
		return ss
	}
	for i, st := range out.Stages {
		switch s := st.(type) {
		case query.Sequence:
			s.Steps = steps(s.Steps)
			if s.Until != nil {
				s.Until = and(s.Until)
			}
			out.Stages[i] = s
		case query.Sample:
			s.Steps = steps(s.Steps)
			out.Stages[i] = s
		case query.Aggregate:
			if len(s.Inputs) == 0 {
				out.Stages = slices.Insert(out.Stages, i, query.Stage(query.Filter{Expr: not}))
				return &out
			}
			s.Inputs = slices.Clone(s.Inputs)
			for j := range s.Inputs {
				s.Inputs[j].Filter = and(s.Inputs[j].Filter)
			}
			out.Stages[i] = s
		}
	}
	return &out
}

// Stateful reports whether q has a sequence, sample or aggregate stage.
func Stateful(q *query.Query) bool {
	for _, st := range q.Stages {
		switch st.(type) {
		case query.Sequence, query.Sample, query.Aggregate:
			return true
		}
	}
	return false
}
