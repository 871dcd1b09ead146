package rule

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/firewarden/firewarden/lang/sigma"
	"github.com/firewarden/firewarden/query"
)

// entry is one rule as loaded: the rule (nil for a Sigma filter) and,
// for Sigma, the parsed document it came from.
type entry struct {
	rule *Rule
	doc  *sigma.Rule
}

// link resolves the references of Sigma filter and correlation rules over
// the whole set and rebuilds Rules and Refused from what was loaded. It
// can run again after Add: it starts from the rules as read each time.
//
//   - A reference is a rule's id or its name. A rule of the referencing
//     document's own file wins; otherwise the reference must name exactly
//     one loaded rule.
//   - A filter is ANDed onto each rule it names whose log source it
//     covers (rules: any: every rule it covers). A filter that names a
//     missing rule, a correlation or a rule it does not cover is refused
//     for that rule, which then runs unfiltered.
//   - A correlation compiles over the referenced rules as filtered. A
//     missing, refused or ambiguous reference refuses the correlation.
//   - A correlation may reference correlations (a chain): it compiles
//     after them, reads their results (Chain.Key marks the inner ones)
//     and sits one Chain.Level above the highest. A cycle, a chain deeper
//     than sigma.MaxChain or a refused inner correlation refuses it.
//   - A correlation that compiled with generate: false (the default)
//     marks its referenced rules (correlations too) CorrelationOnly.
func (s *Set) link() {
	s.Rules = nil
	s.Refused = slices.Clone(s.loadRefused)
	byRef := map[string][]int{}
	for i, e := range s.loaded {
		if e.doc == nil {
			continue
		}
		if e.rule != nil {
			e.rule.Query, e.rule.CorrelationOnly, e.rule.Filters, e.rule.Chain = e.doc.Query, false, nil, nil
		}
		if e.doc.Filter != nil {
			continue
		}
		for _, k := range []string{e.doc.ID, e.doc.Name} {
			if k != "" && !slices.Contains(byRef[k], i) {
				byRef[k] = append(byRef[k], i)
			}
		}
	}
	resolve := func(from *sigma.Rule, ref sigma.Ref, what string) (int, error) {
		cands := byRef[ref.Text]
		if len(cands) > 1 {
			var local []int
			for _, i := range cands {
				if s.loaded[i].doc.Path == from.Path {
					local = append(local, i)
				}
			}
			if len(local) > 0 {
				cands = local
			}
		}
		switch len(cands) {
		case 1:
			return cands[0], nil
		case 0:
			if r, ok := s.refusedRefs[ref.Text]; ok {
				return 0, query.Errorf(ref.Pos, "%s references %q, a rule that was refused: %v", what, ref.Text, r.Err)
			}
			return 0, query.Errorf(ref.Pos, "%s references %q, expected the id or name of a loaded Sigma rule", what, ref.Text)
		}
		var paths []string
		for _, i := range cands {
			paths = append(paths, s.loaded[i].doc.Path)
		}
		return 0, query.Errorf(ref.Pos, "%s references %q, which names %d rules (%s), expected one", what, ref.Text, len(cands), strings.Join(paths, ", "))
	}

	// Filters, in load order.
	for _, f := range s.loaded {
		if f.doc == nil || f.doc.Filter == nil {
			continue
		}
		refuse := func(err error) {
			s.Refused = append(s.Refused, Refusal{Path: f.doc.Path, Err: err})
		}
		var targets []int
		if f.doc.Filter.Any {
			for i, e := range s.loaded {
				if e.doc != nil && e.doc.Kind() == "rule" && f.doc.Covers(e.doc) {
					targets = append(targets, i)
				}
			}
		}
		for _, ref := range f.doc.Filter.Rules {
			i, err := resolve(f.doc, ref, fmt.Sprintf("filter %q", f.doc.Title))
			if err != nil {
				refuse(err)
				continue
			}
			t := s.loaded[i].doc
			switch {
			case t.Kind() != "rule":
				refuse(query.Errorf(ref.Pos, "filter %q references %q, the correlation %q, expected a detection rule (filters tune single rules)", f.doc.Title, ref.Text, t.Title))
			case !f.doc.Covers(t):
				refuse(query.Errorf(ref.Pos, "filter %q references %q (%s), whose log source %s the filter's %s does not cover, expected a rule of the filter's log source", f.doc.Title, ref.Text, t.Title, logSourceText(t.LogSource), logSourceText(f.doc.LogSource)))
			case !slices.Contains(targets, i):
				targets = append(targets, i)
			}
		}
		for _, i := range targets {
			t := s.loaded[i]
			q, err := sigma.ApplyFilter(f.doc, t.doc, t.rule.Query)
			if err != nil {
				refuse(fmt.Errorf("filter %q on rule %q: %w", f.doc.Title, t.doc.Title, err))
				continue
			}
			t.rule.Query = q
			t.rule.Filters = append(t.rule.Filters, f.doc.Title)
		}
	}

	// Correlations, each after the correlations it references (a chain):
	// depth first in load order. A cycle, a chain deeper than
	// sigma.MaxChain or a refused inner correlation refuses the outer one.
	refused := map[*Rule]bool{}
	var feeds [][]int // per compiled correlation without generate: its inputs
	const (
		unseen = iota
		visiting
		done
	)
	state := make([]uint8, len(s.loaded))
	failed := make([]error, len(s.loaded))
	level := make([]int, len(s.loaded))
	var stack []int
	var visit func(ci int)
	visit = func(ci int) {
		c := s.loaded[ci]
		state[ci] = visiting
		stack = append(stack, ci)
		what := fmt.Sprintf("correlation %q", c.doc.Title)
		var refs []sigma.Resolved
		var idx []int
		var err error
		lvl := 0
		for _, ref := range c.doc.Correlation.Rules {
			var i int
			if i, err = resolve(c.doc, ref, what); err != nil {
				break
			}
			if t := s.loaded[i]; t.doc.Correlation != nil {
				switch state[i] {
				case visiting:
					err = query.Errorf(ref.Pos, "%s references %q, which leads back to it (%s), expected a chain of correlations without a cycle", what, ref.Text, cycleText(s, stack, i))
				case unseen:
					visit(i)
				}
				if err != nil {
					break
				}
				if failed[i] != nil {
					err = query.Errorf(ref.Pos, "%s references %q, the correlation %q, which was refused: %v", what, ref.Text, t.doc.Title, failed[i])
					break
				}
				lvl = max(lvl, level[i]+1)
			}
			refs = append(refs, sigma.Resolved{Rule: s.loaded[i].doc, Query: s.loaded[i].rule.Query})
			idx = append(idx, i)
		}
		if err == nil && lvl > sigma.MaxChain {
			err = &query.Unsupported{Pos: c.doc.Correlation.Pos, Construct: fmt.Sprintf("a chain of %d correlations", lvl+1), Why: fmt.Sprintf("firewarden chains at most %d correlations", sigma.MaxChain+1)}
		}
		var q *query.Query
		if err == nil {
			q, err = sigma.CompileCorrelation(c.doc, refs)
		}
		stack = stack[:len(stack)-1]
		state[ci] = done
		if err != nil {
			failed[ci] = err
			refused[c.rule] = true
			s.Refused = append(s.Refused, Refusal{Path: c.doc.Path, Err: err, Rule: c.rule})
			return
		}
		level[ci] = lvl
		c.rule.Query = q
		c.rule.Type = c.doc.Correlation.Type
		var ls []string
		if lvl > 0 {
			chainOf(c).Level = lvl
		}
		for _, i := range idx {
			if l := s.loaded[i].rule.LogSource; l != "" && !slices.Contains(ls, l) {
				ls = append(ls, l)
			}
			if t := s.loaded[i]; t.doc.Correlation != nil {
				key := sigma.ChainKey(t.doc)
				chainOf(t).Key = key
				c.rule.Chain.Reads = append(c.rule.Chain.Reads, key)
			}
		}
		c.rule.LogSource = strings.Join(ls, ", ")
		if !c.doc.Correlation.Generate {
			feeds = append(feeds, idx)
		}
	}
	for ci, c := range s.loaded {
		if c.doc != nil && c.doc.Correlation != nil && state[ci] == unseen {
			visit(ci)
		}
	}
	for _, idx := range feeds {
		for _, i := range idx {
			s.loaded[i].rule.CorrelationOnly = true
		}
	}
	for _, e := range s.loaded {
		if e.rule != nil && !refused[e.rule] {
			s.Rules = append(s.Rules, e.rule)
		}
	}
}

// chainOf is e's Chain, made on first use.
func chainOf(e entry) *Chain {
	if e.rule.Chain == nil {
		e.rule.Chain = &Chain{ID: e.doc.ID, Name: e.doc.Name, Title: e.doc.Title}
	}
	return e.rule.Chain
}

// cycleText names the correlations of a cycle: those on the stack from
// the one at loaded index back, and back again.
func cycleText(s *Set, stack []int, back int) string {
	var names []string
	on := false
	for _, i := range stack {
		on = on || i == back
		if on {
			names = append(names, strconv.Quote(s.loaded[i].doc.Title))
		}
	}
	names = append(names, strconv.Quote(s.loaded[back].doc.Title))
	return strings.Join(names, " → ")
}

func logSourceText(ls sigma.LogSource) string {
	var parts []string
	for _, p := range []string{ls.Product, ls.Category, ls.Service} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return "(any)"
	}
	return strings.Join(parts, "/")
}
