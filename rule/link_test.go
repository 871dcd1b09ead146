package rule

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firewarden/firewarden/lang/sigma"
	"github.com/firewarden/firewarden/query"
)

const linkBase = `title: Port opened
id: 00000000-0000-0000-0000-0000000000b1
name: port_open
level: low
logsource: {product: linux, category: process_creation}
detection:
  sel: {Image|endswith: /iptables}
  condition: sel
`

const linkCorr = `title: Many ports
id: 00000000-0000-0000-0000-0000000000c1
level: high
tags: [attack.t1562.004]
correlation:
  type: value_count
  rules: [%s]
  group-by: [ParentProcessId]
  timespan: 5m
  condition: {field: CommandLine, gte: 3}
`

func writeRules(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func byName(set *Set, name string) *Rule {
	for _, r := range set.Rules {
		if r.Name == name {
			return r
		}
	}
	return nil
}

func TestLinkCorrelation(t *testing.T) {
	for _, ref := range []string{"port_open", "00000000-0000-0000-0000-0000000000b1"} {
		dir := writeRules(t, map[string]string{"base.yml": linkBase, "corr.yml": strings.Replace(linkCorr, "%s", ref, 1)})
		set, err := LoadPaths([]string{dir})
		if err != nil {
			t.Fatal(err)
		}
		if len(set.Refused) != 0 || len(set.Rules) != 2 {
			t.Fatalf("%s: rules %d refused %v", ref, len(set.Rules), set.Refused)
		}
		base, corr := byName(set, "Port opened"), byName(set, "Many ports")
		if !base.CorrelationOnly || corr.CorrelationOnly {
			t.Errorf("correlation only: base %v corr %v", base.CorrelationOnly, corr.CorrelationOnly)
		}
		agg, ok := corr.Query.Stages[0].(query.Aggregate)
		if !ok || corr.Type != "value_count" || corr.Severity != "high" || corr.LogSource != "linux/process_creation" || len(corr.Threat) == 0 {
			t.Fatalf("correlation rule %+v", corr)
		}
		if len(agg.Inputs) != 1 || agg.Inputs[0].Name != ref {
			t.Errorf("inputs %+v", agg.Inputs)
		}
	}

	// generate: true keeps the base rule's own alerts.
	dir := writeRules(t, map[string]string{"base.yml": linkBase, "corr.yml": strings.Replace(linkCorr, "%s", "port_open", 1) + "generate: true\n"})
	set, _ := LoadPaths([]string{dir})
	if b := byName(set, "Port opened"); b == nil || b.CorrelationOnly {
		t.Errorf("generate: true: %+v", b)
	}
}

func TestLinkRefusals(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string // substrings of the refusals, in order
		rules int
	}{
		{"dangling", map[string]string{"corr.yml": strings.Replace(linkCorr, "%s", "nope", 1)},
			[]string{`corr.yml:7:11: correlation "Many ports" references "nope", expected the id or name of a loaded Sigma rule`}, 0},
		{"refused reference", map[string]string{"corr.yml": strings.Replace(linkCorr, "%s", "port_open", 1),
			"base.yml": strings.Replace(linkBase, "Image|endswith", "Image|nope", 1)},
			[]string{`base.yml:7:15: unknown modifier "nope"`, `corr.yml:7:11: correlation "Many ports" references "port_open", a rule that was refused: `}, 0},
		{"ambiguous", map[string]string{"corr.yml": strings.Replace(linkCorr, "%s", "port_open", 1), "a.yml": linkBase, "b.yml": linkBase},
			[]string{`corr.yml:7:11: correlation "Many ports" references "port_open", which names 2 rules (`}, 2},
		{"chained: group-by the inner one does not output", map[string]string{"base.yml": linkBase, "corr.yml": strings.Replace(linkCorr, "%s", "port_open", 1) + "name: many\n",
			"outer.yml": "title: Outer\ncorrelation:\n  type: event_count\n  rules: [many]\n  group-by: [User]\n  timespan: 1h\n  condition: {gte: 2}\n"},
			[]string{`outer.yml:5:14: group-by "User": the correlation "Many ports" ("many") has no "User" in its results (it groups by "ParentProcessId"), expected one of its group-by names or an alias naming one`}, 2},
		{"cycle", map[string]string{"base.yml": linkBase,
			"a.yml": "title: A\nname: a\ncorrelation:\n  type: temporal\n  rules: [b, port_open]\n  timespan: 1h\n",
			"b.yml": "title: B\nname: b\ncorrelation:\n  type: event_count\n  rules: [a]\n  timespan: 1h\n  condition: {gte: 2}\n"},
			[]string{`b.yml:5:11: correlation "B" references "a", which leads back to it ("A" → "B" → "A"), expected a chain of correlations without a cycle`,
				`a.yml:5:11: correlation "A" references "b", the correlation "B", which was refused: `}, 1},
		{"self", map[string]string{"a.yml": "title: A\nname: a\ncorrelation:\n  type: event_count\n  rules: [a]\n  timespan: 1h\n  condition: {gte: 2}\n"},
			[]string{`a.yml:5:11: correlation "A" references "a", which leads back to it ("A" → "A"), expected a chain of correlations without a cycle`}, 0},
		{"filter dangling", map[string]string{"base.yml": linkBase, "f.yml": "title: F\nlogsource: {product: linux}\nfilter:\n  rules: [gone]\n  s: {User: root}\n  condition: not s\n"},
			[]string{`f.yml:4:11: filter "F" references "gone", expected the id or name of a loaded Sigma rule`}, 1},
		{"filter logsource", map[string]string{"base.yml": linkBase, "f.yml": "title: F\nlogsource: {product: linux, service: auditd}\nfilter:\n  rules: [port_open]\n  s: {auid: 0}\n  condition: not s\n"},
			[]string{`f.yml:4:11: filter "F" references "port_open" (Port opened), whose log source linux/process_creation the filter's linux/auditd does not cover, expected a rule of the filter's log source`}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set, err := LoadPaths([]string{writeRules(t, tc.files)})
			if err != nil {
				t.Fatal(err)
			}
			if len(set.Refused) != len(tc.want) || len(set.Rules) != tc.rules {
				t.Fatalf("rules %d, refused %v", len(set.Rules), set.Refused)
			}
			for i, w := range tc.want {
				if msg := set.Refused[i].Error(); !strings.Contains(msg, w) {
					t.Errorf("refusal %d\n got %s\nwant %s", i, msg, w)
				}
			}
		})
	}
}

