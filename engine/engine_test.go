package engine

import (
	"strings"
	"testing"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/query"
)

func testEvent() *event.Event {
	ev := event.New(8)
	ev.SetStr("process.executable", "/usr/sbin/xtables-nft-multi")
	ev.SetStr("process.name", "iptables")
	ev.SetStr("process.command_line", "iptables -F INPUT")
	ev.Set("process.args", event.Strs("iptables", "-F", "INPUT"))
	ev.Set("process.pid", event.IntV(4242))
	ev.Set("event.category", event.Strs("process"))
	ev.Set("event.type", event.Strs("start"))
	ev.Set("process.parent.name", event.NullV())
	ev.SetStr("source.ip", "10.1.2.3")
	ev.SetStr("@timestamp", "2026-11-22T14:49:20.301Z")
	return ev
}

func f(p string) query.Field { return query.Field{Path: p} }

func TestPredicates(t *testing.T) {
	tests := []struct {
		name string
		expr query.Expr
		want bool
	}{
		{"equal fold", query.Match{Field: f("process.name"), Op: query.Equal, Values: []string{"IPTABLES"}, Fold: true}, true},
		{"equal cased", query.Match{Field: f("process.name"), Op: query.Equal, Values: []string{"IPTABLES"}}, false},
		{"equal set", query.Match{Field: f("process.name"), Op: query.Equal, Values: []string{"a", "b", "c", "d", "e", "iptables"}}, true},
		{"contains", query.Match{Field: f("process.command_line"), Op: query.Contains, Values: []string{"-F"}}, true},
		{"contains all", query.Match{Field: f("process.command_line"), Op: query.Contains, Values: []string{"-F", "-X"}, All: true}, false},
		{"prefix", query.Match{Field: f("process.executable"), Op: query.Prefix, Values: []string{"/usr/sbin/"}}, true},
		{"suffix", query.Match{Field: f("process.executable"), Op: query.Suffix, Values: []string{"/iptables"}}, false},
		{"glob", query.Match{Field: f("process.executable"), Op: query.Glob, Values: []string{"/usr/*/xtables-*-multi"}}, true},
		{"glob ?", query.Match{Field: f("process.name"), Op: query.Glob, Values: []string{"ip?ables"}}, true},
		{"glob escaped star", query.Match{Field: f("process.name"), Op: query.Glob, Values: []string{`ip\*`}}, false},
		{"regex", query.Match{Field: f("process.command_line"), Op: query.Regex, Values: []string{`^iptables\s+-F`}}, true},
		{"regex case", query.Match{Field: f("process.command_line"), Op: query.Regex, Values: []string{`^IPTABLES`}}, false},
		{"cidr", query.Match{Field: f("source.ip"), Op: query.CIDR, Values: []string{"10.0.0.0/8"}}, true},
		{"cidr miss", query.Match{Field: f("source.ip"), Op: query.CIDR, Values: []string{"192.168.0.0/16"}}, false},
		{"multi-value any", query.Match{Field: f("process.args"), Op: query.Equal, Values: []string{"-F"}}, true},
		{"multi-value every", query.Match{Field: f("process.args"), Op: query.Equal, Values: []string{"-F"}, Quant: query.Every}, false},
		{"number as text", query.Match{Field: f("process.pid"), Op: query.Equal, Values: []string{"4242"}}, true},
		{"absent never matches", query.Match{Field: f("nope"), Op: query.Glob, Values: []string{"*"}}, false},
		{"null never matches", query.Match{Field: f("process.parent.name"), Op: query.Glob, Values: []string{"*"}}, false},
		{"not absent", query.Not{X: query.Match{Field: f("nope"), Op: query.Equal, Values: []string{"x"}}}, true},
		{"exists", query.Exists{Path: "process.pid"}, true},
		{"exists null", query.Exists{Path: "process.parent.name"}, false},
		{"term", query.Match{Field: f("process.command_line"), Op: query.Term, Values: []string{"input"}, Fold: true}, true},
		{"term partial", query.Match{Field: f("process.command_line"), Op: query.Term, Values: []string{"inp"}, Fold: true}, false},
		{"compare numeric", query.Compare{Op: query.Gt, L: f("process.pid"), R: query.Lit{V: event.IntV(100)}}, true},
		{"compare numeric string", query.Compare{Op: query.Eq, L: f("process.pid"), R: query.Lit{V: event.Str("4242")}}, true},
		{"compare null", query.Compare{Op: query.Ne, L: f("nope"), R: query.Lit{V: event.Str("x")}}, false},
		{"compare null true", query.Compare{Op: query.Ne, L: f("nope"), R: query.Lit{V: event.Str("x")}, Null: true}, true},
		{"compare fold", query.Compare{Op: query.Eq, L: f("process.name"), R: query.Lit{V: event.Str("IPTables")}, Fold: true}, true},
		{"fieldref", query.Compare{Op: query.Eq, L: f("process.name"), R: f("process.args")}, true},
		{"keyword", query.Keyword{Values: []string{"-f input"}, Fold: true}, true},
		{"keyword glob", query.Keyword{Values: []string{"xtables-*-multi"}}, true},
		{"keyword miss", query.Keyword{Values: []string{"nft flush"}}, false},
		{"time part", query.Match{Field: query.Call{Name: "hour", Args: []query.Expr{f("@timestamp")}}, Op: query.Equal, Values: []string{"14"}}, true},
		{"fieldref startswith", query.Truthy{X: query.Call{Name: "startswith", Args: []query.Expr{f("process.command_line"), f("process.name")}, Fold: true}}, true},
		{"fieldref endswith", query.Truthy{X: query.Call{Name: "endswith", Args: []query.Expr{f("process.command_line"), f("process.name")}}}, false},
		{"stringcontains fold", query.Truthy{X: query.Call{Name: "stringcontains", Args: []query.Expr{f("process.executable"), query.Lit{V: event.Str("NFT")}}, Fold: true}}, true},
		{"and or", query.And{X: []query.Expr{query.Or{X: []query.Expr{query.Const{V: false}, query.Exists{Path: "process.pid"}}}, query.Not{X: query.Const{V: false}}}}, true},
	}
	ev := testEvent()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := New()
			id, err := e.Add(&query.Query{Stages: []query.Stage{query.Filter{Expr: tc.expr}}})
			if err != nil {
				t.Fatal(err)
			}
			if got := e.MatchOne(id, ev); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			// Through the prefilter, the answer must be the same.
			for _, off := range []bool{false, true} {
				e.NoPrefilter = off
				hit := false
				e.Match(ev, func(*Result) { hit = true })
				if hit != tc.want {
					t.Errorf("Match (prefilter off=%v) = %v, want %v", off, hit, tc.want)
				}
			}
		})
	}
}

