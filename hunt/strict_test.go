package hunt

import (
	"context"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/firewarden/firewarden/rule"
	"github.com/firewarden/firewarden/rules"
)

// TestStrictIndex runs the firewarden pack with Elastic index patterns over
// the four renditions of the bundled capture: by default a rule sees every
// source; with StrictIndex only the sources whose index its patterns
// select (docs/elastic.md maps each source to its index).
func TestStrictIndex(t *testing.T) {
	tests := []struct {
		name   string
		index  []string
		strict bool
		want   string // inputs that raised alerts
	}{
		{"default: every source", []string{"logs-endpoint.events.*"}, false, "audit.log.gz,ecs.ndjson.gz,laurel.jsonl.gz,sysmon.log.gz"},
		{"no patterns: every source", nil, true, "audit.log.gz,ecs.ndjson.gz,laurel.jsonl.gz,sysmon.log.gz"},
		{"Elastic Defend", []string{"logs-endpoint.events.*"}, true, "ecs.ndjson.gz"},
		{"the seed's patterns", []string{"logs-endpoint.events.*", "endgame-*", "logs-sentinel_one_cloud_funnel.*"}, true, "ecs.ndjson.gz"},
		{"auditd family", []string{"logs-auditd.*"}, true, "audit.log.gz,laurel.jsonl.gz"},
		{"Auditd Manager only", []string{"logs-auditd_manager.auditd-*"}, true, ""},
		{"Sysmon for Linux", []string{"logs-sysmon_linux.log-*"}, true, "sysmon.log.gz"},
		{"comma list with an exclusion", []string{"logs-*,-logs-auditd.laurel-*"}, true, "audit.log.gz,ecs.ndjson.gz,sysmon.log.gz"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set, err := rule.LoadFS(rules.FS, "sigma/firewarden", "builtin:", true)
			if err != nil || len(set.Rules) == 0 {
				t.Fatalf("firewarden pack: %v, %d rules", err, len(set.Rules))
			}
			for _, r := range set.Rules {
				r.Index = tc.index
				r.Query.Index = tc.index
			}
			eng, refused := CompileWith(set.Rules, CompileOptions{StrictIndex: tc.strict})
			if len(refused) > 0 {
				t.Fatalf("refused: %v", refused)
			}
			c := &collect{}
			sum, err := Run(context.Background(), eng, Options{Formats: formats(), Sink: c}, []string{samples()})
			if err != nil {
				t.Fatal(err)
			}
			if len(sum.Sources.Inputs) != 4 {
				t.Fatalf("%d inputs", len(sum.Sources.Inputs))
			}
			seen := map[string]bool{}
			for _, a := range c.alerts {
				seen[filepath.Base(a.Events[0].File)] = true
			}
			var got []string
			for f := range seen {
				got = append(got, f)
			}
			sort.Strings(got)
			if s := strings.Join(got, ","); s != tc.want {
				t.Errorf("alerts from %q, want %q", s, tc.want)
			}
		})
	}
}
