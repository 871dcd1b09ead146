package rules_test

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/firewarden/firewarden/alert"
	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/hunt"
	"github.com/firewarden/firewarden/internal/testenv"
	"github.com/firewarden/firewarden/rule"
	"github.com/firewarden/firewarden/rules"
)

const (
	seedID  = "6f9baea3-fc9d-5340-94c0-2b0a602f984b" // derived, see rules/README.md
	newerID = "83e9c2b3-24ef-4c1d-a8cd-5ebafb5dfa2f" // Elastic's own
	seedDoc = "000_234c18ac14ae6fdd.txt"
)

// seedSections cuts the seed document into what the pack's seed rule must
// carry: the query (the ```js block), the investigation guide and the
// setup sections.
func seedSections(t *testing.T) (query, guide, setup string) {
	t.Helper()
	b, err := os.ReadFile(testenv.Shared(t, "seeds", seedDoc))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	between := func(from, to string) string {
		i := strings.Index(s, from)
		if i < 0 {
			t.Fatalf("seed lacks %q", from)
		}
		i += strings.IndexByte(s[i:], '\n') + 1
		j := strings.Index(s[i:], to)
		if j < 0 {
			t.Fatalf("seed lacks %q after %q", to, from)
		}
		return s[i : i+j]
	}
	return between("```js", "\n```"), strings.Trim(between("## Investigation guide", "## Setup"), "\n"),
		strings.Trim(between("## Setup", "## Rule query"), "\n")
}

