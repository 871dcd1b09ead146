package hunt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firewarden/firewarden/internal/testenv"
	"github.com/firewarden/firewarden/rule"
	"github.com/firewarden/firewarden/rules"
)

// TestSeedEQLOnDefendEvents runs the built-in pack's two Elastic rules (the
// seed's query verbatim and Elastic's newer version) over documents shaped
// exactly like Elastic Defend's: the real exec document of
// ../shared/samples/elastic_defend_linux_exec_rfc0030.json, as its search
// hit (_index, _source), with only the process (and parent) changed per
// case. Both rules must fire where Kibana would, in strict-index mode too.
func TestSeedEQLOnDefendEvents(t *testing.T) {
	raw, err := os.ReadFile(testenv.Shared(t, "samples", "elastic_defend_linux_exec_rfc0030.json"))
	if err != nil {
		t.Fatal(err)
	}
	set, err := rule.LoadFS(rules.FS, "elastic", "builtin:", true)
	if err != nil || len(set.Refused) > 0 || len(set.Rules) != 2 {
		t.Fatalf("pack: %v %v", err, set.Refused)
	}
	var seed, newer *rule.Rule
	for _, r := range set.Rules {
		if strings.Contains(r.Path, "_seed") {
			seed = r
		} else {
			newer = r
		}
	}
	tests := []struct {
		name        string
		args        []string
		parentArgs  []string
		seed, newer bool
	}{
		{"iptables -F", []string{"iptables", "-F"}, nil, true, true},
		{"iptables --delete-chain", []string{"iptables", "--delete-chain"}, nil, true, true},
		{"iptables -F INPUT has three args", []string{"iptables", "-F", "INPUT"}, nil, false, false},
		{"iptables -f is another flag (== is case-sensitive)", []string{"iptables", "-f"}, nil, false, false},
		{"ufw disable", []string{"ufw", "disable"}, nil, true, true},
		{"ufw enable", []string{"ufw", "enable"}, nil, false, false},
		{"iptables under an init script's force-stop", []string{"iptables", "-L"}, []string{"/etc/init.d/iptables", "force-stop"}, true, true},
		{"systemctl stop firewalld", []string{"systemctl", "stop", "firewalld"}, nil, true, true},
		{"systemctl stop FirewallD (no match: == is case-sensitive)", []string{"systemctl", "stop", "FirewallD"}, nil, false, false},
		{"systemctl mask firewalld.service (only the newer rule)", []string{"systemctl", "mask", "firewalld.service"}, nil, false, true},
		{"update-rc.d iptables remove (only the newer rule)", []string{"update-rc.d", "iptables", "remove"}, nil, false, true},
		{"service iptables stop", []string{"service", "iptables", "stop"}, nil, true, true},
		{"chkconfig iptables off", []string{"chkconfig", "iptables", "off"}, nil, true, true},
		{"systemctl status firewalld", []string{"systemctl", "status", "firewalld"}, nil, false, false},
		{"ls -la (the sample as captured)", nil, nil, false, false},
	}
	var in bytes.Buffer
	for i, tc := range tests {
		var hit map[string]any
		if err := json.Unmarshal(raw, &hit); err != nil {
			t.Fatal(err)
		}
		// Each case is its own document: its own event.id and _id (an
		// alert's id hashes event.id, and a repeated id is a duplicate).
		src := hit["_source"].(map[string]any)
		src["event"].(map[string]any)["id"] = fmt.Sprintf("case-%d", i)
		hit["_id"] = fmt.Sprintf("case-%d", i)
		p := src["process"].(map[string]any)
		if tc.args != nil {
			p["name"], p["args"], p["args_count"] = tc.args[0], tc.args, len(tc.args)
			p["executable"] = "/usr/sbin/" + tc.args[0]
			p["command_line"] = strings.Join(tc.args, " ")
		}
		if tc.parentArgs != nil {
			p["parent"].(map[string]any)["args"] = tc.parentArgs
		}
		line, err := json.Marshal(hit)
		if err != nil {
			t.Fatal(err)
		}
		in.Write(line)
		in.WriteByte('\n')
	}
	path := filepath.Join(t.TempDir(), "defend.ndjson")
	if err := os.WriteFile(path, in.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, strict := range []bool{false, true} {
		eng, refused := CompileWith(set.Rules, CompileOptions{StrictIndex: strict})
		if len(refused) > 0 {
			t.Fatalf("engine refused %v", refused)
		}
		c := &collect{}
		sum, err := Run(context.Background(), eng, Options{Formats: formats(), Sink: c}, []string{path})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Sources.Bad() != 0 {
			t.Fatalf("bad records: %+v", sum.Sources)
		}
		fired := map[int]map[string]bool{}
		for _, a := range c.alerts {
			line := a.Events[0].Line
			if fired[line] == nil {
				fired[line] = map[string]bool{}
			}
			fired[line][a.Rule.ID] = true
			r := newer
			if a.Rule.ID == seed.ID {
				r = seed
			}
			if a.Rule.Severity != r.Severity || a.Rule.RiskScore != r.RiskScore || len(a.Threat) == 0 || a.Rule.Guide != r.Guide {
				t.Errorf("alert of %s lacks the rule's metadata: %s %d %d threats", a.Rule.Name, a.Rule.Severity, a.Rule.RiskScore, len(a.Threat))
			}
		}
		for i, tc := range tests {
			got := fired[i+1]
			if got[seed.ID] != tc.seed || got[newer.ID] != tc.newer {
				t.Errorf("strict=%v %s: seed fired %v (want %v), newer fired %v (want %v)",
					strict, tc.name, got[seed.ID], tc.seed, got[newer.ID], tc.newer)
			}
		}
	}
}
