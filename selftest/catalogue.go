package selftest

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Technique is one way to tamper with the firewall (or a benign look-alike)
// that selftest runs in a network namespace of its own.
type Technique struct {
	// ID selects the technique (--only).
	ID string `json:"id"`
	// Title is the command as an operator would type it.
	Title string `json:"title"`
	// Benign marks the look-alikes: an alert on them is a false positive.
	Benign bool `json:"benign"`
	// Tools must be on PATH, else the technique is not run.
	Tools []string `json:"-"`
	// Setup runs first, in the same namespace, to give the technique
	// something to remove (its own events and alerts are not counted).
	// "" means the common setup; "-" none.
	Setup string `json:"-"`
	// Script is the technique, run by /bin/sh from a file in the work
	// directory ($DIR), inside the namespace.
	Script string `json:"-"`
	// Isolate lists configuration paths under /etc the technique writes
	// (ufw, firewalld): they get a private copy bind-mounted over them in
	// a mount namespace of the technique's own.
	Isolate []string `json:"-"`
	// NotRun, when set, is why the technique can never run here safely.
	NotRun string `json:"-"`
	// prepare readies the work directory (copies of binaries).
	prepare func(dir string) error
}

// commonSetup gives the namespace rules, a user chain, DROP policies and an
// nftables table, so every technique has something to flush or open.
const commonSetup = `
if command -v iptables >/dev/null; then
  iptables -N FWSELF
  iptables -A INPUT -s 192.0.2.1 -j DROP
  iptables -A INPUT -p tcp --dport 22 -j ACCEPT
  iptables -P INPUT DROP
  iptables -P FORWARD DROP
fi
if command -v ip6tables >/dev/null; then
  ip6tables -A INPUT -s 2001:db8::1 -j DROP
  ip6tables -P INPUT DROP
fi
if command -v nft >/dev/null; then
  nft add table inet fwself
  nft 'add chain inet fwself input { type filter hook input priority 0; policy drop; }'
  nft add rule inet fwself input tcp dport 22 accept
fi
`

// cyclopsPorts are three of the ports CyclopsBlink opens for its C2.
var cyclopsPorts = []int{3269, 636, 8443}

// pythonFlush is `nft flush ruleset` by hand: one nfnetlink batch holding a
// NFT_MSG_DELTABLE with no table and family unspecified.
const pythonFlush = `import socket, struct
def msg(t, flags, seq, resid):
    return struct.pack('=IHHII', 20, t, flags, seq, 0) + struct.pack('!BBH', 0, 0, resid)
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)
s.sendto(msg(0x10, 1, 1, 10) + msg(0x0a02, 1 | 4, 2, 0) + msg(0x11, 1, 3, 10), (0, 0))
r = s.recv(4096)
err = struct.unpack('=i', r[16:20])[0] if struct.unpack('=H', r[4:6])[0] == 2 else 0
raise SystemExit(-err)
`

