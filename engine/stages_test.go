package engine

import (
	"testing"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/query"
)

// Assign and Extract set fields of the program's own: later stages of the
// program read them, other programs and earlier stages do not.
func TestAssignExtractLocal(t *testing.T) {
	e := New()
	lit := func(s string) query.Expr { return query.Lit{V: event.Str(s)} }
	q1 := &query.Query{Stages: []query.Stage{
		query.Filter{Expr: query.Match{Field: f("process.name"), Op: query.Equal, Values: []string{"iptables"}}},
		query.Extract{Field: "process.command_line", Regex: `-(?P<flag>[A-Z]) (?P<pname>\w+)`},
		query.Assign{Field: "process.name", Value: f("pname")},
		query.Filter{Expr: query.Match{Field: f("flag"), Op: query.Equal, Values: []string{"F"}}},
		query.Filter{Expr: query.Match{Field: f("process.name"), Op: query.Equal, Values: []string{"INPUT"}}},
		query.Assign{Field: "x", Value: query.Call{Name: "if", Args: []query.Expr{
			query.Match{Field: f("flag"), Op: query.Equal, Values: []string{"F"}}, lit("flush"), lit("other")}}},
		query.Assign{Field: "x", Value: query.Call{Name: "mvappend", Args: []query.Expr{f("x"), lit("more")}}},
		query.Filter{Expr: query.Match{Field: f("x"), Op: query.Equal, Values: []string{"flush"}}},
		query.Filter{Expr: query.Match{Field: f("x"), Op: query.Equal, Values: []string{"more"}}},
		query.Filter{Expr: query.Match{Field: query.Call{Name: "regexreplace", Args: []query.Expr{f("x"), lit(`(l)(u)`), lit(`\2\1`)}}, Op: query.Equal, Values: []string{"fulsh"}}},
	}}
	q2 := &query.Query{Stages: []query.Stage{
		query.Filter{Expr: query.Match{Field: f("process.name"), Op: query.Equal, Values: []string{"iptables"}}},
		query.Filter{Expr: query.Not{X: query.Exists{Path: "flag"}}},
	}}
	for _, q := range []*query.Query{q1, q2} {
		if _, err := e.Add(q); err != nil {
			t.Fatal(err)
		}
	}
	var got []int
	ev := testEvent()
	e.Match(ev, func(r *Result) { got = append(got, r.ID) })
	if len(got) != 2 {
		t.Fatalf("matched %v, want both programs", got)
	}
	if ev.Has("flag") || ev.Get("process.name").Str != "iptables" {
		t.Fatal("the event was written")
	}
	// No match: the capture keeps its earlier value (the event's field).
	e2 := New()
	if _, err := e2.Add(&query.Query{Stages: []query.Stage{
		query.Extract{Field: "process.command_line", Regex: `nomatch (?P<process>\w+)`},
		query.Filter{Expr: query.Match{Field: f("process"), Op: query.Equal, Values: []string{"iptables"}}},
	}}); err != nil {
		t.Fatal(err)
	}
	n := 0
	ev = testEvent()
	ev.SetStr("process", "iptables")
	e2.Match(ev, func(*Result) { n++ })
	if n != 1 {
		t.Fatal("a non-matching extract changed the field")
	}
}
