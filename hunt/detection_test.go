package hunt

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/firewarden/firewarden/alert"
	"github.com/firewarden/firewarden/exception"
	"github.com/firewarden/firewarden/internal/testenv"
	"github.com/firewarden/firewarden/rule"
	"github.com/firewarden/firewarden/rules"
)

// manifest maps audit event ids of the capture to the command of the
// scenario they belong to (exec_labels.tsv, netfilter_cfg.tsv).
type manifest struct {
	seqOf    map[string]string // audit id → manifest seq
	category map[string]string // seq → attack | benign
	label    map[string]string // seq → label
}

func readTSV(t *testing.T, path string, fn func(cols map[string]string)) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var head []string
	for sc.Scan() {
		parts := strings.Split(sc.Text(), "\t")
		if head == nil {
			head = parts
			continue
		}
		cols := map[string]string{}
		for i, h := range head {
			if i < len(parts) {
				cols[h] = parts[i]
			}
		}
		fn(cols)
	}
}

func loadManifest(t *testing.T) *manifest {
	dir := testenv.Shared(t, "samples", "audit")
	m := &manifest{seqOf: map[string]string{}, category: map[string]string{}, label: map[string]string{}}
	readTSV(t, filepath.Join(dir, "commands.tsv"), func(c map[string]string) {
		m.category[c["seq"]] = c["category"]
		m.label[c["seq"]] = c["label"]
	})
	readTSV(t, filepath.Join(dir, "exec_labels.tsv"), func(c map[string]string) {
		if c["manifest_seq"] != "" {
			m.seqOf[c["audit_event_id"]] = c["manifest_seq"]
		}
	})
	readTSV(t, filepath.Join(dir, "netfilter_cfg.tsv"), func(c map[string]string) {
		if c["manifest_seq"] != "" {
			m.seqOf[c["audit_event_id"]] = c["manifest_seq"]
		}
	})
	return m
}

// TestDetectionMatrix measures, on the raw audit log of the bundled
// capture, which of its 25 attack commands each rule set detects and how
// many of its 343 benign commands it alerts on. Attack-setup and
// attack-cleanup steps count as benign.
func TestDetectionMatrix(t *testing.T) {
	m := loadManifest(t)
	pack, err := rule.LoadFS(rules.FS, ".", "builtin:", true)
	if err != nil {
		t.Fatal(err)
	}
	var seed, seedEQL, seedSPL, own []*rule.Rule
	for _, r := range pack.Rules {
		switch {
		case strings.Contains(r.Path, "/firewarden/"):
			own = append(own, r)
		case r.Language == "eql":
			seedEQL = append(seedEQL, r) // the Elastic seed and its newer version
		case r.Language == "spl":
			seedSPL = append(seedSPL, r) // the Splunk seed (CyclopsBlink ports)
		default:
			seed = append(seed, r)
		}
	}
	corpus, err := rule.LoadPaths([]string{testenv.Shared(t, "corpus", "sigma")})
	if err != nil {
		t.Fatal(err)
	}
	attacks := 0
	for _, c := range m.category {
		if c == "attack" {
			attacks++
		}
	}
	in := filepath.Join(samples(), "audit.log.gz")
	results := map[string][2]int{}
	// Every shipped exception preset at once: they must cost the pack no
	// attack (none of the capture's attacks is run by a trusted tool).
	presets, err := exception.LoadPresets(exception.Presets())
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range []struct {
		name  string
		rules []*rule.Rule
		xs    []*exception.Exception
	}{{"seed Sigma", seed, nil}, {"Elastic seed (EQL)", seedEQL, nil}, {"Splunk seed (SPL)", seedSPL, nil}, {"firewarden pack", own, nil},
		{"pack, every preset", own, presets}, {"SigmaHQ Linux corpus", corpus.Rules, nil}} {
		if len(set.rules) == 0 {
			t.Logf("%-22s no rules compiled", set.name)
			continue
		}
		as := huntWith(t, set.rules, set.xs, in)
		hit, fp := map[string]bool{}, map[string]bool{}
		for _, a := range as {
			seq := m.seqOf[a.Events[0].Get("auditd.id").Str]
			switch m.category[seq] {
			case "attack":
				hit[seq] = true
			case "benign":
				fp[seq] = true
			}
		}
		var missed, falsePos []string
		for seq := range fp {
			falsePos = append(falsePos, seq+":"+m.label[seq])
		}
		sort.Strings(falsePos)
		for seq, c := range m.category {
			if c == "attack" && !hit[seq] {
				missed = append(missed, seq+":"+m.label[seq])
			}
		}
		sort.Strings(missed)
		results[set.name] = [2]int{len(hit), len(fp)}
		t.Logf("%-22s detects %2d of %d attack commands; alerts on %d benign commands; missed: %s", set.name, len(hit), attacks, len(fp), strings.Join(missed, " "))
		if len(falsePos) > 0 && len(falsePos) <= 20 {
			t.Logf("%-22s benign commands alerted on: %s", "", strings.Join(falsePos, " "))
		}
	}
	// Floors: the pack must keep catching what it catches today (the
	// CyclopsBlink port pattern through its Sigma value_count
	// correlation, the renamed copy that failed through its directory);
	// the log line above names the one it misses: chkconfig, absent from
	// the host, left no event at all (rules/README.md). The benign
	// commands it alerts on are the three of today: ufw's own enable and
	// allow (preset ufw silences them) and a maintenance script that
	// flushes and restores.
	if got := results["firewarden pack"]; got[0] < 24 || got[1] > 3 {
		t.Errorf("firewarden pack detects %d attacks and alerts on %d benign commands, want at least 24 and at most 3", got[0], got[1])
	}
	if got, pack := results["pack, every preset"], results["firewarden pack"]; got[0] != pack[0] || got[1] > 1 {
		t.Errorf("with every preset the pack detects %d attacks (without: %d) and alerts on %d benign commands, want the same attacks and at most 1 (the maintenance script)", got[0], pack[0], got[1])
	}
	if got := results["seed Sigma"][0]; got != 0 {
		t.Errorf("seed Sigma rule detects %d, measured 0 (it is blind on nft-backed hosts): %v", got, fmt.Sprint(results))
	}
}

// huntWith runs rules with exceptions over paths.
func huntWith(t *testing.T, rs []*rule.Rule, xs []*exception.Exception, paths ...string) []*alert.Alert {
	t.Helper()
	eng, refused := CompileWith(rs, CompileOptions{Exceptions: xs})
	for _, r := range refused {
		t.Errorf("engine refused %s: %v", r.Path, r.Err)
	}
	c := &collect{}
	if _, err := Run(context.Background(), eng, Options{Formats: formats(), Sink: c}, paths); err != nil {
		t.Fatal(err)
	}
	return c.alerts
}
