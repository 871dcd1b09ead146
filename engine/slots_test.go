package engine

import (
	"testing"

	"github.com/firewarden/firewarden/query"
)

// TestSlotsAfterAdd: a path the engine has seen in an event before any
// program read it gets a slot when a program added later reads it.
func TestSlotsAfterAdd(t *testing.T) {
	e := New()
	ev := testEvent()
	q := func(path, v string) *query.Query {
		return &query.Query{Stages: []query.Stage{query.Filter{Expr: query.Match{Field: f(path), Op: query.Equal, Values: []string{v}}}}}
	}
	if _, err := e.Add(q("process.name", "iptables")); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		n := 0
		e.Match(ev, func(*Result) { n++ })
		if n != 1 {
			t.Fatalf("%d matches, want 1", n)
		}
	}
	id, err := e.Add(q("source.ip", "10.1.2.3"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[int]bool{}
	e.Match(ev, func(r *Result) { got[r.ID] = true })
	if !got[id] || !e.MatchOne(id, ev) {
		t.Errorf("the program added later does not see source.ip: %v", got)
	}
	other := testEvent()
	other.SetStr("source.ip", "10.9.9.9")
	if e.MatchOne(id, other) {
		t.Error("MatchOne on another event kept the loaded slots")
	}
}
