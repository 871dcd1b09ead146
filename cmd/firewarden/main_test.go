package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firewarden/firewarden/rule"
	"github.com/firewarden/firewarden/rules"
)

// run executes the CLI in-process and returns stdout, stderr and the exit code.
func run(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	root := newRoot()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	err := root.Execute()
	code := exitOK
	if err != nil {
		var ee *exitError
		switch {
		case errors.As(err, &ee):
			code = ee.code
		case isUsage(err):
			code = exitUsage
		default:
			code = exitFailure
		}
		errb.WriteString(err.Error())
	}
	return out.String(), errb.String(), code
}

func TestHuntBundledSamples(t *testing.T) {
	out, errs, code := run(t, "", "hunt", "--format", "ndjson", filepath.Join("..", "..", "testdata", "samples"))
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<24)
	n := 0
	perRule := map[string]int{}
	for sc.Scan() {
		var a struct {
			Rule struct {
				ID, Name, Language, Severity, Type string
				RiskScore                          int `json:"risk_score"`
			}
			Threat []struct {
				Technique []struct {
					ID       string `json:"id"`
					LegacyID string `json:"legacy_id"`
				} `json:"technique"`
			}
			Events []map[string]any
		}
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatal(err)
		}
		n++
		perRule[a.Rule.Name]++
		if (a.Rule.Language != "sigma" && a.Rule.Language != "eql" && a.Rule.Language != "spl") || a.Rule.Severity == "" || a.Rule.RiskScore == 0 {
			t.Errorf("rule metadata missing: %+v", a.Rule)
		}
		// Every pack rule names a technique ATT&CK v19 renumbered; the
		// alert carries both ids (T1686 and T1562.004, T1685 and T1562.001).
		renamed := map[string]string{"T1686": "T1562.004", "T1562.004": "T1686", "T1685": "T1562.001", "T1562.001": "T1685"}
		both := false
		for _, th := range a.Threat {
			for _, te := range th.Technique {
				if other, ok := renamed[te.ID]; ok {
					both = te.LegacyID == other
					if !both {
						t.Errorf("%s: technique %s without its other id %s", a.Rule.Name, te.ID, other)
					}
				}
			}
		}
		if !both {
			t.Errorf("%s: threat %+v names no renumbered technique with both ids", a.Rule.Name, a.Threat)
		}
		// A single-event rule's alert holds its event; a correlation's
		// (the pack's CyclopsBlink value_count) the events that made it.
		agg := a.Rule.Type == "value_count" || a.Rule.Language == "spl" // the SPL seed's stats
		if want := 1; agg && len(a.Events) < 3 || !agg && len(a.Events) != want {
			t.Fatalf("%s (%s): events = %d", a.Rule.Name, a.Rule.Type, len(a.Events))
		}
	}
	// The seed Sigma rule wants Image ending in /iptables: on this
	// nft-backed capture iptables runs as /usr/sbin/xtables-nft-multi, so
	// the seed is blind; the firewarden rules of the pack are not.
	if perRule["Flush Iptables Ufw Chain"] != 0 {
		t.Errorf("the seed rule fired %d times; it is blind on nft-backed hosts", perRule["Flush Iptables Ufw Chain"])
	}
	for _, r := range []string{"Netfilter Rules, Chains or Tables Removed (Kernel Record)", "Nftables Ruleset, Table or Chain Flushed or Deleted",
		"UFW Disabled, Reset, Logging Off or Default Allow", "Firewall Service Stopped, Disabled or Masked", "Iptables Flush, Chain Delete or Accept Policy (Any Binary Name)"} {
		if perRule[r] == 0 {
			t.Errorf("no alert from %q", r)
		}
	}
	t.Logf("%d alerts; summary:\n%s", n, errs)
	for _, want := range []string{"audit.log.gz", "laurel.jsonl.gz", "sysmon.log.gz", "ecs.ndjson.gz"} {
		if !strings.Contains(errs, want) {
			t.Errorf("summary lacks %q:\n%s", want, errs)
		}
	}
	// Every rule of the pack loads and compiles.
	pack, err := rule.LoadFS(rules.FS, ".", "builtin:", true)
	if err != nil || len(pack.Refused) > 0 {
		t.Fatalf("pack: %v %v", err, pack.Refused)
	}
	var loaded, refused int
	if i := strings.Index(errs, "rules: "); i < 0 {
		t.Errorf("summary lacks the rules line:\n%s", errs)
	} else if _, err := fmt.Sscanf(errs[i:], "rules: %d loaded, %d refused", &loaded, &refused); err != nil || loaded != len(pack.Rules) || refused != 0 {
		t.Errorf("rules: %d loaded, %d refused (%v), want the pack's %d rules:\n%s", loaded, refused, err, len(pack.Rules), errs)
	}
}

