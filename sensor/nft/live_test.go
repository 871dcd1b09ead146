package nft

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/sensor/internal/netnstest"
)

var capture = flag.Bool("capture", false, "save the nftables messages the live test receives under testdata/messages (fuzz seeds)")

// live runs a sensor and collects its events.
type live struct {
	s      *Sensor
	mu     sync.Mutex
	events []*event.Event
	times  []time.Time
	cancel context.CancelFunc
	done   chan error
}

func startLive(t *testing.T) *live {
	t.Helper()
	s, err := Open(Options{ScanInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &live{s: s, cancel: cancel, done: make(chan error, 1)}
	go func() {
		l.done <- s.Run(ctx, func(ev *event.Event) error {
			l.mu.Lock()
			l.events = append(l.events, ev)
			l.times = append(l.times, time.Now())
			l.mu.Unlock()
			return nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-l.done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return l
}

func (l *live) waitWatching(t *testing.T, ino uint64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !l.s.Watching(ino) {
		if time.Now().After(deadline) {
			t.Fatalf("namespace %d not watched after 5s (stats %+v)", ino, l.s.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// wait returns the first event since index from that matches, waiting up
// to 2s, and the time it arrived.
func (l *live) wait(t *testing.T, from int, what string, match func(*event.Event) bool) (*event.Event, time.Time) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		l.mu.Lock()
		for i := from; i < len(l.events); i++ {
			if match(l.events[i]) {
				ev, at := l.events[i], l.times[i]
				l.mu.Unlock()
				return ev, at
			}
		}
		n := len(l.events)
		l.mu.Unlock()
		if time.Now().After(deadline) {
			l.mu.Lock()
			var got []string
			for _, ev := range l.events[from:] {
				got = append(got, dump(ev))
			}
			l.mu.Unlock()
			t.Fatalf("no %s within 2s; %d events since: \n%s", what, n-from, strings.Join(got, "\n"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (l *live) mark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.events)
}

func dump(ev *event.Event) string {
	var sb strings.Builder
	for _, p := range ev.Paths() {
		fmt.Fprintf(&sb, "  %s=%s", p, ev.Get(p).String())
	}
	return sb.String()
}

func str(ev *event.Event, p string) string { return ev.Get(p).Str }

func TestLiveNamespace(t *testing.T) {
	netnstest.Require(t, "nft", "iptables", "iptables-restore")
	var capMu sync.Mutex
	captured := map[uint16][][]byte{}
	if *capture {
		captureHook = func(typ uint16, data []byte) {
			capMu.Lock()
			defer capMu.Unlock()
			if len(captured[typ]) < 4 {
				captured[typ] = append(captured[typ], append([]byte(nil), data...))
			}
		}
		t.Cleanup(func() { captureHook = nil; saveCaptured(t, captured) })
	}
	l := startLive(t)
	ns := netnstest.New(t)
	l.waitWatching(t, ns.Inode)

	var lat []time.Duration
	step := func(name, stdin string, argv []string, action string, check func(t *testing.T, ev *event.Event, pid int)) {
		t.Run(name, func(t *testing.T) {
			from := l.mark()
			t0 := time.Now()
			pid := ns.Run(t, stdin, argv...)
			ev, at := l.wait(t, from, action, func(ev *event.Event) bool {
				return str(ev, "event.action") == action && ev.Get("firewall.netns.inode").Int == int64(ns.Inode)
			})
			lat = append(lat, at.Sub(t0))
			if got := ev.Get("process.pid").Int; got != int64(pid) {
				t.Errorf("process.pid = %d, want %d", got, pid)
			}
			if got := str(ev, "firewall.netns.name"); got != ns.Name {
				t.Errorf("firewall.netns.name = %q, want %q", got, ns.Name)
			}
			if !ev.Get("firewall.generation").Exists() {
				t.Errorf("no firewall.generation")
			}
			if c := ev.Get("event.category"); c.Len() != 1 || c.List[0].Str != "configuration" {
				t.Errorf("event.category = %v", c)
			}
			if check != nil {
				check(t, ev, pid)
			}
			t.Logf("%s: %s after the command started\n%s", action, at.Sub(t0), str(ev, "firewall.diff"))
		})
	}
	name := func(want string) func(*testing.T, *event.Event, int) {
		return func(t *testing.T, ev *event.Event, _ int) {
			if got := str(ev, "process.name"); got != want {
				t.Errorf("process.name = %q, want %q", got, want)
			}
		}
	}
	step("nft add table", "", []string{"nft", "add", "table", "inet", "t"}, "nft_table_added", func(t *testing.T, ev *event.Event, pid int) {
		name("nft")(t, ev, pid)
		if str(ev, "firewall.family") != "inet" || str(ev, "firewall.table") != "t" {
			t.Errorf("family/table = %q/%q", str(ev, "firewall.family"), str(ev, "firewall.table"))
		}
	})
	step("nft add chain", "", []string{"nft", "add", "chain", "inet", "t", "c", "{ type filter hook input priority 0; policy drop; }"}, "nft_chain_added", func(t *testing.T, ev *event.Event, pid int) {
		name("nft")(t, ev, pid)
		if str(ev, "firewall.chain") != "c" || str(ev, "firewall.policy.after") != "drop" || ev.Has("firewall.policy.before") {
			t.Errorf("chain %q policy %q -> %q", str(ev, "firewall.chain"), str(ev, "firewall.policy.before"), str(ev, "firewall.policy.after"))
		}
	})
	step("nft add rule", "", []string{"nft", "add", "rule", "inet", "t", "c", "tcp", "dport", "22", "accept"}, "nft_rule_added", func(t *testing.T, ev *event.Event, pid int) {
		if r := str(ev, "firewall.rule"); !strings.Contains(r, "accept") || !strings.Contains(r, "0x0016") {
			t.Errorf("firewall.rule = %q", r)
		}
	})
	step("nft chain policy", "", []string{"nft", "add", "chain", "inet", "t", "c", "{ type filter hook input priority 0; policy accept; }"}, "nft_chain_policy_changed", func(t *testing.T, ev *event.Event, pid int) {
		if str(ev, "firewall.policy.before") != "drop" || str(ev, "firewall.policy.after") != "accept" {
			t.Errorf("policy %q -> %q", str(ev, "firewall.policy.before"), str(ev, "firewall.policy.after"))
		}
	})
	step("nft flush ruleset", "", []string{"nft", "flush", "ruleset"}, "nft_ruleset_flushed", func(t *testing.T, ev *event.Event, pid int) {
		name("nft")(t, ev, pid)
		d := str(ev, "firewall.diff")
		if !strings.Contains(d, "- table inet t") || !strings.Contains(d, "- chain inet t c") || !strings.Contains(d, "- rule inet t c") {
			t.Errorf("diff:\n%s", d)
		}
	})
	step("iptables -A", "", []string{"iptables", "-A", "INPUT", "-p", "tcp", "--dport", "22", "-j", "ACCEPT"}, "nft_table_added", func(t *testing.T, ev *event.Event, pid int) {
		// A fresh namespace: iptables-nft creates the table with the rule.
		name("iptables")(t, ev, pid)
		if d := str(ev, "firewall.diff"); !strings.Contains(d, "+ rule ip filter INPUT") {
			t.Errorf("diff:\n%s", d)
		}
	})
	step("iptables -F", "", []string{"iptables", "-F"}, "nft_chain_flushed", func(t *testing.T, ev *event.Event, pid int) {
		name("iptables")(t, ev, pid)
		if str(ev, "firewall.family") != "ip" || str(ev, "firewall.table") != "filter" || str(ev, "firewall.chain") != "INPUT" {
			t.Errorf("flushed %s %s %s", str(ev, "firewall.family"), str(ev, "firewall.table"), str(ev, "firewall.chain"))
		}
	})
	step("iptables -P DROP", "", []string{"iptables", "-P", "INPUT", "DROP"}, "nft_chain_policy_changed", nil)
	step("iptables -P ACCEPT", "", []string{"iptables", "-P", "INPUT", "ACCEPT"}, "nft_chain_policy_changed", func(t *testing.T, ev *event.Event, pid int) {
		name("iptables")(t, ev, pid)
		if str(ev, "firewall.policy.before") != "drop" || str(ev, "firewall.policy.after") != "accept" || str(ev, "firewall.chain") != "INPUT" {
			t.Errorf("policy %q -> %q on %q", str(ev, "firewall.policy.before"), str(ev, "firewall.policy.after"), str(ev, "firewall.chain"))
		}
	})
	step("iptables-restore stdin", "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 2222 -j ACCEPT\nCOMMIT\n", []string{"iptables-restore"}, "nft_chain_policy_changed", func(t *testing.T, ev *event.Event, pid int) {
		name("iptables-restor")(t, ev, pid) // comm is 15 bytes at most
		if str(ev, "firewall.policy.before") != "accept" || str(ev, "firewall.policy.after") != "drop" {
			t.Errorf("policy %q -> %q", str(ev, "firewall.policy.before"), str(ev, "firewall.policy.after"))
		}
	})
	// A renamed copy of the multi-call binary: the applet is its first argument.
	multi, err := filepath.EvalSymlinks(mustLook(t, "iptables"))
	if err != nil {
		t.Fatal(err)
	}
	renamed := filepath.Join(t.TempDir(), "innocent")
	copyFile(t, multi, renamed)
	step("renamed binary", "", []string{renamed, "iptables", "-A", "INPUT", "-j", "DROP"}, "nft_rule_added", name("innocent"))

	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) > 0 {
		t.Logf("command start to event: min %s, median %s, max %s over %d commands", lat[0], lat[len(lat)/2], lat[len(lat)-1], len(lat))
	}
	st := l.s.Stats()
	t.Logf("stats %+v", st)
	if st.Resyncs != 0 || st.DecodeErrors != 0 {
		t.Errorf("resyncs %d, decode errors %d", st.Resyncs, st.DecodeErrors)
	}
}

// TestForgetsGoneNamespace: a deleted namespace is let go.
func TestForgetsGoneNamespace(t *testing.T) {
	netnstest.Require(t)
	l := startLive(t)
	ns := netnstest.New(t)
	l.waitWatching(t, ns.Inode)
	if out, err := exec.Command("ip", "netns", "delete", ns.Name).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if out, err := exec.Command("ip", "netns", "add", ns.Name).CombinedOutput(); err != nil { // for the cleanup
		t.Fatalf("%v: %s", err, out)
	}
	deadline := time.Now().Add(3 * time.Second)
	for l.s.Watching(ns.Inode) {
		if time.Now().After(deadline) {
			t.Fatal("deleted namespace still watched after 3s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func mustLook(t *testing.T, c string) string {
	p, err := exec.LookPath(c)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func copyFile(t *testing.T, from, to string) {
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// saveCaptured writes captured messages as fuzz seeds: two bytes of
// netlink message type (big-endian), then the payload.
func saveCaptured(t *testing.T, m map[uint16][][]byte) {
	dir := filepath.Join("testdata", "messages")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for typ, msgs := range m {
		for i, b := range msgs {
			out := append([]byte{byte(typ >> 8), byte(typ)}, b...)
			name := filepath.Join(dir, fmt.Sprintf("type%02d-%d.bin", typ&0xff, i))
			if err := os.WriteFile(name, out, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
