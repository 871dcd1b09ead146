package exec

import (
	"context"
	"errors"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/sensor/internal/caps"
)

// Unit tests: no kernel needed.

func TestChooseAttachOrder(t *testing.T) {
	fail := errors.New("refused")
	for _, c := range []struct {
		name    string
		works   map[AttachPoint]bool
		want    AttachPoint
		tried   []AttachPoint
		skipped int
		err     bool
	}{
		{"tp_btf first", map[AttachPoint]bool{TPBTF: true, RawTP: true, Tracepoint: true}, TPBTF, []AttachPoint{TPBTF}, 0, false},
		{"raw_tracepoint when tp_btf fails", map[AttachPoint]bool{RawTP: true, Tracepoint: true}, RawTP, []AttachPoint{TPBTF, RawTP}, 1, false},
		{"tracepoint last", map[AttachPoint]bool{Tracepoint: true}, Tracepoint, []AttachPoint{TPBTF, RawTP, Tracepoint}, 2, false},
		{"none", map[AttachPoint]bool{}, "", []AttachPoint{TPBTF, RawTP, Tracepoint}, 3, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var tried []AttachPoint
			got, v, skipped, err := chooseAttach(AttachOrder, func(ap AttachPoint) (string, error) {
				tried = append(tried, ap)
				if c.works[ap] {
					return "link:" + string(ap), nil
				}
				return "", fail
			})
			if got != c.want || fmt.Sprint(tried) != fmt.Sprint(c.tried) || len(skipped) != c.skipped || (err != nil) != c.err {
				t.Fatalf("got %q (%q), tried %v, skipped %v, err %v", got, v, tried, skipped, err)
			}
			if err == nil && v != "link:"+string(c.want) {
				t.Fatalf("value %q", v)
			}
			if err != nil {
				for _, ap := range AttachOrder {
					if !strings.Contains(err.Error(), string(ap)) {
						t.Errorf("error %q does not name %s", err, ap)
					}
				}
			}
			for i, e := range skipped {
				if !errors.Is(e, fail) || !strings.HasPrefix(e.Error(), string(AttachOrder[i])) {
					t.Errorf("skipped[%d] = %v", i, e)
				}
			}
		})
	}
}

func TestMissingCaps(t *testing.T) {
	for _, c := range []struct {
		eff  uint64
		want string
	}{
		{0, "[CAP_BPF CAP_PERFMON]"},
		{1 << caps.BPF, "[CAP_PERFMON]"},
		{1 << caps.Perfmon, "[CAP_BPF]"},
		{1<<caps.BPF | 1<<caps.Perfmon, "[]"},
		{1 << caps.SysAdmin, "[]"},
	} {
		if got := fmt.Sprint(missingCaps(c.eff)); got != c.want {
			t.Errorf("missingCaps(%#x) = %s, want %s", c.eff, got, c.want)
		}
	}
	err := &MissingCapabilityError{Missing: []string{"CAP_BPF", "CAP_PERFMON"}}
	if !strings.Contains(err.Error(), "CAP_BPF and CAP_PERFMON") {
		t.Error(err)
	}
}

func TestDecodeHelpers(t *testing.T) {
	if got := joinPath([]string{"true", "bin", "usr"}, false); got != "/usr/bin/true" {
		t.Error(got)
	}
	if got := joinPath(nil, false); got != "/" {
		t.Error(got)
	}
	if got := joinPath([]string{"c", "b"}, true); got != "…/b/c" {
		t.Error(got)
	}
	if got := fmt.Sprintf("%q", splitArgs([]byte("a\x00\x00b c\x00"))); got != `["a" "" "b c"]` {
		t.Error(got)
	}
	if got := fmt.Sprintf("%q", splitArgs([]byte("a\x00bc"))); got != `["a" "bc"]` {
		t.Error(got)
	}
	if _, ok := decode(make([]byte, hdrSize-1)); ok {
		t.Error("short record decoded")
	}
	b := make([]byte, hdrSize+3)
	b[60] = 9 // args_len beyond the record
	if _, ok := decode(b); ok {
		t.Error("inconsistent lengths decoded")
	}
}

// Live tests: root and a kernel with BTF.

