package alert

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/rule"
)

// at makes an alert of rule name on host at t0+d.
func at(t0 time.Time, d time.Duration, host, name string, pid int64) *Alert {
	r := &rule.Rule{ID: name, Name: name, Severity: "medium", Path: "x.yml"}
	ev := event.New(4)
	ev.Time = t0.Add(d)
	ev.File, ev.Line = "/var/log/audit/audit.log", int(pid)
	if host != "" {
		ev.SetStr("host.name", host)
	}
	ev.Set("process.pid", event.IntV(pid))
	ev.SetStr("process.command_line", fmt.Sprintf("cmd %d", pid))
	return New(r, []*event.Event{ev}, nil)
}

func TestIndexNear(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 14, 49, 20, 0, time.UTC)
	a := at(t0, 0, "vm", "a", 1)
	in := []*Alert{
		at(t0, -5*time.Minute, "vm", "edge-before", 2), // included: both ends count
		at(t0, -5*time.Minute-time.Millisecond, "vm", "too-early", 3),
		a,
		at(t0, 3*time.Second, "other", "other-host", 4),
		at(t0, time.Minute, "vm", "after", 5),
		at(t0, 5*time.Minute+time.Second, "vm", "too-late", 6),
	}
	var got []string
	for _, r := range NewIndex(in).Near(a, DefaultWindow) {
		got = append(got, r.Rule.Name)
	}
	if strings.Join(got, ",") != "edge-before,after" {
		t.Errorf("near = %v, want [edge-before after]", got)
	}
	if n := len(NewIndex(in).Near(a, time.Second)); n != 0 {
		t.Errorf("1s window: %d related", n)
	}
}

func TestWriteView(t *testing.T) {
	r, ev := sample()
	r.Guide = "Check who ran nft."
	ev.SetStr("event.action", "nft_ruleset_flushed")
	ev.SetStr("firewall.diff", "- table inet filter\n- chain inet filter input { type filter hook input priority 0; policy drop; }")
	ev.SetStr("firewall.netns.name", "root")
	ev.Set("firewall.generation", event.IntV(12))
	a := New(r, []*event.Event{ev}, []string{"sel"})
	a.Process.Ancestors = []*Process{
		{PID: 6, Executable: "/usr/bin/bash", CommandLine: "-bash", User: &Named{Name: "root"}},
		{PID: 5, Executable: "/usr/sbin/sshd", CommandLine: "sshd: root@pts/0"},
		{PID: 1},
	}
	t0 := a.Timestamp
	related := []*Alert{a, at(t0, -2*time.Second, "vm", "before", 10), at(t0, 90*time.Second, "vm", "after", 11), at(t0, time.Second, "vm", "near", 12)}
	var buf bytes.Buffer
	WriteView(&buf, a, related, ViewOptions{MaxRelated: 2})
	out := buf.String()
	for _, want := range []string{
		"   process tree\n      1  (its exec is not in the events read)\n      └─ 5  /usr/sbin/sshd  “sshd: root@pts/0”\n        └─ 6  /usr/bin/bash  “-bash”  user root\n          └─ 7  “nft flush ruleset”  user root   ← this alert\n",
		"   ruleset diff  nft_ruleset_flushed, netns root, generation 12\n      - table inet filter\n      - chain inet filter input",
		"   events\n      2026-11-22T14:49:20.000Z  audit.log:42  nft_ruleset_flushed  pid 7\n",
		"   related    3 other alert(s) on vm within ±5m; the 2 nearest\n",
		"-2s  medium   ", "+1s  medium   ",
		"   guide\n      Check who ran nft.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("view lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "after") || strings.Index(out, "related") > strings.Index(out, "guide") {
		t.Errorf("related: the 2 nearest, before the guide:\n%s", out)
	}
	// The table's -v view is the same, its related alerts from the rows.
	var tb bytes.Buffer
	tab := NewTable(&tb)
	tab.Verbose = true
	for _, x := range related {
		tab.Write(x)
	}
	tab.Close()
	if !strings.Contains(tb.String(), "   related    3 other alert(s) on vm within ±5m\n") || !strings.Contains(tb.String(), "ruleset diff") {
		t.Errorf("table -v:\n%s", tb.String())
	}
}
