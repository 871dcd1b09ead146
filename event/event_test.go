package event

import (
	"encoding/json"
	"testing"
)

func TestSetTreeFlattensLikeElasticsearch(t *testing.T) {
	var doc map[string]any
	src := `{"process":{"name":"iptables","args":["iptables","-F"],"pid":42,"parent":{"pid":1}},
	"event.category":["process"],"threat":[{"tactic":{"id":"TA0005"}},{"tactic":{"id":"TA0040"}}],
	"nothing":null,"empty":[],"ok":true,"ratio":0.5}`
	if err := json.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	ev := New(0)
	ev.SetTree("", doc)
	tests := []struct {
		path string
		want Value
	}{
		{"process.name", Str("iptables")},
		{"process.args", Strs("iptables", "-F")},
		{"process.pid", IntV(42)},
		{"process.parent.pid", IntV(1)},
		{"event.category", Strs("process")},
		{"threat.tactic.id", Strs("TA0005", "TA0040")},
		{"nothing", NullV()},
		{"empty", ListV()},
		{"ok", BoolV(true)},
		{"ratio", FloatV(0.5)},
		{"missing", Value{}},
	}
	for _, tc := range tests {
		if got := ev.Get(tc.path); !got.Equal(tc.want) {
			t.Errorf("%s = %#v, want %#v", tc.path, got, tc.want)
		}
	}
	// Absent, null, scalar and list stay apart.
	if ev.Get("missing").Exists() || !ev.Get("nothing").Exists() || !ev.Get("nothing").IsNull() {
		t.Error("absent and null are confused")
	}
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	back := New(0)
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	back.SetTree("", m)
	for _, p := range []string{"process.name", "process.args", "process.pid", "nothing", "ok"} {
		if !back.Get(p).Equal(ev.Get(p)) {
			t.Errorf("round trip %s: %v != %v", p, back.Get(p), ev.Get(p))
		}
	}
}

func TestFillNeverRewrites(t *testing.T) {
	ev := New(0)
	ev.SetStr("process.name", "python3.11")
	if ev.Fill("process.name", Str("ufw")) || ev.Get("process.name").Str != "python3.11" {
		t.Error("Fill rewrote a provided field")
	}
	if !ev.Fill("process.args_count", IntV(3)) {
		t.Error("Fill did not fill a missing field")
	}
}

func TestValueString(t *testing.T) {
	for _, tc := range []struct {
		v    Value
		want string
	}{
		{IntV(-3), "-3"}, {FloatV(1.5), "1.5"}, {BoolV(true), "true"}, {NullV(), ""}, {Strs("a", "b"), "a b"},
	} {
		if got := tc.v.String(); got != tc.want {
			t.Errorf("%#v.String() = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestPool(t *testing.T) {
	var p Pool
	a := p.Get(4)
	a.SetStr("x", "1")
	a.Line = 7
	p.Put(a)
	p.Put(a) // twice is once
	b := p.Get(4)
	if b != a || b.Len() != 0 || b.Line != 0 || b.Epoch() != 1 {
		t.Fatalf("Get did not reuse the put event reset: same=%v len=%d line=%d epoch=%d", b == a, b.Len(), b.Line, b.Epoch())
	}
	if c := p.Get(4); c == a {
		t.Fatal("an event handed out twice")
	}
	// A retained event stays out of the pool until its last Release.
	b.Retain()
	b.Retain()
	p.Put(b)
	if c := p.Get(4); c == b {
		t.Fatal("a retained event was reused")
	}
	b.Release()
	if c := p.Get(4); c == b {
		t.Fatal("an event still retained once was reused")
	}
	b.Release()
	if c := p.Get(4); c != b {
		t.Fatal("the last Release did not return the event to its pool")
	}
	// Events not from the pool, and clones, are never pooled.
	n := New(1)
	p.Put(n)
	cl := b.Clone()
	p.Put(cl)
	if c := p.Get(4); c == n || c == cl {
		t.Fatal("pooled an event from elsewhere")
	}
}
