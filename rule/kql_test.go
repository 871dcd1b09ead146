package rule

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const sentinelYAML = `id: 11111111-2222-3333-4444-555555555555
name: Iptables flushed
description: |
  Someone flushed iptables.
severity: High
requiredDataConnectors: []
queryFrequency: 1h
queryPeriod: PT2H
triggerOperator: gt
triggerThreshold: 0
tactics:
  - DefenseEvasion
  - CommandAndControl
relevantTechniques:
  - T1562.004
tags:
  - Linux
query: |
  imProcessCreate
  | where TargetProcessName endswith "/iptables" and TargetProcessCommandLine has "-F"
metadata:
  author:
    name: Someone
version: 1.0.1
kind: Scheduled
`

func TestSentinelRule(t *testing.T) {
	r, err := ParseSentinel("r.yaml", []byte(sentinelYAML))
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != "11111111-2222-3333-4444-555555555555" || r.Name != "Iptables flushed" || r.Description != "Someone flushed iptables." ||
		r.Severity != "high" || r.RiskScore != 73 || r.Language != "kql" || r.Type != "scheduled" || r.Version != "1.0.1" ||
		len(r.Author) != 1 || r.Author[0] != "Someone" || len(r.Tags) != 1 || r.LogSource != "imProcessCreate" {
		t.Errorf("metadata %+v", r)
	}
	if r.Schedule.Interval != time.Hour || r.Schedule.LookBack != 2*time.Hour {
		t.Errorf("schedule %+v", r.Schedule)
	}
	if len(r.Threat) != 2 || r.Threat[0].Tactic.ID != "TA0005" || r.Threat[1].Tactic.ID != "TA0011" ||
		len(r.Threat[0].Techniques) != 1 || r.Threat[0].Techniques[0].LegacyID != "T1686" {
		t.Errorf("threat %+v", r.Threat)
	}
	if r.Query == nil || r.Query.ScopeKey != "kql:imProcessCreate" {
		t.Errorf("query %+v", r.Query)
	}
}

// TestSentinelErrors: errors point into the YAML file, the query's at its
// own line and column.
func TestSentinelErrors(t *testing.T) {
	tests := []struct{ edit, with, want string }{
		{`has "-F"`, `has "-F`, "r.yaml:20:83: unterminated string"},
		{`| where`, `| take 1 | where`, "r.yaml:20:5: unsupported: operator take"},
		{"triggerThreshold: 0", "triggerThreshold: 5", "r.yaml:9:18: unsupported: triggerOperator gt triggerThreshold 5"},
		{"severity: High", "severity: Urgent", `r.yaml:5:11: severity "Urgent"`},
		{"kind: Scheduled", "kind: Fusion", "unsupported: rule kind Fusion"},
		{"queryFrequency: 1h", "queryFrequency: often", `r.yaml:7:17: queryFrequency: duration "often"`},
		{"tags:", "eventGroupingSettings:\n  aggregationKind: SingleAlert\ntags:", "unsupported: eventGroupingSettings aggregationKind SingleAlert"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			src := strings.Replace(sentinelYAML, tc.edit, tc.with, 1)
			r, err := ParseSentinel("r.yaml", []byte(src))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) && !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
			if r == nil || r.Name != "Iptables flushed" {
				t.Errorf("a refused rule keeps its metadata: %+v", r)
			}
		})
	}
}

// TestLoadKQLFiles: .kql files and Sentinel YAML load from a folder next
// to Sigma rules, which are still read as Sigma.
func TestLoadKQLFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.yaml", sentinelYAML)
	write("flush.kql", "// a comment\nimProcessCreate\n| where TargetProcessCommandLine has \"-F\"\n")
	write("bad.kql", "imProcessCreate\n| where TargetProcessCommandLine has_all \"x\"\n| join x")
	// A Sigma rule with a field called query and tactics in its tags.
	write("s.yml", "title: s\nid: 9e1f0c9e-0000-4000-8000-000000000001\nlogsource:\n  product: linux\n  category: process_creation\ndetection:\n  sel:\n    query: x\n  condition: sel\ntags:\n  - attack.t1562.004\n")
	set, err := LoadPaths([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range set.Rules {
		got[filepath.Base(r.Path)] = r.Language
	}
	if got["a.yaml"] != "kql" || got["flush.kql"] != "kql" || got["s.yml"] != "sigma" || len(set.Rules) != 3 {
		t.Errorf("rules %v", got)
	}
	if len(set.Refused) != 1 || !strings.Contains(set.Refused[0].Err.Error(), "bad.kql:3:3: unsupported: operator join") {
		t.Errorf("refused %v", set.Refused)
	}
	for _, r := range set.Rules {
		if filepath.Base(r.Path) == "flush.kql" && (r.ID != "kql:flush" || r.Name != "flush") {
			t.Errorf(".kql rule %+v", r)
		}
	}
}
