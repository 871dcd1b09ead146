package eql

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/firewarden/firewarden/engine"
	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/internal/testenv"
	"github.com/firewarden/firewarden/query"
)

// FuzzParse checks that no input panics the parser, that every error is
// positioned, and that whatever parses prints back to text that parses to
// the same tree. It is seeded with every query of the Elastic rules and of
// the conformance suite when ../shared is there, and with inline queries
// that cover each construct either way.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`process where process.name == "iptables" and process.args : ("-F", "--flush")`,
		`any where not ?a.b in~ ("x", 1, null) or c like~ ("a*", "?b") and d regex ".*"`,
		"sequence by host.id with maxspan=30s\n  [process where a == 1] by p with runs=2\n  ![file where true] by p\n -[x where y]\nuntil [process where true] | head 5 | tail 1",
		`sample by k [a where b : "c"] by k [d where e != 1.5e3]`,
		`join by u [process where true] by p [file where true] until [x where true]`,
		"x where `a``b`.c[0] == \"\\u{1F600}\\n\" and \"\"\"raw\\\"\"\"\" == 'single' and ?\"py\\\"raw\" != ?'x'",
		`file where descendant of [process where child of [a where event of [b where true]]]`,
		`a where -b * +c / d % 2 - length~(e) + f() >= .5 /* c /* n */ */ // t`,
		`a where b !: "x" or c = 1 | unique d e | sort f, g | filter h > 6`,
		`sequence [a where true] fork=true [b where true]`,
		`a where "unterminated`,
	} {
		f.Add(s)
	}
	shared := filepath.Join(testenv.Root(), "..", "shared", "corpus")
	if _, err := os.Stat(shared); err == nil {
		for _, dir := range []string{"elastic", "elastic-cross-platform"} {
			for _, q := range elasticQueries(f, filepath.Join(shared, dir)) {
				f.Add(q)
			}
		}
		for _, qs := range conformanceQueries(f, filepath.Join(shared, "eql")) {
			for _, q := range qs {
				f.Add(q.Query)
			}
		}
	}
	f.Fuzz(func(t *testing.T, src string) {
		q, err := Parse(src, query.Pos{File: "fuzz", Line: 3, Col: 7})
		if err != nil {
			var qe *query.Error
			var qu *query.Unsupported
			switch {
			case errors.As(err, &qe):
				if qe.Pos.File != "fuzz" || qe.Pos.Line < 3 || qe.Pos.Col < 1 {
					t.Errorf("error badly positioned: %v", err)
				}
			case errors.As(err, &qu):
				if qu.Pos.Line < 3 {
					t.Errorf("error badly positioned: %v", err)
				}
			default:
				t.Errorf("error is a %T: %v", err, err)
			}
			return
		}
		if err := roundTrip(q); err != nil {
			t.Errorf("%q: %v", src, err)
		}
	})
}

// FuzzCompile checks that whatever parses either compiles, with the engine
// accepting the result and running it over an event without panicking, or
// is refused with a positioned error.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		`process where process.name == "iptables" and process.args : ("-F", "--flush") and process.args_count == 2`,
		`any where null : (a > -1) and concat(b, c) !: null and indexOf~(d, "x", 2) == 1 and e / 2 % 3 == 1`,
		"sequence by host.id with maxspan=30s\n  [process where a == 1] by p with runs=2\n  ![file where true] by p\nuntil [process where true] by p | head 5 | tail 1",
		`sample by k [a where b like~ "c*"] by k [d where e regex ".+" and cidrMatch(f, "10.0.0.0/8")]`,
		`process where match(a, ".*?x[ ]+.*") and between~(b, "a", "z", true) == "y" and substring(c, -3) == "abc"`,
	} {
		f.Add(s)
	}
	ev := event.New(8)
	ev.Set("event.category", event.ListV(event.Str("process")))
	ev.Set("a", event.IntV(3))
	ev.SetStr("b", "Hello")
	ev.Set("c", event.ListV(event.Str("x"), event.Str("y")))
	f.Fuzz(func(t *testing.T, src string) {
		q, err := Compile(src, Options{Base: query.Pos{File: "fuzz", Line: 1, Col: 1}})
		if err != nil {
			var qe *query.Error
			var qu *query.Unsupported
			if !errors.As(err, &qe) && !errors.As(err, &qu) {
				t.Errorf("error is a %T: %v", err, err)
			}
			return
		}
		e := engine.New()
		if _, err := e.Add(q); err != nil {
			return // the engine refuses by name; that is allowed
		}
		e.Match(ev, func(*engine.Result) {})
		e.Flush(func(*engine.Result) {})
	})
}
