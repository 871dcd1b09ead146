package engine

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/query"
)

var aggT0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// aev makes an event at aggT0+at with fields given as path, value pairs
// (a string, an int, a float64, nil for null, or an event.Value).
func aev(at time.Duration, kv ...any) *event.Event {
	ev := event.New(len(kv) / 2)
	ev.Time = aggT0.Add(at)
	for i := 0; i < len(kv); i += 2 {
		p := kv[i].(string)
		switch v := kv[i+1].(type) {
		case string:
			ev.SetStr(p, v)
		case int:
			ev.Set(p, event.IntV(int64(v)))
		case float64:
			ev.Set(p, event.FloatV(v))
		case nil:
			ev.Set(p, event.NullV())
		case event.Value:
			ev.Set(p, v)
		}
	}
	return ev
}

func ilit(v int64) query.Lit { return query.Lit{V: event.IntV(v)} }

func ge(name string, n int64) query.Expr {
	return query.Compare{Op: query.Ge, L: f(name), R: ilit(n)}
}

// aggOut is a copy of one result.
type aggOut struct {
	keys   string
	vals   map[string]string
	events []*event.Event
}

func (o aggOut) String() string {
	var ks []string
	for k := range o.vals {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	var b strings.Builder
	b.WriteString(o.keys)
	for _, k := range ks {
		fmt.Fprintf(&b, " %s=%s", k, o.vals[k])
	}
	return b.String()
}

// runAgg runs one aggregation over evs; set, when given, adjusts the
// program before the first event.
func runAgg(t *testing.T, a query.Aggregate, evs []*event.Event, set func(e *Engine, id int)) ([]aggOut, *Engine, int) {
	t.Helper()
	e := New()
	id, err := e.Add(&query.Query{Stages: []query.Stage{a}})
	if err != nil {
		t.Fatal(err)
	}
	if set != nil {
		set(e, id)
	}
	var out []aggOut
	collect := func(r *Result) {
		o := aggOut{vals: map[string]string{}, events: slices.Clone(r.Events)}
		retain(o.events) // kept past the callback
		var ks []string
		for _, k := range r.Keys {
			ks = append(ks, k.String())
		}
		o.keys = strings.Join(ks, "|")
		for _, nv := range r.Values {
			o.vals[nv.Name] = nv.Value.String()
		}
		out = append(out, o)
	}
	for _, ev := range evs {
		e.Match(ev, collect)
	}
	return out, e, id
}

func strs(out []aggOut) []string {
	var s []string
	for _, o := range out {
		s = append(s, o.String())
	}
	return s
}

func TestAggregateFuncs(t *testing.T) {
	s := time.Second
	// Five events of one host; "n" counts them, so having n >= 5 fires on
	// the fifth, and the result shows every aggregate over all five.
	evs := []*event.Event{
		aev(1*s, "host", "h", "port", 22, "bytes", 10, "user", "root"),
		aev(2*s, "host", "h", "port", 80, "bytes", 30.5, "user", nil),
		aev(3*s, "host", "h", "port", 22, "bytes", "40", "user", "bob"),
		aev(4*s, "host", "h", "port", "443", "bytes", "n/a", "user", event.Strs("bob", "eve")),
		aev(5*s, "host", "h", "port", event.ListV(event.IntV(8080), event.NullV()), "bytes", event.ListV(event.IntV(1), event.IntV(100))),
	}
	tests := []struct {
		name string
		fn   query.AggFunc
		want string
	}{
		{"count", query.AggFunc{Name: "count", As: "x"}, "5"},
		{"count of a field skips null and absent", query.AggFunc{Name: "count", Field: f("user"), As: "x"}, "3"},
		{"distinct counts each value of a list, not null", query.AggFunc{Name: "distinct", Field: f("port"), As: "x"}, "4"},
		{"distinct of text and number alike", query.AggFunc{Name: "distinct", Field: f("user"), As: "x"}, "3"},
		{"values sorted by text", query.AggFunc{Name: "values", Field: f("port"), As: "x"}, "22 443 80 8080"},
		{"min ignores non-numbers", query.AggFunc{Name: "min", Field: f("bytes"), As: "x"}, "1"},
		{"max", query.AggFunc{Name: "max", Field: f("bytes"), As: "x"}, "100"},
		{"sum: numbers and numeric text", query.AggFunc{Name: "sum", Field: f("bytes"), As: "x"}, "181.5"},
		{"avg over the numeric values", query.AggFunc{Name: "avg", Field: f("bytes"), As: "x"}, "36.3"},
		{"percentile 50", query.AggFunc{Name: "percentile", Field: f("bytes"), As: "x", Arg: 50}, "30.5"},
		{"percentile 0", query.AggFunc{Name: "percentile", Field: f("bytes"), As: "x", Arg: 0}, "1"},
		{"percentile 100", query.AggFunc{Name: "percentile", Field: f("bytes"), As: "x", Arg: 100}, "100"},
		{"percentile 90 interpolates", query.AggFunc{Name: "percentile", Field: f("bytes"), As: "x", Arg: 90}, "76"},
		{"min of no numbers is null", query.AggFunc{Name: "min", Field: f("user"), As: "x"}, ""},
		{"avg of no numbers is null", query.AggFunc{Name: "avg", Field: f("user"), As: "x"}, ""},
		{"sum of no numbers is 0", query.AggFunc{Name: "sum", Field: f("user"), As: "x"}, "0"},
		{"inputs without inputs is 1", query.AggFunc{Name: "inputs", As: "x"}, "1"},
		{"names are case-insensitive", query.AggFunc{Name: "COUNT", As: "x"}, "5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := query.Aggregate{
				GroupBy: []query.Expr{f("host")}, Names: []string{"host"},
				Funcs:  []query.AggFunc{{Name: "count", As: "n"}, tc.fn},
				Having: ge("n", 5),
			}
			out, _, _ := runAgg(t, a, evs, nil)
			if len(out) != 1 {
				t.Fatalf("got %d results %q, want 1", len(out), strs(out))
			}
			if got := out[0].vals["x"]; got != tc.want {
				t.Errorf("x = %q, want %q", got, tc.want)
			}
			if out[0].vals["host"] != "h" || out[0].keys != "h" {
				t.Errorf("group values %q, keys %q", out[0].vals["host"], out[0].keys)
			}
		})
	}
}

