package hunt

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firewarden/firewarden/internal/testenv"
	"github.com/firewarden/firewarden/rule"
	"github.com/firewarden/firewarden/rules"
)

// shEvent is CyclopsBlink's way of opening a port: its process (parent)
// runs sh -c 'iptables … &>/dev/null'; the shell's command line carries
// the redirection, as Sysmon for Linux reports it (decoded).
func writeShEvents(t *testing.T, ppid int, parent string, ports []string) string {
	t.Helper()
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	var b strings.Builder
	for i, port := range ports {
		cmd := "sh -c iptables -I INPUT -p tcp --dport " + port + " -j ACCEPT &>/dev/null"
		doc := map[string]any{
			"@timestamp": t0.Add(time.Duration(i) * time.Second).Format(time.RFC3339Nano),
			"event":      map[string]any{"category": []string{"process"}, "type": []string{"start"}, "kind": "event"},
			"host":       map[string]any{"name": "h1"},
			"user":       map[string]any{"name": "root"},
			"process": map[string]any{
				"pid": 2000 + i, "executable": "/bin/sh", "name": "sh",
				"command_line": cmd, "args": []string{"sh", "-c", strings.TrimPrefix(cmd, "sh -c ")},
				"parent": map[string]any{"pid": ppid, "executable": parent, "name": filepath.Base(parent)},
			},
		}
		line, _ := json.Marshal(doc)
		b.Write(line)
		b.WriteByte('\n')
	}
	p := filepath.Join(t.TempDir(), "events.ndjson")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func cyclopsCases() []struct {
	name   string
	parent string
	ports  []string
	want   int
} {
	const malware = "/tmp/.cb/cyclops"
	return []struct {
		name   string
		parent string
		ports  []string
		want   int
	}{
		{"three listed ports", malware, []string{"3269", "636", "8443"}, 1},
		{"two listed ports", malware, []string{"3269", "636"}, 0},
		{"three ports, one not listed", malware, []string{"3269", "22", "8443"}, 0},
		{"the same port three times", malware, []string{"636", "636", "636"}, 0},
		{"system parent", "/usr/bin/bash", []string{"3269", "636", "8443"}, 0},
		{"six ports: one alert per burst of three", malware, []string{"3269", "636", "989", "994", "995", "8443"}, 2},
	}
}

// TestCyclopsBlinkSPL runs the seed's SPL search (the built-in pack's copy,
// verbatim) and ESCU's current version (which matches Splunk's undecoded
// "&amp;&gt;/dev/null") over the CyclopsBlink pattern: both fire at three
// distinct listed ports under one non-system parent, never below.
func TestCyclopsBlinkSPL(t *testing.T) {
	set, err := rule.LoadFS(rules.FS, ".", "builtin:", true)
	if err != nil {
		t.Fatal(err)
	}
	for _, rf := range set.Refused {
		t.Fatalf("built-in pack refused %s: %v", rf.Path, rf.Err)
	}
	var seed *rule.Rule
	for _, r := range set.Rules {
		if r.Language == "spl" && strings.Contains(r.Path, "linux_iptables_firewall_modification_seed") {
			seed = r
		}
	}
	if seed == nil {
		t.Fatal("the seed SPL rule is not in the built-in pack")
	}
	versions := map[string]*rule.Rule{"seed": seed}
	if dir := testenv.Shared(t, "corpus", "splunk"); dir != "" {
		cs, err := rule.LoadPaths([]string{filepath.Join(dir, "detections", "linux_iptables_firewall_modification.yml")})
		if err != nil || len(cs.Rules) != 1 {
			t.Fatalf("ESCU version: %v %v", err, cs.Refused)
		}
		versions["escu"] = cs.Rules[0]
	}
	for vname, r := range versions {
		for _, tc := range cyclopsCases() {
			t.Run(vname+"/"+tc.name, func(t *testing.T) {
				as, _ := hunt(t, []*rule.Rule{r}, writeShEvents(t, 42, tc.parent, tc.ports))
				if len(as) != tc.want {
					t.Fatalf("%d alerts, want %d", len(as), tc.want)
				}
				for _, a := range as {
					if a.Rule.Language != "spl" || len(a.Events) < 3 {
						t.Errorf("alert: language %s, %d events", a.Rule.Language, len(a.Events))
					}
				}
			})
		}
	}
}
