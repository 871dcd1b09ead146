package sysmon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/source"
	"github.com/firewarden/firewarden/source/ecs"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

func read(t testing.TB, name string, r io.Reader) ([]*event.Event, *source.Stats) {
	t.Helper()
	st := &source.Stats{Name: name, Format: "sysmon"}
	var evs []*event.Event
	err := XML{}.Read(context.Background(), &source.Input{Name: name, R: r, Stats: st}, func(ev *event.Event) error {
		evs = append(evs, ev)
		return nil
	})
	if err != nil {
		t.Fatalf("%s: Read: %v", name, err)
	}
	return evs, st
}

func readString(t testing.TB, s string) ([]*event.Event, *source.Stats) {
	t.Helper()
	return read(t, "in", strings.NewReader(s))
}

func readFile(t testing.TB, path string) ([]*event.Event, *source.Stats) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return read(t, filepath.ToSlash(path), f)
}

func shared(t testing.TB, elem ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{"..", "..", "..", "shared", "samples"}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s: %v (CI runs with ../shared beside the repository)", p, err)
		}
		t.Skip("../shared samples not found (they exist only in the development workspace)")
	}
	return p
}

// sample is a Sysmon for Linux EventID 1 as SysmonForLinux writes it.
const sample = `<Event><System><Provider Name="Linux-Sysmon" Guid="{ff032593-a8d3-4f13-b0d6-01fc615a0f97}"/><EventID>1</EventID>` +
	`<Version>5</Version><Level>4</Level><Task>1</Task><Opcode>0</Opcode><Keywords>0x8000000000000000</Keywords>` +
	`<TimeCreated SystemTime="2026-11-22T14:49:20.420000000Z"/><EventRecordID>1052</EventRecordID><Correlation/>` +
	`<Execution ProcessID="731" ThreadID="731"/><Channel>Linux-Sysmon/Operational</Channel><Computer>vm</Computer>` +
	`<Security UserId="0"/></System><EventData><Data Name="RuleName">-</Data><Data Name="UtcTime">2026-11-22 14:49:20.420</Data>` +
	`<Data Name="ProcessGuid">{3d1219c7-00f0-6b03-7297-371120550000}</Data><Data Name="ProcessId">14434</Data>` +
	`<Data Name="Image">/usr/sbin/xtables-nft-multi</Data><Data Name="FileVersion">-</Data><Data Name="Description">-</Data>` +
	`<Data Name="Product">-</Data><Data Name="Company">-</Data><Data Name="OriginalFileName">-</Data>` +
	`<Data Name="CommandLine">iptables -F</Data><Data Name="CurrentDirectory">/root</Data><Data Name="User">root</Data>` +
	`<Data Name="LogonGuid">{3d1219c7-f52c-6b02-0000-000000000000}</Data><Data Name="LogonId">0</Data>` +
	`<Data Name="TerminalSessionId">2</Data><Data Name="IntegrityLevel">no level</Data><Data Name="Hashes">-</Data>` +
	`<Data Name="ParentProcessGuid">{3d1219c7-00ef-6b03-47d4-aa2a6c550000}</Data><Data Name="ParentProcessId">14391</Data>` +
	`<Data Name="ParentImage">/usr/bin/bash</Data><Data Name="ParentCommandLine">bash</Data><Data Name="ParentUser">root</Data>` +
	`</EventData></Event>`

