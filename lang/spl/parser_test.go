package spl

import (
	"errors"
	"strings"
	"testing"

	"github.com/firewarden/firewarden/engine"
	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/query"
)

// TestErrors: malformed searches give positioned errors; unknown
// commands, macros and functions are refused by name.
func TestErrors(t *testing.T) {
	tests := []struct {
		src, want   string
		unsupported bool
	}{
		{`| tstats count from datamodel=Endpoint.Processes where Processes.process="abc`, `r.spl:1:74: unterminated string`, false},
		{"| tstats count\nfrom datamodel=Endpoint.Processes where (Processes.process=x", `r.spl:2:`, false},
		{`sourcetype=linux:audit | frobnicate x`, `r.spl:1:26: unsupported: frobnicate`, true},
		{"sourcetype=linux:audit\n| `no_such_macro`", `r.spl:2:3: unsupported: macro`, true},
		{`sourcetype=linux:audit | where nosuch(a) > 1`, `unsupported: function nosuch()`, true},
		{`sourcetype=linux:audit | lookup x y`, `unsupported: lookup`, true},
		{`sourcetype=linux:audit | stats count by x | where count > | x`, `expected a value`, false},
		{`| tstats count from datamodel=Risk.All_Risk`, `unsupported: datamodel=Risk.All_Risk`, true},
		{`sourcetype=linux:audit | eval x=`, `expected a value`, false},
		{`sourcetype=linux:audit | rex field=comm "(?<a>x)(?=y)"`, `unsupported: regular expression`, true},
	}
	for _, tc := range tests {
		_, err := Compile(tc.src, Options{Base: query.Pos{File: "r.spl"}})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.src, err, tc.want)
			continue
		}
		var u *query.Unsupported
		if errors.As(err, &u) != tc.unsupported {
			t.Errorf("%q: %T, unsupported %v", tc.src, err, tc.unsupported)
		}
	}
}

func auditEvent(types []string, kv map[string]string, argv ...string) *event.Event {
	ev := event.New(8)
	ev.SetStr("event.module", "auditd")
	ev.SetStr("host.name", "h1")
	ev.SetStr("@timestamp", "2026-11-22T14:49:20.301Z")
	ev.Set("auditd.type", event.Strs(types...))
	for k, v := range kv {
		ev.SetStr("auditd."+k, v)
	}
	if len(argv) > 0 {
		ev.Set("process.args", event.Strs(argv...))
	}
	return ev
}

func run(t *testing.T, src string, ms *Macros, evs ...*event.Event) []*engine.Result {
	t.Helper()
	q, err := Compile(src, Options{Macros: ms})
	if err != nil {
		t.Fatal(err)
	}
	e := engine.New()
	if _, err := e.Add(q); err != nil {
		t.Fatal(err)
	}
	var out []*engine.Result
	for _, ev := range evs {
		e.Match(ev, func(r *engine.Result) { cp := *r; out = append(out, &cp) })
	}
	return out
}

// TestSemantics: search terms fold case, where does not; the ESCU auditd
// macros (proctitle hex decoding, EXECVE foreach) recover the command
// line; stats with a having fires once per burst.
func TestSemantics(t *testing.T) {
	ms := Builtin()
	ms.Add(&Macro{Name: "linux_auditd", Definition: `sourcetype="linux:audit"`})
	ms.Add(&Macro{Name: "proctitle_process", Definition: `type=PROCTITLE | eval normalized_proctitle_delimiter = if(type=="PROCTITLE" AND isnotnull(proctitle), if(match(proctitle,"^[0-9A-F]+$"), replace(proctitle, "000", "020"),proctitle),null())
  | eval normalized_proctitle_delimiter  = if(type=="PROCTITLE" AND isnotnull(proctitle), if(match(normalized_proctitle_delimiter,"^[0-9A-F]+$"), replace(normalized_proctitle_delimiter, "00", "20"),normalized_proctitle_delimiter),null())
  | eval process_exec = if(match(normalized_proctitle_delimiter,"^[0-9A-F]+$"),urldecode(replace(normalized_proctitle_delimiter,"([0-9A-F]{2})","%\1")),normalized_proctitle_delimiter)`})
	ms.Add(&Macro{Name: "execve_process", Definition: `type=EXECVE | eval relevant_fields=if(type="EXECVE", "", relevant_fields) | foreach a* [eval relevant_fields=if(type="EXECVE", mvappend(relevant_fields, '<<FIELD>>'), relevant_fields)] | eval process_exec=if(type="EXECVE", mvjoin(relevant_fields, " "), process_exec) | eval process_exec=if(type="EXECVE", trim(process_exec), process_exec)`})

	chown := auditEvent([]string{"SYSCALL", "PROCTITLE"}, map[string]string{"proctitle": "chown\x00-R\x00root\x00/tmp/x", "comm": "chown"})
	if n := len(run(t, "`linux_auditd` `proctitle_process` | where LIKE (process_exec, \"%chown %root%\") | stats count by process_exec", ms, chown)); n != 1 {
		t.Errorf("proctitle macro: %d results, want 1", n)
	}
	rm := auditEvent([]string{"SYSCALL", "EXECVE"}, map[string]string{"argc": "3"}, "rm", "-rf", "/")
	if n := len(run(t, "`linux_auditd` `execve_process` | where LIKE (process_exec, \"%rm -rf /%\") | stats count by argc process_exec", ms, rm)); n != 1 {
		t.Errorf("execve macro: %d results, want 1", n)
	}
	// Search terms fold case; where compares exactly.
	ev := auditEvent([]string{"SYSCALL"}, map[string]string{"comm": "Split"})
	if n := len(run(t, "`linux_auditd` type=syscall comm=split", ms, ev)); n != 1 {
		t.Errorf("search: %d, want 1 (case-insensitive)", n)
	}
	if n := len(run(t, "`linux_auditd` | where comm=\"split\"", ms, ev)); n != 0 {
		t.Errorf("where: %d, want 0 (case-sensitive)", n)
	}
	// A where after stats is the having: four distinct commands.
	var evs []*event.Event
	for _, c := range []string{"ip", "ss", "ip", "arp", "netstat", "route"} {
		evs = append(evs, auditEvent([]string{"SYSCALL"}, map[string]string{"comm": c, "success": "yes"}))
	}
	rs := run(t, "`linux_auditd` type=SYSCALL comm IN (\"arp\", \"ip\", \"netstat\", \"ss\", \"route\") | rename host as dest | stats dc(comm) as unique_commands values(comm) as comm by success dest | where unique_commands >= 4", ms, evs...)
	if len(rs) != 1 {
		t.Fatalf("having: %d results, want 1", len(rs))
	}
	got := map[string]string{}
	for _, v := range rs[0].Values {
		got[v.Name] = v.Value.String()
	}
	if got["unique_commands"] != "4" || got["dest"] != "h1" {
		t.Errorf("values %v", got)
	}
}