func TestScopeAndExplain(t *testing.T) {
	e := New()
	scope := query.Match{Field: f("event.category"), Op: query.Equal, Values: []string{"process"}}
	q := func(name string, x query.Expr) *query.Query {
		return &query.Query{Scope: scope, ScopeKey: "proc", Stages: []query.Stage{query.Filter{Expr: query.Named{Name: name, X: x}}}}
	}
	a, _ := e.Add(q("sel_a", query.Match{Field: f("process.name"), Op: query.Equal, Values: []string{"iptables"}}))
	b, _ := e.Add(q("sel_b", query.Match{Field: f("process.name"), Op: query.Equal, Values: []string{"nft"}}))
	c, _ := e.Add(&query.Query{Scope: query.Const{V: false}, ScopeKey: "never", Stages: []query.Stage{query.Filter{Expr: query.Const{V: true}}}})
	if len(e.scopes) != 2 {
		t.Fatalf("scopes = %d, want 2 (shared by key)", len(e.scopes))
	}
	var got []int
	ev := testEvent()
	e.Match(ev, func(r *Result) {
		id := r.ID
		got = append(got, id)
		if names := e.Explain(id, ev); len(names) != 1 || names[0] != "sel_a" {
			t.Errorf("explain = %v", names)
		}
	})
	if len(got) != 1 || got[0] != a {
		t.Errorf("matched %v, want [%d] (not %d, %d)", got, a, b, c)
	}
}

func TestUnsupportedStages(t *testing.T) {
	for _, st := range []query.Stage{query.Sequence{}, query.Extract{}, query.Assign{}} { // aggregations: aggregate_test.go
		if _, err := New().Add(&query.Query{Stages: []query.Stage{st}}); err == nil {
			t.Errorf("%T: no error", st)
		}
	}
}

func TestGlob(t *testing.T) {
	tests := []struct {
		pat, s string
		want   bool
	}{
		{"", "", true},
		{"*", "anything", true},
		{"a*c", "abbbc", true},
		{"a*c", "abbbd", false},
		{"*a*b*", "xxaxxbxx", true},
		{"*a*b", "xxaxxbxxb", true},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"a??", "aé€", true},
		{`a\*`, "a*", true},
		{`a\*`, "ab", false},
		{`a\?`, "a?", true},
		{`a\\b`, `a\b`, true},
		{"*.sh", "x.sh", true},
		{"*/tmp/*", "/usr/tmp/x", true},
	}
	for _, tc := range tests {
		if got := compileGlob(tc.pat, false).match(tc.s); got != tc.want {
			t.Errorf("glob %q on %q = %v, want %v", tc.pat, tc.s, got, tc.want)
		}
	}
}

func FuzzGlob(f *testing.F) {
	for _, s := range []string{"a*b?c", `\*x*`, "*", "??*"} {
		f.Add(s, "axxbyc")
	}
	f.Fuzz(func(t *testing.T, pat, s string) {
		compileGlob(pat, true).match(s)
	})
}

func TestAutomaton(t *testing.T) {
	pats := []string{"he", "she", "his", "hers", "iptables", "tables", "-f", "s"}
	texts := []string{"ushers", "iptables -f input", "", "hhhishe", "xtables-nft-multi"}
	for _, text := range texts {
		got := map[int32]int{}
		newAutomaton(pats).scan(text, func(p int32) { got[p]++ })
		for i, p := range pats {
			want := strings.Count(text, p)
			if p == "s" || p == "he" {
				want = overlapCount(text, p)
			}
			if got[int32(i)] != want {
				t.Errorf("%q in %q: %d occurrences, want %d", p, text, got[int32(i)], want)
			}
		}
	}
}

func overlapCount(s, p string) int {
	n := 0
	for i := 0; i+len(p) <= len(s); i++ {
		if s[i:i+len(p)] == p {
			n++
		}
	}
	return n
}

func FuzzAutomaton(f *testing.F) {
	f.Add("abcab", "ab", "bca")
	f.Fuzz(func(t *testing.T, text, p1, p2 string) {
		if p1 == "" || p2 == "" {
			return
		}
		got := [2]int{}
		newAutomaton([]string{p1, p2}).scan(text, func(p int32) { got[p]++ })
		if got[0] != overlapCount(text, p1) || got[1] != overlapCount(text, p2) {
			t.Errorf("%q %q in %q: %v", p1, p2, text, got)
		}
	})
}
