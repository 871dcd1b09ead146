package hunt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firewarden/firewarden/rule"
)

// correlationBase is two base rules (not alerting on their own:
// generate defaults to false) that the correlations below reference by
// name.
const correlationBase = `title: iptables run
name: ipt
logsource: {product: linux, category: process_creation}
detection:
  sel: {Image|endswith: /iptables}
  condition: sel
---
title: ip6tables run
name: ip6t
logsource: {product: linux, category: process_creation}
detection:
  sel: {Image|endswith: /ip6tables}
  condition: sel
`

// TestCorrelationTypes runs every Sigma correlation type end to end
// (Sigma YAML → rule linking → engine aggregate → hunt alerts) over
// process starts, with the boundary cases: exactly at the timespan, just
// beyond it, out-of-order arrival within the tolerance, and one group's
// state expiring while another's lives. Rows are "minute|user|exe|cmd|ppid".
func TestCorrelationTypes(t *testing.T) {
	tests := []struct {
		name, corr string
		rows       []string
		want       string // alerts, "rule@line" of the first evidence event
	}{
		{"event_count fires on the third within 10m", `type: event_count
  rules: [ipt]
  group-by: [User]
  timespan: 10m
  condition: {gte: 3}`, []string{
			"0|alice|/usr/sbin/iptables|iptables -F|1",
			"5|alice|/usr/sbin/iptables|iptables -X|1",
			"10|alice|/usr/sbin/iptables|iptables -Z|1", // exactly 10m after the first: inside
		}, "c@1"},
		{"event_count: just beyond the timespan", `type: event_count
  rules: [ipt]
  group-by: [User]
  timespan: 10m
  condition: {gte: 3}`, []string{
			"0|alice|/usr/sbin/iptables|iptables -F|1",
			"5|alice|/usr/sbin/iptables|iptables -X|1",
			"11|alice|/usr/sbin/iptables|iptables -Z|1",
		}, ""},
		{"event_count: groups apart, one expires while the other lives", `type: event_count
  rules: [ipt]
  group-by: [User]
  timespan: 10m
  condition: {gte: 2}`, []string{
			"0|alice|/usr/sbin/iptables|iptables -F|1",
			"1|bob|/usr/sbin/iptables|iptables -F|1",
			"20|alice|/usr/sbin/iptables|iptables -X|1", // alice's first has expired
			"8|bob|/usr/sbin/iptables|iptables -X|1",    // out of order (12m late): beyond the 1m tolerance, dropped
			"21|bob|/usr/sbin/iptables|iptables -Z|1",   // bob's first has expired too
			"22|bob|/usr/sbin/iptables|iptables -L|1",   // bob: 21 and 22
		}, "c@5"},
		{"event_count: out of order within the tolerance counts", `type: event_count
  rules: [ipt]
  group-by: [User]
  timespan: 10m
  condition: {gte: 2}`, []string{
			"5|alice|/usr/sbin/iptables|iptables -F|1",
			"4|alice|/usr/sbin/iptables|iptables -X|1", // a minute older than the newest: within tolerance
		}, "c@2"},
		{"value_count: distinct command lines", `type: value_count
  rules: [ipt]
  group-by: [User]
  timespan: 1h
  condition: {field: CommandLine, gte: 3}`, []string{
			"0|alice|/usr/sbin/iptables|iptables -F|1",
			"1|alice|/usr/sbin/iptables|iptables -F|1", // same value: not distinct
			"2|alice|/usr/sbin/iptables|iptables -X|1",
			"3|bob|/usr/sbin/iptables|iptables -Z|1",
			"4|alice|/usr/sbin/iptables|iptables -Z|1",
		}, "c@1"},
		{"temporal: both rules within the timespan, any order", `type: temporal
  rules: [ipt, ip6t]
  group-by: [User]
  timespan: 5m`, []string{
			"0|alice|/usr/sbin/ip6tables|ip6tables -F|1",
			"3|bob|/usr/sbin/iptables|iptables -F|1",
			"4|alice|/usr/sbin/iptables|iptables -F|1",
		}, "c@1"},
		{"temporal: too far apart", `type: temporal
  rules: [ipt, ip6t]
  group-by: [User]
  timespan: 5m`, []string{
			"0|alice|/usr/sbin/ip6tables|ip6tables -F|1",
			"6|alice|/usr/sbin/iptables|iptables -F|1",
		}, ""},
		{"temporal_ordered: in order", `type: temporal_ordered
  rules: [ipt, ip6t]
  group-by: [User]
  timespan: 5m`, []string{
			"0|alice|/usr/sbin/iptables|iptables -F|1",
			"2|alice|/usr/sbin/ip6tables|ip6tables -F|1",
		}, "c@1"},
		{"temporal_ordered: wrong order", `type: temporal_ordered
  rules: [ipt, ip6t]
  group-by: [User]
  timespan: 5m`, []string{
			"0|alice|/usr/sbin/ip6tables|ip6tables -F|1",
			"2|alice|/usr/sbin/iptables|iptables -F|1",
		}, ""},
		{"value_sum of parent pids", `type: value_sum
  rules: [ipt]
  group-by: [User]
  timespan: 1h
  condition: {field: ParentProcessId, gt: 10}`, []string{
			"0|alice|/usr/sbin/iptables|iptables -F|4",
			"1|alice|/usr/sbin/iptables|iptables -F|5",
			"2|alice|/usr/sbin/iptables|iptables -F|2", // 4+5+2 = 11
		}, "c@1"},
		{"value_avg of parent pids", `type: value_avg
  rules: [ipt]
  group-by: [User]
  timespan: 1h
  condition: {field: ParentProcessId, gte: 5}`, []string{
			"0|alice|/usr/sbin/iptables|iptables -F|1", // avg 1
			"1|alice|/usr/sbin/iptables|iptables -F|9", // avg 5
		}, "c@1"},
		{"value_percentile of parent pids", `type: value_percentile
  rules: [ipt]
  group-by: [User]
  timespan: 1h
  condition: {field: ParentProcessId, percentile: 50, gte: 3}`, []string{
			"0|alice|/usr/sbin/iptables|iptables -F|1",
			"1|alice|/usr/sbin/iptables|iptables -F|2", // median 1.5
			"2|alice|/usr/sbin/iptables|iptables -F|8", // median 2
			"3|alice|/usr/sbin/iptables|iptables -F|9", // median 5
		}, "c@1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			doc := correlationBase + "---\ntitle: c\nid: c\nlevel: high\ncorrelation:\n  " + tc.corr + "\n"
			if err := os.WriteFile(filepath.Join(dir, "c.yml"), []byte(doc), 0o644); err != nil {
				t.Fatal(err)
			}
			set, err := rule.LoadPaths([]string{dir})
			if err != nil || len(set.Refused) > 0 {
				t.Fatalf("load: %v %v", err, set.Refused)
			}
			got, _ := runWith(t, set.Rules, CompileOptions{}, execs(t, tc.rows...))
			if strings.Join(got, " ") != tc.want {
				t.Errorf("alerts %v, want %q", got, tc.want)
			}
		})
	}
}