// openSensor opens a sensor or skips: not root, or no BTF. Under CI=true,
// root that cannot load the program fails the test.
func openSensor(t testing.TB, opts Options) *Sensor {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("sensor/exec: not root (the live exec sensor needs CAP_BPF and CAP_PERFMON)")
	}
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil && os.Getenv("CI") != "true" {
		t.Skip("sensor/exec: no kernel BTF (/sys/kernel/btf/vmlinux)")
	}
	s, err := Open(opts)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true, root, and the exec sensor does not load: %v", err)
		}
		t.Skipf("sensor/exec: cannot load: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

type collector struct {
	mu     sync.Mutex
	events []*event.Event
	more   chan struct{}
}

// run starts s.Run feeding a collector; it stops with the test.
func run(t testing.TB, s *Sensor) *collector {
	c := &collector{more: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- s.Run(ctx, func(ev *event.Event) error {
			c.mu.Lock()
			c.events = append(c.events, ev)
			c.mu.Unlock()
			select {
			case c.more <- struct{}{}:
			default:
			}
			return nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run: %v", err)
		}
	})
	return c
}

// wait returns the first event matching pred, failing after 2 s.
func (c *collector) wait(t *testing.T, what string, pred func(*event.Event) bool) *event.Event {
	t.Helper()
	deadline := time.After(2 * time.Second)
	seen := 0
	for {
		c.mu.Lock()
		evs := c.events[seen:]
		seen = len(c.events)
		c.mu.Unlock()
		for _, ev := range evs {
			if pred(ev) {
				return ev
			}
		}
		select {
		case <-c.more:
		case <-deadline:
			t.Fatalf("no exec event for %s within 2 s (%d events seen)", what, seen)
		}
	}
}

func pidIs(pid int) func(*event.Event) bool {
	return func(ev *event.Event) bool { return ev.Get("process.pid").Int == int64(pid) }
}

func nsInode(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return int64(fi.Sys().(*syscall.Stat_t).Ino)
}

func strList(v event.Value) []string {
	var out []string
	v.Each(func(x event.Value) bool { out = append(out, x.String()); return true })
	return out
}

func TestLiveExec(t *testing.T) {
	s := openSensor(t, Options{})
	t.Logf("attached at %s (skipped: %v)", s.Attach(), s.Skipped())
	c := run(t, s)
	dir := t.TempDir()
	argv := []string{"/bin/true", "fwtest-" + fmt.Sprint(os.Getpid()), "", "two words", "ünïcode", "--flag=a\tb"}
	cmd := &osexec.Cmd{Path: "/bin/true", Args: argv, Dir: dir}
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	ev := c.wait(t, "/bin/true", pidIs(cmd.Process.Pid))
	if got := strList(ev.Get("process.args")); fmt.Sprintf("%q", got) != fmt.Sprintf("%q", argv) {
		t.Errorf("process.args = %q, want %q", got, argv)
	}
	want := map[string]any{
		"process.parent.pid":        int64(os.Getpid()),
		"process.args_count":        int64(len(argv)),
		"process.working_directory": dir,
		"process.invoked.path":      "/bin/true",
		"process.name":              "true",
		"user.id":                   "0",
		"group.id":                  "0",
		"firewarden.netns":          nsInode(t, "/proc/self/ns/net"),
		"firewarden.mntns":          nsInode(t, "/proc/self/ns/mnt"),
		"event.action":              "exec",
		"host.os.type":              "linux",
		"firewarden.comm":           "true",
	}
	for f, w := range want {
		v := ev.Get(f)
		var got any
		switch w.(type) {
		case int64:
			got = v.Int
		default:
			got = v.String()
		}
		if got != w {
			t.Errorf("%s = %v, want %v", f, got, w)
		}
	}
	real, _ := filepath.EvalSymlinks("/bin/true")
	if exe := ev.Get("process.executable").String(); exe != real {
		t.Errorf("process.executable = %q, want %q", exe, real)
	}
	if d := time.Since(ev.Time); d < 0 || d > 5*time.Second {
		t.Errorf("event time %v is %v from now", ev.Time, d)
	}
	if ev.Get("firewarden.cgroup_id").Int == 0 {
		t.Error("no cgroup id")
	}
	if st := s.Stats(); st.Execs == 0 || st.Received == 0 || st.Dropped != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestLiveRenamedBinary(t *testing.T) {
	s := openSensor(t, Options{})
	c := run(t, s)
	data, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(t.TempDir(), "innocent-looking")
	if err := os.WriteFile(exe, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := osexec.Command(exe, "-F")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	ev := c.wait(t, exe, pidIs(cmd.Process.Pid))
	if got := ev.Get("process.executable").String(); got != exe {
		t.Errorf("process.executable = %q, want %q", got, exe)
	}
	if got := ev.Get("process.name").String(); got != "innocent-looking" {
		t.Errorf("process.name = %q", got)
	}
	if got := ev.Get("process.command_line").String(); got != exe+" -F" {
		t.Errorf("process.command_line = %q", got)
	}
	// A binary deleted before it runs (executed through an open fd): the
	// kernel's "(deleted)" suffix, flagged.
	cmd = osexec.Command("/bin/sh", "-c", `exec 3<"$0"; rm "$0"; exec /proc/self/fd/3 deleted-marker`, exe)
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	ev = c.wait(t, "a deleted binary", func(ev *event.Event) bool {
		a := strList(ev.Get("process.args"))
		return ev.Get("process.pid").Int == int64(cmd.Process.Pid) && len(a) == 2 && a[1] == "deleted-marker"
	})
	if got := ev.Get("process.executable").String(); got != exe+" (deleted)" || !ev.Get("firewarden.executable_deleted").Truth() {
		t.Errorf("deleted binary: process.executable = %q, firewarden.executable_deleted = %v", got, ev.Get("firewarden.executable_deleted"))
	}
	if got := ev.Get("process.invoked.path").String(); got != "/proc/self/fd/3" {
		t.Errorf("process.invoked.path = %q", got)
	}
}

func TestLiveNetworkNamespace(t *testing.T) {
	s := openSensor(t, Options{})
	if _, err := osexec.LookPath("ip"); err != nil {
		t.Skip("no ip(8) (Debian: iproute2)")
	}
	c := run(t, s)
	ns := fmt.Sprintf("fwtest-%d", os.Getpid())
	if out, err := osexec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := osexec.Command("ip", "netns", "delete", ns).CombinedOutput(); err != nil {
			t.Errorf("ip netns delete: %v: %s", err, out)
		}
	})
	inode := nsInode(t, "/run/netns/"+ns)
	if inode == nsInode(t, "/proc/self/ns/net") {
		t.Fatal("the new namespace has the host's inode")
	}
	marker := "netns-marker-" + ns
	// ip netns exec enters the namespace and execs the command in place:
	// the same pid, our child.
	cmd := osexec.Command("ip", "netns", "exec", ns, "/bin/true", marker)
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	ev := c.wait(t, marker, func(ev *event.Event) bool {
		a := strList(ev.Get("process.args"))
		return len(a) == 2 && a[1] == marker
	})
	if got := ev.Get("process.pid").Int; got != int64(cmd.Process.Pid) {
		t.Errorf("process.pid = %d, want %d", got, cmd.Process.Pid)
	}
	if got := ev.Get("process.parent.pid").Int; got != int64(os.Getpid()) {
		t.Errorf("process.parent.pid = %d, want %d", got, os.Getpid())
	}
	if got := ev.Get("firewarden.netns").Int; got != inode {
		t.Errorf("firewarden.netns = %d, want %d (/run/netns/%s)", got, inode, ns)
	}
	// ip netns exec also makes a private mount namespace (for /sys).
	if got := ev.Get("firewarden.mntns").Int; got == 0 {
		t.Error("no mount namespace")
	}
	// The ip exec itself, before it entered the namespace, was in ours.
	ip := c.wait(t, "ip netns exec", func(ev *event.Event) bool {
		a := strList(ev.Get("process.args"))
		return ev.Get("process.pid").Int == int64(cmd.Process.Pid) && len(a) > 1 && a[0] == "ip"
	})
	if got := ip.Get("firewarden.netns").Int; got != nsInode(t, "/proc/self/ns/net") {
		t.Errorf("ip's netns = %d", got)
	}
	// The parent table names the exec's parent: here the ip process it
	// replaced is not its parent, we are; but the child of a shell is.
	sh := osexec.Command("/bin/sh", "-c", "/bin/true child-of-sh; true")
	if err := sh.Run(); err != nil {
		t.Fatal(err)
	}
	child := c.wait(t, "child of sh", func(ev *event.Event) bool {
		a := strList(ev.Get("process.args"))
		return len(a) == 2 && a[1] == "child-of-sh"
	})
	if got := child.Get("process.parent.pid").Int; got != int64(sh.Process.Pid) {
		t.Errorf("child's parent pid = %d, want %d", got, sh.Process.Pid)
	}
	if got := child.Get("process.parent.executable").String(); !strings.HasSuffix(got, "sh") {
		t.Errorf("child's parent executable = %q", got)
	}
}

func TestLiveArgsTruncated(t *testing.T) {
	const limit = 256
	s := openSensor(t, Options{ArgsLimit: limit})
	c := run(t, s)
	argv := []string{"/bin/true"}
	size := len("/bin/true") + 1
	for i := 0; i < 10; i++ {
		a := strings.Repeat(string(rune('a'+i)), 99)
		argv = append(argv, a)
		size += len(a) + 1
	}
	cmd := &osexec.Cmd{Path: "/bin/true", Args: argv}
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	ev := c.wait(t, "a long argv", pidIs(cmd.Process.Pid))
	if !ev.Get("firewarden.args_truncated").Truth() {
		t.Fatal("firewarden.args_truncated not set")
	}
	if got := ev.Get("firewarden.args_limit").Int; got != limit {
		t.Errorf("firewarden.args_limit = %d", got)
	}
	if got := ev.Get("firewarden.args_size").Int; got != int64(size) {
		t.Errorf("firewarden.args_size = %d, want %d", got, size)
	}
	got := strList(ev.Get("process.args"))
	joined := strings.Join(got, "\x00")
	if len(joined) != limit || !strings.HasPrefix(strings.Join(argv, "\x00"), joined) {
		t.Errorf("args carried %d bytes %q, want the first %d", len(joined), got, limit)
	}
	if st := s.Stats(); st.ArgsTruncated == 0 {
		t.Errorf("stats %+v", st)
	}

	// A short argv under the same limit is whole and not flagged.
	cmd = osexec.Command("/bin/true", "short")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	ev = c.wait(t, "a short argv", pidIs(cmd.Process.Pid))
	if ev.Get("firewarden.args_truncated").Truth() || len(strList(ev.Get("process.args"))) != 2 {
		t.Errorf("short argv: %v", ev.Get("process.args"))
	}
}

func TestLiveArgsBeyondMax(t *testing.T) {
	s := openSensor(t, Options{})
	c := run(t, s)
	big := strings.Repeat("x", MaxArgs+1000)
	cmd := osexec.Command("/bin/true", big)
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	ev := c.wait(t, "a 66 KB argv", pidIs(cmd.Process.Pid))
	if !ev.Get("firewarden.args_truncated").Truth() || ev.Get("firewarden.args_limit").Int != MaxArgs {
		t.Errorf("truncated %v limit %v", ev.Get("firewarden.args_truncated"), ev.Get("firewarden.args_limit"))
	}
	if a := strList(ev.Get("process.args")); len(a) != 2 || len(a[0])+1+len(a[1]) != MaxArgs {
		t.Errorf("args: %d strings", len(a))
	}
}

// Every attach point works on this kernel when forced.
func TestLiveEachAttachPoint(t *testing.T) {
	for _, ap := range AttachOrder {
		t.Run(string(ap), func(t *testing.T) {
			s := openSensor(t, Options{Attach: ap})
			if s.Attach() != string(ap) {
				t.Fatalf("Attach() = %s", s.Attach())
			}
			c := run(t, s)
			cmd := osexec.Command("/bin/true", "attach", string(ap))
			if err := cmd.Run(); err != nil {
				t.Fatal(err)
			}
			ev := c.wait(t, string(ap), pidIs(cmd.Process.Pid))
			if a := strList(ev.Get("process.args")); len(a) != 3 || a[2] != string(ap) {
				t.Errorf("args %q", a)
			}
			if ev.Get("process.invoked.path").String() != "/bin/true" {
				t.Errorf("invoked path %v", ev.Get("process.invoked.path"))
			}
		})
	}
}

// Without capabilities, Open names what is missing.
func TestNoCapabilities(t *testing.T) {
	if os.Getenv("FWTEST_NOCAPS") == "1" {
		_, err := Open(Options{})
		var mc *MissingCapabilityError
		if !errors.As(err, &mc) {
			fmt.Println("NOCAPS-RESULT: no MissingCapabilityError:", err)
			os.Exit(1)
		}
		fmt.Println("NOCAPS-RESULT:", err)
		os.Exit(0)
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to drop capabilities")
	}
	setpriv, err := osexec.LookPath("setpriv")
	if err != nil {
		t.Skip("no setpriv (Debian: util-linux)")
	}
	cmd := osexec.Command(setpriv, "--inh-caps=-all", "--bounding-set=-all", "--",
		os.Args[0], "-test.run=^TestNoCapabilities$", "-test.count=1")
	cmd.Env = append(os.Environ(), "FWTEST_NOCAPS=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "missing capability CAP_BPF and CAP_PERFMON") {
		t.Fatalf("without capabilities: %v\n%s", err, out)
	}
}
