package exception_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/firewarden/firewarden/alert"
	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/exception"
	"github.com/firewarden/firewarden/hunt"
	"github.com/firewarden/firewarden/rule"
	"github.com/firewarden/firewarden/rules"
	"github.com/firewarden/firewarden/source"
	"github.com/firewarden/firewarden/source/ecs"
)

// What a preset must do with an event, run through the built-in pack.
const (
	silenced = "silenced" // the pack alerts on it; with the preset, nothing
	alerts   = "alerts"   // the pack alerts on it, with the preset too
	quiet    = "quiet"    // the pack raises nothing either way (needs no exception)
)

// Events in ECS as the auditd, Sysmon and ECS sources make them, with the
// command lines those tools really run.
func exec(exe, cmd, parentExe, parentCmd string) string {
	return `{"@timestamp":"2026-11-22T10:00:00Z","event":{"category":["process"],"type":["start"]},` +
		`"process":{"executable":` + q(exe) + `,"command_line":` + q(cmd) +
		`,"parent":{"executable":` + q(parentExe) + `,"command_line":` + q(parentCmd) + `,"name":` + q(base(parentExe, parentCmd)) + `}}}`
}

// netfilterCfg is a NETFILTER_CFG record (rules removed) of a process.
func netfilterCfg(exe, cmd, parentExe, parentCmd string) string {
	return `{"@timestamp":"2026-11-22T10:00:00Z","event":{"module":"auditd","action":"netfilter_cfg","category":["configuration"],"type":["change"]},` +
		`"auditd":{"type":["NETFILTER_CFG","SYSCALL"],"op":"nft_unregister_rule","table":"filter:12","entries":"3"},` +
		`"process":{"executable":` + q(exe) + `,"command_line":` + q(cmd) + `,"name":` + q(argv0(cmd)) +
		`,"parent":{"executable":` + q(parentExe) + `,"command_line":` + q(parentCmd) + `,"name":` + q(base(parentExe, parentCmd)) + `}}}`
}

// sensor is a live nft sensor event.
func sensor(action, table, chain string) string {
	return `{"@timestamp":"2026-11-22T10:00:00Z","event":{"dataset":"firewarden.nft","module":"firewarden","category":["configuration"],"type":["deletion"],"action":` + q(action) + `},` +
		`"process":{"pid":4242,"name":"iptables"},"firewall":{"backend":"nftables","family":"ip","table":` + q(table) + `,"chain":` + q(chain) + `}}`
}

// argv0 is the name iptables runs as: argv[0]'s base name (the applet of
// xtables-nft-multi).
func argv0(cmd string) string {
	f := strings.Fields(cmd)[0]
	return f[strings.LastIndex(f, "/")+1:]
}