// tomlQuery decodes a pack file's rule.query with the TOML library itself,
// independently of firewarden's loader.
func tomlQuery(t *testing.T, name string) string {
	t.Helper()
	b, err := rules.FS.ReadFile("elastic/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Rule struct{ Query string } }
	if _, err := toml.Decode(string(b), &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Rule.Query
}

// packRules loads the Elastic part of the pack. Until lang/eql compiles
// queries, its rules come back as refusals by the compiler carrying their
// metadata; any other refusal fails.
func packRules(t *testing.T) map[string]*rule.Rule {
	t.Helper()
	set, err := rule.LoadFS(rules.FS, "elastic", "builtin:", true)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*rule.Rule{}
	for _, r := range set.Rules {
		out[r.ID] = r
	}
	for _, rf := range set.Refused {
		t.Fatalf("pack rule refused: %v", rf.Err)
	}
	if len(out) != 2 || out[seedID] == nil || out[newerID] == nil {
		t.Fatalf("pack rules %v, want the seed's (%s) and Elastic's (%s)", out, seedID, newerID)
	}
	return out
}

// TestSeedQueryVerbatim: the pack's seed rule holds the seed document's
// EQL query byte for byte, comments and line breaks included; the newer
// rule holds the query of Elastic's current file.
func TestSeedQueryVerbatim(t *testing.T) {
	want, _, _ := seedSections(t)
	if got := tomlQuery(t, "attempt_to_disable_iptables_or_firewall_seed.toml"); got != want {
		t.Errorf("seed query differs from the seed document:\n got %q\nwant %q", got, want)
	}
	corpus, err := os.ReadFile(testenv.Shared(t, "corpus", "elastic", "defense_evasion_attempt_to_disable_iptables_or_firewall.toml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Rule struct{ Query string } }
	if _, err := toml.Decode(string(corpus), &doc); err != nil {
		t.Fatal(err)
	}
	if got := tomlQuery(t, "attempt_to_disable_iptables_or_firewall.toml"); got != doc.Rule.Query {
		t.Errorf("newer rule's query differs from Elastic's file:\n got %q\nwant %q", got, doc.Rule.Query)
	}
}

// TestSeedMetadata: the seed rule carries the seed document's metadata.
func TestSeedMetadata(t *testing.T) {
	_, guide, setup := seedSections(t)
	r := packRules(t)[seedID]
	checks := []struct {
		name      string
		got, want any
	}{
		{"name", r.Name, "Attempt to Disable IPTables or Firewall"},
		{"type", r.Type, "eql"},
		{"language", r.Language, "eql"},
		{"severity", r.Severity, "low"},
		{"risk", r.RiskScore, 21},
		{"schedule", r.Schedule, rule.Schedule{Interval: 5 * time.Minute, LookBack: 9 * time.Minute, MaxSignals: 100}},
		{"index", r.Index, []string{"logs-endpoint.events.*", "endgame-*", "logs-sentinel_one_cloud_funnel.*"}},
		{"references", r.References, []string{"https://www.elastic.co/security-labs/detecting-log4j2-with-elastic-security"}},
		{"tags", r.Tags, []string{"Domain: Endpoint", "OS: Linux", "Use Case: Threat Detection", "Tactic: Defense Evasion",
			"Data Source: Elastic Defend", "Data Source: Elastic Endgame", "Data Source: SentinelOne", "Resources: Investigation Guide"}},
		{"version", r.Version, "110"},
		{"author", r.Author, []string{"Elastic"}},
		{"license", r.License, "Elastic License v2"},
		{"builtin", r.Builtin && strings.HasPrefix(r.Path, "builtin:elastic/"), true},
		{"setup", strings.TrimRight(r.Setup, "\n"), setup},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if !reflect.DeepEqual(c.got, c.want) {
				t.Errorf("got %#v\nwant %#v", c.got, c.want)
			}
		})
	}
	t.Run("threat", func(t *testing.T) {
		want := []rule.Threat{{
			Framework: "MITRE ATT&CK",
			Tactic:    rule.Tactic{ID: "TA0005", Name: "Defense Evasion", Reference: "https://attack.mitre.org/tactics/TA0005/"},
			Techniques: []rule.Technique{
				{ID: "T1562", Name: "Impair Defenses", Reference: "https://attack.mitre.org/techniques/T1562/"},
				{ID: "T1562.001", Name: "Disable or Modify Tools", Reference: "https://attack.mitre.org/techniques/T1562/001/", LegacyID: "T1685"},
			},
		}}
		if !reflect.DeepEqual(r.Threat, want) {
			t.Errorf("threat:\n got %+v\nwant %+v", r.Threat, want)
		}
	})
	t.Run("guide", func(t *testing.T) {
		// The seed's rendering replaced the guide's opening quote block
		// (Elastic's generative-AI disclaimer) by "[TBC: QUOTE]"; the pack
		// restores it and keeps every other byte of the seed's guide.
		const lost = "[TBC: QUOTE]"
		i := strings.Index(guide, lost)
		if i < 0 {
			t.Fatalf("seed guide lacks %q", lost)
		}
		g := strings.TrimRight(r.Guide, "\n")
		if !strings.HasPrefix(g, guide[:i]) || !strings.HasSuffix(g, guide[i+len(lost):]) {
			t.Errorf("guide differs from the seed's:\n%s", g)
		}
		if mid := g[i : len(g)-len(guide[i+len(lost):])]; !strings.HasPrefix(mid, "> **Disclaimer**:\n> ") {
			t.Errorf("restored quote block: %q", mid)
		}
	})
	t.Run("false positives and response", func(t *testing.T) {
		var fps, resp []string
		var in *[]string
		for _, l := range strings.Split(guide, "\n") {
			switch {
			case l == "**False positive analysis**":
				in = &fps
			case l == "**Response and remediation**":
				in = &resp
			case strings.HasPrefix(l, "* ") && in != nil:
				*in = append(*in, l[2:])
			}
		}
		if len(fps) != 5 || len(resp) != 7 {
			t.Fatalf("seed: %d false positives, %d response steps", len(fps), len(resp))
		}
		if !reflect.DeepEqual(r.FalsePositives, fps) {
			t.Errorf("false positives:\n got %q\nwant %q", r.FalsePositives, fps)
		}
		if want := "* " + strings.Join(resp, "\n* "); r.Response != want {
			t.Errorf("response:\n got %q\nwant %q", r.Response, want)
		}
	})
}

// TestNewerRuleMetadata: the newer rule is Elastic's file as it is.
func TestNewerRuleMetadata(t *testing.T) {
	r := packRules(t)[newerID]
	if r.Severity != "medium" || r.RiskScore != 47 || r.TimestampOverride != "event.ingested" || r.Date != "2023/02/22" ||
		r.Modified != "2026/03/24" || !reflect.DeepEqual(r.Index, []string{"endgame-*", "logs-endpoint.events.process*", "logs-sentinel_one_cloud_funnel.*"}) {
		t.Errorf("metadata: %+v", r)
	}
	var ids []string
	for _, th := range r.Threat {
		ids = append(ids, th.Tactic.ID)
		for _, te := range th.Techniques {
			ids = append(ids, te.ID+"/"+te.LegacyID)
		}
	}
	if got := strings.Join(ids, " "); got != "TA0005 T1562/ T1562.001/T1685 T1562.004/T1686 TA0040 T1489/" {
		t.Errorf("threat ids: %s", got)
	}
	if len(r.FalsePositives) != 5 || !strings.HasPrefix(r.Response, "- Immediately isolate the affected host") {
		t.Errorf("note sections: %q / %q", r.FalsePositives, r.Response)
	}
}

// defendExec is an Elastic Defend process event of `iptables -F`, shaped as
// the seed rule expects.
func defendExec() *event.Event {
	ev := event.New(16)
	ev.Time = time.Date(2026, 11, 22, 14, 49, 20, 0, time.UTC)
	ev.File, ev.Line = "defend.ndjson", 3
	ev.Format, ev.Index = "ecs", "logs-endpoint.events.process-default"
	ev.SetStr("host.name", "vm")
	ev.SetStr("host.os.type", "linux")
	ev.SetStr("user.name", "root")
	ev.Set("event.category", event.ListV(event.Str("process")))
	ev.Set("event.type", event.ListV(event.Str("start")))
	ev.SetStr("event.action", "exec")
	ev.Set("process.pid", event.IntV(4242))
	ev.SetStr("process.name", "iptables")
	ev.SetStr("process.executable", "/usr/sbin/iptables")
	ev.SetStr("process.command_line", "iptables -F")
	ev.Set("process.args", event.ListV(event.Str("iptables"), event.Str("-F")))
	ev.Set("process.args_count", event.IntV(2))
	ev.SetStr("process.parent.name", "bash")
	return ev
}

// TestSeedMetadataReachesAlert: an alert of the seed rule carries its
// severity, risk, schedule, index, ATT&CK (with the v19 id), guide, false
// positives, response and setup, in NDJSON and in the table's -v view. Once
// lang/eql compiles, both pack rules must also match the event, in
// strict-index mode too (the event lives in Defend's process data stream).
func TestSeedMetadataReachesAlert(t *testing.T) {
	pack := packRules(t)
	r := pack[seedID]
	ev := defendExec()
	var buf bytes.Buffer
	if err := alert.NewNDJSON(&buf).Write(alert.New(r, []*event.Event{ev}, nil)); err != nil {
		t.Fatal(err)
	}
	var a struct {
		Rule   map[string]any `json:"rule"`
		Threat []struct {
			Tactic struct {
				ID string `json:"id"`
			} `json:"tactic"`
			Technique []struct {
				ID       string `json:"id"`
				LegacyID string `json:"legacy_id"`
			} `json:"technique"`
		} `json:"threat"`
	}
	if err := json.Unmarshal(buf.Bytes(), &a); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"id": seedID, "language": "eql", "type": "eql", "severity": "low", "risk_score": 21.0, "interval": "5m0s", "from": "9m0s",
		"max_signals": 100.0, "version": "110", "license": "Elastic License v2",
		"index": []any{"logs-endpoint.events.*", "endgame-*", "logs-sentinel_one_cloud_funnel.*"},
	}
	for k, v := range want {
		if !reflect.DeepEqual(a.Rule[k], v) {
			t.Errorf("alert rule.%s = %#v, want %#v", k, a.Rule[k], v)
		}
	}
	for k, sub := range map[string]string{
		"investigation_guide": "**Investigating Attempt to Disable IPTables or Firewall**",
		"response":            "* Immediately isolate the affected host",
		"setup":               "This rule requires data coming in from Elastic Defend.",
		"false_positives":     "Routine system maintenance or updates",
		"tags":                "Data Source: Elastic Defend",
		"references":          "detecting-log4j2-with-elastic-security",
	} {
		if s, _ := json.Marshal(a.Rule[k]); !strings.Contains(string(s), sub) {
			t.Errorf("alert rule.%s lacks %q: %s", k, sub, s)
		}
	}
	if len(a.Threat) != 1 || a.Threat[0].Tactic.ID != "TA0005" || len(a.Threat[0].Technique) != 2 ||
		a.Threat[0].Technique[1].ID != "T1562.001" || a.Threat[0].Technique[1].LegacyID != "T1685" {
		t.Errorf("alert threat: %+v", a.Threat)
	}

	buf.Reset()
	tb := alert.NewTable(&buf)
	tb.Verbose = true
	tb.Write(alert.New(r, []*event.Event{ev}, nil))
	if err := tb.Close(); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"[low, risk 21]", "Defense Evasion TA0005: T1562, T1562.001 (T1685)",
		"schedule   every 5m, look-back 9m, at most 100 alerts per run", "index      logs-endpoint.events.*, endgame-*, logs-sentinel_one_cloud_funnel.*",
		"false pos. Routine system maintenance", "   guide\n      **Triage and analysis**", "   setup\n      **Setup**"} {
		if !strings.Contains(buf.String(), sub) {
			t.Errorf("table -v lacks %q:\n%s", sub, buf.String())
		}
	}
	if strings.Contains(buf.String(), "   response\n") {
		t.Errorf("table -v repeats the response the guide holds:\n%s", buf.String())
	}

	for _, strict := range []bool{false, true} {
		eng, refused := hunt.CompileWith([]*rule.Rule{pack[seedID], pack[newerID]}, hunt.CompileOptions{StrictIndex: strict})
		if len(refused) > 0 {
			t.Fatalf("engine refused: %v", refused)
		}
		fired := map[string]int{}
		collect := func(r *rule.Rule, _ *alert.Alert) error { fired[r.ID]++; return nil }
		if err := eng.Match(ev, collect); err != nil {
			t.Fatal(err)
		}
		if err := eng.Flush(collect); err != nil {
			t.Fatal(err)
		}
		if fired[seedID] != 1 || fired[newerID] != 1 {
			t.Errorf("strict=%v: alerts per rule %v, want one from each", strict, fired)
		}
	}
}
