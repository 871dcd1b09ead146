package watch

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/firewarden/firewarden/hunt"
	"github.com/firewarden/firewarden/lang/eql"
	"github.com/firewarden/firewarden/rule"
	execsensor "github.com/firewarden/firewarden/sensor/exec"
	"github.com/firewarden/firewarden/sensor/nft"
)

// netns makes a network namespace for the test and deletes it afterwards;
// every firewall command runs inside it, never in the host's.
func netns(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (eBPF, netlink, network namespaces)")
	}
	for _, c := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(c); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s not installed (.ci/run installs it)", c)
			}
			t.Skipf("%s not installed", c)
		}
	}
	var b [4]byte
	rand.Read(b[:])
	name := "fww-" + hex.EncodeToString(b[:])
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "delete", name).Run() })
	return name
}

func inNetns(t *testing.T, ns string, argv ...string) {
	t.Helper()
	if out, err := exec.Command("ip", append([]string{"netns", "exec", ns}, argv...)...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(argv, " "), err, out)
	}
}

// TestWatchLiveFlush: with the exec and nft sensors running, `nft flush
// ruleset` in a throwaway namespace raises an alert within two seconds
// whose process is the nft command (pid, command line) and whose parent
// is the shell that ran it — the firewall change linked to its exec.
func TestWatchLiveFlush(t *testing.T) {
	ns := netns(t)
	inNetns(t, ns, "nft", "add", "table", "inet", "fwtest")
	q, err := eql.Compile(`configuration where event.action == "nft_ruleset_flushed"`, eql.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := &rule.Rule{ID: "live-flush", Name: "Ruleset flushed (live)", Language: "eql", Severity: "high", RiskScore: 73, Query: q}
	eng, refused := hunt.Compile([]*rule.Rule{r})
	if len(refused) > 0 {
		t.Fatal(refused)
	}
	ex, err := execsensor.Open(execsensor.Options{})
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("exec sensor: %v", err)
		}
		t.Skipf("exec sensor: %v", err)
	}
	defer ex.Close()
	nf, err := nft.Open(nft.Options{ScanInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	sink := &collect{}
	w, err := New(Config{Sensors: []Sensor{ex, nf}, Engine: eng, Sink: sink})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() {
		c := time.Now()
		cancel()
		<-done
		t.Logf("stopped in %v", time.Since(c))
	}()
	// Wait until the namespace is watched.
	ino := nsInode(t, ns)
	for deadline := time.Now().Add(5 * time.Second); !nf.Watching(ino); {
		if time.Now().After(deadline) {
			t.Fatal("the namespace was never watched")
		}
		time.Sleep(20 * time.Millisecond)
	}

	cmd := exec.Command("ip", "netns", "exec", ns, "sh", "-c", "nft flush ruleset; true")
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nft flush ruleset: %v: %s", err, out)
	}
	for sink.count() == 0 && time.Since(start) < 2*time.Second {
		time.Sleep(10 * time.Millisecond)
	}
	if sink.count() == 0 {
		t.Fatal("no alert within 2s of nft flush ruleset")
	}
	sink.mu.Lock()
	a := sink.alerts[0]
	sink.mu.Unlock()
	t.Logf("alert after %v: process %+v", time.Since(start).Round(time.Millisecond), a.Process)
	if a.Process == nil || a.Process.CommandLine != "nft flush ruleset" || a.Process.PID == 0 {
		t.Fatalf("the alert does not name the culprit: %+v", a.Process)
	}
	if a.Process.Parent == nil || !strings.HasSuffix(a.Process.Parent.Executable, "sh") {
		t.Errorf("the alert does not name the parent shell: %+v", a.Process.Parent)
	}
}

func nsInode(t *testing.T, ns string) uint64 {
	fi, err := os.Stat("/run/netns/" + ns)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}