func TestRulesCheckAndList(t *testing.T) {
	dir := t.TempDir()
	good := `title: t
id: 11111111-1111-1111-1111-111111111111
logsource: {product: linux, category: process_creation}
detection:
  sel: {Image|endswith: /nft}
  condition: sel
level: high
tags: [attack.t1686]
`
	bad := "title: broken\nlogsource: {product: linux, category: process_creation}\ndetection:\n  sel: {Image: x}\n  condition: sel and\n"
	os.WriteFile(filepath.Join(dir, "good.yml"), []byte(good), 0o644)
	os.WriteFile(filepath.Join(dir, "bad.yml"), []byte(bad), 0o644)

	out, _, code := run(t, "", "rules", "check", dir)
	if code != exitRefused {
		t.Errorf("rules check exit = %d, want %d", code, exitRefused)
	}
	if !strings.Contains(out, "refused "+filepath.Join(dir, "bad.yml")) || !strings.Contains(out, "bad.yml:5:") {
		t.Errorf("rules check output lacks a positioned refusal:\n%s", out)
	}
	if !strings.Contains(out, "1 rule(s) compiled, 1 refused") {
		t.Errorf("rules check summary:\n%s", out)
	}
	out, _, code = run(t, "", "rules", "check", filepath.Join(dir, "good.yml"))
	if code != exitOK {
		t.Errorf("rules check on a good rule: exit %d\n%s", code, out)
	}
	out, _, code = run(t, "", "rules", "list", "--rules", filepath.Join(dir, "good.yml"))
	if code != exitOK || !strings.Contains(out, "Flush Iptables Ufw Chain") || !strings.Contains(out, "T1686,T1562.004") {
		t.Errorf("rules list (exit %d):\n%s", code, out)
	}
}

func TestHuntStdinAndExitCodes(t *testing.T) {
	line := `{"@timestamp":"2026-11-22T14:49:20.301Z","event":{"category":["process"],"type":["start"]},"host":{"name":"h"},"process":{"pid":7,"executable":"/usr/sbin/nft","args":["nft","flush","ruleset"]}}` + "\n"
	rules := filepath.Join(t.TempDir(), "r.yml")
	os.WriteFile(rules, []byte("title: nft\nid: 22222222-2222-2222-2222-222222222222\nlogsource: {product: linux, category: process_creation}\ndetection:\n  sel: {Image|endswith: /nft, CommandLine|contains: flush}\n  condition: sel\nlevel: high\n"), 0o644)
	out, errs, code := run(t, line+"not json at all\n", "hunt", "--no-builtin", "-r", rules, "--fail-on-alert", "-f", "ndjson", "-")
	if code != exitAlerts {
		t.Fatalf("exit %d, want %d\n%s", code, exitAlerts, errs)
	}
	if !strings.Contains(out, `"name":"nft"`) || !strings.Contains(out, `"command_line":"nft flush ruleset"`) {
		t.Errorf("alert:\n%s", out)
	}
	if !strings.Contains(errs, "-:2:") {
		t.Errorf("bad record not reported with its position:\n%s", errs)
	}
	_, _, code = run(t, "", "hunt", "--format", "xml", "-")
	if code != exitUsage {
		t.Errorf("bad --format: exit %d, want %d", code, exitUsage)
	}
	_, _, code = run(t, "", "hunt", filepath.Join(t.TempDir(), "missing.log"))
	if code != exitInput {
		t.Errorf("missing input: exit %d, want %d", code, exitInput)
	}
	_, _, code = run(t, "", "hunt")
	if code != exitUsage {
		t.Errorf("no args: exit %d, want %d", code, exitUsage)
	}
}