func TestAggregateHaving(t *testing.T) {
	s := time.Second
	evs := []*event.Event{
		aev(1*s, "host", "a", "port", 1),
		aev(2*s, "host", "a", "port", 2),
		aev(3*s, "host", "b", "port", 1),
		aev(4*s, "host", "a", "port", 3),
		aev(5*s, "host", "a", "port", 3),
	}
	tests := []struct {
		name   string
		having query.Expr
		want   []string
	}{
		{"distinct >= 3 fires once, on the third port", ge("ports", 3), []string{"a host=a ports=3"}},
		{"having reads group names", query.And{X: []query.Expr{ge("ports", 1), query.Match{Field: f("host"), Op: query.Equal, Values: []string{"b"}}}}, []string{"b host=b ports=1"}},
		{"nil having: every event, its group afresh each time", nil, []string{"a host=a ports=1", "a host=a ports=1", "b host=b ports=1", "a host=a ports=1", "a host=a ports=1"}},
		{"never", ge("ports", 4), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := query.Aggregate{
				GroupBy: []query.Expr{f("host")}, Names: []string{"host"}, Window: time.Minute,
				Funcs:  []query.AggFunc{{Name: "distinct", Field: f("port"), As: "ports"}},
				Having: tc.having,
			}
			out, _, _ := runAgg(t, a, evs, nil)
			if got := strs(out); !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestAggregateReset: a group that fires starts afresh, so a burst of six
// raises two alerts at count >= 3, not four.
func TestAggregateReset(t *testing.T) {
	var evs []*event.Event
	for i := range 7 {
		evs = append(evs, aev(time.Duration(i)*time.Second, "host", "a", "i", i))
	}
	a := query.Aggregate{GroupBy: []query.Expr{f("host")}, Window: time.Minute, Funcs: []query.AggFunc{{Name: "count", As: "n"}}, Having: ge("n", 3)}
	out, e, id := runAgg(t, a, evs, nil)
	if len(out) != 2 {
		t.Fatalf("got %q, want two results", strs(out))
	}
	if got := [][]string{ids(out[0].events), ids(out[1].events)}; !slices.Equal(got[0], []string{"0", "1", "2"}) || !slices.Equal(got[1], []string{"3", "4", "5"}) {
		t.Errorf("results cover events %q, want 0-2 and 3-5", got)
	}
	if st := e.AggState(id); st.Fired != 2 || st.Values != 1 {
		t.Errorf("fired %d, values held %d; want 2, 1 (the seventh event's time)", st.Fired, st.Values)
	}
	if names := []string{"host", "n"}; len(out[0].vals) != 2 || out[0].vals[names[0]] != "a" {
		t.Errorf("the group-by name defaults to the field path: %v", out[0].vals)
	}
}

func TestAggregateWindow(t *testing.T) {
	w := 10 * time.Second
	tests := []struct {
		name string
		tol  time.Duration
		evs  []*event.Event
		want []string
		late int64
	}{
		{"exactly at the window edge: inside", 0, []*event.Event{aev(0, "h", "a"), aev(w, "h", "a")}, []string{"a n=2"}, 0},
		{"a nanosecond past the edge: outside", 0, []*event.Event{aev(0, "h", "a"), aev(w+1, "h", "a")}, nil, 0},
		{"late edge is inclusive too", 0, []*event.Event{aev(w, "h", "a"), aev(0, "h", "b"), aev(w, "h", "a")}, []string{"a n=2"}, 1},
		{"out of order within tolerance counts", 5 * time.Second, []*event.Event{aev(20*time.Second, "h", "a"), aev(16*time.Second, "h", "a")}, []string{"a n=2"}, 0},
		{"out of order at the tolerance counts", 5 * time.Second, []*event.Event{aev(20*time.Second, "h", "a"), aev(15*time.Second, "h", "a")}, []string{"a n=2"}, 0},
		{"out of order beyond tolerance is late", 5 * time.Second, []*event.Event{aev(20*time.Second, "h", "a"), aev(15*time.Second-1, "h", "a")}, nil, 1},
		{"newest of the program decides lateness", 5 * time.Second, []*event.Event{aev(0, "h", "a"), aev(30*time.Second, "h", "b"), aev(time.Second, "h", "a")}, nil, 1},
		{"in tolerance but outside its group's window: no effect", 30 * time.Second, []*event.Event{aev(20*time.Second, "h", "a"), aev(5*time.Second, "h", "a")}, nil, 0},
		{"expired state gone: a new burst starts afresh", 0, []*event.Event{aev(0, "h", "a"), aev(20*time.Second, "h", "a"), aev(25*time.Second, "h", "a")}, []string{"a n=2"}, 0},
		{"event without a time takes the newest", 0, []*event.Event{aev(0, "h", "a"), func() *event.Event { ev := aev(0, "h", "a"); ev.Time = time.Time{}; return ev }()}, []string{"a n=2"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := query.Aggregate{GroupBy: []query.Expr{f("h")}, Names: []string{"h"}, Window: w, Tolerance: tc.tol, Funcs: []query.AggFunc{{Name: "count", As: "n"}}, Having: ge("n", 2)}
			var out []aggOut
			var e *Engine
			var id int
			out, e, id = runAgg(t, a, tc.evs, nil)
			var got []string
			for _, o := range out {
				got = append(got, o.keys+" n="+o.vals["n"])
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if l := e.AggState(id).Late; l != tc.late {
				t.Errorf("late = %d, want %d", l, tc.late)
			}
		})
	}
}

// TestAggregateValueExpiry: distinct values expire with the window one by
// one, by the time each was last seen.
func TestAggregateValueExpiry(t *testing.T) {
	s := time.Second
	evs := []*event.Event{
		aev(0, "h", "a", "p", 1),
		aev(4*s, "h", "a", "p", 2),
		aev(8*s, "h", "a", "p", 1), // 1 seen again: lives until 18s
		aev(15*s, "h", "a", "p", 3),
		aev(18*s, "h", "a", "p", 4), // 2 (4s) expired; 1 (8s) still in
	}
	a := query.Aggregate{GroupBy: []query.Expr{f("h")}, Window: 10 * s, Funcs: []query.AggFunc{{Name: "distinct", Field: f("p"), As: "d"}, {Name: "values", Field: f("p"), As: "v"}, {Name: "sum", Field: f("p"), As: "s"}, {Name: "max", Field: f("p"), As: "m"}}, Having: ge("d", 3)}
	out, _, _ := runAgg(t, a, evs, nil)
	want := []string{"a d=3 h=a m=4 s=8 v=1 3 4"}
	if got := strs(out); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	// With a window of 14s the third distinct value arrives at 15s, when
	// the numbers in the window are 2, 1 and 3 (1 at 0s has expired).
	a.Window = 14 * s
	out, _, _ = runAgg(t, a, evs, nil)
	want = []string{"a d=3 h=a m=3 s=6 v=1 2 3"}
	if got := strs(out); !slices.Equal(got, want) {
		t.Errorf("window 14s: got %q, want %q", got, want)
	}
}

// TestAggregateGroupExpiry: one group's state expires while another's
// lives, and the idle group is dropped.
func TestAggregateGroupExpiry(t *testing.T) {
	s := time.Second
	evs := []*event.Event{
		aev(0, "h", "a"),
		aev(1*s, "h", "b"),
		aev(2*s, "h", "a"),
		aev(8*s, "h", "b"),
		aev(14*s, "h", "b"), // b: 8, 14 in window (1 expired); a idle past its window: dropped
		aev(15*s, "h", "a"), // a afresh
		aev(17*s, "h", "b"), // b: 8, 14, 17
		aev(40*s, "h", "c"), // a, b idle past their window: dropped before c comes
	}
	a := query.Aggregate{GroupBy: []query.Expr{f("h")}, Window: 10 * s, Funcs: []query.AggFunc{{Name: "count", As: "n"}}, Having: ge("n", 3)}
	out, e, id := runAgg(t, a, evs, nil)
	if got, want := strs(out), []string{"b h=b n=3"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	st := e.State(id)
	if st.Keys != 1 || st.Expired != 3 || st.PeakKeys != 2 {
		t.Errorf("keys %d expired %d peak %d; want 1, 3, 2", st.Keys, st.Expired, st.PeakKeys)
	}
	if ag := e.AggState(id); ag.Values != 1 || st.Partials != 1 {
		t.Errorf("values held %d (partials %d), want 1", ag.Values, st.Partials)
	}
	e.Flush(func(*Result) { t.Error("flush emitted a result") })
	if st := e.State(id); st.Keys != 0 || e.AggState(id).Values != 0 {
		t.Errorf("after flush: keys %d, values %d", st.Keys, e.AggState(id).Values)
	}
}

func TestAggregateUnboundedWindow(t *testing.T) {
	evs := []*event.Event{aev(0, "h", "a"), aev(1000*time.Hour, "h", "a"), aev(-1000*time.Hour, "h", "a")}
	a := query.Aggregate{GroupBy: []query.Expr{f("h")}, Funcs: []query.AggFunc{{Name: "count", As: "n"}}, Having: ge("n", 3)}
	out, e, id := runAgg(t, a, evs, nil)
	if len(out) != 1 || e.AggState(id).Late != 0 {
		t.Errorf("window 0: got %q, late %d; want one result, none late", strs(out), e.AggState(id).Late)
	}
}

func TestAggregateInputs(t *testing.T) {
	s := time.Second
	in := func(name string) query.AggInput {
		return query.AggInput{Name: name, Filter: query.Match{Field: f("rule"), Op: query.Equal, Values: []string{name}}, GroupBy: []query.Expr{f("host")}}
	}
	tests := []struct {
		name    string
		ordered bool
		tol     time.Duration
		evs     []*event.Event
		want    []string
	}{
		{"unordered: any order", false, 0, []*event.Event{aev(1*s, "rule", "B", "host", "h"), aev(2*s, "rule", "A", "host", "h")}, []string{"h@2s"}},
		{"ordered: B before A does not count", true, 0, []*event.Event{aev(1*s, "rule", "B", "host", "h"), aev(2*s, "rule", "A", "host", "h")}, nil},
		{"ordered: A then B", true, 0, []*event.Event{aev(1*s, "rule", "B", "host", "h"), aev(2*s, "rule", "A", "host", "h"), aev(3*s, "rule", "B", "host", "h")}, []string{"h@3s"}},
		{"ordered: same time is in order", true, 0, []*event.Event{aev(1*s, "rule", "A", "host", "h"), aev(1*s, "rule", "B", "host", "h")}, []string{"h@1s"}},
		// A at 2s arrives after B at 3s and completes the chain; the
		// evidence is in time order, so B is last.
		{"ordered by event time, not arrival", true, 5 * s, []*event.Event{aev(3*s, "rule", "B", "host", "h"), aev(2*s, "rule", "A", "host", "h")}, []string{"h@3s"}},
		{"ordered: too late for tolerance", true, 0, []*event.Event{aev(3*s, "rule", "B", "host", "h"), aev(2*s, "rule", "A", "host", "h")}, nil},
		{"ordered: A expired before B", true, 0, []*event.Event{aev(1*s, "rule", "A", "host", "h"), aev(12*s, "rule", "B", "host", "h")}, nil},
		{"ordered: per group", true, 0, []*event.Event{aev(1*s, "rule", "A", "host", "g"), aev(2*s, "rule", "B", "host", "h")}, nil},
		{"one input twice is one input", false, 0, []*event.Event{aev(1*s, "rule", "A", "host", "h"), aev(2*s, "rule", "A", "host", "h")}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := query.Aggregate{
				Inputs: []query.AggInput{in("A"), in("B")}, Names: []string{"host"},
				Window: 10 * s, Tolerance: tc.tol, Ordered: tc.ordered,
				Funcs:  []query.AggFunc{{Name: "inputs", As: "rules"}},
				Having: ge("rules", 2),
			}
			out, _, _ := runAgg(t, a, tc.evs, nil)
			var got []string
			for _, o := range out {
				last := o.events[len(o.events)-1]
				got = append(got, fmt.Sprintf("%s@%s", o.keys, last.Time.Sub(aggT0)))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestAggregateAliases: inputs group by different fields (Sigma's
// aliases) into one group; an event matching two inputs counts once.
func TestAggregateAliases(t *testing.T) {
	a := query.Aggregate{
		Inputs: []query.AggInput{
			{Name: "conn", Filter: query.Exists{Path: "source.ip"}, GroupBy: []query.Expr{f("source.ip")}},
			{Name: "login", Filter: query.Exists{Path: "client.ip"}, GroupBy: []query.Expr{f("client.ip")}},
		},
		Names:  []string{"ip"},
		Window: time.Minute,
		Funcs:  []query.AggFunc{{Name: "count", As: "n"}, {Name: "inputs", As: "k"}},
		Having: ge("n", 3),
	}
	evs := []*event.Event{
		aev(1*time.Second, "source.ip", "10.0.0.1"),
		aev(2*time.Second, "client.ip", "10.0.0.1", "source.ip", "10.0.0.1"),
		aev(3*time.Second, "client.ip", "10.0.0.2"),
		aev(4*time.Second, "client.ip", "10.0.0.1"),
	}
	out, _, _ := runAgg(t, a, evs, nil)
	if got, want := strs(out), []string{"10.0.0.1 ip=10.0.0.1 k=2 n=3"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestAggregateGroupValues(t *testing.T) {
	s := time.Second
	evs := []*event.Event{
		aev(1*s, "host", "a", "parent", "/bin/sh"),
		aev(2*s, "parent", "/bin/sh"),                 // host absent: dropped
		aev(3*s, "host", nil, "parent", "/bin/sh"),    // host null: dropped
		aev(4*s, "host", "a", "parent", event.Strs()), // empty list: dropped
		aev(5*s, "host", event.Strs("a", "b", "a"), "parent", "/bin/sh"),
		aev(6*s, "host", "b", "parent", "/bin/sh"),
		aev(7*s, "host", 7, "parent", "/bin/sh"),
		aev(8*s, "host", "7", "parent", "/bin/sh"), // a string is not a number's group
	}
	a := query.Aggregate{GroupBy: []query.Expr{f("host"), f("parent")}, Names: []string{"host", "parent"}, Window: time.Minute, Funcs: []query.AggFunc{{Name: "count", As: "n"}}, Having: ge("n", 2)}
	out, e, id := runAgg(t, a, evs, nil)
	if got, want := strs(out), []string{"a|/bin/sh host=a n=2 parent=/bin/sh", "b|/bin/sh host=b n=2 parent=/bin/sh"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if ag := e.AggState(id); ag.Ungrouped != 3 {
		t.Errorf("ungrouped %d, want 3", ag.Ungrouped)
	}
	if st := e.State(id); st.Keys != 4 {
		t.Errorf("groups %d, want 4 (a, b, 7, \"7\")", st.Keys)
	}
}

func TestAggregateCaps(t *testing.T) {
	s := time.Second
	t.Run("group cap evicts the least recently touched", func(t *testing.T) {
		evs := []*event.Event{aev(1*s, "h", "a"), aev(2*s, "h", "b"), aev(3*s, "h", "a"), aev(4*s, "h", "c"), aev(5*s, "h", "b"), aev(6*s, "h", "a")}
		a := query.Aggregate{GroupBy: []query.Expr{f("h")}, Window: time.Minute, Funcs: []query.AggFunc{{Name: "count", As: "n"}}, Having: ge("n", 2)}
		out, e, id := runAgg(t, a, evs, func(e *Engine, id int) { e.SetLimits(id, 2, 0) })
		// a fires at 3s (a: 1, 3) and starts afresh; c evicts b (touched at
		// 2s, before a at 3s); b is new at 5s and evicts a; a is new at 6s
		// and evicts c.
		if got, want := strs(out), []string{"a h=a n=2"}; !slices.Equal(got, want) {
			t.Errorf("got %q, want %q", got, want)
		}
		if st := e.State(id); st.Evicted != 3 || st.Keys != 2 {
			t.Errorf("evicted %d keys %d, want 3, 2", st.Evicted, st.Keys)
		}
		// Without the cap, b fires at 5s.
		out, _, _ = runAgg(t, a, evs, nil)
		if got, want := strs(out), []string{"a h=a n=2", "b h=b n=2"}; !slices.Equal(got, want) {
			t.Errorf("uncapped: got %q, want %q", got, want)
		}
	})
	t.Run("value cap forgets the least recently seen", func(t *testing.T) {
		var evs []*event.Event
		for i, p := range []int{1, 2, 3, 1, 4, 5} {
			evs = append(evs, aev(time.Duration(i)*s, "h", "a", "p", p))
		}
		a := query.Aggregate{GroupBy: []query.Expr{f("h")}, Window: time.Minute, Funcs: []query.AggFunc{{Name: "count", As: "n"}, {Name: "values", Field: f("p"), As: "v"}, {Name: "avg", Field: f("p"), As: "avg"}}, Having: ge("n", 6)}
		out, e, id := runAgg(t, a, evs, func(e *Engine, id int) { e.SetLimits(id, 0, 3) })
		// values keeps 1, 4, 5 (2 and 3 forgotten); avg the last three
		// numbers; count merges its oldest time runs but loses no event.
		if got, want := strs(out), []string{"a avg=3.3333333333333335 h=a n=6 v=1 4 5"}; !slices.Equal(got, want) {
			t.Errorf("got %q, want %q", got, want)
		}
		if st := e.State(id); st.Forgotten != 2+3+3 {
			t.Errorf("forgotten %d, want 8 (2 values, 3 numbers, 3 time runs)", st.Forgotten)
		}
	})
}

func ids(evs []*event.Event) []string {
	var s []string
	for _, ev := range evs {
		s = append(s, ev.Get("i").String())
	}
	return s
}

func TestAggregateEvidence(t *testing.T) {
	var evs []*event.Event
	for i := range 15 {
		evs = append(evs, aev(time.Duration(i)*time.Second, "h", "a", "i", i))
	}
	// The 15th arrives out of order (within tolerance), as the 14th.
	evs[13], evs[14] = evs[14], evs[13]
	a := query.Aggregate{GroupBy: []query.Expr{f("h")}, Window: time.Minute, Tolerance: 5 * time.Second, Funcs: []query.AggFunc{{Name: "count", As: "n"}}, Having: ge("n", 15)}
	out, _, _ := runAgg(t, a, evs, nil)
	if len(out) != 1 {
		t.Fatalf("got %d results", len(out))
	}
	// The first ten to arrive and the trigger (at 13s), in time order.
	if got, want := ids(out[0].events), []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "13"}; !slices.Equal(got, want) {
		t.Errorf("evidence %q, want %q", got, want)
	}
	for i, ev := range evs[:14] { // the trigger, evs[14], the test's callback retained
		if ev.Retained() {
			t.Errorf("input event %d retained: evidence is copied so a source may reuse its events", i)
		}
	}
	// The trigger goes in its place in time: an old straggler before the
	// evidence of later events.
	evs2 := []*event.Event{aev(5*time.Second, "h", "a", "i", 0), aev(6*time.Second, "h", "a", "i", 1), aev(4*time.Second, "h", "a", "i", 2)}
	a.Having = ge("n", 3)
	out, _, _ = runAgg(t, a, evs2, nil)
	if len(out) != 1 || !slices.Equal(ids(out[0].events), []string{"2", "0", "1"}) {
		t.Errorf("straggler evidence not in time order: %q", strs(out))
	}
	// The trigger is the current event, not a copy, when the sample is full.
	out, _, _ = runAgg(t, query.Aggregate{GroupBy: []query.Expr{f("h")}, Window: time.Minute, Funcs: []query.AggFunc{{Name: "count", As: "n"}}, Having: ge("n", 12)}, evs[:13], nil)
	if len(out) != 1 || out[0].events[10] != evs[11] {
		t.Errorf("the trigger is not the input event")
	}
}

// TestAggregateReusedEvents feeds every record through one event, reset
// between records unless retained, as a reusing source does: the evidence
// must still show each record as it was.
func TestAggregateReusedEvents(t *testing.T) {
	a := query.Aggregate{GroupBy: []query.Expr{f("h")}, Window: time.Minute, Funcs: []query.AggFunc{{Name: "distinct", Field: f("p"), As: "d"}}, Having: ge("d", 3)}
	e := New()
	if _, err := e.Add(&query.Query{Stages: []query.Stage{a}}); err != nil {
		t.Fatal(err)
	}
	var got [][]string
	var kept []*event.Event
	collect := func(r *Result) {
		got = append(got, ids(r.Events))
		retain(r.Events)
		kept = append(kept, r.Events...)
	}
	var ev *event.Event
	fresh := 0
	for round := range 3 {
		for i := range 6 {
			if ev == nil || ev.Retained() {
				ev = event.New(4)
				fresh++
			} else {
				ev.Reset()
			}
			n := round*6 + i
			ev.Time = aggT0.Add(time.Duration(n) * time.Second)
			ev.SetStr("h", []string{"a", "b"}[i%2])
			ev.Set("p", event.IntV(int64(n/2)))
			ev.Set("i", event.IntV(int64(n)))
			e.Match(ev, collect)
		}
	}
	want := [][]string{{"0", "2", "4"}, {"1", "3", "5"}, {"6", "8", "10"}, {"7", "9", "11"}, {"12", "14", "16"}, {"13", "15", "17"}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("got %q, want %q", got, want)
	}
	// The engine retains nothing: the source makes a new event only after
	// this callback retained a result's trigger (five of the six triggers
	// come before the last record).
	if fresh != 1+5 {
		t.Errorf("the source made %d events, want 6: the engine retained its input", fresh)
	}
	for i, ev := range kept {
		if w := want[i/3][i%3]; ev.Get("i").String() != w {
			t.Errorf("kept evidence %d changed: %s, want %s", i, ev.Get("i").String(), w)
		}
	}
}

// TestAggregateBoundedState: state follows live groups, not input length.
func TestAggregateBoundedState(t *testing.T) {
	a := query.Aggregate{GroupBy: []query.Expr{f("h")}, Window: 10 * time.Second, Funcs: []query.AggFunc{{Name: "distinct", Field: f("p"), As: "d"}}, Having: ge("d", 1000)}
	e := New()
	id, err := e.Add(&query.Query{Stages: []query.Stage{a}})
	if err != nil {
		t.Fatal(err)
	}
	// 200,000 events, one a millisecond; each host lives for 5 seconds,
	// so about 150 hosts are live (within the window) at once.
	for i := range 200_000 {
		host := fmt.Sprintf("h%d", i/5000*100+i%100)
		e.Match(aev(time.Duration(i)*time.Millisecond, "h", host, "p", i%7), func(*Result) {})
	}
	st, ag := e.State(id), e.AggState(id)
	if st.PeakKeys > 300 || ag.PeakValues > 300*7 {
		t.Errorf("peak groups %d, values %d: state grew with the input", st.PeakKeys, ag.PeakValues)
	}
	if st.Expired == 0 || st.Evicted != 0 {
		t.Errorf("expired %d, evicted %d", st.Expired, st.Evicted)
	}
}

func TestAggregateCompileErrors(t *testing.T) {
	cnt := []query.AggFunc{{Name: "count", As: "n"}}
	tests := []struct {
		name string
		a    query.Aggregate
		want string
		uns  bool
	}{
		{"unknown function", query.Aggregate{Funcs: []query.AggFunc{{Name: "median", Field: f("x"), As: "m"}}}, "aggregate function median", true},
		{"having refers to an unknown name", query.Aggregate{GroupBy: []query.Expr{f("host")}, Names: []string{"host"}, Funcs: cnt, Having: ge("count", 3)}, `having refers to "count"`, false},
		{"ordered with one input", query.Aggregate{Inputs: []query.AggInput{{Name: "a"}}, Ordered: true, Funcs: cnt}, "at least two inputs", false},
		{"percentile rank", query.Aggregate{Funcs: []query.AggFunc{{Name: "percentile", Field: f("x"), As: "p", Arg: 101}}}, "not within 0-100", false},
		{"distinct without a field", query.Aggregate{Funcs: []query.AggFunc{{Name: "distinct", As: "d"}}}, "needs a field", false},
		{"no output name", query.Aggregate{Funcs: []query.AggFunc{{Name: "count"}}}, "no output name", false},
		{"name used twice", query.Aggregate{GroupBy: []query.Expr{f("n")}, Names: []string{"n"}, Funcs: cnt}, "used twice", false},
		{"names and group-by differ", query.Aggregate{GroupBy: []query.Expr{f("a"), f("b")}, Names: []string{"a"}, Funcs: cnt}, "2 group-by values", false},
		{"inputs group differently", query.Aggregate{Inputs: []query.AggInput{{Name: "x", GroupBy: []query.Expr{f("a")}}, {Name: "y", GroupBy: []query.Expr{f("a"), f("b")}}}, Funcs: cnt}, `input "y" has 2`, false},
		{"keyword in having", query.Aggregate{Funcs: cnt, Having: query.Keyword{Values: []string{"x"}}}, "keyword search", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := New()
			_, err := e.Add(&query.Query{Stages: []query.Stage{tc.a}})
			if err == nil {
				t.Fatal("compiled, want an error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			var u *query.Unsupported
			var qe *query.Error
			if tc.uns && !errors.As(err, &u) || !tc.uns && !errors.As(err, &qe) {
				t.Errorf("error %T, want unsupported %v", err, tc.uns)
			}
			if e.Len() != 0 {
				t.Errorf("a failed compile added a program")
			}
		})
	}
	// A second stateful stage is refused.
	e := New()
	if _, err := e.Add(&query.Query{Stages: []query.Stage{query.Aggregate{Funcs: cnt}, query.Aggregate{Funcs: cnt}}}); err == nil {
		t.Error("two aggregations compiled")
	}
}

// TestAggregateFiltered: the program's filters and an input's filter both
// select; a head limit passes the values through.
func TestAggregateFiltered(t *testing.T) {
	a := query.Aggregate{GroupBy: []query.Expr{f("h")}, Window: time.Minute, Funcs: []query.AggFunc{{Name: "count", As: "n"}}, Having: ge("n", 2)}
	q := &query.Query{Stages: []query.Stage{
		query.Filter{Expr: query.Match{Field: f("act"), Op: query.Equal, Values: []string{"connect"}}},
		a,
		query.Limit{N: 1, Tail: true},
	}}
	e := New()
	id, err := e.Add(q)
	if err != nil {
		t.Fatal(err)
	}
	evs := []*event.Event{aev(0, "h", "a", "act", "connect"), aev(1, "h", "a", "act", "other"), aev(2, "h", "b", "act", "connect"), aev(3, "h", "b", "act", "connect"), aev(4, "h", "a", "act", "connect")}
	var got []string
	collect := func(r *Result) {
		got = append(got, fmt.Sprint(r.ID, r.Keys[0].String(), r.Values))
	}
	for _, ev := range evs {
		e.Match(ev, collect)
	}
	e.Flush(collect)
	if want := []string{fmt.Sprint(id, "a", []NamedValue{{"h", event.Str("a")}, {"n", event.IntV(2)}})}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
