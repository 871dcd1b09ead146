package rules_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/firewarden/firewarden/alert"
	"github.com/firewarden/firewarden/hunt"
	"github.com/firewarden/firewarden/internal/testenv"
	"github.com/firewarden/firewarden/rule"
	"github.com/firewarden/firewarden/rules"
	"github.com/firewarden/firewarden/source"
	"github.com/firewarden/firewarden/source/auditd"
	"github.com/firewarden/firewarden/source/ecs"
	"github.com/firewarden/firewarden/source/sysmon"
)

const (
	sigmaSeedID = "3be619f4-d9ec-4ea8-a173-18fdd01996ab"
	kqlSeedID   = "b36552f6-187d-56fc-a298-1146732c2984" // derived, see rules/README.md
	kqlSeedDoc  = "001_ce248e41c83e561e.txt"
)

// seedPair loads the built-in pack and returns the seed Sigma rule and
// the seed KQL rule.
func seedPair(t *testing.T) (sig, kq *rule.Rule) {
	t.Helper()
	set, err := rule.LoadFS(rules.FS, ".", "builtin:", true)
	if err != nil {
		t.Fatal(err)
	}
	for _, rf := range set.Refused {
		t.Errorf("built-in pack refused %s: %v", rf.Path, rf.Err)
	}
	for _, r := range set.Rules {
		switch r.ID {
		case sigmaSeedID:
			sig = r
		case kqlSeedID:
			kq = r
		}
	}
	if sig == nil || kq == nil {
		t.Fatalf("seed rules missing from the pack (sigma %v, kql %v)", sig != nil, kq != nil)
	}
	return sig, kq
}

// TestKQLSeedVerbatim: the pack's KQL rule carries the seed's query byte
// for byte and the seed's metadata.
func TestKQLSeedVerbatim(t *testing.T) {
	sig, kq := seedPair(t)
	b, err := os.ReadFile(testenv.Shared(t, "seeds", kqlSeedDoc))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "\nimProcessCreate\n")
	if i < 0 {
		t.Fatal("no KQL query in the seed document")
	}
	rest := s[i+1:]
	lines := strings.SplitN(rest, "\n", 3)
	seedQuery := lines[0] + "\n" + lines[1] + "\n"
	if !strings.Contains(kq.Text, "query: |\n  "+strings.ReplaceAll(strings.TrimSuffix(seedQuery, "\n"), "\n", "\n  ")+"\n") {
		t.Errorf("the pack's query is not the seed's:\n%s", seedQuery)
	}
	if kq.Name != sig.Name || kq.Description != sig.Description || kq.Severity != "medium" || kq.Language != "kql" ||
		!reflect.DeepEqual(kq.Author, sig.Author) || !reflect.DeepEqual(kq.References, sig.References) || kq.LogSource != "imProcessCreate" {
		t.Errorf("metadata: %+v", kq)
	}
	if !reflect.DeepEqual(kq.Threat, sig.Threat) {
		t.Errorf("threat %+v, want the Sigma rule's %+v", kq.Threat, sig.Threat)
	}
}

// generated are process starts around the seed rule's edges: every
// binary name it lists and some it does not, the flags in both cases,
// chains in both cases, missing executable or command line, non-start and
// non-process events.
func generated() []map[string]any {
	exes := []any{"/usr/sbin/iptables", "/usr/sbin/IPTABLES", "/sbin/ip6tables", "/usr/sbin/xtables-legacy-multi",
		"/usr/sbin/xtables-nft-multi", "/usr/sbin/iptables-legacy-multi", "/usr/sbin/ip6tables-legacy-multi",
		"iptables", "/usr/sbin/iptables-save", "", nil}
	cmds := []any{"iptables -F ufw-logging-deny", "iptables -f UFW-LOGGING-ALLOW", "ip6tables -X ufw6-logging-deny",
		"iptables -Z ufw6-logging-allow", "iptables -L ufw-logging-deny", "iptables -F INPUT",
		"iptables -A ufw-logging-deny -j ACCEPT --comment x-F", "iptables --flush ufw-logging-deny", "", nil}
	kinds := [][2]string{{"process", "start"}, {"process", "end"}, {"file", "creation"}}
	oses := []any{nil, "linux"}
	var out []map[string]any
	n := 0
	for _, k := range kinds {
		for _, os := range oses {
			for _, exe := range exes {
				for _, cmd := range cmds {
					proc := map[string]any{"pid": 1000 + n}
					if exe != nil {
						proc["executable"] = exe
					}
					if cmd != nil {
						proc["command_line"] = cmd
					}
					host := map[string]any{"name": "gen"}
					if os != nil {
						host["os"] = map[string]any{"type": os}
					}
					out = append(out, map[string]any{
						"@timestamp": fmt.Sprintf("2026-11-22T16:%02d:%02d.000Z", n/60%60, n%60),
						"event":      map[string]any{"category": []string{k[0]}, "type": []string{k[1]}, "kind": "event"},
						"host":       host,
						"process":    proc,
					})
					n++
				}
			}
		}
	}
	return out
}

// TestSeedSigmaKQLAgree: the seed Sigma rule and its KQL translation
// raise alerts on exactly the same events, over the bundled capture (all
// four renditions) and over generated events read through the ECS
// source.
func TestSeedSigmaKQLAgree(t *testing.T) {
	sig, kq := seedPair(t)
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "generated.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	enc := json.NewEncoder(f)
	for _, ev := range generated() {
		if err := enc.Encode(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	hits := func(r *rule.Rule, paths ...string) []string {
		eng, refused := hunt.Compile([]*rule.Rule{r})
		for _, rf := range refused {
			t.Fatalf("%s: %v", rf.Path, rf.Err)
		}
		c := &collector{}
		_, err := hunt.Run(context.Background(), eng, hunt.Options{
			Formats: []source.Format{auditd.Laurel{}, auditd.Raw{}, sysmon.XML{}, ecs.NDJSON{}}, Sink: c}, paths)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, a := range c.alerts {
			ev := a.Events[0]
			out = append(out, fmt.Sprintf("%s:%d %s %s", filepath.Base(ev.File), ev.Line,
				ev.Get("process.executable").String(), ev.Get("process.command_line").String()))
		}
		sort.Strings(out)
		return out
	}
	paths := []string{filepath.Join(testenv.Root(), "testdata", "samples"), dir}
	s, k := hits(sig, paths...), hits(kq, paths...)
	if !reflect.DeepEqual(s, k) {
		t.Errorf("the Sigma rule and the KQL query disagree\nsigma (%d):\n%s\nkql (%d):\n%s", len(s), strings.Join(s, "\n"), len(k), strings.Join(k, "\n"))
	}
	// Non-trivial: 6 binaries (the 5 listed, IPTABLES as endswith folds)
	// × 6 command lines (-F, -f, -X, -Z, "x-F" and "--flush": contains
	// folds) × 2 OS variants, and nothing else.
	if len(s) != 6*6*2 {
		t.Errorf("%d alerts, want %d:\n%s", len(s), 6*6*2, strings.Join(s, "\n"))
	}
}

type collector struct{ alerts []*alert.Alert }

func (c *collector) Write(a *alert.Alert) error { c.alerts = append(c.alerts, a); return nil }
func (c *collector) Close() error               { return nil }
