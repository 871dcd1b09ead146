package engine

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/query"
)

// testEv builds a test event: id, then field/value pairs (a value nil is null,
// a []string multi-valued).
func testEv(id int64, kv ...any) *event.Event {
	e := event.New(len(kv)/2 + 1)
	e.Set("id", event.IntV(id))
	for i := 0; i+1 < len(kv); i += 2 {
		k := kv[i].(string)
		switch v := kv[i+1].(type) {
		case nil:
			e.Set(k, event.NullV())
		case string:
			e.SetStr(k, v)
		case int:
			e.Set(k, event.IntV(int64(v)))
		case []string:
			e.Set(k, event.Strs(v...))
		case time.Time:
			e.Time = v
		}
	}
	return e
}

func tagIs(field, val string) query.Expr {
	return query.Match{Field: f(field), Op: query.Equal, Values: []string{val}}
}

// runStage feeds events to a one-stage query and returns each result's ids
// and keys.
func runStage(t *testing.T, st query.Stage, evs []*event.Event) (ids [][]int64, keys []string) {
	t.Helper()
	e := New()
	if _, err := e.Add(&query.Query{Stages: []query.Stage{st}}); err != nil {
		t.Fatal(err)
	}
	collect := func(r *Result) {
		var one []int64
		for _, x := range r.Events {
			if x == nil {
				one = append(one, -1)
				continue
			}
			one = append(one, x.Get("id").Int)
		}
		ids = append(ids, one)
		var ks []string
		for _, k := range r.Keys {
			if k.IsNull() {
				ks = append(ks, "null")
				continue
			}
			ks = append(ks, k.String())
		}
		keys = append(keys, fmt.Sprint(ks))
	}
	for _, x := range evs {
		e.Match(x, collect)
	}
	e.Flush(collect)
	return ids, keys
}

func TestSampleKeys(t *testing.T) {
	steps := []query.Step{{Filter: tagIs("t", "a")}, {Filter: tagIs("t", "b")}}
	evs := []*event.Event{
		testEv(1, "t", "a", "h", "x"),
		testEv(2, "t", "b", "h", "x"),
		testEv(3, "t", "a", "h", nil),                // a null key takes no part...
		testEv(4, "t", "b"),                          // ...nor does an absent one
		testEv(5, "t", "a", "h", []string{"y", "w"}), // each value is a key
		testEv(6, "t", "b", "h", "w"),
		testEv(7, "t", "b", "h", "y"),
	}
	ids, keys := runStage(t, query.Sample{By: []query.Expr{f("h")}, Steps: steps}, evs)
	// Keys come in ascending order, as the composite aggregation pages them.
	if want := [][]int64{{5, 6}, {1, 2}, {5, 7}}; !slices.EqualFunc(ids, want, slices.Equal) {
		t.Errorf("ids %v, want %v", ids, want)
	}
	if want := []string{"[w]", "[x]", "[y]"}; !slices.Equal(keys, want) {
		t.Errorf("keys %v, want %v", keys, want)
	}
	// An optional field's missing value is a key of its own, first.
	opt := query.Field{Path: "h", Optional: true}
	ids, keys = runStage(t, query.Sample{By: []query.Expr{opt}, Steps: steps}, evs)
	if want := [][]int64{{3, 4}, {5, 6}, {1, 2}, {5, 7}}; !slices.EqualFunc(ids, want, slices.Equal) {
		t.Errorf("optional: ids %v, want %v", ids, want)
	}
	if keys[0] != "[null]" {
		t.Errorf("optional: first key %v, want [null]", keys[0])
	}
}

