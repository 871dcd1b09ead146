package kql

import (
	"strings"
	"testing"

	"github.com/firewarden/firewarden/query"
)

// TestParseErrors: malformed queries fail with the position of the fault
// (file:line:col, the base position counted in).
func TestParseErrors(t *testing.T) {
	base := query.Pos{File: "r.yaml", Line: 10, Col: 8}
	tests := []struct{ q, want string }{
		{``, "r.yaml:10:8: expected a table name, found end of query"},
		{`imProcessCreate |`, "r.yaml:10:25: expected an operator after |, found end of query"},
		{`imProcessCreate | where`, "r.yaml:10:31: expected an expression, found end of query"},
		{"imProcessCreate\n| where TargetProcessName == \"x", "r.yaml:11:30: unterminated string"},
		{"imProcessCreate\n| where x == 'a\\qb'", "r.yaml:11:16: unknown escape \\q"},
		{"imProcessCreate\n| where (a == 1", `r.yaml:11:16: expected ")", found end of query`},
		{"imProcessCreate\n| where a in (1, 2", `r.yaml:11:19: expected "," or ")", found end of query`},
		{"imProcessCreate\n| where a between (1, 2)", `r.yaml:11:21: expected ".." between the bounds, found ","`},
		{"imProcessCreate\n| where a matches \"x\"", `r.yaml:11:19: expected "regex" after matches, found string "x"`},
		{"imProcessCreate | where a == 5x", `r.yaml:10:38: unknown timespan unit "x"`},
		{"imProcessCreate | where a == #", `r.yaml:10:37: unexpected character '#'`},
		{"let x = 1 imProcessCreate", `r.yaml:10:18: expected ";" after the let statement, found "imProcessCreate"`},
		{"imProcessCreate | extend = 1", `r.yaml:10:33: expected an expression, found "="`},
		{"imProcessCreate | summarize", `r.yaml:10:35: expected an expression, found end of query`},
		{"imProcessCreate | parse x", `r.yaml:10:33: expected "with" after the parsed expression, found end of query`},
		{"imProcessCreate | project-rename a", `r.yaml:10:41: expected name = column`},
		{"imProcessCreate | where a == 1 )", `r.yaml:10:39: expected "|" or the end of the query, found ")"`},
		{"imProcessCreate; imFileEvent", `r.yaml:10:25: unsupported: several tabular statements`},
		{"imProcessCreate\n  // a comment\n  | where x == 1 | where (", `r.yaml:12:27: expected an expression, found end of query`},
	}
	for _, tc := range tests {
		t.Run(tc.q, func(t *testing.T) {
			_, err := Parse(tc.q, base)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error %v, want one starting %q", err, tc.want)
			}
		})
	}
}

// TestParse: the shapes the parser builds.
func TestParse(t *testing.T) {
	q, err := Parse(`let a = "x"; let b = dynamic(["p", 'q', @"c:\d"]);
imProcessCreate()
| where TargetProcessName !in~ (b) and not(x has_cs h"y") or z between (1 .. 2h)
| extend L = tolower(x), y
| project-away y
| summarize n = count(), dcount(x) by bin(TimeGenerated, 1h), Host = DvcHostname
| parse kind=regex flags=i x with * "a" c:long *`, query.Pos{})
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Lets) != 2 || q.Table.Name != "imProcessCreate" || len(q.Ops) != 5 {
		t.Fatalf("lets %d table %s ops %d", len(q.Lets), q.Table.Name, len(q.Ops))
	}
	l := q.Lets[1].Value.(*List)
	if len(l.Items) != 3 || l.Items[2].(*StrLit).V != `c:\d` {
		t.Errorf("dynamic list %#v", l.Items)
	}
	w := q.Ops[0].(*Where).Cond.(*Binary)
	if w.Op != "or" || w.L.(*Binary).Op != "and" || w.L.(*Binary).L.(*Binary).Op != "!in~" {
		t.Errorf("where %#v", w)
	}
	if w.Pos != (query.Pos{Line: 3, Col: 59}) {
		t.Errorf("or at %v", w.Pos)
	}
	bt := w.R.(*Between)
	if bt.Hi.(*TimespanLit).D.Hours() != 2 {
		t.Errorf("between %#v", bt)
	}
	s := q.Ops[3].(*Summarize)
	if len(s.Aggs) != 2 || len(s.By) != 2 || s.By[1].Name != "Host" {
		t.Errorf("summarize %#v", s)
	}
	p := q.Ops[4].(*ParseOp)
	if p.Kind != "regex" || p.Flags != "i" || len(p.Elems) != 4 || p.Elems[2].Type != "long" {
		t.Errorf("parse %#v", p)
	}
}
