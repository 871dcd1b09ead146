// Package process derives the ECS process fields a telemetry source lacks:
// process.name (with the multi-call binary and interpreted-script rules),
// process.args, process.args_count, process.command_line, and the
// process.parent.* fields from a table of earlier exec events keyed by host
// and pid. Fields a source provides are never rewritten.
package process

import (
	"path"
	"strings"

	"github.com/firewarden/firewarden/event"
)

// Splitter turns a command line into argv when a source has no argv.
type Splitter func(cmdline string) []string

// DefaultCapacity bounds the process table.
const DefaultCapacity = 1 << 16

type key struct {
	host string
	pid  int64
}

type entry struct {
	executable, name, commandLine, user string
	args                                []event.Value
	ppid                                int64 // 0: unknown
}

// Table remembers the latest exec of each (host, pid), bounded in size:
// when full, the oldest entry is evicted.
type Table struct {
	procs bounded[*entry]
}

// NewTable returns a table holding at most capacity processes
// (DefaultCapacity when capacity <= 0).
func NewTable(capacity int) *Table {
	return &Table{procs: newBounded[*entry](capacity)}
}

// Len is the number of processes remembered.
func (t *Table) Len() int { return t.procs.len() }

func (t *Table) put(k key, e *entry) { t.procs.put(k, e) }

// Derive fills what ev lacks and, for a process start, records the process
// so its children can name their parent. split is used only when the event
// has a command line and no argv.
func (t *Table) Derive(ev *event.Event, split Splitter) {
	host := ev.Get("host.name").String()
	pid, okPid := intOf(ev.Get("process.pid"))
	start := isStart(ev)
	if okPid && !start {
		// Not an exec: fill what we know of the running process first, so
		// its name follows the exec's (iptables, not xtables-nft-multi).
		exe := ev.Get("process.executable").String()
		if e := t.procs.get(key{host, pid}); e != nil && (exe == "" || exe == e.executable) {
			fillFrom(ev, "process.", e)
			if e.ppid != 0 {
				// A firewall change carries only the pid: its parent is
				// the exec's, so the alert names the whole chain.
				ev.Fill("process.parent.pid", event.IntV(e.ppid))
			}
		}
	}
	args := ev.Get("process.args")
	cmd := ev.Get("process.command_line")
	if !args.Exists() && cmd.Kind == event.String && split != nil {
		if argv := split(cmd.Str); len(argv) > 0 {
			args = event.Strs(argv...)
			ev.Set("process.args", args)
		}
	}
	if args.Kind == event.List && len(args.List) > 0 {
		if !cmd.Exists() {
			ev.Set("process.command_line", event.Str(JoinArgs(args.List)))
		}
		ev.Fill("process.args_count", event.IntV(int64(len(args.List))))
	}
	exe := ev.Get("process.executable").String()
	if !ev.Has("process.name") {
		name, script := Name(exe, argStrings(args))
		if name != "" {
			ev.SetStr("process.name", name)
		}
		if script != "" {
			ev.Fill("process.script.path", event.Str(script))
		}
	}

	if ppid, ok := intOf(ev.Get("process.parent.pid")); ok {
		if e := t.procs.get(key{host, ppid}); e != nil {
			fillFrom(ev, "process.parent.", e)
		}
	}
	if okPid && start {
		e := &entry{
			executable:  exe,
			name:        ev.Get("process.name").String(),
			commandLine: ev.Get("process.command_line").String(),
			user:        ev.Get("user.name").String(),
		}
		if a := ev.Get("process.args"); a.Kind == event.List {
			e.args = a.List
		}
		if ppid, ok := intOf(ev.Get("process.parent.pid")); ok {
			e.ppid = ppid
		}
		t.put(key{host, pid}, e)
	}
}

func fillFrom(ev *event.Event, prefix string, e *entry) {
	if e.executable != "" {
		ev.Fill(prefix+"executable", event.Str(e.executable))
	}
	if e.name != "" {
		ev.Fill(prefix+"name", event.Str(e.name))
	}
	if e.commandLine != "" {
		ev.Fill(prefix+"command_line", event.Str(e.commandLine))
	}
	if len(e.args) > 0 {
		ev.Fill(prefix+"args", event.ListV(e.args...))
		ev.Fill(prefix+"args_count", event.IntV(int64(len(e.args))))
	}
	if e.user != "" && prefix == "process.parent." {
		ev.Fill(prefix+"user.name", event.Str(e.user))
	}
}

// isStart reports whether ev is a process start (an exec): event.type
// "start" on a process event. A network connection's "start" is not one,
// nor is anything whose event.category leaves out "process".
func isStart(ev *event.Event) bool {
	if c := ev.Get("event.category"); c.Exists() && !hasStr(c, "process") {
		return false
	}
	return hasStr(ev.Get("event.type"), "start")
}