func TestLinkFilter(t *testing.T) {
	filter := "title: Not puppet\nlogsource: {product: linux}\nfilter:\n  rules: %s\n  p: {ParentImage|endswith: /puppet}\n  condition: not p\n"
	for _, rules := range []string{"[port_open]", "any"} {
		dir := writeRules(t, map[string]string{"base.yml": linkBase, "f.yml": strings.Replace(filter, "%s", rules, 1)})
		set, err := LoadPaths([]string{dir})
		if err != nil || len(set.Refused) != 0 || len(set.Rules) != 1 {
			t.Fatalf("%v %v", err, set.Refused)
		}
		r := set.Rules[0]
		if len(r.Filters) != 1 || r.Filters[0] != "Not puppet" {
			t.Errorf("filters %v", r.Filters)
		}
		and, ok := r.Query.Stages[0].(query.Filter).Expr.(query.And)
		if !ok || len(and.X) != 2 {
			t.Errorf("query %+v", r.Query.Stages[0])
		}
	}

	// A user's filter tunes a rule of another set: Add links the union,
	// and linking again starts from the rules as read.
	builtin, _ := LoadPaths([]string{writeRules(t, map[string]string{"base.yml": linkBase})})
	user, _ := LoadPaths([]string{writeRules(t, map[string]string{"f.yml": strings.Replace(filter, "%s", "[port_open]", 1),
		"corr.yml": strings.Replace(linkCorr, "%s", "port_open", 1)})})
	if len(user.Refused) != 2 {
		t.Fatalf("user set alone: %v", user.Refused)
	}
	set := &Set{}
	set.Add(builtin)
	set.Add(user)
	if len(set.Refused) != 0 || len(set.Rules) != 2 {
		t.Fatalf("rules %d refused %v", len(set.Rules), set.Refused)
	}
	base := byName(set, "Port opened")
	if len(base.Filters) != 1 || !base.CorrelationOnly {
		t.Errorf("base %+v", base)
	}
	corr := byName(set, "Many ports")
	in := corr.Query.Stages[0].(query.Aggregate).Inputs[0]
	if and, ok := in.Filter.(query.And); !ok || len(and.X) != 2 {
		t.Errorf("the correlation reads the filtered rule: %+v", in.Filter)
	}
}

