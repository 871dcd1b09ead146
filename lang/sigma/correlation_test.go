package sigma

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/firewarden/firewarden/query"
)

// corrText is a correlation document; body is its correlation section,
// indented by two spaces here.
func corrText(body string, extra ...string) string {
	var b strings.Builder
	b.WriteString("title: c\nid: cccccccc-0000-0000-0000-000000000000\n")
	for _, e := range extra {
		b.WriteString(e + "\n")
	}
	b.WriteString("correlation:\n")
	for _, l := range strings.Split(strings.Trim(body, "\n"), "\n") {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}

const baseDocs = `
---
title: Port opened
id: 00000000-0000-0000-0000-0000000000b1
name: port_open
logsource:
  product: linux
  category: process_creation
detection:
  sel:
    Image|endswith: /iptables
    CommandLine|contains: '--dport'
  condition: sel
---
title: Shell
id: 00000000-0000-0000-0000-0000000000b2
name: shell
logsource:
  product: linux
  category: process_creation
detection:
  sel:
    Image|endswith: /sh
  condition: sel
---
title: Audit
id: 00000000-0000-0000-0000-0000000000b3
name: audit_exec
logsource:
  product: linux
  service: auditd
detection:
  sel:
    type: EXECVE
  condition: sel
`

// linkFile resolves the correlations and filters of one file's
// documents among themselves, as rule.Set does across files.
func linkFile(rs []*Rule) (map[*Rule]*query.Query, error) {
	out := map[*Rule]*query.Query{}
	find := func(ref string) *Rule {
		for _, r := range rs {
			if r.Filter == nil && r.Names(ref) {
				return r
			}
		}
		return nil
	}
	for _, r := range rs {
		if r.Query != nil {
			out[r] = r.Query
		}
	}
	for _, f := range rs {
		if f.Filter == nil {
			continue
		}
		for _, ref := range f.Filter.Rules {
			t := find(ref.Text)
			if t == nil || t.Query == nil || !f.Covers(t) {
				return nil, fmt.Errorf("filter ref %q", ref.Text)
			}
			q, err := ApplyFilter(f, t, out[t])
			if err != nil {
				return nil, err
			}
			out[t] = q
		}
	}
	// Correlations over detection rules first, then chained ones (one
	// level is enough here).
	var cs []*Rule
	for _, c := range rs {
		if c.Correlation == nil {
			continue
		}
		chained := false
		for _, ref := range c.Correlation.Rules {
			if t := find(ref.Text); t != nil && t.Correlation != nil {
				chained = true
			}
		}
		if chained {
			cs = append(cs, c)
		} else {
			cs = append([]*Rule{c}, cs...)
		}
	}
	for _, c := range cs {
		var refs []Resolved
		for _, ref := range c.Correlation.Rules {
			t := find(ref.Text)
			if t == nil {
				return nil, query.Errorf(ref.Pos, "dangling %q", ref.Text)
			}
			refs = append(refs, Resolved{Rule: t, Query: out[t]})
		}
		q, err := CompileCorrelation(c, refs)
		if err != nil {
			return nil, err
		}
		out[c] = q
	}
	return out, nil
}

func compileCorrelation(t *testing.T, text string) (*Rule, *query.Aggregate, *query.Query) {
	t.Helper()
	rs, err := ParseFile("c.yml", []byte(text+baseDocs))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, text)
	}
	qs, err := linkFile(rs)
	if err != nil {
		t.Fatalf("link: %v\n%s", err, text)
	}
	c := rs[0]
	q := qs[c]
	if q == nil || len(q.Stages) != 1 {
		t.Fatalf("query %+v", q)
	}
	agg, ok := q.Stages[0].(query.Aggregate)
	if !ok {
		t.Fatalf("stage %T", q.Stages[0])
	}
	return c, &agg, q
}

func havingString(x query.Expr) string {
	var parts []string
	var walk func(query.Expr)
	walk = func(x query.Expr) {
		switch t := x.(type) {
		case query.And:
			for _, y := range t.X {
				walk(y)
			}
		case query.Compare:
			parts = append(parts, fmt.Sprintf("%s %s %s", t.L.(query.Field).Path, t.Op, t.R.(query.Lit).V))
		default:
			parts = append(parts, fmt.Sprintf("%T", x))
		}
	}
	walk(x)
	return strings.Join(parts, " and ")
}

