package engine

import (
	"strings"

	"github.com/firewarden/firewarden/query"
)

// The prefilter skips most rules for most events without evaluating them.
// For each program it derives literals at least one of which must occur
// (lower-cased) in a given field for the program to possibly match — a
// necessary condition, never a sufficient one, so it cannot lose a match.
// Per event, one Aho-Corasick pass per field over the lower-cased text finds
// which literals occur, and only programs with a literal present (or with no
// derivable literal at all) are evaluated.

type lit struct {
	slot int
	text string // lower-cased
}

// required returns literals one of which must be present for x to be true;
// ok is false when no such set can be derived.
func required(c *compiler, x query.Expr) (lits []lit, ok bool) {
	switch x := x.(type) {
	case query.Named:
		return required(c, x.X)
	case query.And:
		best, found := []lit(nil), false
		for _, y := range x.X {
			ls, ok := required(c, y)
			if !ok {
				continue
			}
			if !found || better(c, ls, best) {
				best, found = ls, true
			}
		}
		return best, found
	case query.Or:
		var all []lit
		for _, y := range x.X {
			ls, ok := required(c, y)
			if !ok {
				return nil, false
			}
			all = append(all, ls...)
		}
		return all, true
	case query.Const:
		if !x.V {
			return nil, true // never true: no literal can admit it
		}
	case query.Match:
		f, isField := x.Field.(query.Field)
		if !isField {
			return nil, false
		}
		slot := c.e.slot(f.Path)
		var out []lit
		for _, v := range x.Values {
			s, ok := literalOf(x.Op, v)
			if !ok {
				if x.All {
					continue // another value of an AND may give one
				}
				return nil, false
			}
			if x.All {
				// Every value must match: any one is necessary; keep the longest.
				if len(out) == 0 || len(s) > len(out[0].text) {
					out = []lit{{slot, s}}
				}
				continue
			}
			out = append(out, lit{slot, s})
		}
		if len(out) == 0 {
			return nil, false
		}
		return out, true
	}
	return nil, false
}

// stepLiterals is what a stateful program requires of an event to do
// anything with it: the union of the literals required by each step of its
// sequence (until and missing steps included) or sample. ok is false when
// a step has no derivable set, or the program has no such stage.
func stepLiterals(c *compiler, stages []query.Stage) (lits []lit, ok bool) {
	var xs []query.Expr
	for _, st := range stages {
		switch st := st.(type) {
		case query.Sequence:
			for _, s := range st.Steps {
				xs = append(xs, s.Filter)
			}
			if st.Until != nil {
				xs = append(xs, st.Until)
			}
		case query.Sample:
			for _, s := range st.Steps {
				xs = append(xs, s.Filter)
			}
		case query.Filter, query.Limit:
		default:
			return nil, false
		}
	}
	if len(xs) == 0 {
		return nil, false
	}
	for _, x := range xs {
		ls, ok := required(c, x)
		if !ok {
			return nil, false
		}
		lits = append(lits, ls...)
	}
	return lits, true
}

// literalOf is the lower-cased text a value of op must contain.
func literalOf(op query.MatchOp, v string) (string, bool) {
	var s string
	switch op {
	case query.Equal, query.Contains, query.Prefix, query.Suffix, query.Term:
		s = v
	case query.Glob:
		s = longestLiteral(v)
	default:
		return "", false
	}
	if len(s) < 2 {
		// One-byte literals admit nearly every event: not worth a pattern.
		return "", false
	}
	return lower(s), true
}

// longestLiteral is the longest run of a glob pattern free of wildcards.
func longestLiteral(pattern string) string {
	var best, cur strings.Builder
	flush := func() {
		if cur.Len() > best.Len() {
			best.Reset()
			best.WriteString(cur.String())
		}
		cur.Reset()
	}
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case c == '\\' && i+1 < len(pattern):
			i++
			cur.WriteByte(pattern[i])
		case c == '*' || c == '?':
			flush()
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	return best.String()
}

// better prefers the alternative set an event is less likely to contain:
// short literals occur often, so each literal costs 1/len², and a literal
// of a categorisation field costs as much as one byte.
func better(c *compiler, a, b []lit) bool { return cost(c, a) < cost(c, b) }

func cost(c *compiler, ls []lit) float64 {
	t := 0.0
	for _, l := range ls {
		n := float64(len(l.text))
		if commonFields[c.e.paths[l.slot]] {
			n = 1
		}
		t += 1 / (n * n)
	}
	return t
}

