package endgame

import (
	"strings"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/source/process"
)

// copies are the Endgame fields whose ECS equivalent holds the same value.
// A copy fills the ECS field only when the document lacks it.
var copies = [...]struct{ from, to string }{
	{"serial_event_id", "event.sequence"},
	{"event_subtype_full", "event.action"},
	{"pid", "process.pid"},
	{"ppid", "process.parent.pid"},
	{"process_name", "process.name"},
	{"process_path", "process.executable"},
	{"command_line", "process.command_line"},
	{"parent_process_name", "process.parent.name"},
	{"parent_process_path", "process.parent.executable"},
	{"exit_code", "process.exit_code"},
	{"original_file_name", "process.pe.original_file_name"},
	{"user_name", "user.name"},
	{"user_domain", "user.domain"},
	{"user_sid", "user.id"},
	{"hostname", "host.name"},
	{"file_name", "file.name"},
	{"file_path", "file.path"},
	{"source_address", "source.ip"},
	{"source_port", "source.port"},
	{"destination_address", "destination.ip"},
	{"destination_port", "destination.port"},
	{"protocol", "network.transport"},
	{"query_name", "dns.question.name"},
	{"registry_path", "registry.path"},
	{"registry_key", "registry.key"},
	{"registry_value", "registry.value"},
	{"image_name", "dll.name"},
	{"image_path", "dll.path"},
}

// types maps event_subtype_full to ECS event.type.
var types = map[string][]string{
	"creation_event":                   {"start"},
	"termination_event":                {"end"},
	"already_running":                  {"info"},
	"file_create_event":                {"creation"},
	"file_delete_event":                {"deletion"},
	"file_modify_event":                {"change"},
	"file_rename_event":                {"change"},
	"registry_create_event":            {"creation"},
	"registry_modify_event":            {"change"},
	"registry_delete_event":            {"deletion"},
	"ipv4_connection_attempt_event":    {"connection", "start"},
	"ipv6_connection_attempt_event":    {"connection", "start"},
	"ipv4_connection_accept_event":     {"connection", "start"},
	"ipv6_connection_accept_event":     {"connection", "start"},
	"ipv4_disconnect_received_event":   {"connection", "end"},
	"ipv6_disconnect_received_event":   {"connection", "end"},
	"ipv4_connection_closed_event":     {"connection", "end"},
	"ipv6_connection_closed_event":     {"connection", "end"},
	"request_event":                    {"protocol"},
	"image_load_event":                 {"start"},
	"user_logon":                       {"start"},
	"user_logoff":                      {"end"},
	"security_event":                   {"info"},
	"network_connection_attempt_event": {"connection", "start"},
}

// normalise fills the ECS fields an Endgame document lacks, and the
// event's time. It never rewrites a field the document has.
func normalise(ev *event.Event) {
	typ := ev.Get("event_type")
	if typ.Kind == event.String && typ.Str != "" {
		// Elasticsearch's Endgame mapping makes event.category an alias of
		// event_type: the category is event_type verbatim (dns, registry,
		// imageload…), which is what `dns where …` selects.
		ev.Fill("event.category", typ)
		if typ.Str == "dns" {
			ev.Fill("network.protocol", event.Str("dns"))
		}
	}
	if sub := ev.Get("event_subtype_full"); sub.Kind == event.String {
		if t, ok := types[sub.Str]; ok {
			ev.Fill("event.type", event.Strs(t...))
		}
	}
	ev.Fill("event.module", event.Str("endgame"))
	for _, c := range copies {
		if v := ev.Get(c.from); v.Exists() {
			ev.Fill(c.to, v)
		}
	}
	// unique_pid is Endgame's process identity across pid reuse: the ECS
	// entity_id, which is a keyword.
	if v := ev.Get("unique_pid"); v.Kind == event.Int || v.Kind == event.String {
		ev.Fill("process.entity_id", event.Str(v.String()))
	}
	if v := ev.Get("unique_ppid"); v.Kind == event.Int || v.Kind == event.String {
		ev.Fill("process.parent.entity_id", event.Str(v.String()))
	}
	// Hashes belong to the process on process events and to the file on
	// file events.
	owner := ""
	switch typ.Str {
	case "process":
		owner = "process.hash."
	case "file":
		owner = "file.hash."
	case "imageload":
		owner = "dll.hash."
	}
	if owner != "" {
		for _, h := range [...]string{"md5", "sha1", "sha256"} {
			if v := ev.Get(h); v.Kind == event.String {
				ev.Fill(owner+h, v)
			}
		}
	}
	// Windows paths: ECS names are base names, which path.Base cannot
	// take of C:\Windows\System32\cmd.exe.
	if !ev.Has("process.name") {
		if exe := ev.Get("process.executable"); exe.Kind == event.String && windowsPath(exe.Str) {
			ev.SetStr("process.name", winBase(exe.Str))
		}
	}
	if !ev.Has("process.parent.name") {
		if exe := ev.Get("process.parent.executable"); exe.Kind == event.String && windowsPath(exe.Str) {
			ev.SetStr("process.parent.name", winBase(exe.Str))
		}
	}
	if !ev.Has("file.name") {
		if p := ev.Get("file.path"); p.Kind == event.String {
			if windowsPath(p.Str) {
				ev.SetStr("file.name", winBase(p.Str))
			} else if i := strings.LastIndexByte(p.Str, '/'); i >= 0 && i+1 < len(p.Str) {
				ev.SetStr("file.name", p.Str[i+1:])
			}
		}
	}
	setTime(ev)
}