func funcsString(fs []query.AggFunc) string {
	var parts []string
	for _, f := range fs {
		s := f.Name + "("
		if f.Field != nil {
			s += f.Field.(query.Field).Path
		}
		if f.Name == "percentile" {
			s += fmt.Sprintf(", %g", f.Arg)
		}
		parts = append(parts, s+") as "+f.As)
	}
	return strings.Join(parts, "; ")
}

func inputsString(ins []query.AggInput) string {
	var parts []string
	for _, in := range ins {
		var gs []string
		for _, g := range in.GroupBy {
			gs = append(gs, g.(query.Field).Path)
		}
		parts = append(parts, in.Name+" by "+strings.Join(gs, ","))
	}
	return strings.Join(parts, "; ")
}

func TestCorrelationCompile(t *testing.T) {
	tests := []struct {
		name, body string
		extra      []string
		funcs      string
		having     string
		inputs     string
		window     time.Duration
		ordered    bool
		scoped     bool // the inputs share the query's scope
	}{
		{"event_count", "type: event_count\nrules: port_open\ngroup-by: [ParentProcessId, Computer]\ntimespan: 1h\ncondition: {gte: 10}",
			nil, "count() as event_count", "event_count >= 10", "port_open by process.parent.pid,host.name", time.Hour, false, true},
		{"value_count", "type: value_count\nrules: [00000000-0000-0000-0000-0000000000b1]\ngroup-by: [ParentProcessId]\ntimespan: 5m\ncondition:\n  field: CommandLine\n  gte: 3",
			nil, "distinct(process.command_line) as value_count", "value_count >= 3", "00000000-0000-0000-0000-0000000000b1 by process.parent.pid", 5 * time.Minute, false, true},
		{"value_count fields ANDed", "type: value_count\nrules: [port_open]\ngroup-by: [User]\ntimespan: 5m\ncondition:\n  field: [CommandLine, ParentImage]\n  gt: 2",
			nil, "distinct(process.command_line) as value_count_CommandLine; distinct(process.parent.executable) as value_count_ParentImage",
			"value_count_CommandLine > 2 and value_count_ParentImage > 2", "port_open by user.name", 5 * time.Minute, false, true},
		{"range", "type: event_count\nrules: [port_open]\ngroup-by: [User]\ntimespan: 2d\ncondition:\n  gt: 100\n  lte: 200",
			nil, "count() as event_count", "event_count > 100 and event_count <= 200", "port_open by user.name", 48 * time.Hour, false, true},
		{"neq", "type: event_count\nrules: [port_open]\ntimespan: 1w\ncondition: {neq: 0}",
			nil, "count() as event_count", "event_count != 0", "port_open by ", 7 * 24 * time.Hour, false, true},
		{"temporal default condition", "type: temporal\nrules: [port_open, shell]\ngroup-by: [User]\ntimespan: 30s",
			nil, "inputs() as temporal", "temporal >= 2", "port_open by user.name; shell by user.name", 30 * time.Second, false, true},
		{"temporal condition", "type: temporal\nrules: [port_open, shell, audit_exec]\ngroup-by: [User]\ntimespan: 30s\ncondition: {gte: 2}",
			nil, "inputs() as temporal", "temporal >= 2", "port_open by user.name; shell by user.name; audit_exec by auditd.User", 30 * time.Second, false, false},
		{"temporal_ordered", "type: temporal_ordered\nrules: [shell, port_open]\ngroup-by: [User]\ntimespan: 10m",
			nil, "inputs() as temporal_ordered", "temporal_ordered >= 2", "shell by user.name; port_open by user.name", 10 * time.Minute, true, true},
		{"value_sum", "type: value_sum\nrules: [port_open]\ngroup-by: [User]\ntimespan: 1h\ncondition:\n  field: ProcessId\n  gt: 1000000",
			nil, "sum(process.pid) as value_sum", "value_sum > 1000000", "port_open by user.name", time.Hour, false, true},
		{"value_avg float", "type: value_avg\nrules: [port_open]\ngroup-by: [User]\ntimespan: 24h\ncondition:\n  field: ProcessId\n  gt: 500.5",
			nil, "avg(process.pid) as value_avg", "value_avg > 500.5", "port_open by user.name", 24 * time.Hour, false, true},
		{"value_percentile", "type: value_percentile\nrules: [port_open]\ngroup-by: [Computer]\ntimespan: 24h\ncondition:\n  field: ProcessId\n  percentile: 95\n  lte: 1",
			nil, "percentile(process.pid, 95) as value_percentile", "value_percentile <= 1", "port_open by host.name", 24 * time.Hour, false, true},
		{"value_median", "type: value_median\nrules: [port_open]\ngroup-by: [Computer]\ntimespan: 24h\ncondition:\n  field: ProcessId\n  gt: 7",
			nil, "percentile(process.pid, 50) as value_median", "value_median > 7", "port_open by host.name", 24 * time.Hour, false, true},
		{"aliases", "type: temporal\nrules: [port_open, audit_exec]\ngroup-by: [who, Computer]\ntimespan: 10s\naliases:\n  who:\n    port_open: User\n    00000000-0000-0000-0000-0000000000b3: auid",
			nil, "inputs() as temporal", "temporal >= 2", "port_open by user.name,host.name; audit_exec by auditd.auid,auditd.Computer", 10 * time.Second, false, false},
		{"ecs taxonomy", "type: event_count\nrules: [port_open]\ngroup-by: [process.parent.entity_id]\ntimespan: 1m\ncondition: {gte: 2}",
			[]string{"taxonomy: ecs"}, "count() as event_count", "event_count >= 2", "port_open by process.parent.entity_id", time.Minute, false, true},
		{"months and years", "type: event_count\nrules: [port_open]\ntimespan: 1M\ncondition: {gte: 2}",
			nil, "count() as event_count", "event_count >= 2", "port_open by ", 2629746 * time.Second, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, agg, q := compileCorrelation(t, corrText(tc.body, tc.extra...))
			if got := funcsString(agg.Funcs); got != tc.funcs {
				t.Errorf("funcs\n got %s\nwant %s", got, tc.funcs)
			}
			if got := havingString(agg.Having); got != tc.having {
				t.Errorf("having\n got %s\nwant %s", got, tc.having)
			}
			if got := inputsString(agg.Inputs); got != tc.inputs {
				t.Errorf("inputs\n got %s\nwant %s", got, tc.inputs)
			}
			if agg.Window != tc.window || agg.Ordered != tc.ordered || agg.Tolerance != min(tc.window, DefaultTolerance) {
				t.Errorf("window %v ordered %v tolerance %v", agg.Window, agg.Ordered, agg.Tolerance)
			}
			if len(agg.Names) != len(c.Correlation.GroupBy) || len(agg.GroupBy) != 0 {
				t.Errorf("names %v groupby %v", agg.Names, agg.GroupBy)
			}
			for i, g := range c.Correlation.GroupBy {
				if agg.Names[i] != g.Text {
					t.Errorf("name %d: %s, want %s", i, agg.Names[i], g.Text)
				}
			}
			if (q.Scope != nil) != tc.scoped {
				t.Errorf("scope %v", q.Scope)
			}
			for _, in := range agg.Inputs {
				x := irString(in.Filter)
				// Each input is its rule's detection; a scope the inputs
				// do not share is part of the input's filter.
				if strings.Contains(x, "host.os.type") == tc.scoped || !strings.Contains(x, "sel:sel") {
					t.Errorf("input %s filter %s", in.Name, x)
				}
			}
			if c.Correlation.Generate {
				t.Error("generate defaults to true")
			}
		})
	}
}

