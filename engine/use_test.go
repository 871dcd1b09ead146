package engine

import (
	"testing"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/query"
)

// TestExplainOtherEventInsideMatch: explaining an earlier event from
// inside Match's callback (hunt does, for a sequence's held candidate)
// leaves Match's current event alone: the programs after it still see the
// current event, and the prefilter's marks still hold.
func TestExplainOtherEventInsideMatch(t *testing.T) {
	q := func(path, v string) *query.Query {
		return &query.Query{Stages: []query.Stage{query.Filter{Expr: query.Named{Name: "sel", X: query.Match{Field: f(path), Op: query.Equal, Values: []string{v}}}}}}
	}
	for _, noPF := range []bool{false, true} {
		e := New()
		e.NoPrefilter = noPF
		first, _ := e.Add(q("process.name", "iptables"))
		second, _ := e.Add(q("process.args", "-F"))
		earlier := event.New(2)
		earlier.SetStr("process.name", "bash")
		cur := testEvent()
		cur.Set("process.args", event.Strs("iptables", "-F"))
		got := map[int]bool{}
		e.Match(cur, func(r *Result) {
			got[r.ID] = true
			if r.ID == first {
				if names := e.Explain(first, earlier); len(names) != 0 {
					t.Errorf("explaining an event that does not match: %v", names)
				}
				if names := e.Explain(first, cur); len(names) != 1 {
					t.Errorf("explaining the current event after another: %v", names)
				}
			}
		})
		if !got[first] || !got[second] {
			t.Errorf("prefilter off=%v: matches %v, want programs %d and %d", noPF, got, first, second)
		}
	}
}