// Catalogue is every technique selftest knows, attacks first, then the
// benign look-alikes.
func Catalogue() []*Technique {
	systemctlWhy := "systemctl acts on the host's own service manager (PID 1): no namespace isolates it, so stopping, disabling or masking firewalld/nftables would change the host"
	var cyclops strings.Builder
	for _, p := range cyclopsPorts {
		fmt.Fprintf(&cyclops, "sh -c 'iptables -I INPUT -p tcp --dport %d -j ACCEPT &>/dev/null'; ", p)
	}
	cyclops.WriteString("sleep 0.3")
	ts := []*Technique{
		{ID: "iptables-F", Title: "iptables -F", Tools: []string{"iptables"}, Script: "iptables -F"},
		{ID: "iptables-X", Title: "iptables -X", Tools: []string{"iptables"}, Script: "iptables -X"},
		{ID: "iptables-P-INPUT", Title: "iptables -P INPUT ACCEPT", Tools: []string{"iptables"}, Script: "iptables -P INPUT ACCEPT"},
		{ID: "iptables-P-FORWARD", Title: "iptables -P FORWARD ACCEPT", Tools: []string{"iptables"}, Script: "iptables -P FORWARD ACCEPT"},
		{ID: "iptables-I-accept", Title: "iptables -I INPUT 1 -j ACCEPT", Tools: []string{"iptables"}, Script: "iptables -I INPUT 1 -j ACCEPT"},
		{ID: "iptables-A-port", Title: "iptables -A INPUT -p tcp --dport 4444 -j ACCEPT", Tools: []string{"iptables"}, Script: "iptables -A INPUT -p tcp --dport 4444 -j ACCEPT"},
		{ID: "ip6tables-F", Title: "ip6tables -F", Tools: []string{"ip6tables"}, Script: "ip6tables -F"},
		{ID: "iptables-legacy-F", Title: "iptables-legacy -F", Tools: []string{"iptables-legacy"},
			Setup: "iptables-legacy -A INPUT -s 192.0.2.1 -j DROP\niptables-legacy -A INPUT -p tcp --dport 22 -j ACCEPT", Script: "iptables-legacy -F"},
		{ID: "iptables-restore", Title: "iptables-restore < empty ruleset (stdin)", Tools: []string{"iptables-restore"},
			Script: "printf '*filter\\n:INPUT ACCEPT [0:0]\\n:FORWARD ACCEPT [0:0]\\n:OUTPUT ACCEPT [0:0]\\nCOMMIT\\n' | iptables-restore"},
		{ID: "renamed-iptables", Title: "renamed iptables binary: /tmp/…/syncd iptables -F", Tools: []string{"iptables"},
			Script: `"$DIR/syncd" iptables -F`, prepare: copyTool("iptables", "syncd")},
		{ID: "nft-flush-ruleset", Title: "nft flush ruleset", Tools: []string{"nft"}, Script: "nft flush ruleset"},
		{ID: "nft-delete-table", Title: "nft delete table inet fwself", Tools: []string{"nft"}, Script: "nft delete table inet fwself"},
		{ID: "nft-policy-accept", Title: "nft chain policy accept", Tools: []string{"nft"},
			Script: "nft 'add chain inet fwself input { type filter hook input priority 0; policy accept; }'"},
		{ID: "cyclopsblink", Title: fmt.Sprintf("CyclopsBlink: /tmp parent, sh -c 'iptables -I INPUT -p tcp --dport N -j ACCEPT &>/dev/null' ×%d", len(cyclopsPorts)),
			Tools: []string{"iptables"}, Script: `"$DIR/cbd" -c "` + cyclops.String() + `"`, prepare: copyTool("sh", "cbd")},
		{ID: "ufw-disable", Title: "ufw disable", Tools: []string{"ufw", "unshare", "mount"}, Isolate: ufwPaths,
			Setup: "ufw --force enable", Script: "ufw disable"},
		{ID: "ufw-reset", Title: "ufw --force reset", Tools: []string{"ufw", "unshare", "mount"}, Isolate: ufwPaths,
			Setup: "ufw --force enable", Script: "ufw --force reset"},
		{ID: "ufw-default-allow", Title: "ufw default allow incoming", Tools: []string{"ufw", "unshare", "mount"}, Isolate: ufwPaths,
			Setup: "ufw --force enable", Script: "ufw default allow incoming"},
		{ID: "ufw-logging-off", Title: "ufw logging off", Tools: []string{"ufw", "unshare", "mount"}, Isolate: ufwPaths,
			Setup: "ufw --force enable", Script: "ufw logging off"},
		{ID: "firewalld-trusted", Title: "firewall-cmd --set-default-zone=trusted", Tools: []string{"firewall-cmd"}, NotRun: firewalldWhy},
		{ID: "firewalld-panic-off", Title: "firewall-cmd --panic-off", Tools: []string{"firewall-cmd"}, NotRun: firewalldWhy},
		{ID: "systemctl-stop-firewalld", Title: "systemctl stop firewalld", NotRun: systemctlWhy},
		{ID: "systemctl-disable-firewalld", Title: "systemctl disable firewalld", NotRun: systemctlWhy},
		{ID: "systemctl-mask-nftables", Title: "systemctl mask nftables", NotRun: systemctlWhy},
		{ID: "go-netlink-flush", Title: "Go program (x/sys/unix netlink) flushes the ruleset",
			Script: `FWSELF_NETLINK=flush "$DIR/nlflush"`, prepare: copySelf("nlflush")},
		{ID: "python-netlink-flush", Title: "python3 raw AF_NETLINK socket flushes the ruleset", Tools: []string{"python3"},
			Script: "python3 -c \"$(cat \"$DIR/flush.py\")\"", prepare: writeFile("flush.py", pythonFlush)},

		{ID: "iptables-L", Title: "iptables -L -n", Benign: true, Tools: []string{"iptables"}, Script: "iptables -L -n >/dev/null"},
		{ID: "nft-list", Title: "nft list ruleset", Benign: true, Tools: []string{"nft"}, Script: "nft list ruleset >/dev/null"},
		{ID: "iptables-add-deny", Title: "iptables -A INPUT -s 203.0.113.7 -j DROP", Benign: true, Tools: []string{"iptables"}, Script: "iptables -A INPUT -s 203.0.113.7 -j DROP"},
		{ID: "nft-add-deny", Title: "nft add rule inet fwself input ip saddr 203.0.113.8 drop", Benign: true, Tools: []string{"nft"}, Script: "nft add rule inet fwself input ip saddr 203.0.113.8 drop"},
		{ID: "iptables-save", Title: "iptables-save > /tmp/…/rules.v4", Benign: true, Tools: []string{"iptables-save"}, Script: `iptables-save > "$DIR/rules.v4"`},
	}
	return ts
}

var ufwPaths = []string{"/etc/ufw", "/etc/default/ufw"}

const firewalldWhy = "firewall-cmd only talks to a running firewalld over the system D-Bus; selftest cannot run a firewalld daemon isolated from the host's bus and /etc/firewalld, and starts no service on the host"

// notRun says why t cannot run here, or "" when it can.
func (t *Technique) notRun() string {
	for _, tool := range t.Tools {
		if _, err := exec.LookPath(tool); err != nil {
			return tool + " not installed"
		}
	}
	if t.NotRun != "" {
		return t.NotRun
	}
	for _, p := range t.Isolate {
		if _, err := os.Stat(p); err != nil {
			return fmt.Sprintf("%s does not exist on this host, so no private copy can be bind-mounted over it", p)
		}
	}
	return ""
}

// copyTool copies the binary tool resolves to (symlinks followed) into
// the work directory under a new name.
func copyTool(tool, name string) func(dir string) error {
	return func(dir string) error {
		p, err := exec.LookPath(tool)
		if err != nil {
			return err
		}
		return copyFile(p, dir+"/"+name)
	}
}

// copySelf copies the running binary (whose init answers FWSELF_NETLINK).
func copySelf(name string) func(dir string) error {
	return func(dir string) error {
		p, err := os.Executable()
		if err != nil {
			return err
		}
		return copyFile(p, dir+"/"+name)
	}
}

func writeFile(name, text string) func(dir string) error {
	return func(dir string) error { return os.WriteFile(dir+"/"+name, []byte(text), 0o644) }
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o755)
}
