package eql

import (
	"strings"
	"testing"

	"github.com/firewarden/firewarden/engine"
	"github.com/firewarden/firewarden/event"
)

// TestSemantics covers what Elasticsearch's spec suites leave out:
// multi-valued ECS fields (any value matches, as a Lucene query over a
// keyword array does), missing and null fields under negation (not and !=
// are must_not: true where the field is missing), the case rule of each
// operator, == never a wildcard, and integer division.
func TestSemantics(t *testing.T) {
	// One ECS-shaped event: event.type and process.args are arrays, as
	// Elastic Defend and Auditbeat write them; process.title is missing;
	// user.name is an explicit null.
	ev := event.New(16)
	ev.Set("event.category", event.ListV(event.Str("process")))
	ev.Set("event.type", event.ListV(event.Str("start"), event.Str("info")))
	ev.SetStr("process.name", "iptables")
	ev.Set("process.args", event.ListV(event.Str("iptables"), event.Str("-F"), event.Str("INPUT")))
	ev.Set("process.args_count", event.IntV(3))
	ev.Set("process.pid", event.IntV(7))
	ev.Set("user.name", event.NullV())
	ev.SetStr("process.command_line", "iptables -F INPUT")
	ev.SetStr("process.executable", "/usr/sbin/IPTables")

	tests := []struct {
		query string
		want  bool
	}{
		// Multi-valued fields: a test holds if any value satisfies it.
		{`process where event.type == "start"`, true},
		{`process where event.type == "info"`, true},
		{`process where event.type == "end"`, false},
		{`process where process.args == "-F"`, true},
		{`process where process.args in ("-X", "INPUT")`, true},
		{`process where process.args : "-f"`, true}, // : folds case
		{`process where process.args like "-?"`, true},
		{`process where process.args != "-F"`, false},           // must_not term: one value equal is enough to fail
		{`process where not process.args == "iptables"`, false}, // the same
		{`process where process.args != "-X"`, true},
		{`process where process.args not in ("-F", "-X")`, false},
		{`process where process.args regex "-[A-Z]"`, true},
		{`process where stringContains(process.command_line, "-F")`, true},
		// Missing and null fields under negation.
		{`process where process.title == "x"`, false},
		{`process where process.title != "x"`, true},
		{`process where not process.title == "x"`, true},
		{`process where not process.title : "x*"`, true},
		{`process where process.title not in ("a", "b")`, true},
		{`process where process.title == null`, true},
		{`process where process.title != null`, false},
		{`process where user.name == null`, true},
		{`process where user.name != "root"`, true},
		{`process where process.pid != null`, true},
		{`process where not process.title < 5`, true},
		{`process where process.title < 5`, false},
		// Case: == is case-sensitive, : and ~ fold.
		{`process where process.executable == "/usr/sbin/iptables"`, false},
		{`process where process.executable : "/usr/sbin/iptables"`, true},
		{`process where process.executable like~ "*/iptables"`, true},
		{`process where process.executable like "*/iptables"`, false},
		{`process where process.name in~ ("IPTABLES")`, true},
		{`process where process.name in ("IPTABLES")`, false},
		{`process where startsWith~(process.executable, "/USR")`, true},
		{`process where startsWith(process.executable, "/USR")`, false},
		// == never a wildcard; : and like are.
		{`process where process.name == "ipt*"`, false},
		{`process where process.name : "ipt*"`, true},
		{`process where process.name like "ipt?bles"`, true},
		// Arithmetic: integer division truncates.
		{`process where process.pid / 2 == 3`, true},
		{`process where process.pid % 4 == 3`, true},
		{`process where process.args_count * 2 - 1 == 5`, true},
		// Optional field not in the event at all.
		{`process where ?process.nothing == null`, true},
		// Category: event.category is an array too.
		{`network where true`, false},
		{`any where process.pid == 7`, true},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			q, err := Compile(tc.query, Options{})
			if err != nil {
				t.Fatal(err)
			}
			e := engine.New()
			if _, err := e.Add(q); err != nil {
				t.Fatal(err)
			}
			got := false
			e.Match(ev, func(*engine.Result) { got = true })
			e.Flush(func(*engine.Result) { got = true })
			if got != tc.want {
				t.Errorf("matched %v, want %v", got, tc.want)
			}
		})
	}
}

// TestRefusedByName: constructs firewarden does not run are refused with
// their name and position, never approximated.
func TestRefusedByName(t *testing.T) {
	tests := []struct{ query, want string }{
		{`join [process where true] [file where true]`, "1:1: unsupported: join"},
		{`process where descendant of [process where true]`, "unsupported: descendant of"},
		{`process where arrayContains(process.args, "-F")`, "unsupported: function arrayContains()"},
		{`process where process.args[0] == "x"`, "unsupported: array index"},
		{`process where true | unique process.name`, "unsupported: pipe unique"},
		{`process where process.name regex "a~b"`, "unsupported: regular expression"},
		{`process where length~(process.name) == 1`, "has no case-insensitive ~ variant"},
		{`sequence [process where true]`, "a sequence has at least two"},
		{`sequence with maxspan=5x [process where true] [process where true]`, "unknown time unit"},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			_, err := Compile(tc.query, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
