package process

import (
	"testing"
	"time"

	"github.com/firewarden/firewarden/event"
)

func execEv(host string, at time.Time, pid, ppid int64, exe, cmd string) *event.Event {
	ev := event.New(8)
	ev.Time = at
	ev.Set("event.category", event.Strs("process"))
	ev.Set("event.type", event.Strs("start"))
	if host != "" {
		ev.SetStr("host.name", host)
	}
	ev.Set("process.pid", event.IntV(pid))
	if ppid > 0 {
		ev.Set("process.parent.pid", event.IntV(ppid))
	}
	ev.SetStr("process.executable", exe)
	ev.SetStr("process.command_line", cmd)
	ev.SetStr("user.name", "root")
	return ev
}

func pids(ps []*Proc) []int64 {
	var out []int64
	for _, p := range ps {
		out = append(out, p.PID)
	}
	return out
}

func TestLineageAncestors(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 14, 49, 0, 0, time.UTC)
	l := NewLineage(0)
	l.Record(execEv("h", t0, 100, 1, "/usr/sbin/sshd", "sshd: root@pts/0"))
	l.Record(execEv("h", t0.Add(time.Second), 200, 100, "/usr/bin/bash", "-bash"))
	l.Record(execEv("h", t0.Add(2*time.Second), 300, 200, "/usr/sbin/xtables-nft-multi", "iptables -F"))
	l.Record(execEv("other", t0, 200, 7, "/usr/bin/zsh", "zsh"))
	// Not a process start: ignored.
	nf := event.New(4)
	nf.Set("event.category", event.Strs("configuration"))
	nf.Set("process.pid", event.IntV(999))
	l.Record(nf)
	if l.Len() != 4 {
		t.Fatalf("Len = %d, want 4", l.Len())
	}

	chain, unknown := l.Ancestors("h", 300, 200, t0.Add(2*time.Second))
	if got := pids(chain); len(got) != 2 || got[0] != 200 || got[1] != 100 || unknown != 1 {
		t.Fatalf("ancestors %v, unknown %d; want [200 100], 1", got, unknown)
	}
	if chain[0].Executable != "/usr/bin/bash" || chain[0].CommandLine != "-bash" || chain[0].User != "root" {
		t.Errorf("parent %+v", chain[0])
	}
	// Without the event's ppid, the culprit's own exec names it.
	if chain, _ := l.Ancestors("h", 300, 0, t0.Add(3*time.Second)); len(chain) != 2 {
		t.Errorf("from the culprit's exec: %v", pids(chain))
	}
	// Per host.
	if chain, unknown := l.Ancestors("other", 300, 200, t0.Add(3*time.Second)); len(chain) != 1 || chain[0].Executable != "/usr/bin/zsh" || unknown != 7 {
		t.Errorf("host other: %v %d", pids(chain), unknown)
	}
	// A pid reused after the alert's time is not an ancestor.
	l.Record(execEv("h", t0.Add(time.Hour), 100, 1, "/usr/bin/cron", "cron"))
	if chain, unknown := l.Ancestors("h", 300, 200, t0.Add(2*time.Second)); len(chain) != 1 || unknown != 100 {
		t.Errorf("after pid reuse: %v, unknown %d; want [200], 100", pids(chain), unknown)
	}
}

func TestLineageBoundedAndCycles(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 14, 49, 0, 0, time.UTC)
	l := NewLineage(3)
	for pid := int64(1); pid <= 10; pid++ {
		l.Record(execEv("h", t0, pid, pid+1, "/bin/sh", "sh"))
	}
	if l.Len() != 3 {
		t.Fatalf("Len = %d, want 3 (bounded)", l.Len())
	}
	if l.Lookup("h", 1, time.Time{}) != nil || l.Lookup("h", 10, time.Time{}) == nil {
		t.Error("the oldest entries should be evicted first")
	}
	// A cycle (two captures' pids) ends the chain.
	c := NewLineage(0)
	c.Record(execEv("h", t0, 1, 2, "/a", "a"))
	c.Record(execEv("h", t0, 2, 1, "/b", "b"))
	chain, _ := c.Ancestors("h", 5, 1, t0)
	if len(chain) != 2 {
		t.Errorf("cycle: %v", pids(chain))
	}
	// The chain is capped.
	d := NewLineage(0)
	for pid := int64(1); pid <= 100; pid++ {
		d.Record(execEv("h", t0, pid, pid+1, "/bin/sh", "sh"))
	}
	if chain, _ := d.Ancestors("h", 0, 1, t0); len(chain) != MaxAncestors {
		t.Errorf("chain of %d, want %d", len(chain), MaxAncestors)
	}
}