// chainFiles is a chain across files: many (corr.yml) counts port_open
// (base.yml) per parent process; outer (outer.yml) is a temporal_ordered
// over many and port_open again.
func chainFiles() map[string]string {
	return map[string]string{"base.yml": linkBase, "corr.yml": strings.Replace(linkCorr, "%s", "port_open", 1) + "name: many\n",
		"outer.yml": "title: Outer\nlevel: critical\ncorrelation:\n  type: temporal_ordered\n  rules: [many, port_open]\n  group-by: [ParentProcessId]\n  timespan: 1h\n"}
}

func TestLinkChain(t *testing.T) {
	set, err := LoadPaths([]string{writeRules(t, chainFiles())})
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Refused) != 0 || len(set.Rules) != 3 {
		t.Fatalf("rules %d refused %v", len(set.Rules), set.Refused)
	}
	base, many, outer := byName(set, "Port opened"), byName(set, "Many ports"), byName(set, "Outer")
	if !base.CorrelationOnly || !many.CorrelationOnly || outer.CorrelationOnly {
		t.Errorf("correlation only: base %v many %v outer %v", base.CorrelationOnly, many.CorrelationOnly, outer.CorrelationOnly)
	}
	if many.Chain == nil || many.Chain.Level != 0 || many.Chain.Key == "" || many.Chain.Name != "many" || many.Chain.Title != "Many ports" {
		t.Fatalf("inner chain %+v", many.Chain)
	}
	if outer.Chain == nil || outer.Chain.Level != 1 || outer.Chain.Key != "" || len(outer.Chain.Reads) != 1 || outer.Chain.Reads[0] != many.Chain.Key {
		t.Fatalf("outer chain %+v", outer.Chain)
	}
	if base.Chain != nil || outer.LogSource != "linux/process_creation" || outer.Type != "temporal_ordered" {
		t.Errorf("base chain %+v, outer log source %q type %q", base.Chain, outer.LogSource, outer.Type)
	}
	agg := outer.Query.Stages[0].(query.Aggregate)
	if m, ok := agg.Inputs[0].Filter.(query.Match); !ok || m.Values[0] != many.Chain.Key {
		t.Errorf("inner input filter %#v", agg.Inputs[0].Filter)
	}

	// Linking again (after Add) starts afresh.
	set.link()
	if byName(set, "Outer").Chain.Level != 1 || len(byName(set, "Outer").Chain.Reads) != 1 {
		t.Errorf("relinked chain %+v", byName(set, "Outer").Chain)
	}

	// A chain one correlation too deep: each level counts the one below.
	files := map[string]string{"base.yml": linkBase}
	prev := "port_open"
	for i := 0; i <= sigma.MaxChain+1; i++ {
		name := fmt.Sprintf("c%d", i)
		files[name+".yml"] = fmt.Sprintf("title: C%d\nname: %s\ncorrelation:\n  type: event_count\n  rules: [%s]\n  timespan: 1h\n  condition: {gte: 1}\n", i, name, prev)
		prev = name
	}
	set, err = LoadPaths([]string{writeRules(t, files)})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("unsupported: a chain of %d correlations (firewarden chains at most %d correlations)", sigma.MaxChain+2, sigma.MaxChain+1)
	if len(set.Refused) != 1 || !strings.Contains(set.Refused[0].Error(), want) || len(set.Rules) != sigma.MaxChain+2 {
		t.Errorf("too deep: rules %d refused %v", len(set.Rules), set.Refused)
	}
}
