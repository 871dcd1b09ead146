package process

import (
	"reflect"
	"testing"

	"github.com/firewarden/firewarden/event"
)

func TestName(t *testing.T) {
	tests := []struct {
		exe          string
		argv         []string
		name, script string
	}{
		{"/usr/sbin/xtables-nft-multi", []string{"iptables", "-F"}, "iptables", ""},
		{"/usr/sbin/xtables-nft-multi", []string{"/usr/sbin/ip6tables-restore"}, "ip6tables-restore", ""},
		{"/usr/sbin/xtables-nft-multi", []string{"xtables-nft-multi", "iptables", "-F"}, "iptables", ""},
		{"/usr/sbin/xtables-legacy-multi", []string{"iptables-legacy", "-F"}, "iptables-legacy", ""},
		{"/bin/busybox", []string{"busybox"}, "busybox", ""},
		{"/tmp/fwtool", []string{"iptables", "-F"}, "fwtool", ""},
		{"/usr/bin/python3.11", []string{"/usr/bin/python3", "/usr/sbin/ufw", "disable"}, "ufw", "/usr/sbin/ufw"},
		{"/usr/bin/python3.11", []string{"/usr/bin/python3", "-s", "/usr/bin/firewall-cmd", "--panic-on"}, "firewall-cmd", "/usr/bin/firewall-cmd"},
		{"/usr/bin/python3.11", []string{"python3", "-c", "import os"}, "python3.11", ""},
		{"/usr/bin/dash", []string{"/bin/sh", "/usr/sbin/service", "iptables", "stop"}, "service", "/usr/sbin/service"},
		{"/usr/bin/dash", []string{"sh", "-c", "iptables -F"}, "dash", ""},
		{"/usr/bin/bash", []string{"bash", "-xc", "iptables -F"}, "bash", ""},
		{"/usr/bin/bash", []string{"bash"}, "bash", ""},
		{"/usr/bin/perl", []string{"/usr/bin/perl", "/usr/sbin/update-rc.d", "iptables", "disable"}, "update-rc.d", "/usr/sbin/update-rc.d"},
		{"", []string{"/usr/sbin/nft", "flush", "ruleset"}, "nft", ""},
		{"", nil, "", ""},
	}
	for _, tc := range tests {
		name, script := Name(tc.exe, tc.argv)
		if name != tc.name || script != tc.script {
			t.Errorf("Name(%q, %q) = %q, %q; want %q, %q", tc.exe, tc.argv, name, script, tc.name, tc.script)
		}
	}
}

func TestShellSplit(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"iptables -F", []string{"iptables", "-F"}},
		{`sh -c 'iptables -I INPUT -j ACCEPT'`, []string{"sh", "-c", "iptables -I INPUT -j ACCEPT"}},
		{`echo "a \"b\" c" d\ e`, []string{"echo", `a "b" c`, "d e"}},
		{`it's`, []string{"it's"}}, // unbalanced: falls back to fields
		{"  spaced   out ", []string{"spaced", "out"}},
		{`''`, []string{""}},
	}
	for _, tc := range tests {
		if got := ShellSplit(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ShellSplit(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func exec(host string, pid, ppid int64, exe, cmd string) *event.Event {
	ev := event.New(8)
	ev.SetStr("host.name", host)
	ev.Set("event.type", event.Strs("start"))
	ev.Set("process.pid", event.IntV(pid))
	ev.Set("process.parent.pid", event.IntV(ppid))
	ev.SetStr("process.executable", exe)
	ev.SetStr("process.command_line", cmd)
	return ev
}

func TestDerive(t *testing.T) {
	tab := NewTable(0)
	shell := exec("vm", 100, 1, "/usr/bin/bash", "bash")
	tab.Derive(shell, Fields)
	ufw := exec("vm", 200, 100, "/usr/bin/python3.11", "/usr/bin/python3 /usr/sbin/ufw disable")
	tab.Derive(ufw, Fields)
	child := exec("vm", 300, 200, "/usr/sbin/xtables-nft-multi", "iptables -F ufw-before-input")
	child.SetStr("process.name", "given") // provided fields stay
	tab.Derive(child, Fields)
	other := exec("other-host", 400, 200, "/usr/bin/true", "true")
	tab.Derive(other, Fields)

	check := func(ev *event.Event, path string, want event.Value) {
		t.Helper()
		if got := ev.Get(path); !got.Equal(want) {
			t.Errorf("%s = %v (%v), want %v", path, got, got.Kind, want)
		}
	}
	check(ufw, "process.name", event.Str("ufw"))
	check(ufw, "process.script.path", event.Str("/usr/sbin/ufw"))
	check(ufw, "process.args", event.Strs("/usr/bin/python3", "/usr/sbin/ufw", "disable"))
	check(ufw, "process.args_count", event.IntV(3))
	check(ufw, "process.parent.executable", event.Str("/usr/bin/bash"))
	check(child, "process.name", event.Str("given"))
	check(child, "process.parent.name", event.Str("ufw"))
	check(child, "process.parent.command_line", event.Str("/usr/bin/python3 /usr/sbin/ufw disable"))
	check(other, "process.parent.executable", event.Value{}) // other host: unknown parent

	// A non-exec event of a known process gets its missing fields.
	net := event.New(4)
	net.SetStr("host.name", "vm")
	net.Set("event.type", event.Strs("connection"))
	net.Set("process.pid", event.IntV(200))
	tab.Derive(net, Fields)
	check(net, "process.command_line", event.Str("/usr/bin/python3 /usr/sbin/ufw disable"))
}

func TestTableBounded(t *testing.T) {
	tab := NewTable(10)
	for i := int64(0); i < 100; i++ {
		tab.Derive(exec("vm", i, 1, "/bin/true", "true"), Fields)
	}
	if tab.Len() != 10 {
		t.Fatalf("table holds %d, want 10", tab.Len())
	}
	if tab.procs.get(key{"vm", 99}) == nil {
		t.Error("newest process evicted")
	}
}

func FuzzShellSplit(f *testing.F) {
	for _, s := range []string{`sh -c 'a b'`, `"x\"y"`, `a\`, `'`, "printf '*filter\\n'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ShellSplit(s)
		Name("/usr/bin/python3", ShellSplit(s))
	})
}