func TestVersionAndHelp(t *testing.T) {
	out, _, code := run(t, "", "version")
	if code != 0 || !strings.HasPrefix(out, "firewarden ") {
		t.Errorf("version: %d %q", code, out)
	}
	out, _, _ = run(t, "", "--help")
	for _, want := range []string{"hunt", "rules", "Exit codes", "5  hunt --fail-on-alert"} {
		if !strings.Contains(out, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
	out, _, _ = run(t, "", "hunt", "--help")
	for _, want := range []string{"--strict-index", "a rule sees only events whose source maps to its index patterns, as Kibana would", "Elastic .toml"} {
		if !strings.Contains(out, want) {
			t.Errorf("hunt --help lacks %q", want)
		}
	}
}

// elasticRule is a small Elastic rule file; typ and query vary.
func elasticRule(typ, query string) string {
	return `[metadata]
creation_date = "2026/11/22"
maturity = "production"

[rule]
author = ["firewarden"]
description = "Flushes iptables."
from = "now-9m"
index = ["logs-endpoint.events.*"]
language = "` + map[bool]string{true: "eql", false: "kuery"}[typ == "eql"] + `"
license = "Elastic License v2"
name = "Iptables Flush (` + typ + `)"
risk_score = 47
rule_id = "33333333-3333-3333-3333-33333333333` + map[bool]string{true: "3", false: "4"}[typ == "eql"] + `"
severity = "medium"
tags = ["OS: Linux"]
type = "` + typ + `"
query = '''
` + query + `
'''

[[rule.threat]]
framework = "MITRE ATT&CK"
[[rule.threat.technique]]
id = "T1562"
name = "Impair Defenses"
reference = "https://attack.mitre.org/techniques/T1562/"
[[rule.threat.technique.subtechnique]]
id = "T1562.004"
name = "Disable or Modify System Firewall"
reference = "https://attack.mitre.org/techniques/T1562/004/"
[rule.threat.tactic]
id = "TA0005"
name = "Defense Evasion"
reference = "https://attack.mitre.org/tactics/TA0005/"
`
}

// TestRulesCheckElastic: rules check reads Elastic TOML files: a rule type
// firewarden does not run is refused with the type named, a malformed file
// with its position, and neither stops the others.
func TestRulesCheckElastic(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a_esql.toml"), []byte(elasticRule("esql", `from logs-* | where process.name == "iptables"`)), 0o644)
	os.WriteFile(filepath.Join(dir, "b_bad.toml"), []byte("[rule]\nname = 'x'\nrisk_score = [\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "c_eql.toml"), []byte(elasticRule("eql", `process where process.name == "iptables" and process.args == "-F"`)), 0o644)
	out, _, code := run(t, "", "rules", "check", dir)
	if code != exitRefused {
		t.Errorf("exit %d, want %d", code, exitRefused)
	}
	for _, want := range []string{
		"a_esql.toml:17:8: unsupported: rule type esql",
		"b_bad.toml:3:15: TOML: unexpected EOF",
		"3 file(s): ",
		"(rule types not yet supported: 1 esql)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("rules check output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "1 rule(s) compiled, 2 refused") {
		t.Errorf("the eql rule did not compile:\n%s", out)
	}
	out, errs, code := run(t, "", "rules", "list", "--no-builtin", "--rules", dir)
	if code != exitOK || !strings.Contains(out, "Iptables Flush (eql)") || !strings.Contains(out, "eql") ||
		!strings.Contains(out, "TA0005,T1562,T1562.004,T1686") || !strings.Contains(errs, "2 rule(s) refused (rule types not yet supported: 1 esql)") {
		t.Errorf("rules list (exit %d):\n%s%s", code, out, errs)
	}
}

// TestHuntStrictIndex: an Elastic rule whose index selects Elastic Defend
// fires on an auditd record by default, and not with --strict-index (audit
// logs live in logs-auditd.log-*); on a Defend document it fires either way.
func TestHuntStrictIndex(t *testing.T) {
	rules := filepath.Join(t.TempDir(), "r.toml")
	os.WriteFile(rules, []byte(elasticRule("eql", `process where process.name == "iptables" and process.args == "-F"`)), 0o644)
	defend := `{"@timestamp":"2026-11-22T14:49:20.301Z","agent":{"type":"endpoint"},"data_stream":{"type":"logs","dataset":"endpoint.events.process","namespace":"default"},"event":{"category":["process"],"type":["start"],"action":"exec"},"host":{"name":"h","os":{"type":"linux"}},"process":{"pid":7,"name":"iptables","executable":"/usr/sbin/iptables","args":["iptables","-F"]}}` + "\n"
	audit := `type=SYSCALL msg=audit(1795358960.301:900): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=2 ppid=100 pid=7 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=1 comm="iptables" exe="/usr/sbin/xtables-nft-multi" key="exec"
type=EXECVE msg=audit(1795358960.301:900): argc=2 a0="iptables" a1="-F"
type=PROCTITLE msg=audit(1795358960.301:900): proctitle=69707461626C6573002D46
`
	for _, tc := range []struct {
		name, in string
		strict   bool
		alerts   int
	}{
		{"audit, default", audit, false, 1},
		{"audit, strict", audit, true, 0},
		{"defend, default", defend, false, 1},
		{"defend, strict", defend, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"hunt", "--no-builtin", "-r", rules, "-f", "ndjson"}
			if tc.strict {
				args = append(args, "--strict-index")
			}
			out, errs, code := run(t, tc.in, append(args, "-")...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errs)
			}
			if n := strings.Count(out, "\n"); n != tc.alerts {
				t.Errorf("%d alerts, want %d:\n%s\n%s", n, tc.alerts, out, errs)
			}
			if tc.alerts > 0 && (!strings.Contains(out, `"language":"eql"`) || !strings.Contains(out, `"index":["logs-endpoint.events.*"]`) ||
				!strings.Contains(out, `"legacy_id":"T1686"`) || !strings.Contains(out, `"from":"9m0s"`)) {
				t.Errorf("alert lacks the rule's metadata:\n%s", out)
			}
		})
	}
}
