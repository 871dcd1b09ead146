package kql

import (
	"strings"
	"testing"
	"time"

	"github.com/firewarden/firewarden/engine"
	"github.com/firewarden/firewarden/event"
)

// procEvent is one ECS process start: process.args is a list, as Elastic
// Defend and Auditbeat write it; user.name is missing unless set.
func procEvent() *event.Event {
	ev := event.New(16)
	ev.Set("event.category", event.ListV(event.Str("process")))
	ev.Set("event.type", event.ListV(event.Str("start")))
	ev.SetStr("@timestamp", "2026-11-22T15:00:00.000Z")
	ev.SetStr("process.executable", "/usr/sbin/IPTables")
	ev.SetStr("process.name", "IPTables")
	ev.SetStr("process.command_line", "iptables -F ufw-logging-deny --comment FooBar_baz")
	ev.Set("process.args", event.ListV(event.Str("iptables"), event.Str("-F"), event.Str("ufw-logging-deny")))
	ev.Set("process.pid", event.IntV(4242))
	ev.SetStr("process.parent.executable", "/bin/bash")
	ev.SetStr("host.name", "web-1")
	ev.Set("host.ip", event.ListV(event.Str("10.0.0.1"), event.Str("fe80::1")))
	ev.Set("process.parent.user.name", event.NullV())
	return ev
}