func TestCorrelationGenerate(t *testing.T) {
	for _, tc := range []struct {
		extra []string
		body  string
		want  bool
	}{
		{nil, "", false},
		{[]string{"generate: true"}, "", true},
		{[]string{"generate: false"}, "", false},
		{nil, "generate: true\n", true},
	} {
		rs, err := ParseFile("c.yml", []byte(corrText(tc.body+"type: event_count\nrules: [port_open]\ntimespan: 1m\ncondition: {gte: 2}", tc.extra...)+baseDocs))
		if err != nil {
			t.Fatal(err)
		}
		if rs[0].Correlation.Generate != tc.want {
			t.Errorf("%v %q: generate %v", tc.extra, tc.body, rs[0].Correlation.Generate)
		}
		if rs[0].Kind() != "correlation" || rs[0].Query != nil {
			t.Errorf("kind %s query %v", rs[0].Kind(), rs[0].Query)
		}
	}
}

func TestCorrelationErrors(t *testing.T) {
	ok := "type: value_count\nrules: [port_open]\ngroup-by: [User]\ntimespan: 5m\ncondition:\n  field: CommandLine\n  gte: 3"
	tests := []struct {
		name, text, want string
		unsup            bool
	}{
		{"not a mapping", "title: c\ncorrelation: [a]\n", `c.yml:2:14: a list as correlation, expected a mapping with type, rules, group-by, timespan and condition`, false},
		{"no type", corrText("rules: [a]\ntimespan: 5m"), `c.yml:3:1: correlation without a type, expected type: event_count, value_count, temporal, temporal_ordered, value_sum, value_avg or value_percentile`, false},
		{"bad type", corrText("type: value_max\nrules: [a]"), `c.yml:4:9: correlation type "value_max", expected event_count, value_count, temporal, temporal_ordered, value_sum, value_avg or value_percentile`, false},
		{"type list", corrText("type: [event_count]"), `c.yml:4:9: a list as correlation type, expected event_count, value_count, temporal, temporal_ordered, value_sum, value_avg or value_percentile`, false},
		{"unknown key", corrText("type: event_count\ngroupby: [User]"), `c.yml:5:3: unknown correlation attribute "groupby", expected one of type, rules, group-by, timespan, condition, aliases, generate`, false},
		{"no rules", corrText("type: event_count\ntimespan: 5m"), `c.yml:3:1: correlation without rules, expected rules: a list of the ids or names of the rules it correlates`, false},
		{"empty rules", corrText("type: event_count\nrules: []"), `c.yml:5:10: empty rules, expected the ids or names of the rules the correlation correlates`, false},
		{"rules mapping", corrText("type: event_count\nrules: {a: b}"), `c.yml:5:10: a mapping as rules, expected a name or a list of names`, false},
		{"rule not a string", corrText("type: event_count\nrules: [a, [b]]"), `c.yml:5:14: a list in rules, expected a name`, false},
		{"rule twice", corrText("type: event_count\nrules: [a, a]"), `c.yml:5:14: rule "a" referenced twice, expected each rule once`, false},
		{"group-by mapping", corrText("type: event_count\nrules: [a]\ngroup-by: {a: b}"), `c.yml:6:13: a mapping as group-by, expected a name or a list of names`, false},
		{"group-by twice", corrText("type: event_count\nrules: [a]\ngroup-by: [User, User]"), `c.yml:6:20: group-by field "User" listed twice, expected each field once`, false},
		{"no timespan", corrText("type: event_count\nrules: [a]"), `c.yml:3:1: correlation without a timespan, expected timespan: a number and a unit (s, m, h, d, w, M, y), such as 5m`, false},
		{"timespan unit", corrText("type: event_count\nrules: [a]\ntimespan: 5x"), `c.yml:6:13: "5x" as timespan, expected a positive whole number and a unit (s, m, h, d, w, M, y), such as 5m`, false},
		{"timespan zero", corrText("type: event_count\nrules: [a]\ntimespan: 0m"), `c.yml:6:13: "0m" as timespan, expected a positive whole number and a unit (s, m, h, d, w, M, y), such as 5m`, false},
		{"timespan compound", corrText("type: event_count\nrules: [a]\ntimespan: 1h30m"), `c.yml:6:13: "1h30m" as timespan, expected a positive whole number and a unit (s, m, h, d, w, M, y), such as 5m`, false},
		{"timespan number", corrText("type: event_count\nrules: [a]\ntimespan: 300"), `c.yml:6:13: "300" as timespan, expected a positive whole number and a unit (s, m, h, d, w, M, y), such as 5m`, false},
		{"timespan overflow", corrText("type: event_count\nrules: [a]\ntimespan: 99999999999y"), `c.yml:6:13: "99999999999y" as timespan, expected a positive whole number and a unit (s, m, h, d, w, M, y), such as 5m`, false},
		{"no condition", corrText("type: event_count\nrules: [a]\ntimespan: 5m"), `c.yml:3:1: event_count correlation without a condition, expected condition: with gt, gte, lt, lte, eq or neq`, false},
		{"condition scalar", corrText("type: event_count\nrules: [a]\ntimespan: 5m\ncondition: 3"), `c.yml:7:14: a scalar as correlation condition, expected a mapping such as gte: 3`, false},
		{"extended condition", corrText("type: temporal\nrules: [a, b]\ntimespan: 5m\ncondition: a and not b"), `c.yml:7:14: unsupported: extended correlation condition (a boolean expression over rule names is pySigma's extension, not Sigma 2.1; firewarden's aggregation counts the rules matched)`, true},
		{"condition op", corrText("type: event_count\nrules: [a]\ntimespan: 5m\ncondition: {ge: 3}"), `c.yml:7:15: unknown correlation condition "ge", expected gt, gte, lt, lte, eq, neq`, false},
		{"condition without comparison", corrText("type: value_count\nrules: [a]\ntimespan: 5m\ncondition: {field: User}"), `c.yml:7:14: correlation condition without a comparison, expected gt, gte, lt, lte, eq or neq`, false},
		{"condition text", corrText("type: event_count\nrules: [a]\ntimespan: 5m\ncondition: {gte: many}"), `c.yml:7:20: "many" as gte, expected a number`, false},
		{"count fraction", corrText("type: event_count\nrules: [a]\ntimespan: 5m\ncondition: {gte: 2.5}"), `c.yml:7:20: "2.5" as gte, expected a whole number of at least 0 (the event_count condition is a count)`, false},
		{"count negative", corrText("type: temporal\nrules: [a]\ntimespan: 5m\ncondition: {gte: -1}"), `c.yml:7:20: "-1" as gte, expected a whole number of at least 0 (the temporal condition is a count)`, false},
		{"value_count no field", corrText("type: value_count\nrules: [a]\ntimespan: 5m\ncondition: {gte: 3}"), `c.yml:7:14: value_count condition without a field, expected field: the field whose values it aggregates`, false},
		{"field in event_count", corrText("type: event_count\nrules: [a]\ntimespan: 5m\ncondition: {gte: 3, field: User}"), `c.yml:7:23: field in a event_count condition, expected it only in value_count, value_sum, value_avg and value_percentile`, false},
		{"field mapping", corrText("type: value_sum\nrules: [a]\ntimespan: 5m\ncondition: {gte: 3, field: {a: b}}"), `c.yml:7:30: a mapping as field, expected a name or a list of names`, false},
		{"two fields in value_sum", corrText("type: value_sum\nrules: [a]\ntimespan: 5m\ncondition: {gte: 3, field: [a, b]}"), `c.yml:7:34: 2 fields in a value_sum condition, expected one (only value_count counts several fields, ANDed)`, false},
		{"percentile missing", corrText("type: value_percentile\nrules: [a]\ntimespan: 5m\ncondition: {lte: 3, field: x}"), `c.yml:7:14: value_percentile condition without a percentile, expected percentile: a rank from 0 to 100 (as pySigma requires)`, false},
		{"percentile range", corrText("type: value_percentile\nrules: [a]\ntimespan: 5m\ncondition: {lte: 3, field: x, percentile: 101}"), `c.yml:7:45: "101" as percentile, expected a rank from 0 to 100`, false},
		{"percentile elsewhere", corrText("type: value_avg\nrules: [a]\ntimespan: 5m\ncondition: {lte: 3, field: x, percentile: 5}"), `c.yml:7:33: percentile in a value_avg condition, expected it only in value_percentile`, false},
		{"duplicate op", corrText("type: event_count\nrules: [a]\ntimespan: 5m\ncondition: {gte: 3, gte: 4}"), `c.yml:7:23: duplicate key "gte", expected each key once (first at line 7)`, false},
		{"generate text", corrText("type: event_count\nrules: [a]\ntimespan: 5m\ncondition: {gte: 3}", "generate: yes please"), `c.yml:3:11: "yes please" as generate, expected true or false`, false},
		{"generate twice", corrText("type: event_count\nrules: [a]\ntimespan: 5m\ncondition: {gte: 3}\ngenerate: true", "generate: true"), `c.yml:9:3: generate both at the top level and in correlation, expected it once`, false},
		{"aliases list", corrText("type: temporal\nrules: [a]\ntimespan: 5m\ngroup-by: [ip]\naliases: [ip]"), `c.yml:8:12: a list as aliases, expected a mapping of alias name to {rule name: field}`, false},
		{"alias scalar", corrText("type: temporal\nrules: [a]\ntimespan: 5m\ngroup-by: [ip]\naliases:\n  ip: source.ip"), `c.yml:9:9: a scalar as alias "ip", expected a mapping of rule name to field name`, false},
		{"alias field", corrText("type: temporal\nrules: [a]\ntimespan: 5m\ngroup-by: [ip]\naliases:\n  ip:\n    a: [x]"), `c.yml:10:10: a list as the field of alias "ip" for rule "a", expected a field name`, false},
		{"alias not grouped", corrText("type: temporal\nrules: [a]\ntimespan: 5m\ngroup-by: [User]\naliases:\n  ip:\n    a: x"), `c.yml:9:5: alias "ip" is not in group-by, expected every alias to be grouped by`, false},
		{"detection too", corrText("type: event_count\nrules: [a]\ntimespan: 5m\ncondition: {gte: 3}") + "detection:\n  s: {a: b}\n  condition: s\n", `c.yml:8:1: detection in a correlation rule, expected the detection in a rule of its own that the correlation references`, false},
		{"logsource", corrText(ok, "logsource: {product: linux}"), `c.yml:3:1: logsource in a correlation rule, expected the log source in the rules it references`, false},
		{"filter and correlation", corrText(ok) + "filter: {rules: [a], s: {a: b}, condition: s}\n", `c.yml:11:1: filter in a correlation rule, expected either correlation or filter`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseFile("c.yml", []byte(tc.text))
			checkErr(t, err, tc.want, tc.unsup, tc.text)
		})
	}
}