func q(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// base is the process name the sources derive: a script's name for an
// interpreter, else the executable's base name.
func base(exe, cmd string) string {
	f := strings.Fields(cmd)
	if len(f) > 1 && (strings.Contains(exe, "python") || strings.Contains(exe, "perl") || strings.Contains(exe, "ruby") || strings.HasSuffix(exe, "/sh") || strings.HasSuffix(exe, "dash")) {
		if i := strings.LastIndex(f[1], "/"); i >= 0 && !strings.HasPrefix(f[1], "-") {
			return f[1][i+1:]
		}
	}
	return exe[strings.LastIndex(exe, "/")+1:]
}

const bash = "/usr/bin/bash"

var presetCases = []struct {
	preset, name, event, want string
}{
	// docker
	{"docker", "dockerd flushes its isolation chain at start", exec("/usr/sbin/xtables-nft-multi", "/usr/sbin/iptables --wait -t filter -F DOCKER-ISOLATION-STAGE-1", "/usr/bin/dockerd", "/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock"), silenced},
	{"docker", "dockerd deletes a chain", exec("/usr/sbin/xtables-nft-multi", "/usr/sbin/iptables --wait -t filter -X DOCKER-ISOLATION-STAGE-2", "/usr/bin/dockerd", "/usr/bin/dockerd -H fd://"), silenced},
	{"docker", "dockerd creates its nat chain", exec("/usr/sbin/xtables-nft-multi", "/usr/sbin/iptables --wait -t nat -N DOCKER", "/usr/bin/dockerd", "/usr/bin/dockerd -H fd://"), quiet},
	{"docker", "kernel record of dockerd's rule deletion", netfilterCfg("/usr/sbin/xtables-nft-multi", "/usr/sbin/iptables --wait -t nat -D PREROUTING -m addrtype --dst-type LOCAL -j DOCKER", "/usr/bin/dockerd", "/usr/bin/dockerd -H fd://"), silenced},
	{"docker", "live sensor: DOCKER-ISOLATION-STAGE-1 flushed", sensor("nft_chain_flushed", "filter", "DOCKER-ISOLATION-STAGE-1"), silenced},
	{"docker", "attacker's iptables -F from a shell on a docker host", exec("/usr/sbin/xtables-nft-multi", "iptables -F", bash, "-bash"), alerts},
	{"docker", "iptables -F from inside a container (parent runc's child shell)", exec("/usr/sbin/xtables-nft-multi", "iptables -F", "/bin/busybox", "/bin/sh"), alerts},
	{"docker", "live sensor: INPUT flushed", sensor("nft_chain_flushed", "filter", "INPUT"), alerts},
	{"docker", "live sensor: ruleset flushed", sensor("nft_ruleset_flushed", "", ""), alerts},
	// podman
	{"podman", "netavark deletes a container's chain", exec("/usr/sbin/xtables-nft-multi", "/usr/sbin/iptables -t nat -X NETAVARK-DN-1D8721804F16F", "/usr/libexec/podman/netavark", "/usr/libexec/podman/netavark --config /run/containers/networks teardown /run/netns/netns-1"), silenced},
	{"podman", "attacker's nft flush ruleset", exec("/usr/sbin/nft", "nft flush ruleset", bash, "-bash"), alerts},
	// kubernetes
	{"kubernetes", "kube-proxy's iptables-restore (kernel record)", netfilterCfg("/usr/sbin/xtables-nft-multi", "iptables-restore -w 5 -W 100000 --noflush --counters", "/usr/local/bin/kube-proxy", "/usr/local/bin/kube-proxy --config=/var/lib/kube-proxy/config.conf --hostname-override=node-1"), silenced},
	{"kubernetes", "CNI portmap deletes its chain", exec("/usr/sbin/xtables-nft-multi", "iptables -t nat -X CNI-DN-3b8c0d6e1f2a4b5c6d7e8", "/opt/cni/bin/portmap", "/opt/cni/bin/portmap"), silenced},
	{"kubernetes", "live sensor: a KUBE-SEP chain deleted", sensor("nft_chain_deleted", "nat", "KUBE-SEP-6E7XQMQ4RAYOWTTM"), silenced},
	{"kubernetes", "iptables -P FORWARD ACCEPT typed on a node", exec("/usr/sbin/xtables-nft-multi", "iptables -P FORWARD ACCEPT", bash, "-bash"), alerts},
	// libvirt
	{"libvirt", "libvirtd deletes its forward chain", exec("/usr/sbin/xtables-nft-multi", "/usr/sbin/iptables -w --table filter --delete-chain LIBVIRT_FWX", "/usr/sbin/libvirtd", "/usr/sbin/libvirtd --timeout 120"), silenced},
	{"libvirt", "libvirtd inserts into LIBVIRT_INP", exec("/usr/sbin/xtables-nft-multi", "/usr/sbin/iptables -w --table filter --insert LIBVIRT_INP --in-interface virbr0 --protocol tcp --destination-port 67 --jump ACCEPT", "/usr/sbin/libvirtd", "/usr/sbin/libvirtd --timeout 120"), quiet},
	{"libvirt", "kernel record of libvirtd's flush", netfilterCfg("/usr/sbin/xtables-nft-multi", "/usr/sbin/iptables -w --table filter --flush LIBVIRT_INP", "/usr/sbin/libvirtd", "/usr/sbin/libvirtd --timeout 120"), silenced},
	{"libvirt", "attacker inserts accept-all", exec("/usr/sbin/xtables-nft-multi", "iptables -I INPUT -j ACCEPT", bash, "-bash"), alerts},
	// ufw
	{"ufw", "ufw --force enable rewrites its chains (kernel record, from the bundled capture)", netfilterCfg("/usr/sbin/xtables-nft-multi", "/usr/sbin/iptables -D ufw-user-limit -m limit --limit 3/minute -j LOG --log-prefix [UFW LIMIT BLOCK] ", "/usr/bin/python3.11", "/usr/bin/python3 /usr/sbin/ufw --force enable"), silenced},
	{"ufw", "ufw reload", netfilterCfg("/usr/sbin/xtables-nft-multi", "/usr/sbin/iptables -F ufw-user-input", "/usr/bin/python3.11", "/usr/bin/python3 /usr/sbin/ufw reload"), silenced},
	{"ufw", "ufw-init start at boot", netfilterCfg("/usr/sbin/xtables-nft-multi", "iptables-restore -n", "/usr/bin/dash", "/bin/sh /lib/ufw/ufw-init start quiet"), silenced},
	{"ufw", "ufw disable", exec("/usr/bin/python3.11", "/usr/bin/python3 /usr/sbin/ufw disable", bash, "-bash"), alerts},
	{"ufw", "ufw disable's own chain removal", netfilterCfg("/usr/sbin/xtables-nft-multi", "/usr/sbin/iptables -F ufw-user-input", "/usr/bin/python3.11", "/usr/bin/python3 /usr/sbin/ufw disable"), alerts},
	{"ufw", "ufw default allow's rule removal", netfilterCfg("/usr/sbin/xtables-nft-multi", "iptables-restore -n", "/usr/bin/python3.11", "/usr/bin/python3 /usr/sbin/ufw default allow"), alerts},
	{"ufw", "attacker's iptables -F ufw-logging-deny", exec("/usr/sbin/xtables-nft-multi", "iptables -F ufw-logging-deny", bash, "-bash"), alerts},
	// packages
	{"packages", "ufw's prerm stops the service", exec("/usr/sbin/invoke-rc.d", "invoke-rc.d ufw stop", "/usr/bin/dash", "/bin/sh /var/lib/dpkg/info/ufw.prerm remove"), silenced},
	{"packages", "deb-systemd-invoke stops ufw.service", exec("/usr/bin/systemctl", "systemctl --quiet stop ufw.service", "/usr/bin/perl", "/usr/bin/perl /usr/bin/deb-systemd-invoke stop ufw.service"), silenced},
	{"packages", "rpm scriptlet disables firewalld on erase", exec("/usr/bin/systemctl", "systemctl --no-reload disable --now firewalld.service", "/usr/bin/bash", "/bin/sh /var/tmp/rpm-tmp.Xy12Ab 0"), silenced},
	{"packages", "netfilter-persistent's plugin restores rules (kernel record)", netfilterCfg("/usr/sbin/xtables-nft-multi", "iptables-restore", "/usr/bin/dash", "/bin/sh /usr/share/netfilter-persistent/plugins.d/15-ip4tables start"), silenced},
	{"packages", "the ufw postinst configure runs nothing the pack flags", exec("/usr/bin/dash", "/bin/sh /var/lib/dpkg/info/ufw.postinst configure 0.36.2-1", "/usr/bin/dpkg", "/usr/bin/dpkg --status-fd 37 --configure --pending"), quiet},
	{"packages", "systemctl stop firewalld from a shell while apt runs elsewhere", exec("/usr/bin/systemctl", "systemctl stop firewalld", bash, "-bash"), alerts},
	// configuration management
	{"ansible", "the iptables module flushes INPUT", exec("/usr/sbin/xtables-nft-multi", "/usr/sbin/iptables -t filter -F INPUT", "/usr/bin/python3.11", "/usr/bin/python3 /root/.ansible/tmp/ansible-tmp-1795358000.1234-4242-91827364/AnsiballZ_iptables.py"), silenced},
	{"ansible", "the systemd module stops firewalld", exec("/usr/bin/systemctl", "/usr/bin/systemctl stop firewalld", "/usr/bin/python3.11", "/usr/bin/python3 /home/deploy/.ansible/tmp/ansible-tmp-1795358000.55-777-1/AnsiballZ_systemd.py"), silenced},
	{"ansible", "with pipelining the module is not on the command line", exec("/usr/sbin/xtables-nft-multi", "/usr/sbin/iptables -t filter -F INPUT", "/usr/bin/python3.11", "/usr/bin/python3"), alerts},
	{"ansible", "attacker's iptables -F", exec("/usr/sbin/xtables-nft-multi", "iptables -F", bash, "-bash"), alerts},
	{"puppet", "the agent stops firewalld", exec("/usr/bin/systemctl", "/usr/bin/systemctl stop firewalld", "/opt/puppetlabs/puppet/bin/ruby", "/opt/puppetlabs/puppet/bin/ruby /opt/puppetlabs/puppet/bin/puppet agent --no-daemonize"), silenced},
	{"puppet", "attacker's systemctl stop firewalld", exec("/usr/bin/systemctl", "systemctl stop firewalld", bash, "-bash"), alerts},
	{"chef", "chef-client disables firewalld", exec("/usr/bin/systemctl", "/usr/bin/systemctl disable firewalld", "/opt/chef/embedded/bin/ruby", "/opt/chef/embedded/bin/ruby --disable-gems /usr/bin/chef-client"), silenced},
	{"chef", "attacker's systemctl disable firewalld", exec("/usr/bin/systemctl", "systemctl disable firewalld", bash, "-bash"), alerts},
	{"salt", "the iptables state flushes INPUT", exec("/usr/sbin/xtables-nft-multi", "/usr/sbin/iptables --wait -t filter -F INPUT", "/opt/saltstack/salt/bin/python3.10", "/opt/saltstack/salt/bin/python3.10 /usr/bin/salt-minion"), silenced},
	{"salt", "attacker's iptables -F", exec("/usr/sbin/xtables-nft-multi", "iptables -F", bash, "-bash"), alerts},
}

// run counts the built-in pack's alerts on one event, with the exceptions.
func run(t *testing.T, pack []*rule.Rule, xs []*exception.Exception, doc string) []string {
	t.Helper()
	eng, refused := hunt.CompileWith(pack, hunt.CompileOptions{Exceptions: xs})
	if len(refused) > 0 {
		t.Fatalf("refused: %v", refused[0].Err)
	}
	var names []string
	rd := &source.Reader{Formats: []source.Format{ecs.NDJSON{}}, Stdin: bytes.NewReader([]byte(doc + "\n"))}
	res, err := rd.Read(context.Background(), []string{"-"}, func(ev *event.Event) error {
		return eng.Match(ev, func(r *rule.Rule, _ *alert.Alert) error {
			names = append(names, r.Name)
			return nil
		})
	})
	if err != nil || res.Events() != 1 || res.Bad() != 0 {
		t.Fatalf("reading %s: %v, %d events, %d bad %v", doc, err, res.Events(), res.Bad(), res.Inputs[0].Examples)
	}
	return names
}

// TestPresets runs each preset against real command lines of its tool
// (silenced, or quiet where the pack has nothing to say) and against
// attacks on a host running that tool (still alerted).
func TestPresets(t *testing.T) {
	set, err := rule.LoadFS(rules.FS, ".", "builtin:", true)
	if err != nil {
		t.Fatal(err)
	}
	every, err := exception.LoadPresets(exception.Presets())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range presetCases {
		xs, err := exception.LoadPresets([]string{c.preset})
		if err != nil {
			t.Fatal(err)
		}
		without := run(t, set.Rules, nil, c.event)
		with := run(t, set.Rules, xs, c.event)
		all := run(t, set.Rules, every, c.event)
		switch c.want {
		case silenced:
			if len(without) == 0 || len(with) != 0 {
				t.Errorf("%s: %s: pack alone %v, with the preset %v; want alerts, then none", c.preset, c.name, without, with)
			}
		case alerts:
			if len(without) == 0 || len(with) != len(without) || len(all) != len(without) {
				t.Errorf("%s: %s: pack alone %v, with the preset %v, with every preset %v; want the same alerts", c.preset, c.name, without, with, all)
			}
		case quiet:
			if len(without) != 0 {
				t.Errorf("%s: %s: pack alone %v; want nothing", c.preset, c.name, without)
			}
		}
	}
}