func TestSniff(t *testing.T) {
	for _, tc := range []struct {
		name, head string
		want       bool
	}{
		{"rsyslog", "Nov 22 14:49:19 vm sysmon: " + sample + "\n", true},
		{"rfc5424", "<14>1 2026-11-22T14:49:19.860Z vm sysmon - - - " + sample, true},
		{"bare", sample, true},
		{"xmlns", `<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>`, true},
		{"blank first line", "\n\n" + sample, true},
		{"truncated head", "Nov 22 14:49:19 vm sysmon: <Event><System><Provider Name=\"Linux-Sys", true},
		{"journald json", `{"__CURSOR":"s=1","MESSAGE":"<Event><System>","SYSLOG_IDENTIFIER":"sysmon"}`, true},
		{"ecs json mentioning an event", `{"@timestamp":"x","message":"<Event><System>"}`, false},
		{"EventData only", "<EventData><Data Name=\"a\">b</Data></EventData>", false},
		{"Events", "<Events>\n<Event>", false},
		{"other syslog first", "Nov 22 14:49:19 vm sshd[1]: Accepted\nNov 22 14:49:19 vm sysmon: " + sample, false},
		{"audit", "type=SYSCALL msg=audit(1795358959.840:22251): arch=c000003e", false},
		{"empty", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := (XML{}).Sniff([]byte(tc.head)); got != tc.want {
				t.Errorf("Sniff = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestGolden compares the events read from each testdata/*.log with
// testdata/golden/<file>.golden.ndjson; refresh with -update.
func TestGolden(t *testing.T) {
	inputs, _ := filepath.Glob(filepath.Join("testdata", "*.log"))
	if len(inputs) == 0 {
		t.Fatal("no inputs in testdata")
	}
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			evs, st := readFile(t, in)
			got := goldenBytes(t, evs, st)
			gp := filepath.Join("testdata", "golden", filepath.Base(in)+".golden.ndjson")
			if *update {
				if err := os.MkdirAll(filepath.Dir(gp), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(gp, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(gp)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
				for i := 0; i < len(gl) || i < len(wl); i++ {
					var g, w string
					if i < len(gl) {
						g = gl[i]
					}
					if i < len(wl) {
						w = wl[i]
					}
					if g != w {
						t.Fatalf("%s differs from %s at line %d:\ngot  %s\nwant %s\n(run go test -update if the change is intended)", in, gp, i+1, g, w)
					}
				}
			}
		})
	}
}

func goldenBytes(t testing.TB, evs []*event.Event, st *source.Stats) []byte {
	var b bytes.Buffer
	for _, ev := range evs {
		j, err := json.Marshal(ev)
		if err != nil {
			t.Fatalf("marshal event %s:%d: %v", ev.File, ev.Line, err)
		}
		b.Write(j)
		b.WriteByte('\n')
	}
	examples := make([]string, len(st.Examples))
	for i, e := range st.Examples {
		examples[i] = e.Error()
	}
	j, _ := json.Marshal(map[string]any{"_stats": map[string]any{"events": len(evs), "bad": st.BadCount, "examples": examples}})
	b.Write(j)
	b.WriteByte('\n')
	return b.Bytes()
}

// TestSharedCapture reads the capture's Sysmon rendition.
func TestSharedCapture(t *testing.T) {
	path := shared(t, "audit", "sysmon.log")
	evs, st := readFile(t, path)
	if len(evs) != 1292 || st.BadCount != 0 {
		t.Fatalf("%d events, %d bad (%v); want 1292, 0", len(evs), st.BadCount, st.Examples)
	}
	byPid := map[int64]*event.Event{}
	seen := map[string]bool{}
	for i, ev := range evs {
		if ev.Format != "sysmon" || ev.Line != i+1 || ev.Time.IsZero() {
			t.Fatalf("event %d: format %q line %d time %v", i, ev.Format, ev.Line, ev.Time)
		}
		cl, name := ev.Get("process.command_line").Str, ev.Get("process.name").Str
		switch {
		case cl == "iptables -F" && ev.Get("process.executable").Str == "/usr/sbin/xtables-nft-multi":
			seen["iptables"] = true
			if name != "iptables" {
				t.Errorf("line %d: iptables -F named %q", ev.Line, name)
			}
		case cl == "/usr/bin/python3 /usr/sbin/ufw disable":
			seen["ufw"] = true
			if name != "ufw" || ev.Get("process.executable").Str != "/usr/bin/python3.11" || ev.Get("process.script.path").Str != "/usr/sbin/ufw" {
				t.Errorf("line %d: ufw disable named %q, exe %v, script %v", ev.Line, name, ev.Get("process.executable"), ev.Get("process.script.path"))
			}
		}
		// A parent Sysmon wrote as "-" comes from the table when the
		// parent exec'd earlier in the file, and is absent otherwise.
		ppid := ev.Get("process.parent.pid").Int
		if ev.Get("sysmon.ParentImage").Str == "-" {
			parent, exe := byPid[ppid], ev.Get("process.parent.executable")
			switch {
			case parent != nil && !exe.Equal(parent.Get("process.executable")):
				t.Errorf("line %d: parent.executable %v, want %v from the table", ev.Line, exe, parent.Get("process.executable"))
			case parent == nil && exe.Exists():
				t.Errorf("line %d: parent.executable %v from nowhere", ev.Line, exe)
			}
		} else if got, want := ev.Get("process.parent.executable"), ev.Get("sysmon.ParentImage"); got.Str != want.Str {
			t.Errorf("line %d: parent.executable %v, Sysmon gave %v", ev.Line, got, want)
		}
		byPid[ev.Get("process.pid").Int] = ev
	}
	if !seen["iptables"] || !seen["ufw"] {
		t.Errorf("did not see iptables -F and ufw disable: %v", seen)
	}
}

// TestAgreesWithECS: exec i of the Sysmon rendition and exec i of the ECS
// rendition of the same capture normalise to the same process fields.
// Sysmon joins argv with spaces without quoting, so argv is compared only
// where no real argument has white space (or is empty).
func TestAgreesWithECS(t *testing.T) {
	sysmonPath := shared(t, "audit", "sysmon.log")
	sevs, _ := readFile(t, sysmonPath)
	f, err := os.Open(shared(t, "audit", "ecs.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var eevs []*event.Event
	err = ecs.NDJSON{}.Read(context.Background(), &source.Input{Name: "ecs.ndjson", R: f, Stats: &source.Stats{}},
		func(ev *event.Event) error { eevs = append(eevs, ev); return nil })
	if err != nil || len(eevs) != len(sevs) {
		t.Fatalf("ecs: %d events (%v), sysmon %d", len(eevs), err, len(sevs))
	}
	exceptions := 0
	for i := range sevs {
		s, e := sevs[i], eevs[i]
		for _, p := range []string{"process.pid", "process.executable", "process.command_line", "process.parent.pid", "process.working_directory", "user.name", "host.name"} {
			if !s.Get(p).Equal(e.Get(p)) {
				t.Errorf("exec %d: %s: sysmon %v, ecs %v", i, p, s.Get(p).Interface(), e.Get(p).Interface())
			}
		}
		if !s.Time.Equal(e.Time) {
			t.Errorf("exec %d: time: sysmon %v, ecs %v", i, s.Time, e.Time)
		}
		args := e.Get("process.args")
		if !splittable(args) {
			exceptions++
			continue
		}
		if !s.Get("process.args").Equal(args) {
			t.Errorf("exec %d: process.args: sysmon %v, ecs %v", i, s.Get("process.args").Interface(), args.Interface())
		}
	}
	t.Logf("argv not comparable for %d of %d execs (an argument with white space, or empty)", exceptions, len(sevs))
	if exceptions > len(sevs)/20 {
		t.Errorf("%d execs have arguments with white space: more than expected", exceptions)
	}
}

func splittable(args event.Value) bool {
	for _, a := range args.List {
		if a.Str == "" || strings.ContainsAny(a.Str, " \t\n\r\v\f") {
			return false
		}
	}
	return true
}

// TestEvents checks the ECS mapping of each kind of event in
// testdata/events.log.
func TestEvents(t *testing.T) {
	evs, st := readFile(t, filepath.Join("testdata", "events.log"))
	if st.BadCount != 0 || len(evs) != 16 {
		t.Fatalf("%d events, %d bad %v", len(evs), st.BadCount, st.Examples)
	}
	check := func(i int, want map[string]event.Value) {
		t.Helper()
		for p, w := range want {
			if g := evs[i].Get(p); !g.Equal(w) {
				t.Errorf("event %d (line %d): %s = %s %v, want %s %v", i, evs[i].Line, p, g.Kind, g.Interface(), w.Kind, w.Interface())
			}
		}
	}
	absent := event.Value{}
	check(0, map[string]event.Value{
		"event.category": event.Strs("process"), "event.type": event.Strs("start"), "event.action": event.Str("exec"),
		"event.code": event.Str("1"), "event.module": event.Str("sysmon"), "event.provider": event.Str("Linux-Sysmon"),
		"event.kind": event.Str("event"), "host.name": event.Str("vm"), "@timestamp": event.Str("2026-11-22T15:00:00.000Z"),
		"process.pid": event.IntV(2000), "process.parent.pid": event.IntV(1999), "process.parent.executable": event.Str("/usr/sbin/sshd"),
		"process.name": event.Str("bash"), "process.args": event.Strs("bash", "-i"), "process.args_count": event.IntV(2),
		"user.name": event.Str("root"), "user.audit.id": absent, "sysmon.LogonId": event.Str("4294967295"),
		"process.parent.entity_id": absent, "sysmon.ParentProcessGuid": event.Str("{00000000-0000-0000-0000-000000000000}"),
		"process.parent.user.name": absent, "sysmon.ParentUser": event.Str("-"), "rule.name": absent,
		"process.pe.original_file_name": absent, "process.hash.sha256": absent, "process.working_directory": event.Str("/root"),
		"sysmon.EventID": event.Str("1"), "sysmon.Computer": event.Str("vm"), "sysmon.Channel": event.Str("Linux-Sysmon/Operational"),
		"sysmon.Provider_Name": event.Str("Linux-Sysmon"),
		// the sensor's bookkeeping is not kept
		"sysmon.Execution_ProcessID": absent, "sysmon.TimeCreated_SystemTime": absent, "sysmon.Security_UserId": absent,
		"sysmon.EventRecordID": absent, "sysmon.Version": absent, "sysmon.Keywords": absent,
	})
	// Parent "-": from the table. Entities decoded; no rsyslog header, so #011 stays.
	check(1, map[string]event.Value{
		"process.command_line":        event.Str(`sh -c iptables -F && echo "ok" >/dev/null #011`),
		"process.args":                event.Strs("sh", "-c", "iptables", "-F", "&&", "echo", `"ok"`, ">/dev/null", "#011"),
		"process.parent.executable":   event.Str("/usr/bin/bash"),
		"process.parent.command_line": event.Str("bash -i"),
		"process.parent.name":         event.Str("bash"),
		"process.parent.user.name":    event.Str("root"),
		"sysmon.ParentImage":          event.Str("-"),
		"user.audit.id":               event.Str("0"),
		"@timestamp":                  event.Str("2026-11-22T15:00:01.250Z"),
	})
	if want := time.Date(2026, 11, 22, 15, 0, 1, 250e6, time.UTC); !evs[1].Time.Equal(want) {
		t.Errorf("Time = %v, want %v", evs[1].Time, want)
	}
	check(2, map[string]event.Value{
		"process.name":         event.Str("iptables"),
		"process.command_line": event.Str("iptables -A INPUT -m comment --comment a\tb\nc#123 -j ACCEPT"),
		"process.hash.sha1":    event.Str("da39a3ee5e6b4b0d3255bfef95601890afd80709"),
		"process.hash.md5":     event.Str("d41d8cd98f00b204e9800998ecf8427e"),
		"process.hash.sha256":  event.Str("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
		"process.pe.imphash":   event.Str("00000000000000000000000000000000"),
		"rule.name":            event.Str("technique_id=T1562.004"),
		"@timestamp":           event.Str("2026-11-22T15:00:02.5Z"),
	})
	check(3, map[string]event.Value{"process.name": event.Str("ufw"), "process.script.path": event.Str("/usr/sbin/ufw"),
		"process.executable": event.Str("/usr/bin/python3.11"), "sysmon.Provider_Name": event.Str("Linux-Sysmon"), "sysmon.Provider_Guid": absent})
	check(4, map[string]event.Value{
		"event.category": event.Strs("network"), "event.type": event.Strs("connection", "start"), "event.code": event.Str("3"),
		"network.transport": event.Str("tcp"), "network.direction": event.Str("egress"), "network.type": event.Str("ipv4"),
		"source.ip": event.Str("10.0.0.5"), "source.port": event.IntV(51544), "source.domain": absent,
		"destination.ip": event.Str("93.184.216.34"), "destination.port": event.IntV(443), "destination.domain": event.Str("example.org"),
		"sysmon.Initiated": event.Str("true"), "sysmon.DestinationPortName": event.Str("https"),
		"process.pid": event.IntV(2003), "process.name": event.Str("ufw"), // from the table: same pid, same executable
	})
	check(5, map[string]event.Value{"network.direction": event.Str("ingress"), "network.type": event.Str("ipv6"), "process.name": event.Str("sshd")})
	check(6, map[string]event.Value{
		"event.category": event.Strs("process"), "event.type": event.Strs("end"), "event.action": absent,
		"process.name": event.Str("iptables"), "process.args": event.Strs("iptables", "-A", "INPUT", "-m", "comment", "--comment", "a", "b", "c#123", "-j", "ACCEPT"),
	})
	check(7, map[string]event.Value{
		"event.category": event.Strs("file"), "event.type": event.Strs("creation"),
		"file.path": event.Str("/etc/iptables/rules.v4"), "file.name": event.Str("rules.v4"), "file.directory": event.Str("/etc/iptables"),
		"file.extension": event.Str("v4"), "file.created": event.Str("2026-11-22T15:00:06.000Z"),
	})
	check(8, map[string]event.Value{
		"event.category": event.Strs("file"), "event.type": event.Strs("deletion"), "file.path": event.Str("/etc/ufw/user.rules"),
		"file.hash.sha256": event.Str("ab12cd"), "file.hash.md5": event.Str("ef34"), "process.hash.sha256": absent,
		"file.extension": event.Str("rules"),
	})
	check(9, map[string]event.Value{"event.category": event.Strs("configuration"), "event.type": event.Strs("change"), "event.code": event.Str("4"), "sysmon.State": event.Str("Stopped")})
	check(10, map[string]event.Value{"event.category": event.Strs("configuration"), "sysmon.Configuration": event.Str("/opt/sysmon/config.xml")})
	check(11, map[string]event.Value{"event.category": absent, "event.code": event.Str("9"), "sysmon.Device": event.Str("/dev/sda"), "process.executable": event.Str("/usr/bin/dd")})
	check(12, map[string]event.Value{"process.name": event.Str("nft"), "process.command_line": event.Str("nft flush ruleset"), "log.file.line": event.IntV(13)})
	check(13, map[string]event.Value{"process.command_line": event.Str("ip6tables -P INPUT ACCEPT"), "process.name": event.Str("ip6tables"), "log.file.line": event.IntV(14)})
	check(14, map[string]event.Value{"log.file.line": event.IntV(14), "sysmon.User": event.Str(""), "user.name": absent, "sysmon.Extra_a": absent})
	if evs[14].Get("process.executable").Str != "/usr/bin/true" {
		t.Errorf("second event on line 14: %v", evs[14].Get("process.executable"))
	}
}

// TestLastEvent: SystemTime is the time when there is no UtcTime.
func TestSystemTime(t *testing.T) {
	evs, _ := readFile(t, filepath.Join("testdata", "events.log"))
	ev := evs[len(evs)-1]
	if want := time.Date(2026, 11, 22, 15, 0, 13, 123456789, time.UTC); !ev.Time.Equal(want) || ev.Get("@timestamp").Str != "2026-11-22T15:00:13.123456789Z" {
		t.Errorf("Time %v @timestamp %v", ev.Time, ev.Get("@timestamp"))
	}
	if ev.Get("host.name").Str != "other-host" {
		t.Errorf("host.name %v", ev.Get("host.name"))
	}
}

// TestPrefixes: the same event behind every header reads the same.
func TestPrefixes(t *testing.T) {
	want, _ := readString(t, sample+"\n")
	for _, prefix := range []string{
		"Nov 22 14:49:20 vm sysmon: ",
		"Nov  2 14:49:20 vm sysmon: ",
		"<14>1 2026-11-22T14:49:20.420Z vm sysmon - - - ",
		"<14>Nov 22 14:49:20 vm sysmon: ",
		"2026-11-22T14:49:20.420000+00:00 vm sysmon[731]: ",
		"Nov 22 14:49:20 vm sysmon[731]: ",
		"  ",
	} {
		evs, st := readString(t, prefix+sample+"\r\n")
		if len(evs) != 1 || st.BadCount != 0 {
			t.Errorf("%q: %d events, %d bad %v", prefix, len(evs), st.BadCount, st.Examples)
			continue
		}
		for _, p := range union(evs[0].Paths(), want[0].Paths()) {
			if !evs[0].Get(p).Equal(want[0].Get(p)) {
				t.Errorf("%q: %s = %v, want %v", prefix, p, evs[0].Get(p).Interface(), want[0].Get(p).Interface())
			}
		}
	}
}

func union(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range append(a, b...) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func TestEntities(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		octal    bool
		err      string
	}{
		{in: "plain", want: "plain"},
		{in: "a &amp;&amp; b &lt;x&gt; &quot;q&quot; &apos;s&apos;", want: `a && b <x> "q" 's'`},
		{in: "&#9;&#10;&#x41;&#x1F600;&#233;", want: "\t\nA😀é"},
		{in: "&amp;lt;", want: "&lt;"},
		{in: "a#011b#012c#015#177#040#123#8", want: "a\tb\nc\r\x7f#040#123#8", octal: true},
		{in: "a#011b", want: "a#011b"},
		{in: "caf\xe9", want: "caf\uFFFD"},
		{in: "a &nbsp; b", err: "unknown entity &nbsp;, expected &amp; &lt; &gt; &quot; &apos; or &#N;"},
		{in: "a & b", err: "bare '&' or unterminated entity, expected &amp; &lt; &gt; &quot; &apos; or &#N;"},
		{in: "a &amp", err: "bare '&' or unterminated entity, expected &amp; &lt; &gt; &quot; &apos; or &#N;"},
		{in: "&#0;", err: "unknown entity &#0;, expected &amp; &lt; &gt; &quot; &apos; or &#N;"},
		{in: "&#xD800;", err: "unknown entity &#xD800;, expected &amp; &lt; &gt; &quot; &apos; or &#N;"},
		{in: "&#x110000;", err: "unknown entity &#x110000;, expected &amp; &lt; &gt; &quot; &apos; or &#N;"},
		{in: "&#12a;", err: "unknown entity &#12a;, expected &amp; &lt; &gt; &quot; &apos; or &#N;"},
	} {
		p := parser{octal: tc.octal}
		got, ok := p.decode(nil, []byte(tc.in), 0)
		switch {
		case tc.err != "" && (ok || p.err.msg != tc.err):
			t.Errorf("decode(%q): ok=%v err=%v, want error %q", tc.in, ok, p.err, tc.err)
		case tc.err == "" && (!ok || string(got) != tc.want):
			t.Errorf("decode(%q) = %q, %v; want %q", tc.in, got, p.err, tc.want)
		}
	}
}

// TestBadInput: each broken line is reported with its position and what
// was expected; the lines around it are read.
func TestBadInput(t *testing.T) {
	pre := "Nov 22 15:01:00 vm sysmon: " // 27 bytes: the event starts at column 28
	for _, tc := range []struct {
		name   string
		line   string
		events int // from the bad line itself
		err    string
	}{
		{"truncated", pre + sample[:700], 0, `in:2:728: line ends inside <Data> (truncated event?), expected </Data>`},
		{"unclosed element", pre + strings.Replace(sample, `</Data><Data Name="ProcessId">`, `<Data Name="ProcessId">`, 1), 0,
			`in:2:1459: </EventData> closes <Data>, expected </Data>`},
		{"mismatched end tag", pre + strings.Replace(sample, "</EventData>", "</Eventdata>", 1), 0,
			`in:2:1466: </Eventdata> closes <EventData>, expected </EventData>`},
		{"unknown entity", pre + strings.Replace(sample, ">iptables -F<", ">a &nbsp; b<", 1), 0,
			`in:2:933: unknown entity &nbsp;, expected &amp; &lt; &gt; &quot; &apos; or &#N;`},
		{"bare ampersand", pre + strings.Replace(sample, ">iptables -F<", ">a & b<", 1), 0,
			`in:2:933: bare '&' or unterminated entity, expected &amp; &lt; &gt; &quot; &apos; or &#N;`},
		{"no event", "Nov 22 15:01:05 vm sysmon: Sysmon v1.3.5 started", 0,
			`in:2:1: no Sysmon <Event> in the line, expected a Sysmon for Linux XML event (optionally after a syslog header)`},
		{"binary", "\x00\x01\x89PNG <Event junk", 0, `in:2:19: unexpected end of line after attribute junk, expected '='`},
		{"binary only", "\x00\x01\x89PNG\x1a", 0, `in:2:1: no Sysmon <Event> in the line, expected a Sysmon for Linux XML event (optionally after a syslog header)`},
		{"unquoted attribute", pre + strings.Replace(sample, `Name="Image"`, `Name=Image`, 1), 0,
			`in:2:702: unexpected 'I', expected a quoted value for attribute Name`},
		{"unclosed attribute", pre + `<Event><System><Provider Name="Linux-Sysmon/></System></Event>`, 0,
			`in:2:58: attribute Name is not closed, expected "`},
		{"less-than in attribute", pre + `<Event><System><Provider Name="a<b"/></System></Event>`, 0,
			`in:2:60: unexpected '<' in the value of attribute Name, expected "`},
		{"no EventID", pre + strings.Replace(sample, "<EventID>1</EventID>", "", 1), 0,
			`in:2: Sysmon event without <EventID>, expected <System><EventID>N</EventID>…`},
		{"trailing junk", pre + sample + " junk", 1, `in:2:1487: unexpected text after </Event>, expected the end of the line`},
		{"truncated in a tag", pre + "<Event>" + strings.TrimPrefix(sample, "<Event>")[:10], 0,
			`in:2:45: line ends inside tag <P, expected '>'`},
		{"doctype", pre + "<Event><!DOCTYPE x></Event>", 0, `in:2:35: unexpected <!, expected an element (DTDs are not accepted)`},
		{"unclosed comment", pre + "<Event><!-- x </Event>", 0, `in:2:35: unclosed comment, expected -->`},
		{"end tag without name", pre + "<Event></ ></Event>", 0, `in:2:37: unexpected space, expected an element name after '</'`},
		{"deep nesting", pre + "<Event>" + strings.Repeat("<a>", 40) + "</Event>", 0, `in:2:128: elements nested deeper than 32`},
		{"surrogate reference", pre + strings.Replace(sample, ">iptables -F<", ">&#xD800;<", 1), 0,
			`in:2:931: unknown entity &#xD800;, expected &amp; &lt; &gt; &quot; &apos; or &#N;`},
		{"journald json broken", `{"MESSAGE":"<Event>`, 0, `in:2:1: invalid journald JSON record: cannot parse JSON: cannot parse object: cannot parse object value: cannot parse string: missing closing '"'; unparsed tail: ""`},
		{"journald message truncated", `{"__CURSOR":"x","MESSAGE":"<Event><System>"}`, 0, `in:2: line ends inside <System> (truncated event?), expected </System> (in MESSAGE) at byte 16`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, st := readString(t, pre+sample+"\n"+tc.line+"\n"+sample+"\n")
			if len(evs) != 2+tc.events || st.BadCount != 1 || st.Examples[0].Error() != tc.err {
				t.Errorf("%d events, %d bad %v\nwant %d events, 1 bad: %s", len(evs), st.BadCount, st.Examples, 2+tc.events, tc.err)
			}
			for _, ev := range evs {
				if _, err := json.Marshal(ev); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func TestInvalidUTF8(t *testing.T) {
	evs, st := readString(t, strings.Replace(sample, ">iptables -F<", ">caf\xe9 \xff<", 1))
	if len(evs) != 1 || st.BadCount != 0 || evs[0].Get("process.command_line").Str != "caf\uFFFD \uFFFD" {
		t.Errorf("%d events, %d bad, command line %q", len(evs), st.BadCount, evs[0].Get("process.command_line").Str)
	}
}

func TestLongLine(t *testing.T) {
	long := strings.Replace(sample, ">iptables -F<", ">"+strings.Repeat("a", 10<<20)+"<", 1)
	evs, st := readString(t, sample+"\n"+long+"\n"+sample+"\n")
	if len(evs) != 2 || st.BadCount != 1 || !strings.Contains(st.Examples[0].Error(), "in:2: line longer than") {
		t.Errorf("%d events, %d bad %v", len(evs), st.BadCount, st.Examples)
	}
}

func TestEmitError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := XML{}.Read(context.Background(), &source.Input{Name: "in", R: strings.NewReader(sample + " " + sample + "\n" + sample), Stats: &source.Stats{}},
		func(*event.Event) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("err %v after %d events", err, n)
	}
}

// TestReaderIntegration: the CLI's path, with every format sniffing.
func TestReaderIntegration(t *testing.T) {
	rd := &source.Reader{Formats: []source.Format{XML{}, ecs.NDJSON{}}}
	formats := map[string]int{}
	res, err := rd.Read(context.Background(), []string{filepath.Join("testdata", "events.log"), filepath.Join("..", "ecs", "testdata", "pretty_hit.json")},
		func(ev *event.Event) error { formats[ev.Format]++; return nil })
	if err != nil || res.Bad() != 0 || len(res.Skipped) != 0 || formats["sysmon"] != 16 || formats["ecs"] != 1 {
		t.Errorf("err %v bad %d skipped %v formats %v", err, res.Bad(), res.Skipped, formats)
	}
}
