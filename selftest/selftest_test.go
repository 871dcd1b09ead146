package selftest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestSelftestSubset runs iptables -F, nft flush ruleset and the benign
// iptables -L with the live sensors: the pack detects both attacks, the
// ground truth sees both, nothing fires on the benign one, and the host's
// ruleset is unchanged.
func TestSelftestSubset(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI runs the tests as root")
		}
		t.Skip("needs root (eBPF, netlink, network namespaces)")
	}
	for _, tool := range []string{"ip", "nft", "iptables"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s not installed (.ci/run installs it)", tool)
			}
			t.Skipf("%s not installed", tool)
		}
	}
	nsBefore := selftestNamespaces(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := Run(ctx, Options{Only: []string{"iptables-F", "nft-flush-ruleset", "iptables-L"}})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := WriteTable(&out, rep); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", out.String())
	if len(rep.NoSensors) > 0 {
		t.Logf("sensors not running: %v", rep.NoSensors)
	}
	if !rep.HostUntouched {
		t.Errorf("the host's ruleset changed:\n%s", rep.HostDiff)
	}
	if !strings.Contains(out.String(), "host firewall untouched") {
		t.Error("the report does not say the host was left untouched")
	}
	rows := map[string]*Row{}
	for _, r := range rep.Rows {
		rows[r.ID] = r
	}
	for _, id := range []string{"iptables-F", "nft-flush-ruleset"} {
		r := rows[id]
		if r == nil || !r.Ran {
			t.Fatalf("%s did not run: %+v", id, r)
		}
		if !r.Cells["pack"].Detected {
			t.Errorf("%s: the firewarden pack did not detect it", id)
		}
		if !r.Cells["truth"].Detected || !r.Truth.Seen {
			t.Errorf("%s: the kernel-side sensors saw no firewall change", id)
		}
	}
	r := rows["iptables-L"]
	if r == nil || !r.Ran {
		t.Fatalf("iptables-L did not run: %+v", r)
	}
	for col, c := range r.Cells {
		if col != "truth" && c.Detected {
			t.Errorf("false positive on iptables -L: %s: %v", col, c.Rules)
		}
	}
	if r.Truth.Seen {
		t.Errorf("iptables -L: the sensors saw a firewall change: %v", r.Truth.Actions)
	}
	for _, tot := range rep.Totals {
		if tot.Column == "pack" && (tot.Detected != 2 || tot.Attacks != 2 || tot.FalsePositives != 0) {
			t.Errorf("pack total %+v, want 2/2 and no false positive", tot)
		}
	}
	if after := selftestNamespaces(t); after != nsBefore {
		t.Errorf("selftest namespaces left behind: %q (before: %q)", after, nsBefore)
	}
}

func selftestNamespaces(t *testing.T) string {
	entries, _ := os.ReadDir("/run/netns")
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "fwself-") {
			names = append(names, e.Name())
		}
	}
	return strings.Join(names, " ")
}

func TestSelect(t *testing.T) {
	if _, err := Select([]string{"nope"}); err == nil || !strings.Contains(err.Error(), "iptables-F") {
		t.Errorf("unknown id: %v", err)
	}
	ts, err := Select(nil)
	if err != nil || len(ts) < 25 {
		t.Fatalf("%d techniques, %v", len(ts), err)
	}
	seen := map[string]bool{}
	for _, tc := range ts {
		if seen[tc.ID] {
			t.Errorf("duplicate id %s", tc.ID)
		}
		seen[tc.ID] = true
		if tc.Script == "" && tc.NotRun == "" {
			t.Errorf("%s: neither a script nor a reason not to run", tc.ID)
		}
	}
}

func TestColumn(t *testing.T) {
	for p, want := range map[string]string{
		"builtin:sigma/firewarden/nft_flush.yml":                            "pack",
		"builtin:sigma/flush_iptables_ufw_chain.yml":                        "seed-sigma",
		"builtin:elastic/attempt_to_disable_iptables_or_firewall_seed.toml": "seed-eql",
		"builtin:elastic/attempt_to_disable_iptables_or_firewall.toml":      "elastic",
		"builtin:spl/linux_iptables_firewall_modification_seed.yml":         "seed-spl",
		"builtin:kql/flush_iptables_ufw_chain.yaml":                         "seed-kql",
		"/home/me/rules/x.yml":                                              "",
	} {
		if got := column(p); got != want {
			t.Errorf("column(%s) = %q, want %q", p, got, want)
		}
	}
}

func TestCommandRefusesOtherNamespaces(t *testing.T) {
	if _, err := command(context.Background(), "host", t.TempDir(), "x", "true", nil); err == nil {
		t.Error("command ran outside a fwself- namespace")
	}
}

func TestDiffLines(t *testing.T) {
	if d := diffLines("a\nb\n", "a\nb\n"); d != "" {
		t.Errorf("equal: %q", d)
	}
	if d := diffLines("a\nb\n", "a\nc\n"); d != "- b\n+ c\n" {
		t.Errorf("diff: %q", d)
	}
}

// TestIsolatedConfig: a technique's isolated configuration path is a
// private copy bind-mounted in a mount namespace of its own: what the
// technique writes there never reaches the real path (a stand-in for
// /etc/ufw here).
func TestIsolatedConfig(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (namespaces, mount)")
	}
	for _, tool := range []string{"ip", "unshare", "mount"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	real := t.TempDir()
	os.WriteFile(real+"/ufw.conf", []byte("ENABLED=yes\n"), 0o644)
	ns := "fwself-test" + strings.ReplaceAll(t.Name(), "/", "")
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	defer exec.Command("ip", "netns", "delete", ns).Run()
	dir := t.TempDir()
	cmd, err := command(context.Background(), ns, dir, "technique", "sed -i s/yes/no/ "+real+"/ufw.conf && cat "+real+"/ufw.conf", []string{real})
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.CombinedOutput()
	if err != nil || string(out) != "ENABLED=no\n" {
		t.Fatalf("technique: %v: %q", err, out)
	}
	if b, _ := os.ReadFile(real + "/ufw.conf"); string(b) != "ENABLED=yes\n" {
		t.Errorf("the real path changed: %q", b)
	}
	if b, _ := os.ReadFile(dir + "/isolated/0/ufw.conf"); string(b) != "ENABLED=no\n" {
		t.Errorf("the private copy did not change: %q", b)
	}
}
