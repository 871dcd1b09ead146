// Package netnstest gives sensor tests a network namespace of their own:
// every firewall command a test runs goes through Namespace.Command, which
// runs it inside that namespace (ip netns exec), never in the host's.
package netnstest

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Namespace is a network namespace made for one test.
type Namespace struct {
	Name  string
	Inode uint64
}

// Require skips the test unless it runs as root with the given commands
// on PATH; under CI=true a missing command fails the test instead.
func Require(t testing.TB, cmds ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespaces, netlink): run the tests as root")
	}
	for _, c := range append([]string{"ip"}, cmds...) {
		if _, err := exec.LookPath(c); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s not installed (CI installs it: .ci/run)", c)
			}
			t.Skipf("%s not installed (apt-get install nftables iptables auditd)", c)
		}
	}
}

// New creates a namespace fwt-<random> and deletes it when the test ends,
// failed or not.
func New(t testing.TB) *Namespace {
	t.Helper()
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := "fwt-" + hex.EncodeToString(b[:])
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "delete", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns delete %s: %v: %s", name, err, out)
		}
	})
	var st unix.Stat_t
	if err := unix.Stat("/run/netns/"+name, &st); err != nil {
		t.Fatalf("stat /run/netns/%s: %v", name, err)
	}
	return &Namespace{Name: name, Inode: st.Ino}
}

// Command returns a command that runs argv inside the namespace; the
// process ip starts is argv itself (ip netns exec execs it), so its pid is
// the firewall command's pid.
func (n *Namespace) Command(argv ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", n.Name}, argv...)...)
}

// Run runs argv inside the namespace with stdin, failing the test on error;
// it returns the command's pid.
func (n *Namespace) Run(t testing.TB, stdin string, argv ...string) int {
	t.Helper()
	cmd := n.Command(argv...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s (in %s): %v: %s", strings.Join(argv, " "), n.Name, err, out)
	}
	return cmd.Process.Pid
}