func checkErr(t *testing.T, err error, want string, unsup bool, text string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s\n%s", want, text)
	}
	if err.Error() != want {
		t.Errorf("error\n got %s\nwant %s\n%s", err, want, text)
	}
	var u *query.Unsupported
	var e *query.Error
	switch {
	case unsup && !errors.As(err, &u):
		t.Errorf("got %T, want *query.Unsupported", err)
	case !unsup && !errors.As(err, &e):
		t.Errorf("got %T, want *query.Error", err)
	}
}

// TestCorrelationLinkErrors: errors found once the references resolve.
func TestCorrelationLinkErrors(t *testing.T) {
	tests := []struct {
		name, body, want string
		unsup            bool
	}{
		{"same rule twice", "type: temporal\nrules: [port_open, 00000000-0000-0000-0000-0000000000b1]\ntimespan: 5m",
			`c.yml:5:22: "port_open" and "00000000-0000-0000-0000-0000000000b1" are the same rule, expected each rule once`, false},
		{"alias for another rule", "type: temporal\nrules: [port_open, shell]\ngroup-by: [ip]\ntimespan: 5m\naliases:\n  ip:\n    port_open: a\n    shell: b\n    audit_exec: c",
			`c.yml:12:19: alias "ip" names rule "audit_exec", which the correlation does not reference`, false},
		{"alias missing a rule", "type: temporal\nrules: [port_open, shell]\ngroup-by: [ip]\ntimespan: 5m\naliases:\n  ip:\n    port_open: a",
			`c.yml:9:5: alias "ip" has no field for rule "shell", expected one for every rule the correlation references`, false},
		{"field mapped apart", "type: value_count\nrules: [port_open, audit_exec]\ngroup-by: [x]\ntimespan: 5m\ncondition: {gte: 2, field: User}",
			`c.yml:8:30: unsupported: field "User" mapped to user.name for "port_open" and auditd.User for "audit_exec" (a correlation aggregates one event field)`, true},
		{"chained: group-by the inner one does not output", "type: event_count\nrules: [inner]\ngroup-by: [User]\ntimespan: 5m\ncondition: {gte: 2}",
			`c.yml:6:14: group-by "User": the correlation "Inner" ("inner") has no "User" in its results (it groups by nothing), expected one of its group-by names or an alias naming one`, false},
		{"chained: alias to a name the inner one does not output", "type: temporal\nrules: [inner, shell]\ngroup-by: [u]\ntimespan: 5m\naliases:\n  u:\n    inner: User\n    shell: User",
			`c.yml:10:14: group-by "u": the correlation "Inner" ("inner") has no "User" in its results (it groups by nothing), expected one of its group-by names or an alias naming one`, false},
		{"chained: value field the inner one does not output", "type: value_count\nrules: [inner]\ntimespan: 5m\ncondition: {gte: 2, field: CommandLine}",
			`c.yml:7:30: field "CommandLine": the correlation "Inner" ("inner") has no "CommandLine" in its results (it groups by nothing), expected one of its group-by names`, false},
	}
	inner := "---\ntitle: Inner\nname: inner\ncorrelation:\n  type: event_count\n  rules: [shell]\n  timespan: 1m\n  condition: {gte: 5}\n"
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text := corrText(tc.body) + inner + strings.TrimPrefix(baseDocs, "\n")
			rs, err := ParseFile("c.yml", []byte(text))
			if err != nil {
				t.Fatal(err)
			}
			_, err = linkFile(rs)
			checkErr(t, err, tc.want, tc.unsup, text)
		})
	}
}

