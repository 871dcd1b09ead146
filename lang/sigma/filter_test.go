package sigma

import (
	"strings"
	"testing"

	"github.com/firewarden/firewarden/query"
)

const filterDoc = `title: Not from config management
id: ffffffff-0000-0000-0000-000000000000
logsource:
  product: linux
  category: process_creation
filter:
  rules:
    - port_open
  puppet:
    ParentImage|endswith: /puppet
  condition: not puppet
`

func TestFilterApply(t *testing.T) {
	rs, err := ParseFile("f.yml", []byte(filterDoc+baseDocs))
	if err != nil {
		t.Fatal(err)
	}
	f, target, shell, audit := rs[0], rs[1], rs[2], rs[3]
	if f.Kind() != "filter" || f.Query != nil || len(f.Filter.Rules) != 1 || f.Filter.Any {
		t.Fatalf("filter %+v", f.Filter)
	}
	if !f.Covers(target) || !f.Covers(shell) || f.Covers(audit) {
		t.Error("covers")
	}
	q, err := ApplyFilter(f, target, target.Query)
	if err != nil {
		t.Fatal(err)
	}
	got := irString(q.Stages[0].(query.Filter).Expr)
	want := `and(sel:sel(and(process.executable~suffix["/iptables"], process.command_line~contains["--dport"])), sel:filter Not from config management(not(sel:puppet(process.parent.executable~suffix["/puppet"]))))`
	if got != want {
		t.Errorf("filtered\n got %s\nwant %s", got, want)
	}
	if q.ScopeKey != target.Query.ScopeKey || irString(target.Query.Stages[0].(query.Filter).Expr) == got {
		t.Error("the rule's own query changed or the scope was lost")
	}
	// Compiled with the target's field map: for an auditd rule the
	// filter's Sysmon field does not exist.
	if _, err := ApplyFilter(f, audit, audit.Query); err == nil || !strings.Contains(err.Error(), `f.yml:10:5: unsupported: auditd field "ParentImage"`) {
		t.Errorf("audit: %v", err)
	}
}

func TestFilterAny(t *testing.T) {
	for _, rules := range []string{"any", "[]"} {
		rs, err := ParseFile("f.yml", []byte(strings.Replace(filterDoc, "rules:\n    - port_open", "rules: "+rules, 1)))
		if err != nil {
			t.Fatal(err)
		}
		if !rs[0].Filter.Any {
			t.Errorf("rules: %s is not any", rules)
		}
	}
}

func TestFilterErrors(t *testing.T) {
	head := "title: f\nlogsource:\n  product: linux\n  category: process_creation\n"
	tests := []struct {
		name, text, want string
		unsup            bool
	}{
		{"not a mapping", head + "filter: [a]\n", `f.yml:5:9: a list as filter, expected a mapping with rules, selections and a condition`, false},
		{"no rules", head + "filter:\n  s: {User: a}\n  condition: s\n", `f.yml:5:1: filter without rules, expected rules: the ids or names of the rules it tunes, or any`, false},
		{"rules mapping", head + "filter:\n  rules: {a: b}\n  s: {User: a}\n  condition: s\n", `f.yml:6:10: a mapping as rules, expected a name or a list of names`, false},
		{"no condition", head + "filter:\n  rules: [a]\n  s: {User: a}\n", `f.yml:5:1: filter without a condition, expected condition: ...`, false},
		{"condition list", head + "filter:\n  rules: [a]\n  s: {User: a}\n  condition: [s]\n", `f.yml:8:14: a list as filter condition, expected a string`, false},
		{"no selections", head + "filter:\n  rules: [a]\n  condition: s\n", `f.yml:6:3: detection without search identifiers, expected at least one selection`, false},
		{"unknown identifier", head + "filter:\n  rules: [a]\n  s: {User: a}\n  condition: not t\n", `f.yml:8:18: unknown search identifier "t", expected one of s`, false},
		{"bad modifier", head + "filter:\n  rules: [a]\n  s: {User|nope: a}\n  condition: s\n", `f.yml:7:12: unknown modifier "nope", expected one of all, base64, base64offset, cased, cidr, contains, day, endswith, exists, expand, fieldref, gt, gte, hour, lt, lte, minute, month, neq, re (with i, m, s), startswith, utf16, utf16be, utf16le, wide, week, windash, year`, false},
		{"no logsource", "title: f\nfilter:\n  rules: [a]\n  s: {User: a}\n  condition: s\n", `f.yml:1:1: rule without a logsource, expected logsource: with product, category or service`, false},
		{"unsupported logsource", "title: f\nlogsource: {product: aws}\nfilter:\n  rules: [a]\n  s: {User: a}\n  condition: s\n", `f.yml:2:22: unsupported: log source product aws (firewarden reads Linux, Windows and macOS host telemetry only)`, true},
		{"detection too", head + "detection:\n  s: {User: a}\n  condition: s\nfilter:\n  rules: [a]\n  s: {User: a}\n  condition: s\n", `f.yml:5:1: detection in a filter rule, expected the selections and condition under filter:`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseFile("f.yml", []byte(tc.text))
			checkErr(t, err, tc.want, tc.unsup, tc.text)
		})
	}
}