// setTime sets Event.Time and @timestamp: @timestamp when the document
// has it (as an Elasticsearch hit of an Endgame index does), otherwise
// Endgame's timestamp (FILETIME), otherwise timestamp_utc.
func setTime(ev *event.Event) {
	if t, ok := parseTimestamp(ev.Get("@timestamp")); ok {
		ev.Time = t
		return
	}
	for _, f := range [...]string{"timestamp", "timestamp_utc"} {
		if t, ok := fileTime(ev.Get(f)); ok {
			ev.Time = t
			ev.Fill("@timestamp", event.Str(t.Format(timeLayout)))
			return
		}
	}
}

// timeLayout is RFC 3339 with milliseconds, Elasticsearch's rendering of a
// millisecond date.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// windowsPath reports whether p looks like a Windows path: a drive letter
// (C:\, C:/), a UNC or NT path (\\server, \Device, \SystemRoot) or an
// environment variable (%SystemRoot%\…).
func windowsPath(p string) bool {
	if len(p) >= 3 && (p[0]|0x20 >= 'a' && p[0]|0x20 <= 'z') && p[1] == ':' && (p[2] == '\\' || p[2] == '/') {
		return true
	}
	if strings.HasPrefix(p, `\`) {
		return true
	}
	if strings.HasPrefix(p, "%") && strings.Contains(p, `\`) {
		return true
	}
	return false
}

// winBase is the last element of a Windows path.
func winBase(p string) string {
	if i := strings.LastIndexAny(p, `\/`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// splitterFor picks how process.args is derived from the command line:
// Windows quoting rules (CommandLineToArgvW) for a Windows process —
// shell splitting would eat the backslashes of every path — and POSIX
// shell rules otherwise.
func splitterFor(ev *event.Event) process.Splitter {
	exe := ev.Get("process.executable")
	if exe.Kind == event.String && windowsPath(exe.Str) {
		return WindowsSplit
	}
	cmd := ev.Get("process.command_line")
	if cmd.Kind == event.String {
		s := strings.TrimLeft(cmd.Str, ` "`)
		if windowsPath(s) {
			return WindowsSplit
		}
	}
	return process.ShellSplit
}

// WindowsSplit splits a command line as CommandLineToArgvW (and the
// Microsoft C runtime) do: arguments are separated by spaces and tabs; a
// double quote toggles quoting; 2n backslashes before a quote are n
// backslashes and the quote is special, 2n+1 are n backslashes and a
// literal quote; "" inside quotes is a literal quote; other backslashes
// are literal. The first argument (the program) ends at the first space
// or tab outside quotes and takes no escapes, as Windows parses it.
func WindowsSplit(s string) []string {
	var out []string
	var cur strings.Builder
	i := 0
	// argv[0]
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	if i >= len(s) {
		return nil
	}
	quoted := false
	for ; i < len(s); i++ {
		c := s[i]
		if c == '"' {
			quoted = !quoted
			continue
		}
		if !quoted && (c == ' ' || c == '\t') {
			break
		}
		cur.WriteByte(c)
	}
	out = append(out, cur.String())
	cur.Reset()
	inArg := false
	quoted = false
	for i < len(s) {
		c := s[i]
		switch {
		case !quoted && (c == ' ' || c == '\t'):
			if inArg {
				out = append(out, cur.String())
				cur.Reset()
				inArg = false
			}
			i++
		case c == '\\':
			n := 0
			for i < len(s) && s[i] == '\\' {
				n++
				i++
			}
			if i < len(s) && s[i] == '"' {
				cur.WriteString(strings.Repeat(`\`, n/2))
				if n%2 == 1 {
					cur.WriteByte('"')
					i++
				}
			} else {
				cur.WriteString(strings.Repeat(`\`, n))
			}
			inArg = true
		case c == '"':
			if quoted && i+1 < len(s) && s[i+1] == '"' {
				cur.WriteByte('"')
				i += 2
			} else {
				quoted = !quoted
				i++
			}
			inArg = true
		default:
			cur.WriteByte(c)
			inArg = true
			i++
		}
	}
	if inArg {
		out = append(out, cur.String())
	}
	return out
}