func matches(t *testing.T, q string, evs ...*event.Event) int {
	t.Helper()
	r, err := Compile(q, Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := engine.New()
	if _, err := e.Add(r.Query); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range evs {
		e.Match(ev, func(*engine.Result) { n++ })
	}
	e.Flush(func(*engine.Result) { n++ })
	return n
}

// TestSemantics: the case rule of every operator as Kusto defines it,
// has's terms, multi-valued and missing fields.
func TestSemantics(t *testing.T) {
	tests := []struct {
		where string
		want  bool
	}{
		// == and != are case-sensitive; =~ and !~ fold.
		{`TargetProcessName == "/usr/sbin/IPTables"`, true},
		{`TargetProcessName == "/usr/sbin/iptables"`, false},
		{`TargetProcessName != "/usr/sbin/iptables"`, true},
		{`TargetProcessName =~ "/usr/sbin/iptables"`, true},
		{`TargetProcessName !~ "/usr/sbin/iptables"`, false},
		// contains, startswith, endswith fold; _cs variants do not.
		{`TargetProcessName contains "iptables"`, true},
		{`TargetProcessName contains_cs "iptables"`, false},
		{`TargetProcessName contains_cs "IPTables"`, true},
		{`TargetProcessName !contains "IPTABLES"`, false},
		{`TargetProcessName !contains_cs "iptables"`, true},
		{`TargetProcessName startswith "/USR/"`, true},
		{`TargetProcessName startswith_cs "/USR/"`, false},
		{`TargetProcessName !startswith "/usr"`, false},
		{`TargetProcessName endswith "/iptables"`, true},
		{`TargetProcessName endswith_cs "/iptables"`, false},
		{`TargetProcessName !endswith_cs "/iptables"`, true},
		// has: whole terms (maximal runs of letters and digits), folded.
		{`TargetProcessCommandLine has "ufw"`, true},
		{`TargetProcessCommandLine has "logging"`, true},
		{`TargetProcessCommandLine has "log"`, false},
		{`TargetProcessCommandLine has "IPTABLES"`, true},
		{`TargetProcessCommandLine has_cs "IPTABLES"`, false},
		{`TargetProcessCommandLine has "ufw-logging-deny"`, true},
		{`TargetProcessCommandLine has "FooBar"`, true}, // _ is not alphanumeric: terms FooBar, baz
		{`TargetProcessCommandLine has "Foo"`, false},
		{`TargetProcessCommandLine has "foobar_baz"`, true},
		{`TargetProcessCommandLine !has "deny"`, false},
		{`TargetProcessCommandLine has_any ("nope", "DENY")`, true},
		{`TargetProcessCommandLine has_any ("nope", "den")`, false},
		{`TargetProcessCommandLine has_all ("iptables", "Deny")`, true},
		{`TargetProcessCommandLine has_all ("iptables", "accept")`, false},
		// in is case-sensitive, in~ folds.
		{`TargetProcessFilename in ("IPTables", "nft")`, true},
		{`TargetProcessFilename in ("iptables", "nft")`, false},
		{`TargetProcessFilename in~ ("iptables", "nft")`, true},
		{`TargetProcessFilename !in ("iptables")`, true},
		{`TargetProcessFilename !in~ ("iptables")`, false},
		// matches regex: RE2, case-sensitive.
		{`TargetProcessName matches regex "/(ip|ip6)tables$"`, false},
		{`TargetProcessName matches regex "(?i)/(ip|ip6)tables$"`, true},
		{`TargetProcessCommandLine matches regex "-[FXZ] "`, true},
		// Numbers and between.
		{`TargetProcessId == 4242`, true},
		{`TargetProcessId == "4242"`, true},
		{`strlen(TargetProcessFilename) between (5 .. 8)`, true},
		{`strlen(TargetProcessFilename) !between (1 .. 3)`, true},
		{`strlen(TargetProcessFilename) > 8`, false},
		// Boolean structure.
		{`TargetProcessFilename == "x" or TargetProcessFilename == "IPTables"`, true},
		{`not(TargetProcessFilename == "IPTables")`, false},
		{`not(TargetProcessFilename has "x") and true`, true},
		// Missing strings are empty strings, never null.
		{`TargetUsername == ""`, true},
		{`isempty(TargetUsername)`, true},
		{`isnotempty(TargetUsername)`, false},
		{`isnull(TargetUsername)`, false}, // a string is never null
		{`isnotnull(TargetUsername)`, true},
		{`TargetUsername != "root"`, true},
		{`TargetUsername !contains "root"`, true},
		{`TargetUsername contains "root"`, false},
		{`ActorUsername == ""`, true}, // null: empty as well
		{`isempty(ActingProcessName)`, false},
		// Multi-valued fields: any value.
		{`DvcIpAddr == "fe80::1"`, true},
		{`DvcIpAddr startswith "10."`, true},
		{`DvcIpAddr !startswith "10."`, false},
		// Functions.
		{`tolower(TargetProcessName) == "/usr/sbin/iptables"`, true},
		{`toupper(TargetProcessFilename) == "IPTABLES"`, true},
		{`strcat(DvcHostname, ":", TargetProcessFilename) == "web-1:IPTables"`, true},
		{`strcat(TargetUsername, "x") == "x"`, true},
		{`extract("-([A-Z]) ", 1, TargetProcessCommandLine) == "F"`, true},
		{`extract("-([Q]) ", 1, TargetProcessCommandLine) == ""`, true},
		{`split(TargetProcessName, "/") has "sbin"`, true},
		{`split(TargetProcessName, "/", 2) == "sbin"`, true},
		{`EventType == "ProcessCreated"`, true},
	}
	for _, tc := range tests {
		t.Run(tc.where, func(t *testing.T) {
			got := matches(t, "imProcessCreate | where "+tc.where, procEvent()) > 0
			if got != tc.want {
				t.Errorf("matched %v, want %v", got, tc.want)
			}
		})
	}
}

// TestPipeline: let, extend, project, project-away, parse, and the
// table's scope.
func TestPipeline(t *testing.T) {
	tests := []struct {
		q    string
		want bool
	}{
		{`let n = "IPTables"; imProcessCreate | where TargetProcessFilename == n`, true},
		{`let names = dynamic(["nft", "IPTables"]); imProcessCreate | where TargetProcessFilename in (names)`, true},
		{`imProcessCreate | extend Name = tolower(TargetProcessFilename) | where Name == "iptables"`, true},
		{`imProcessCreate | project Cmd = TargetProcessCommandLine | where Cmd has "deny"`, true},
		{`imProcessCreate | project-rename Cmd = TargetProcessCommandLine | where Cmd has "deny"`, true},
		{`imProcessCreate | parse TargetProcessCommandLine with * "-F " chain " " * | where chain == "ufw-logging-deny"`, true},
		{`imProcessCreate | parse TargetProcessCommandLine with "iptables " flag " " rest | where rest == "ufw-logging-deny --comment FooBar_baz"`, true},
		{`imProcessCreate | parse kind=regex TargetProcessCommandLine with * "-(F|X) " chain:string " " | where chain == "ufw-logging-deny"`, true},
		{`imProcessCreate | where TimeGenerated > ago(1h) and TargetProcessFilename == "IPTables"`, true},
		{`imFileEvent | where true`, false},
	}
	for _, tc := range tests {
		t.Run(tc.q, func(t *testing.T) {
			got := matches(t, tc.q, procEvent()) > 0
			if got != tc.want {
				t.Errorf("matched %v, want %v", got, tc.want)
			}
		})
	}
}

// TestFileEvent: imFileEvent's columns and its computed EventType.
func TestFileEvent(t *testing.T) {
	ev := event.New(8)
	ev.Set("event.category", event.ListV(event.Str("file")))
	ev.Set("event.type", event.ListV(event.Str("deletion")))
	ev.SetStr("file.path", "/etc/iptables/rules.v4")
	ev.SetStr("process.executable", "/usr/bin/rm")
	for q, want := range map[string]bool{
		`imFileEvent | where EventType == "FileDeleted" and TargetFilePath startswith "/etc/iptables/"`: true,
		`imFileEvent | where EventType == "FileCreated"`:                                                false,
		`imFileEvent | where ActingProcessName endswith "/rm"`:                                          true,
		`imProcessCreate | where true`:                                                                  false,
	} {
		if got := matches(t, q, ev) > 0; got != want {
			t.Errorf("%s: matched %v, want %v", q, got, want)
		}
	}
}

// TestSummarize: summarize is query.Aggregate, a where after it its
// having (never a pre-filter), bin() a tumbling key.
func TestSummarize(t *testing.T) {
	at := func(sec int, host, cmd string) *event.Event {
		ev := procEvent()
		ev.SetStr("@timestamp", time.Date(2026, 11, 22, 15, 0, sec, 0, time.UTC).Format(time.RFC3339Nano))
		ev.SetStr("host.name", host)
		ev.SetStr("process.command_line", cmd)
		return ev
	}
	evs := []*event.Event{at(0, "a", "x 1"), at(1, "a", "x 2"), at(2, "b", "x 3"), at(3, "a", "x 2"), at(4, "a", "x 4")}
	tests := []struct {
		q    string
		want int
	}{
		{`imProcessCreate | summarize n = count() by DvcHostname | where n >= 3`, 1},
		{`imProcessCreate | summarize dcount(TargetProcessCommandLine) by DvcHostname | where dcount_TargetProcessCommandLine >= 3`, 1},
		{`imProcessCreate | summarize dcount(TargetProcessCommandLine) by DvcHostname | where dcount_TargetProcessCommandLine > 3`, 0},
		// A where after summarize is the having: a pre-filter on the
		// command line would see no group of three.
		{`imProcessCreate | summarize c = count() by DvcHostname | where c > 2 and DvcHostname == "a"`, 1},
		{`imProcessCreate | summarize s = make_set(TargetProcessCommandLine) by DvcHostname | where s has "4"`, 1},
		{`imProcessCreate | summarize count() by DvcHostname`, 5},
		{`imProcessCreate | where TargetProcessCommandLine != "x 2" | summarize c = count() by DvcHostname | where c >= 3`, 0},
		{`imProcessCreate | summarize c = count() by bin(TimeGenerated, 2s) | where c >= 3`, 0},
		{`imProcessCreate | summarize c = count() by bin(TimeGenerated, 10s) | where c >= 5`, 1},
	}
	for _, tc := range tests {
		t.Run(tc.q, func(t *testing.T) {
			if got := matches(t, tc.q, evs...); got != tc.want {
				t.Errorf("%d results, want %d", got, tc.want)
			}
		})
	}
}

// TestParseThenSummarize: the CyclopsBlink pattern in KQL — ports parsed
// from iptables command lines, counted per parent.
func TestParseThenSummarize(t *testing.T) {
	var evs []*event.Event
	for i, port := range []string{"636", "989", "636", "8443", "994"} {
		ev := procEvent()
		ev.SetStr("@timestamp", time.Date(2026, 11, 22, 15, 0, i, 0, time.UTC).Format(time.RFC3339Nano))
		ev.SetStr("process.command_line", "iptables -I INPUT -p tcp --dport "+port+" -j ACCEPT")
		evs = append(evs, ev)
	}
	q := `imProcessCreate
| where TargetProcessCommandLine has "ACCEPT"
| parse TargetProcessCommandLine with * "--dport " port:long " " *
| where isnotnull(port)
| summarize Ports = dcount(port), PortSet = make_set(port) by ActingProcessName
| where Ports >= 3`
	if got := matches(t, q, evs...); got != 1 {
		t.Errorf("%d results, want 1 (the third distinct port)", got)
	}
	if got := matches(t, strings.Replace(q, ">= 3", ">= 5", 1), evs...); got != 0 {
		t.Errorf("%d results, want 0 (4 distinct ports)", got)
	}
}

// TestRefusedByName: constructs firewarden does not run are refused with
// their name and position, never approximated.
func TestRefusedByName(t *testing.T) {
	tests := []struct{ q, want string }{
		{`imProcessCreate | join (imFileEvent) on DvcHostname`, "1:19: unsupported: operator join"},
		{`imProcessCreate | take 10`, "unsupported: operator take"},
		{`imProcessCreate | mv-expand x`, "unsupported: operator mv-expand"},
		{`union imProcessCreate, imFileEvent`, "1:1: unsupported: union"},
		{`SecurityEvent | where true`, "1:1: unsupported: table SecurityEvent"},
		{`imProcessCreate | where TargetProcessIntegrityLevel == "x"`, "unsupported: ASIM column TargetProcessIntegrityLevel"},
		{`imProcessCreate | where TargetProcessName hasprefix "x"`, "unsupported: operator hasprefix"},
		{`imProcessCreate | where iff(true, 1, 2) == 1`, "unsupported: function iff()"},
		{`imProcessCreate | where TimeGenerated > ago(1h) or true`, "unsupported: ago() outside a top-level"},
		{`imProcessCreate | where TimeGenerated < ago(1h)`, "unsupported: ago() outside a top-level"},
		{`imProcessCreate | summarize c = count() by DvcHostname | where c < 3`, "unsupported: < on c over an aggregate"},
		{`imProcessCreate | summarize c = count() by DvcHostname | where not(c > 3)`, "unsupported: negated >"},
		{`imProcessCreate | summarize c = count() by DvcHostname | where c == 3`, "unsupported: operator == over an aggregate"},
		{`imProcessCreate | summarize arg_max(TimeGenerated, *) by DvcHostname`, "unsupported: aggregation arg_max()"},
		{`imProcessCreate | summarize count() | summarize count()`, "unsupported: a second summarize"},
		{`imProcessCreate | summarize count() by bin(TargetProcessId, 5)`, "unsupported: bin() of a string"},
		{`imProcessCreate | extend d = dynamic({"a": 1})`, "unsupported: dynamic property bag"},
		{`imProcessCreate | where TargetProcessName.x == 1`, "unsupported: member access"},
		{`let f = (x:string) { x }; imProcessCreate`, "unsupported: let function f"},
		{`let t = imProcessCreate | where true; t`, "unsupported: tabular let t"},
		{`imProcessCreate | where TimeGenerated == "x"`, "unsupported: == on a datetime column"},
		{`imProcessCreate | where TargetProcessName < "x"`, "unsupported: < between a string and a string"},
		{`imProcessCreate | project-away Target*`, "unsupported: project-away with a wildcard"},
		{`imProcessCreate | where TargetProcessId + 1 == 2`, "unsupported: arithmetic +"},
	}
	for _, tc := range tests {
		t.Run(tc.q, func(t *testing.T) {
			_, err := Compile(tc.q, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
