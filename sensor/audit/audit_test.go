package audit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/sensor/internal/netnstest"
	"github.com/firewarden/firewarden/sensor/internal/nlsock"
)

type collector struct {
	mu     sync.Mutex
	events []*event.Event
	times  []time.Time
}

func (c *collector) wait(t *testing.T, what string, match func(*event.Event) bool) (*event.Event, time.Time) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		for i, ev := range c.events {
			if match(ev) {
				at := c.times[i]
				c.mu.Unlock()
				return ev, at
			}
		}
		c.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var got []string
	for _, ev := range c.events {
		got = append(got, ev.Get("event.action").Str+" "+ev.Get("auditd.comm").Str+" "+ev.Get("auditd.unit").Str)
	}
	t.Fatalf("no %s within 2s; got %d events: %s", what, len(c.events), strings.Join(got, "; "))
	return nil, time.Time{}
}

func start(t *testing.T) (*Sensor, *collector) {
	s, err := Open(Options{EnableAudit: true})
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- s.Run(ctx, func(ev *event.Event) error {
			c.mu.Lock()
			c.events = append(c.events, ev)
			c.times = append(c.times, time.Now())
			c.mu.Unlock()
			return nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return s, c
}

// TestIptablesLegacy: iptables-legacy goes around nftables; the kernel's
// NETFILTER_CFG record still names it.
func TestIptablesLegacy(t *testing.T) {
	netnstest.Require(t, "iptables-legacy")
	s, c := start(t)
	ns := netnstest.New(t)
	t0 := time.Now()
	pid := ns.Run(t, "", "iptables-legacy", "-F")
	ev, at := c.wait(t, "NETFILTER_CFG xt_replace from iptables-legacy", func(ev *event.Event) bool {
		return ev.Get("event.action").Str == "netfilter_cfg" && ev.Get("process.pid").Int == int64(pid) &&
			ev.Get("firewall.op").Str == "xt_replace"
	})
	t.Logf("NETFILTER_CFG %s after the command started; stats %+v", at.Sub(t0), s.Stats())
	for path, want := range map[string]string{
		"firewall.table":   "filter",
		"firewall.backend": "iptables-legacy", "firewall.family": "ipv4", "event.module": "auditd",
	} {
		if got := ev.Get(path).Str; got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	// The kernel's exe is the multi-call binary; comm is the applet.
	if exe := ev.Get("process.executable").Str; !strings.HasSuffix(exe, "xtables-legacy-multi") {
		t.Errorf("process.executable = %q", exe)
	}
	comm := false
	ev.Get("auditd.comm").Each(func(v event.Value) bool { comm = comm || v.Str == "iptables-legacy"; return true })
	if !comm {
		t.Errorf("auditd.comm = %v, want iptables-legacy among them", ev.Get("auditd.comm"))
	}
	if c := ev.Get("event.category"); c.Len() != 1 || c.List[0].Str != "configuration" {
		t.Errorf("event.category = %v", c)
	}
	if ev.Has("log.file.path") {
		t.Errorf("log.file.path on a live event")
	}
}

// TestServiceStop: a SERVICE_STOP record as systemd writes it (a user
// message relayed by the kernel) becomes a service_stop event.
func TestServiceStop(t *testing.T) {
	netnstest.Require(t)
	_, c := start(t)
	var b [4]byte
	_, _ = rand.Read(b[:])
	unit := "fwt-test-" + hex.EncodeToString(b[:])
	w, err := nlsock.Open(unix.NETLINK_AUDIT, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	msg := "unit=" + unit + ` comm="systemd" exe="/usr/lib/systemd/systemd" hostname=? addr=? terminal=? res=success`
	if _, err := w.Send(1131, unix.NLM_F_REQUEST, append([]byte(msg), 0)); err != nil {
		t.Fatal(err)
	}
	ev, _ := c.wait(t, "SERVICE_STOP of "+unit, func(ev *event.Event) bool {
		return ev.Get("event.action").Str == "service_stop" && ev.Get("service.name").Str == unit
	})
	if got := ev.Get("auditd.unit").Str; got != unit {
		t.Errorf("auditd.unit = %q", got)
	}
}

func TestRecordLine(t *testing.T) {
	typ, id, line, ok := recordLine(1325, []byte("audit(1700000000.123:42): table=filter:3 family=2 entries=4 op=xt_replace pid=7 comm=\"iptables\"\x00"))
	if !ok || typ != "NETFILTER_CFG" || id != "1700000000.123:42" || line != `type=NETFILTER_CFG msg=audit(1700000000.123:42): table=filter:3 family=2 entries=4 op=xt_replace pid=7 comm="iptables"` {
		t.Fatalf("%v %q %q %q", ok, typ, id, line)
	}
	if _, _, _, ok := recordLine(1000, []byte("audit(1:2): x")); ok {
		t.Error("AUDIT_GET reply taken for a record")
	}
}

// FuzzRecordLine: arbitrary netlink payloads never panic the record path.
func FuzzRecordLine(f *testing.F) {
	f.Add(uint16(1325), []byte("audit(1700000000.123:42): table=filter:3 family=2 entries=4 op=xt_replace pid=7 comm=\"iptables\""))
	f.Add(uint16(1131), []byte("audit(1700000000.123:43): pid=1 uid=0 auid=4294967295 ses=4294967295 msg='unit=ufw comm=\"systemd\" res=success'"))
	f.Fuzz(func(t *testing.T, typ uint16, data []byte) {
		_, _, line, ok := recordLine(typ, data)
		if !ok {
			return
		}
		live := newLiveForFuzz()
		for _, ev := range live.Events([]string{line}) {
			(&Sensor{}).finish(ev)
		}
	})
}