func hasStr(v event.Value, s string) bool {
	found := false
	v.Each(func(x event.Value) bool {
		if x.Kind == event.String && x.Str == s {
			found = true
			return false
		}
		return true
	})
	return found
}

func intOf(v event.Value) (int64, bool) {
	switch v.Kind {
	case event.Int:
		return v.Int, true
	case event.String, event.Float:
		f, ok := v.Number()
		return int64(f), ok
	}
	return 0, false
}

func argStrings(v event.Value) []string {
	if v.Kind != event.List {
		return nil
	}
	out := make([]string, len(v.List))
	for i, a := range v.List {
		out[i] = a.String()
	}
	return out
}

// JoinArgs joins argv with single spaces, as Sysmon for Linux and Elastic
// Defend build a command line.
func JoinArgs(args []event.Value) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(a.String())
	}
	return b.String()
}

// multiCall lists binaries that dispatch on argv[0]: the kernel reports the
// binary, the applet that ran is argv[0] (or argv[1] when invoked by the
// binary's own name).
var multiCall = map[string]bool{
	"xtables-nft-multi":      true,
	"xtables-legacy-multi":   true,
	"iptables-legacy-multi":  true, // older packaging
	"ip6tables-legacy-multi": true,
	"busybox":                true,
	"toybox":                 true,
}

// IsMultiCall reports whether base names a known multi-call binary.
func IsMultiCall(base string) bool { return multiCall[base] }

// IsInterpreter reports whether base is a script interpreter whose argv
// carries the script path: python3.11, perl5.36, bash, dash, ...
func IsInterpreter(base string) bool {
	for _, p := range []string{"python", "perl", "ruby", "php", "lua", "node", "tclsh", "pypy"} {
		if strings.HasPrefix(base, p) && versionSuffix(base[len(p):]) {
			return true
		}
	}
	switch base {
	case "bash", "sh", "dash", "zsh", "ksh", "mksh", "ash", "busybox-sh", "fish", "csh", "tcsh", "nodejs":
		return true
	}
	return false
}

func versionSuffix(s string) bool {
	for _, c := range s {
		if (c < '0' || c > '9') && c != '.' {
			return false
		}
	}
	return true
}

// codeFlags make an interpreter run code from its argv or a module, not a
// script file.
var codeFlags = map[string]bool{"-c": true, "-m": true, "-e": true, "-E": true, "-r": true, "--command": true, "-": true}

// Name derives process.name from the executable and argv, and returns the
// script path when an interpreter runs a script. Rules:
//   - a multi-call binary (xtables-nft-multi, busybox): the applet, from
//     argv[0], or argv[1] when argv[0] is the binary itself;
//   - an interpreter running a script (python3 /usr/sbin/ufw disable): the
//     script's base name; the script path is returned;
//   - otherwise the executable's base name (argv[0]'s when there is none).
func Name(executable string, argv []string) (name, script string) {
	base := path.Base(executable)
	if executable == "" {
		if len(argv) == 0 || argv[0] == "" {
			return "", ""
		}
		base = path.Base(argv[0])
	}
	if multiCall[base] && len(argv) > 0 {
		applet := path.Base(argv[0])
		if (multiCall[applet] || applet == base) && len(argv) > 1 {
			applet = path.Base(argv[1])
		}
		if applet != "" && applet != "." && applet != "/" && !multiCall[applet] {
			return applet, ""
		}
		return base, ""
	}
	if IsInterpreter(base) {
		if s := scriptArg(argv); s != "" {
			return path.Base(s), s
		}
	}
	return base, ""
}

func scriptArg(argv []string) string {
	for i := 1; i < len(argv); i++ {
		a := argv[i]
		if a == "--" {
			if i+1 < len(argv) {
				return argv[i+1]
			}
			return ""
		}
		if codeFlags[a] || strings.HasPrefix(a, "--command=") {
			return ""
		}
		if strings.HasPrefix(a, "-") {
			// -c bundled with other flags (bash -xc '...') runs code.
			if !strings.HasPrefix(a, "--") && strings.ContainsAny(a[1:], "ce") {
				return ""
			}
			continue
		}
		if a == "" {
			return ""
		}
		return a
	}
	return ""
}

// Fields splits a command line on runs of white space. Sysmon for Linux
// joins argv with single spaces without quoting, so quote characters in its
// CommandLine belong to the arguments: splitting on spaces is closer to the
// real argv than shell splitting. Arguments that contained spaces cannot be
// recovered from such a command line.
func Fields(cmdline string) []string { return strings.Fields(cmdline) }

// ShellSplit splits a command line the way a POSIX shell would tokenise
// words (single and double quotes, backslash escapes; no expansion). If the
// quotes do not balance it falls back to Fields.
func ShellSplit(s string) []string {
	var out []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return Fields(s)
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			closed := false
			for ; i < len(s); i++ {
				if s[i] == '"' {
					closed = true
					break
				}
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`\n", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if !closed {
				return Fields(s)
			}
			inWord = true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out
}
