package config

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/firewarden/firewarden/event"
)

var capture = flag.Bool("capture", false, "save the fanotify reads the live test receives under testdata/records (fuzz seeds)")

// openTest opens the sensor on a temporary tree, skipping without root
// and failing under CI=true when fanotify does not work as root.
func openTest(t *testing.T, opts Options) *Sensor {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (fanotify)")
	}
	s, err := Open(opts)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("fanotify: %v", err)
		}
		t.Skipf("fanotify: %v", err)
	}
	return s
}

type collector struct {
	mu  sync.Mutex
	evs []*event.Event
}

func (c *collector) emit(ev *event.Event) error {
	c.mu.Lock()
	c.evs = append(c.evs, ev)
	c.mu.Unlock()
	return nil
}

// wait returns the first event with this action and path that arrives
// within two seconds.
func (c *collector) wait(t *testing.T, action, path string) *event.Event {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		c.mu.Lock()
		for _, ev := range c.evs {
			if ev.Get("event.action").String() == action && ev.Get("file.path").String() == path {
				c.mu.Unlock()
				return ev
			}
		}
		c.mu.Unlock()
		if time.Now().After(deadline) {
			c.mu.Lock()
			defer c.mu.Unlock()
			for _, ev := range c.evs {
				t.Logf("got %s %s pid %d", ev.Get("event.action").String(), ev.Get("file.path").String(), ev.Get("process.pid").Int)
			}
			t.Fatalf("no %s event for %s within 2s", action, path)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// run runs a shell script in a child and returns its pid (the writer, as
// the script does the writing itself or execs the command that does).
func run(t *testing.T, script string) int64 {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", script, err, out)
	}
	return int64(cmd.Process.Pid)
}

func writeFile(t *testing.T, p, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestLiveConfigFiles: a temporary tree shaped like /etc; children write,
// replace by rename, create and delete its firewall files, and each change
// arrives within two seconds with its path, action, product and the
// writer's pid; other files in /etc are not reported.
func TestLiveConfigFiles(t *testing.T) {
	root := t.TempDir()
	etc := filepath.Join(root, "etc")
	writeFile(t, filepath.Join(etc, "ufw", "user.rules"), "*filter\n")
	writeFile(t, filepath.Join(etc, "nftables.conf"), "flush ruleset\n")
	writeFile(t, filepath.Join(etc, "iptables", "rules.v4"), "*filter\nCOMMIT\n")
	writeFile(t, filepath.Join(etc, "hosts"), "127.0.0.1 localhost\n")

	s := openTest(t, Options{Root: root})
	defer s.Close()
	var capMu sync.Mutex
	var captured [][]byte
	if *capture {
		s.capture = func(b []byte) {
			capMu.Lock()
			captured = append(captured, append([]byte(nil), b...))
			capMu.Unlock()
		}
		t.Cleanup(func() { saveCaptured(t, captured) })
	}
	t.Logf("rename events: %v, directories marked: %d", s.rename, s.Stats().Marked)
	c := &collector{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, c.emit) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(time.Second):
			t.Error("Run did not stop within 1s")
		}
	}()

	check := func(ev *event.Event, pid int64, product string, types ...string) {
		t.Helper()
		if got := ev.Get("process.pid").Int; got != pid {
			t.Errorf("%s: pid %d, want the writer %d", ev.Get("file.path").String(), got, pid)
		}
		if got := ev.Get("firewall.config.product").String(); got != product {
			t.Errorf("%s: product %q, want %q", ev.Get("file.path").String(), got, product)
		}
		if got := ev.Get("event.category"); len(got.List) != 1 || got.List[0].String() != "file" {
			t.Errorf("event.category %v", got)
		}
		if len(types) > 0 {
			got := ev.Get("event.type")
			if len(got.List) != len(types) {
				t.Errorf("%s: event.type %v, want %v", ev.Get("file.path").String(), got, types)
			}
			for i, ty := range types {
				if i < len(got.List) && got.List[i].String() != ty {
					t.Errorf("%s: event.type %v, want %v", ev.Get("file.path").String(), got, types)
				}
			}
		}
	}

	// Written in place by the shell itself.
	userRules := filepath.Join(etc, "ufw", "user.rules")
	pid := run(t, "echo '-A ufw-user-input -j ACCEPT' >> "+userRules)
	ev := c.wait(t, "config_modified", userRules)
	check(ev, pid, "ufw", "change")
	if ev.Get("file.name").String() != "user.rules" || ev.Get("firewall.config.path").String() != "/etc/ufw/user.rules" {
		t.Errorf("file.name %q, firewall.config.path %q", ev.Get("file.name").String(), ev.Get("firewall.config.path").String())
	}

	// Replaced by a rename, as editors and package managers do.
	nftConf := filepath.Join(etc, "nftables.conf")
	pid = run(t, fmt.Sprintf("echo 'flush ruleset' > %[1]s.tmp && exec mv %[1]s.tmp %[1]s", nftConf))
	ev = c.wait(t, "config_renamed", nftConf)
	check(ev, pid, "nftables", "change", "creation")
	if s.rename && ev.Get("firewall.config.old_path").String() != nftConf+".tmp" {
		t.Errorf("old path %q", ev.Get("firewall.config.old_path").String())
	}

	// Deleted.
	rulesV4 := filepath.Join(etc, "iptables", "rules.v4")
	pid = run(t, "exec rm "+rulesV4)
	check(c.wait(t, "config_deleted", rulesV4), pid, "iptables", "deletion")

	// Created.
	rulesV6 := filepath.Join(etc, "iptables", "rules.v6")
	pid = run(t, "echo '*filter' > "+rulesV6)
	check(c.wait(t, "config_created", rulesV6), pid, "iptables", "creation")

	// A configuration directory that appears, and a file in a new
	// subdirectory of it.
	zones := filepath.Join(etc, "firewalld", "zones")
	pid = run(t, "exec mkdir -p "+zones)
	check(c.wait(t, "config_created", filepath.Join(etc, "firewalld")), pid, "firewalld", "creation")
	// zones was made before firewalld could be marked (or just after):
	// found when firewalld was marked, without a process, or seen live.
	ev = c.wait(t, "config_created", zones)
	if ev.Get("firewall.config.discovered").Exists() {
		check(ev, 0, "firewalld", "creation")
	} else {
		check(ev, pid, "firewalld", "creation")
	}
	if ev.Get("file.type").String() != "dir" {
		t.Errorf("file.type %q", ev.Get("file.type").String())
	}
	public := filepath.Join(zones, "public.xml")
	pid = run(t, "echo '<zone/>' > "+public)
	check(c.wait(t, "config_created", public), pid, "firewalld", "creation")

	// /etc/sysconfig appears (not configuration itself: nothing is
	// emitted, but it gets marked), then iptables-config in it.
	marked := s.Stats().Marked
	run(t, "exec mkdir "+filepath.Join(etc, "sysconfig"))
	for deadline := time.Now().Add(2 * time.Second); s.Stats().Marked == marked; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("/etc/sysconfig was not marked within 2s")
		}
	}
	sysIpt := filepath.Join(etc, "sysconfig", "iptables-config")
	pid = run(t, "echo 'IPTABLES_SAVE_ON_STOP=no' > "+sysIpt)
	check(c.wait(t, "config_created", sysIpt), pid, "iptables", "creation")

	// Other files in /etc are not reported.
	run(t, "echo '10.0.0.1 x' >> "+filepath.Join(etc, "hosts"))
	c.wait(t, "config_modified", sysIpt) // the last one's writes, after which hosts' have been read
	time.Sleep(50 * time.Millisecond)
	c.mu.Lock()
	for _, ev := range c.evs {
		if p := ev.Get("file.path").String(); p == filepath.Join(etc, "hosts") || p == nftConf+".tmp" {
			t.Errorf("reported %s %s", ev.Get("event.action").String(), p)
		}
	}
	c.mu.Unlock()
	st := s.Stats()
	t.Logf("stats %+v", st)
	if st.Overflows != 0 || st.Malformed != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestOpenMissingPaths: a root with none of the paths is fine (its
// nearest existing directory is marked).
func TestOpenMissingPaths(t *testing.T) {
	s := openTest(t, Options{Root: t.TempDir()})
	defer s.Close()
	if s.Stats().Marked != 1 {
		t.Errorf("marked %d directories, want the root alone", s.Stats().Marked)
	}
	_, err := Open(Options{Root: filepath.Join(t.TempDir(), "nowhere")})
	if err == nil {
		t.Error("a missing root opened")
	}
}

func TestErrNoCapabilityWraps(t *testing.T) {
	err := fmt.Errorf("x: %w", ErrNoCapability)
	if !errors.Is(err, ErrNoCapability) {
		t.Fatal("ErrNoCapability does not wrap")
	}
}

// saveCaptured writes captured reads as fuzz seeds.
func saveCaptured(t *testing.T, reads [][]byte) {
	dir := filepath.Join("testdata", "records")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Error(err)
		return
	}
	for i, b := range reads {
		if i >= 16 {
			break
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("read%02d.bin", i)), b, 0o644); err != nil {
			t.Error(err)
		}
	}
}
