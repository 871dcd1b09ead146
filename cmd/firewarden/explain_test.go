package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/firewarden -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file; run go test ./cmd/firewarden -run Explain -update and review the diff.\ngot:\n%s", p, got)
	}
}

type huntAlert struct {
	Time time.Time `json:"@timestamp"`
	ID   string
	Rule struct{ Name string }
	Host struct{ Name string }
	// Process holds the culprit and its ancestors.
	Process struct {
		PID         int64
		CommandLine string `json:"command_line"`
		Ancestors   []struct {
			PID        int64
			Executable string
			User       struct{ Name string }
		}
	}
	Events []struct {
		Log struct {
			File struct{ Path string }
		}
	}
}

func huntNDJSON(t *testing.T, stdin string, args ...string) []huntAlert {
	t.Helper()
	out, errs, code := run(t, stdin, append([]string{"hunt", "-f", "ndjson", "-q"}, args...)...)
	if code != exitOK {
		t.Fatalf("hunt: exit %d: %s", code, errs)
	}
	var as []huntAlert
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var a huntAlert
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatal(err)
		}
		as = append(as, a)
	}
	return as
}

// TestExplainIptablesFlush expands the alert of `iptables -F` run from the
// capture's root shell: the same id as hunt's, the shell among its
// ancestors (in the alert record and the view), every other alert on that
// host within ±5 minutes listed, none from another host.
func TestExplainIptablesFlush(t *testing.T) {
	samples := filepath.Join("..", "..", "testdata", "samples")
	as := huntNDJSON(t, "", samples)
	var target *huntAlert
	for i, a := range as {
		if a.Rule.Name == "Iptables Flush, Chain Delete or Accept Policy (Any Binary Name)" && a.Process.CommandLine == "iptables -F" &&
			filepath.Base(a.Events[0].Log.File.Path) == "audit.log.gz" {
			target = &as[i]
			break
		}
	}
	if target == nil {
		t.Fatal("no alert of iptables -F in audit.log.gz")
	}
	shell := false
	for _, p := range target.Process.Ancestors {
		shell = shell || p.Executable == "/usr/bin/bash" && p.User.Name == "root"
	}
	if !shell {
		t.Errorf("process.ancestors lacks the root shell: %+v", target.Process.Ancestors)
	}

	out, errs, code := run(t, "", "explain", target.ID, samples)
	if code != exitOK {
		t.Fatalf("explain: exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "alert "+target.ID) || !strings.Contains(out, "   process tree\n") ||
		!strings.Contains(out, "/usr/bin/bash  “bash”  user root\n") || !strings.Contains(out, "“iptables -F”  user root   ← this alert") ||
		!strings.Contains(out, "   guide\n") {
		t.Errorf("view:\n%s", out)
	}
	var near, far int
	for _, a := range as {
		if a.ID == target.ID {
			continue
		}
		d := a.Time.Sub(target.Time)
		in := a.Host.Name == target.Host.Name && d >= -5*time.Minute && d <= 5*time.Minute
		listed := strings.Contains(out, "  "+a.ID+"  ")
		switch {
		case in && !listed:
			t.Errorf("related alert %s (%s, %s) not listed", a.ID, a.Rule.Name, a.Time)
		case !in && listed:
			t.Errorf("alert %s on host %q listed as related to one on %q", a.ID, a.Host.Name, target.Host.Name)
		}
		if in {
			near++
		} else {
			far++
		}
	}
	if near == 0 || far == 0 {
		t.Errorf("%d alerts near, %d elsewhere: the capture should have both", near, far)
	}

	// The golden view: a 2s window keeps it short. An id prefix finds the
	// same alert.
	out, errs, code = run(t, "", "explain", "--window", "2s", target.ID[:10], samples)
	if code != exitOK {
		t.Fatalf("explain --window 2s: exit %d: %s", code, errs)
	}
	golden(t, "explain-iptables-F.golden", out)

	// hunt -f table -v shows the same view after the table.
	tab, _, code := run(t, "", "hunt", "-f", "table", "-v", "-q", "--window", "2s", "--related", "0", filepath.Join(samples, "audit.log.gz"))
	if code != exitOK || !strings.Contains(tab, strings.SplitN(out, "   related ", 2)[0]) {
		t.Errorf("hunt -v (exit %d) lacks explain's view up to the related alerts:\n%s", code, out)
	}
}

func TestExplainUnknownID(t *testing.T) {
	samples := filepath.Join("..", "..", "testdata", "samples", "audit.log.gz")
	_, errs, code := run(t, "", "explain", "000000000000000000000000", samples)
	if code != exitFailure || !strings.Contains(errs, `no alert with id "000000000000000000000000"`) || !strings.Contains(errs, "alert(s), none with that id") {
		t.Errorf("unknown id: exit %d, %s", code, errs)
	}
	_, errs, code = run(t, "", "explain", "abc", samples)
	if code != exitUsage || !strings.Contains(errs, "at least its first 6 characters") {
		t.Errorf("short id: exit %d, %s", code, errs)
	}
	_, _, code = run(t, "", "explain", "000000000000")
	if code != exitUsage {
		t.Errorf("no path: exit %d", code)
	}
	out, _, _ := run(t, "", "explain", "--help")
	for _, want := range []string{"ALERT_ID PATH...", "--window", "--related", "process tree", "rotated copy of a log gives the same"} {
		if !strings.Contains(out, want) {
			t.Errorf("explain --help lacks %q", want)
		}
	}
	out, _, _ = run(t, "", "hunt", "--help")
	if !strings.Contains(out, "process.ancestors") || !strings.Contains(out, "--window") {
		t.Errorf("hunt --help lacks -v's view:\n%s", out)
	}
}

// TestExplainSensorDiff: a live-sensor capture (watch --events): the nft
// sensor's ruleset flush, made by nft from a shell the exec sensor saw,
// explains with the ruleset diff and the process tree.
func TestExplainSensorDiff(t *testing.T) {
	capture := `{"@timestamp":"2026-11-22T14:49:20.000Z","event":{"kind":"event","category":["process"],"type":["start"],"action":"exec"},"host":{"name":"vm"},"user":{"name":"alice"},"process":{"pid":50,"executable":"/usr/bin/bash","args":["bash","-i"],"parent":{"pid":1}}}
{"@timestamp":"2026-11-22T14:49:21.000Z","event":{"kind":"event","category":["process"],"type":["start"],"action":"exec"},"host":{"name":"vm"},"user":{"name":"root"},"process":{"pid":60,"executable":"/usr/bin/sudo","args":["sudo","nft","flush","ruleset"],"parent":{"pid":50}}}
{"@timestamp":"2026-11-22T14:49:21.100Z","event":{"kind":"event","category":["process"],"type":["start"],"action":"exec"},"host":{"name":"vm"},"user":{"name":"root"},"process":{"pid":61,"executable":"/usr/sbin/nft","args":["nft","flush","ruleset"],"parent":{"pid":60}}}
{"@timestamp":"2026-11-22T14:49:21.120Z","event":{"kind":"event","module":"firewarden","dataset":"firewarden.nft","category":["configuration"],"type":["deletion"],"action":"nft_ruleset_flushed","outcome":"success"},"host":{"name":"vm"},"process":{"pid":61,"name":"nft"},"firewall":{"backend":"nftables","generation":42,"netns":{"inode":4026531840,"name":"root"},"diff":"- table inet filter\n- chain inet filter input { type filter hook input priority 0; policy drop; }\n- rule inet filter input handle 4 [ immediate reg 0 accept ]"}}
`
	as := huntNDJSON(t, capture, "-")
	id := ""
	for _, a := range as {
		if a.Rule.Name != "" && a.Process.PID == 61 && strings.Contains(a.Rule.Name, "Ruleset") && len(a.Process.Ancestors) > 0 {
			id = a.ID
		}
	}
	if id == "" {
		t.Fatalf("no sensor alert with ancestors: %+v", as)
	}
	out, errs, code := run(t, capture, "explain", id, "-")
	if code != exitOK {
		t.Fatalf("explain: exit %d: %s", code, errs)
	}
	for _, want := range []string{
		"   process tree\n      1  (its exec is not in the events read)\n      └─ 50  /usr/bin/bash  “bash -i”  user alice\n        └─ 60  /usr/bin/sudo  “sudo nft flush ruleset”  user root\n          └─ 61  /usr/sbin/nft  “nft flush ruleset”  user root   ← this alert\n",
		"   ruleset diff  nft_ruleset_flushed, netns root, generation 42\n      - table inet filter\n      - chain inet filter input { type filter hook input priority 0; policy drop; }\n      - rule inet filter input handle 4 [ immediate reg 0 accept ]\n",
		"other alert(s) on vm within ±5m",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("view lacks %q:\n%s", want, out)
		}
	}
}
