// Package gen generates realistic Linux process telemetry as ECS NDJSON for
// benchmarks: shells, daemons, package managers, containers and — about one
// event in a hundred — firewall commands, benign and hostile.
package gen

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"
)

type proc struct {
	exe  string
	args []string
}

var benign = []proc{
	{"/usr/bin/ls", []string{"ls", "-la", "/var/log"}},
	{"/usr/bin/cat", []string{"cat", "/etc/os-release"}},
	{"/usr/bin/grep", []string{"grep", "-r", "error", "/var/log/syslog"}},
	{"/usr/bin/ps", []string{"ps", "-ef"}},
	{"/usr/bin/curl", []string{"curl", "-fsS", "https://example.internal/health"}},
	{"/usr/bin/systemctl", []string{"systemctl", "status", "nginx"}},
	{"/usr/bin/apt-get", []string{"apt-get", "install", "-y", "jq"}},
	{"/usr/bin/git", []string{"git", "pull", "--ff-only"}},
	{"/usr/bin/docker", []string{"docker", "ps", "--format", "{{.Names}}"}},
	{"/usr/bin/python3.11", []string{"/usr/bin/python3", "/opt/app/worker.py", "--queue", "default"}},
	{"/usr/bin/dash", []string{"sh", "-c", "uptime > /tmp/uptime.txt"}},
	{"/usr/bin/bash", []string{"bash", "/usr/local/bin/backup.sh"}},
	{"/usr/bin/tar", []string{"tar", "czf", "/var/backups/etc.tgz", "/etc"}},
	{"/usr/bin/find", []string{"find", "/tmp", "-mtime", "+7", "-delete"}},
	{"/usr/bin/sed", []string{"sed", "-n", "1,3p", "/etc/hosts"}},
	{"/usr/sbin/ip", []string{"ip", "addr", "show"}},
	{"/usr/bin/ssh", []string{"ssh", "-o", "BatchMode=yes", "backup@10.0.0.5", "true"}},
	{"/usr/bin/journalctl", []string{"journalctl", "-u", "ssh", "--since", "today"}},
	{"/usr/bin/awk", []string{"awk", "{print $1}", "/proc/loadavg"}},
	{"/usr/bin/sleep", []string{"sleep", "5"}},
}

var firewall = []proc{
	{"/usr/sbin/xtables-nft-multi", []string{"iptables", "-L", "-n"}},
	{"/usr/sbin/xtables-nft-multi", []string{"iptables", "-A", "INPUT", "-p", "tcp", "--dport", "22", "-j", "ACCEPT"}},
	{"/usr/sbin/xtables-nft-multi", []string{"iptables", "-F"}},
	{"/usr/sbin/xtables-nft-multi", []string{"iptables", "-F", "ufw-logging-deny"}},
	{"/usr/sbin/xtables-nft-multi", []string{"iptables", "-P", "INPUT", "ACCEPT"}},
	{"/usr/sbin/nft", []string{"nft", "list", "ruleset"}},
	{"/usr/sbin/nft", []string{"nft", "flush", "ruleset"}},
	{"/usr/bin/python3.11", []string{"/usr/bin/python3", "/usr/sbin/ufw", "disable"}},
	{"/usr/bin/python3.11", []string{"/usr/bin/python3", "/usr/sbin/ufw", "status"}},
	{"/usr/bin/systemctl", []string{"systemctl", "stop", "firewalld"}},
}

var parents = []proc{
	{"/usr/bin/bash", []string{"-bash"}},
	{"/usr/sbin/cron", []string{"/usr/sbin/CRON", "-f"}},
	{"/usr/sbin/sshd", []string{"sshd:", "admin@pts/0"}},
	{"/usr/lib/systemd/systemd", []string{"/sbin/init"}},
	{"/usr/bin/containerd-shim-runc-v2", []string{"/usr/bin/containerd-shim-runc-v2", "-namespace", "moby"}},
}

var users = []string{"root", "admin", "deploy", "www-data", "backup"}

// Options shape the stream.
type Options struct {
	Events   int
	Hosts    int     // distinct host names (default 50)
	Firewall float64 // share of firewall commands (default 0.01)
	Seed     uint64
}

// Write writes opts.Events ECS process exec events as NDJSON to w.
func Write(w io.Writer, opts Options) error {
	if opts.Hosts <= 0 {
		opts.Hosts = 50
	}
	if opts.Firewall == 0 {
		opts.Firewall = 0.01
	}
	r := rand.New(rand.NewPCG(opts.Seed, 0x5eed))
	bw := bufio.NewWriterSize(w, 1<<20)
	t0 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	enc := json.NewEncoder(bw)
	for i := 0; i < opts.Events; i++ {
		p := benign[r.IntN(len(benign))]
		if r.Float64() < opts.Firewall {
			p = firewall[r.IntN(len(firewall))]
		}
		par := parents[r.IntN(len(parents))]
		pid := 1000 + r.IntN(4_000_000)
		name := p.args[0]
		if i := strings.LastIndexByte(p.exe, '/'); i >= 0 {
			name = p.exe[i+1:]
		}
		pname := par.exe[strings.LastIndexByte(par.exe, '/')+1:]
		doc := map[string]any{
			"@timestamp": t0.Add(time.Duration(i) * time.Millisecond).Format(time.RFC3339Nano),
			"event":      map[string]any{"kind": "event", "category": []string{"process"}, "type": []string{"start"}, "action": "exec", "module": "endpoint", "dataset": "endpoint.events.process"},
			"host":       map[string]any{"name": fmt.Sprintf("host-%04d", r.IntN(opts.Hosts)), "os": map[string]any{"type": "linux", "family": "debian"}},
			"user":       map[string]any{"name": users[r.IntN(len(users))], "id": fmt.Sprint(r.IntN(2000))},
			"process": map[string]any{
				"pid": pid, "executable": p.exe, "name": name, "args": p.args, "args_count": len(p.args),
				"command_line": strings.Join(p.args, " "), "working_directory": "/root",
				"parent": map[string]any{"pid": pid - 1 - r.IntN(500), "executable": par.exe, "name": pname,
					"args": par.args, "command_line": strings.Join(par.args, " ")},
			},
			"agent": map[string]any{"type": "endpoint", "id": "7d0c2b1e-5a4f-4c1e-9a52-3f7b1c2d9e10"},
			"ecs":   map[string]any{"version": "8.11.0"},
		}
		if err := enc.Encode(doc); err != nil {
			return err
		}
	}
	return bw.Flush()
}
