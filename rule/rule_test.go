package rule

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firewarden/firewarden/rules"
)

func TestThreatFromTags(t *testing.T) {
	th := ThreatFromTags([]string{"attack.defense-impairment", "attack.t1686", "attack.impact", "attack.t1489", "cve.2021-1234"})
	if len(th) != 2 {
		t.Fatalf("threats = %+v", th)
	}
	if th[0].Tactic.Name != "Defense Impairment" || th[0].Tactic.Legacy == nil || th[0].Tactic.Legacy.ID != "TA0005" {
		t.Errorf("v19 tactic: %+v", th[0].Tactic)
	}
	if th[1].Tactic.ID != "TA0040" {
		t.Errorf("impact: %+v", th[1].Tactic)
	}
	var ids []string
	for _, te := range th[0].Techniques {
		ids = append(ids, te.ID+"/"+te.LegacyID)
	}
	if got := strings.Join(ids, ","); got != "T1489/,T1686/T1562.004" {
		t.Errorf("techniques = %s", got)
	}
	if old := TechniqueOf("t1562.004"); old.LegacyID != "T1686" || old.Name != "Disable or Modify System Firewall" {
		t.Errorf("legacy technique: %+v", old)
	}
}

func TestLoadBuiltinAndPaths(t *testing.T) {
	b, err := LoadFS(rules.FS, ".", "builtin:", true)
	if err != nil {
		t.Fatal(err)
	}
	for _, rf := range b.Refused {
		// The pack's Elastic rules wait for lang/eql's compiler.
		if !isPlaceholder(rf.Err) {
			t.Fatalf("built-in pack refused %s: %v", rf.Path, rf.Err)
		}
	}
	var seed *Rule
	for _, r := range b.Rules {
		if r.ID == "3be619f4-d9ec-4ea8-a173-18fdd01996ab" {
			seed = r
		}
	}
	if seed == nil || !seed.Builtin || seed.Severity != "medium" || seed.RiskScore != 47 || seed.LogSource != "linux/process_creation" ||
		len(seed.FalsePositives) != 1 || !strings.HasPrefix(seed.Path, "builtin:") {
		t.Fatalf("seed rule: %+v", seed)
	}

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ok.yml"), []byte("title: x\nlogsource: {product: linux, category: process_creation}\ndetection:\n  s: {Image: /x}\n  condition: s\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "corr.yml"), []byte("title: c\ncorrelation:\n  type: event_count\n  rules: [x]\n  group-by: [User]\n  timespan: 5m\n  condition: {gte: 3}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a rule"), 0o644)
	set, err := LoadPaths([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Rules) != 1 || len(set.Refused) != 1 || set.Files != 2 {
		t.Fatalf("rules %d refused %v files %d", len(set.Rules), set.Refused, set.Files)
	}
	if msg := set.Refused[0].Error(); !strings.Contains(msg, "corr.yml:") || !strings.Contains(msg, "correlation") {
		t.Errorf("refusal: %s", msg)
	}
	if _, err := LoadPaths([]string{filepath.Join(dir, "missing")}); err == nil {
		t.Error("missing path: no error")
	}
}

func TestThreatFromBothReleases(t *testing.T) {
	th := ThreatFromTags([]string{"attack.defense-impairment", "attack.defense-evasion", "attack.t1686", "attack.t1562.004"})
	if len(th) != 1 || th[0].Tactic.Name != "Defense Impairment" || th[0].Tactic.Legacy == nil || th[0].Tactic.Legacy.ID != "TA0005" {
		t.Fatalf("tactics = %+v, want Defense Impairment (legacy TA0005) once", th)
	}
	if te := th[0].Techniques; len(te) != 1 || te[0].ID != "T1686" || te[0].LegacyID != "T1562.004" {
		t.Fatalf("techniques = %+v, want T1686 (legacy T1562.004) once", te)
	}
	th = ThreatFromTags([]string{"attack.defense-evasion", "attack.t1562.004"})
	if len(th) != 1 || th[0].Tactic.ID != "TA0005" || th[0].Techniques[0].ID != "T1562.004" || th[0].Techniques[0].LegacyID != "T1686" {
		t.Fatalf("legacy-only tags = %+v", th)
	}
}