// commonFields take one of a handful of values in every event of a source
// (ECS categorisation fields and the like): a literal there, however long,
// admits most events (host.os.type == "linux", event.type == "start"), so
// the prefilter prefers any other literal a query requires.
var commonFields = map[string]bool{
	"event.category": true, "event.type": true, "event.action": true, "event.kind": true,
	"event.outcome": true, "event.module": true, "event.dataset": true, "event.provider": true,
	"data_stream.dataset": true, "data_stream.type": true, "data_stream.namespace": true,
	"host.os.type": true, "host.os.family": true, "host.os.platform": true, "host.os.name": true,
	"agent.type": true, "ecs.version": true, "network.direction": true, "network.transport": true,
	"network.type": true, "network.protocol": true,
}

// prefilter is built from every program's literals.
type prefilter struct {
	fields []pfField
	// always lists programs with no literal requirement.
	always []bool
}

type pfField struct {
	slot   int
	ac     *acAutomaton
	progs  [][]int // pattern index → programs it admits
	guards [][]int // pattern index → guards it opens
}

func buildPrefilter(e *Engine) *prefilter {
	pf := &prefilter{always: make([]bool, len(e.progs))}
	type key struct {
		slot int
		text string
	}
	bySlot := map[int][]string{}
	progsOf := map[key][]int{}
	guardsOf := map[key][]int{}
	for g, ls := range e.guards {
		for _, l := range ls {
			k := key(l)
			_, seen := progsOf[k]
			if _, gseen := guardsOf[k]; !seen && !gseen {
				bySlot[l.slot] = append(bySlot[l.slot], l.text)
			}
			gs := guardsOf[k]
			if len(gs) == 0 || gs[len(gs)-1] != g {
				guardsOf[k] = append(gs, g)
			}
		}
	}
	for _, p := range e.progs {
		if !p.hasReq {
			pf.always[p.ID] = true
			continue
		}
		for _, l := range p.req {
			k := key(l)
			_, seen := progsOf[k]
			if _, gseen := guardsOf[k]; !seen && !gseen {
				bySlot[l.slot] = append(bySlot[l.slot], l.text)
			}
			ps := progsOf[k]
			if len(ps) == 0 || ps[len(ps)-1] != p.ID {
				progsOf[k] = append(ps, p.ID)
			}
		}
	}
	for slot, pats := range bySlot {
		f := pfField{slot: slot, ac: newAutomaton(pats), progs: make([][]int, len(pats)), guards: make([][]int, len(pats))}
		for i, p := range pats {
			f.progs[i] = progsOf[key{slot, p}]
			f.guards[i] = guardsOf[key{slot, p}]
		}
		pf.fields = append(pf.fields, f)
	}
	return pf
}

// mark sets cand[id] = gen for every program admitted by the event, and
// open[g] = gen for every guard it opens.
func (pf *prefilter) mark(c *ctx, cand, open []uint64) {
	gen := c.gen
	for i := range pf.fields {
		f := &pf.fields[i]
		progs, guards := f.progs, f.guards
		for _, t := range c.texts(f.slot, true) {
			f.ac.scan(t, func(p int32) {
				for _, id := range progs[p] {
					cand[id] = gen
				}
				for _, g := range guards[p] {
					open[g] = gen
				}
			})
		}
	}
	c.pfgen = gen
}

// guard wraps p, which compiles x, in a test of the literals x requires:
// for an event the prefilter has marked, p runs only when one of them
// occurs. Wherever p is used its result is the same, since the literals
// are a necessary condition of x. Without a derivable set p is returned
// as it is.
func (c *compiler) guard(x query.Expr, p pred) pred {
	ls, ok := required(c, x)
	if !ok {
		return p
	}
	g := len(c.e.guards)
	c.e.guards = append(c.e.guards, ls)
	return func(k *ctx) bool {
		if k.pfgen == k.gen && k.e.open[g] != k.gen {
			return false
		}
		return p(k)
	}
}

// PrefilterStats says how many programs the prefilter can skip (those with
// required literals) and how many it must always run.
func (e *Engine) PrefilterStats() (indexed, always int) {
	for _, p := range e.progs {
		if p.hasReq {
			indexed++
		} else {
			always++
		}
	}
	return indexed, always
}