// TestChainedCorrelationCompile: a correlation over a correlation reads
// its results (synthetic events selected by the chain key, grouped by the
// inner group-by names, aliases resolved), and its detection-rule inputs
// ignore synthetic events.
func TestChainedCorrelationCompile(t *testing.T) {
	text := corrText("type: temporal_ordered\nrules: [many, shell]\ngroup-by: [account]\ntimespan: 10m\naliases:\n  account:\n    many: User\n    shell: User") +
		"---\ntitle: Many\nname: many\ncorrelation:\n  type: event_count\n  rules: [shell]\n  group-by: [User, Computer]\n  timespan: 1m\n  condition: {gte: 5}\n"
	rs, err := ParseFile("c.yml", []byte(text+baseDocs))
	if err != nil {
		t.Fatal(err)
	}
	qs, err := linkFile(rs)
	if err != nil {
		t.Fatal(err)
	}
	q := qs[rs[0]]
	if q.Scope != nil || q.ScopeKey != "" {
		t.Errorf("scope %v %q, want none (one input reads synthetic events)", q.Scope, q.ScopeKey)
	}
	agg := q.Stages[0].(query.Aggregate)
	inner := rs[1]
	want := query.AggInput{Name: "many", Filter: query.Match{Field: query.Field{Path: ChainKeyField}, Op: query.Equal, Values: []string{ChainKey(inner)}},
		GroupBy: []query.Expr{query.Field{Path: "User"}}}
	if !reflect.DeepEqual(agg.Inputs[0], want) {
		t.Errorf("inner input\n got %#v\nwant %#v", agg.Inputs[0], want)
	}
	if ChainKey(inner) != "c.yml:13:1" {
		t.Errorf("chain key %q", ChainKey(inner))
	}
	shell := agg.Inputs[1]
	and, ok := shell.Filter.(query.And)
	if !ok || !reflect.DeepEqual(and.X[0], query.Not{X: query.Exists{Path: ChainKeyField}}) {
		t.Errorf("shell input filter %#v, want synthetic events excluded first", shell.Filter)
	}
	if !reflect.DeepEqual(shell.GroupBy, []query.Expr{query.Field{Path: "user.name"}}) {
		t.Errorf("shell group-by %#v", shell.GroupBy)
	}
	if !agg.Ordered || agg.Names[0] != "account" {
		t.Errorf("aggregate %+v", agg)
	}
}
