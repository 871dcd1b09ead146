package hunt

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firewarden/firewarden/exception"
	"github.com/firewarden/firewarden/history"
	"github.com/firewarden/firewarden/rule"
)

// tomlRule is an Elastic rule file of the given type with extra TOML
// appended (its [rule.threshold], [rule.new_terms]…).
func tomlRule(t *testing.T, id, typ, query, extra string) *rule.Rule {
	t.Helper()
	src := fmt.Sprintf(`[rule]
rule_id = %q
name = "rule %s"
type = %q
language = "kuery"
severity = "high"
risk_score = 73
interval = "5m"
from = "now-10m"
max_signals = 3
tags = ["Tactic: Defense Evasion"]
query = '''
%s
'''
%s`, id, id, typ, query, extra)
	r, err := rule.ParseElastic(id+".toml", []byte(src))
	if err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	return r
}

// execs writes process start events, one per line: minute offset, user,
// executable, command line, parent pid.
func execs(t *testing.T, rows ...string) string {
	t.Helper()
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	var b strings.Builder
	for i, r := range rows {
		var min int
		var user, exe, cmd string
		var ppid int
		f := strings.Split(r, "|")
		fmt.Sscan(f[0], &min)
		user, exe, cmd = f[1], f[2], f[3]
		fmt.Sscan(f[4], &ppid)
		args := strings.Fields(cmd)
		q := func(ss []string) string {
			var parts []string
			for _, s := range ss {
				parts = append(parts, fmt.Sprintf("%q", s))
			}
			return "[" + strings.Join(parts, ",") + "]"
		}
		fmt.Fprintf(&b, `{"@timestamp":%q,"event":{"id":"e%d","category":["process"],"type":["start"],"action":"exec"},"host":{"name":"h1","id":"h1"},"user":{"name":%q},"process":{"pid":%d,"executable":%q,"name":%q,"command_line":%q,"args":%s,"parent":{"pid":%d,"executable":"/bin/bash"}}}`+"\n",
			t0.Add(time.Duration(min)*time.Minute).Format(time.RFC3339), i, user, 1000+i, exe, filepath.Base(exe), cmd, q(args), ppid)
	}
	p := filepath.Join(t.TempDir(), "ev.ndjson")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func runWith(t *testing.T, rs []*rule.Rule, opts CompileOptions, path string) ([]string, *Summary) {
	t.Helper()
	eng, refused := CompileWith(rs, opts)
	if len(refused) > 0 {
		t.Fatalf("refused: %v", refused)
	}
	c := &collect{}
	sum, err := Run(context.Background(), eng, Options{Formats: formats(), Sink: c}, []string{path})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range c.alerts {
		got = append(got, fmt.Sprintf("%s@%d", a.Rule.ID, a.Events[0].Line))
	}
	return got, sum
}

func held(sum *Summary, id string) PolicyCounts {
	for _, rc := range sum.PerRule {
		if rc.Rule.ID == id {
			return rc.Held
		}
	}
	return PolicyCounts{}
}

func TestNewTermsRule(t *testing.T) {
	nt := tomlRule(t, "nt", "new_terms", `process.name:iptables`, `
[rule.new_terms]
field = "new_terms_fields"
value = ["user.name", "process.executable"]
[[rule.new_terms.history_window_start]]
field = "history_window_start"
value = "now-1d"
`)
	path := execs(t,
		"0|alice|/usr/sbin/iptables|iptables -F|1",      // new: alice + iptables
		"1|alice|/usr/sbin/iptables|iptables -X|1",      // known
		"2|bob|/usr/sbin/iptables|iptables -F|1",        // new: bob
		"3|alice|/usr/sbin/ip6tables|ip6tables -F|1",    // not iptables: the query does not match
		"1500|alice|/usr/sbin/iptables|iptables -F|1",   // 25h later: outside the 1d history, new again
		"1501|alice|/usr/sbin/iptables|iptables -F X|1", // known again
	)
	store, _ := history.Open("", 0)
	got, sum := runWith(t, []*rule.Rule{nt}, CompileOptions{History: store}, path)
	if strings.Join(got, " ") != "nt@1 nt@3 nt@5" {
		t.Errorf("alerts %v, want nt@1 nt@3 nt@5", got)
	}
	if h := held(sum, "nt"); h.KnownTerms != 2 {
		t.Errorf("held %+v, want 2 known terms", h)
	}
	// The same store remembers across runs: nothing is new the second time.
	got, _ = runWith(t, []*rule.Rule{nt}, CompileOptions{History: store}, path)
	if len(got) != 0 {
		t.Errorf("second run alerts %v, want none", got)
	}
}

func TestThresholdRule(t *testing.T) {
	th := tomlRule(t, "th", "threshold", `process.name:iptables`, `
[rule.threshold]
field = ["user.name"]
value = 3
`)
	path := execs(t,
		"0|alice|/usr/sbin/iptables|iptables -F|1",
		"1|alice|/usr/sbin/iptables|iptables -X|1",
		"2|bob|/usr/sbin/iptables|iptables -F|1",
		"3|alice|/usr/sbin/iptables|iptables -Z|1", // alice's third within 10m: alert
		"30|bob|/usr/sbin/iptables|iptables -F|1",
		"45|bob|/usr/sbin/iptables|iptables -F|1", // bob's third, but spread over 43m > 10m look-back
	)
	got, _ := runWith(t, []*rule.Rule{th}, CompileOptions{}, path)
	if strings.Join(got, " ") != "th@1" {
		t.Errorf("alerts %v, want one for alice (its evidence starting at line 1)", got)
	}
}

func TestExceptionsCounted(t *testing.T) {
	q := tomlRule(t, "q", "query", `process.name:iptables`, "")
	seq := tomlRule(t, "th", "threshold", `process.name:iptables`, "\n[rule.threshold]\nfield = [\"host.id\"]\nvalue = 2\n")
	xs, errs := exception.ParseYAML("x.yml", []byte(`exceptions:
  - name: ansible
    rules: [q, th]
    entries: [{field: user.name, operator: included, type: match, value: ansible}]
`))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	path := execs(t,
		"0|ansible|/usr/sbin/iptables|iptables -F|1",
		"1|alice|/usr/sbin/iptables|iptables -F|1",
		"2|ansible|/usr/sbin/iptables|iptables -X|1",
	)
	got, sum := runWith(t, []*rule.Rule{q, seq}, CompileOptions{Exceptions: xs}, path)
	// q: alice's only. th: only one non-ansible event, below its threshold of 2.
	if strings.Join(got, " ") != "q@2" {
		t.Errorf("alerts %v, want q@2", got)
	}
	if len(sum.Exceptions) != 1 || sum.Exceptions[0].Removed != 2 || sum.Exceptions[0].Prefilters != 1 {
		t.Errorf("exception counts %+v, want 2 removed and 1 stateful rule filtered", sum.Exceptions)
	}
	if h := held(sum, "q"); h.Excepted != 2 {
		t.Errorf("held %+v", h)
	}
}

func TestSuppressionRateLimitDedup(t *testing.T) {
	q := tomlRule(t, "q", "query", `process.name:iptables`, `
[rule.alert_suppression]
group_by = ["process.parent.pid"]
missing_fields_strategy = "suppress"
[rule.alert_suppression.duration]
value = 10
unit = "m"
`)
	path := execs(t,
		"0|a|/usr/sbin/iptables|iptables -F|1",
		"1|a|/usr/sbin/iptables|iptables -F|1",  // suppressed (parent 1 within 10m)
		"2|a|/usr/sbin/iptables|iptables -F|2",  // parent 2: alert
		"3|a|/usr/sbin/iptables|iptables -F|3",  // parent 3: alert (3rd in this 5m interval)
		"4|a|/usr/sbin/iptables|iptables -F|4",  // parent 4: over max_signals=3 in [10:00,10:05)
		"11|a|/usr/sbin/iptables|iptables -F|1", // parent 1 again after 10m: alert
	)
	got, sum := runWith(t, []*rule.Rule{q}, CompileOptions{}, path)
	if strings.Join(got, " ") != "q@1 q@3 q@4 q@6" {
		t.Errorf("alerts %v", got)
	}
	if h := held(sum, "q"); h.Suppressed != 1 || h.RateLimited != 1 {
		t.Errorf("held %+v, want 1 suppressed and 1 over max_signals", h)
	}
	// The same log twice in one run: the second copy's alerts are
	// duplicates (same events, same ids).
	eng, _ := CompileWith([]*rule.Rule{q}, CompileOptions{})
	c := &collect{}
	sum, err := Run(context.Background(), eng, Options{Formats: formats(), Sink: c}, []string{path, path})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.alerts) != 4 || held(sum, "q").Duplicates == 0 {
		t.Errorf("%d alerts, held %+v: want 4 and duplicates counted", len(c.alerts), held(sum, "q"))
	}
}
