package hunt

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firewarden/firewarden/rule"
	"github.com/firewarden/firewarden/rules"
)

// procEvent is one Elastic-style process start.
type procEvent struct {
	at      time.Duration // after t0
	ppid    int
	parent  string
	cmdline string
}

func writeProcEvents(t *testing.T, evs []procEvent) string {
	t.Helper()
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	var b strings.Builder
	for i, e := range evs {
		args := strings.Fields(e.cmdline)
		doc := map[string]any{
			"@timestamp": t0.Add(e.at).Format(time.RFC3339Nano),
			"event":      map[string]any{"category": []string{"process"}, "type": []string{"start"}, "kind": "event"},
			"host":       map[string]any{"name": "h1", "os": map[string]any{"type": "linux"}},
			"process": map[string]any{
				"pid": 1000 + i, "executable": "/usr/sbin/xtables-nft-multi", "name": "iptables",
				"command_line": e.cmdline, "args": args,
				"parent": map[string]any{"pid": e.ppid},
			},
		}
		if e.parent != "" {
			doc["process"].(map[string]any)["parent"].(map[string]any)["executable"] = e.parent
		}
		line, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	p := filepath.Join(t.TempDir(), "events.ndjson")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func open(port string) string {
	return "iptables -I INPUT -p tcp --dport " + port + " -j ACCEPT"
}

// TestCyclopsBlinkCorrelation: the seed Splunk rule's logic (one parent
// outside the system directories opening three or more listed ports) as
// the built-in pack's Sigma value_count correlation over its base rule.
func TestCyclopsBlinkCorrelation(t *testing.T) {
	set, err := rule.LoadFS(rules.FS, ".", "builtin:", true)
	if err != nil {
		t.Fatal(err)
	}
	for _, rf := range set.Refused {
		t.Fatalf("built-in pack refused %s: %v", rf.Path, rf.Err)
	}
	var pack []*rule.Rule
	for _, r := range set.Rules {
		if strings.Contains(r.Path, "iptables_cyclopsblink_ports.yml") {
			pack = append(pack, r)
		}
	}
	if len(pack) != 2 {
		t.Fatalf("%d rules from iptables_cyclopsblink_ports.yml, want the correlation and its base rule", len(pack))
	}
	const corrName = "Iptables Opens CyclopsBlink C2 Ports From a Non-System Parent"
	const malware = "/tmp/.cb/cyclops"
	tests := []struct {
		name string
		evs  []procEvent
		want int
	}{
		{"three ports, one parent", []procEvent{{0, 42, malware, open("3269")}, {time.Second, 42, malware, open("636")}, {2 * time.Second, 42, malware, open("8443")}}, 1},
		{"two ports", []procEvent{{0, 42, malware, open("3269")}, {time.Second, 42, malware, open("636")}}, 0},
		{"three ports, three parents", []procEvent{{0, 41, malware, open("3269")}, {time.Second, 42, malware, open("636")}, {2 * time.Second, 43, malware, open("8443")}}, 0},
		{"the same port three times", []procEvent{{0, 42, malware, open("636")}, {time.Second, 42, malware, open("636")}, {2 * time.Second, 42, malware, open("636")}}, 0},
		{"one port not listed", []procEvent{{0, 42, malware, open("3269")}, {time.Second, 42, malware, open("22")}, {2 * time.Second, 42, malware, open("8443")}}, 0},
		{"parent unknown (orphans)", []procEvent{{0, 1, "", open("3269")}, {time.Second, 1, "", open("636")}, {2 * time.Second, 1, "", open("8443")}}, 0},
		{"system parent", []procEvent{{0, 42, "/usr/bin/bash", open("3269")}, {time.Second, 42, "/usr/bin/bash", open("636")}, {2 * time.Second, 42, "/usr/bin/bash", open("8443")}}, 0},
		{"spread over more than the timespan", []procEvent{{0, 42, malware, open("3269")}, {40 * time.Minute, 42, malware, open("636")}, {80 * time.Minute, 42, malware, open("8443")}}, 0},
		{"exactly within the timespan", []procEvent{{0, 42, malware, open("3269")}, {30 * time.Minute, 42, malware, open("636")}, {time.Hour, 42, malware, open("8443")}}, 1},
		{"six ports: one alert per burst", []procEvent{{0, 42, malware, open("3269")}, {1, 42, malware, open("636")}, {2, 42, malware, open("989")},
			{3, 42, malware, open("994")}, {4, 42, malware, open("995")}, {5, 42, malware, open("8443")}}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			as, _ := hunt(t, pack, writeProcEvents(t, tc.evs))
			n := 0
			for _, a := range as {
				if a.Rule.Name != corrName {
					t.Errorf("alert from %q: the base rule feeds the correlation only (generate: false)", a.Rule.Name)
					continue
				}
				n++
				if a.Rule.Severity != "high" || len(a.Events) < 3 {
					t.Errorf("alert: severity %s, %d events", a.Rule.Severity, len(a.Events))
				}
			}
			if n != tc.want {
				t.Errorf("%d correlation alerts, want %d", n, tc.want)
			}
		})
	}
}