func TestSampleCandidates(t *testing.T) {
	steps := []query.Step{{Filter: tagIs("t", "a")}, {Filter: tagIs("t", "b")}}
	at := func(e *event.Event, index string, line int) *event.Event {
		e.Index, e.File, e.Line = index, index+".json", line
		return e
	}
	// Arrival order differs from document order (index, then line): the
	// candidates are the first in document order.
	evs := []*event.Event{
		at(testEv(1, "t", "a", "h", "x"), "idx2", 1),
		at(testEv(2, "t", "b", "h", "x"), "idx2", 3),
		at(testEv(3, "t", "b", "h", "x"), "idx2", 2),
		at(testEv(4, "t", "a", "h", "x"), "idx1", 5),
		at(testEv(5, "t", "b", "h", "x"), "idx1", 9),
	}
	by := []query.Expr{f("h")}
	ids, _ := runStage(t, query.Sample{By: by, Steps: steps}, evs)
	if want := [][]int64{{4, 5}}; !slices.EqualFunc(ids, want, slices.Equal) {
		t.Errorf("ids %v, want %v", ids, want)
	}
	// Several samples per key reuse events, depth first; each step keeps
	// steps+perKey-1 candidates.
	ids, _ = runStage(t, query.Sample{By: by, Steps: steps, MaxPerKey: 3}, evs)
	if want := [][]int64{{4, 5}, {4, 3}, {4, 2}}; !slices.EqualFunc(ids, want, slices.Equal) {
		t.Errorf("per key 3: ids %v, want %v", ids, want)
	}
	ids, _ = runStage(t, query.Sample{By: by, Steps: steps, MaxPerKey: 10}, evs)
	if len(ids) != 6 {
		t.Errorf("per key 10: %d samples %v, want all 6 pairs", len(ids), ids)
	}
	// One event matching both steps never fills both in one sample.
	both := query.Or{X: []query.Expr{tagIs("t", "a"), tagIs("t", "b")}}
	ids, _ = runStage(t, query.Sample{By: by, Steps: []query.Step{{Filter: both}, {Filter: both}}}, evs[:1])
	if len(ids) != 0 {
		t.Errorf("one event: %v, want no sample", ids)
	}
}

func TestMissingEvents(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	var evs []*event.Event
	for i, tag := range []string{"A", "M1", "B", "C", "A", "B", "C", "M2"} {
		evs = append(evs, testEv(int64(i+1), "tag", tag, "t", ms(i+1)))
	}
	for _, e := range evs {
		e.SetStr("@timestamp", e.Time.Format(time.RFC3339Nano))
	}
	step := func(tag string, missing bool) query.Step {
		return query.Step{Filter: tagIs("tag", tag), Missing: missing}
	}
	tests := []struct {
		name    string
		steps   []query.Step
		maxspan time.Duration
		want    [][]int64
	}{
		// An inner missing match rules a candidate out, whatever the
		// other missing stages hold.
		{"inner", []query.Step{step("A", false), step("M1", true), step("B", false), step("none", true), step("C", false)}, time.Second,
			[][]int64{{5, -1, 6, -1, 7}}},
		{"inner+trailing", []query.Step{step("A", false), step("M1", true), step("B", false), step("C", false), step("none", true)}, time.Second,
			[][]int64{{5, -1, 6, 7, -1}}},
		// A trailing match within maxspan of the first event does.
		{"trailing", []query.Step{step("A", false), step("B", false), step("M2", true)}, 4 * time.Millisecond,
			[][]int64{{1, 3, -1}}},
		// A leading match within maxspan of the last event does.
		{"leading", []query.Step{step("M1", true), step("B", false)}, 3 * time.Millisecond,
			[][]int64{{-1, 6}}},
		// Leading and trailing stages together need a match on each side,
		// within maxspan of each other: here M1 and M2 are 6ms apart.
		{"leading+trailing", []query.Step{step("M1", true), step("B", false), step("M2", true)}, 5 * time.Millisecond,
			[][]int64{{-1, 3, -1}, {-1, 6, -1}}},
		{"leading+trailing-within", []query.Step{step("M1", true), step("B", false), step("M2", true)}, 6 * time.Millisecond,
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids, _ := runStage(t, query.Sequence{MaxSpan: tt.maxspan, Steps: tt.steps}, evs)
			if !slices.EqualFunc(ids, tt.want, slices.Equal) {
				t.Errorf("got %v, want %v", ids, tt.want)
			}
		})
	}
}
