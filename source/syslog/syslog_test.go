package syslog

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
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// ref is the reference time of the test inputs: the day after they were
// written.
var ref = time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)

// text is the Text format as the tests use it: a fixed reference, UTC.
var text = Text{Reference: ref, Location: time.UTC}

func read(t testing.TB, f source.Format, name string, r io.Reader) ([]*event.Event, *source.Stats) {
	t.Helper()
	st := &source.Stats{Name: name, Format: f.Name()}
	var evs []*event.Event
	err := f.Read(context.Background(), &source.Input{Name: name, R: r, Stats: st}, func(ev *event.Event) error {
		evs = append(evs, ev)
		return nil
	})
	if err != nil {
		t.Fatalf("%s: Read: %v", name, err)
	}
	return evs, st
}

func readString(t testing.TB, f source.Format, s string) ([]*event.Event, *source.Stats) {
	t.Helper()
	return read(t, f, "in", strings.NewReader(s))
}

func readFile(t testing.TB, f source.Format, path string) ([]*event.Event, *source.Stats) {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	return read(t, f, filepath.ToSlash(path), fh)
}

// one reads a single line that must give one event and no bad record.
func one(t *testing.T, f source.Format, line string) *event.Event {
	t.Helper()
	evs, st := readString(t, f, line+"\n")
	if len(evs) != 1 || st.BadCount != 0 {
		t.Fatalf("%q: %d events, %d bad %v", line, len(evs), st.BadCount, st.Examples)
	}
	return evs[0]
}

func check(t *testing.T, ev *event.Event, want map[string]event.Value) {
	t.Helper()
	for p, w := range want {
		if g := ev.Get(p); !g.Equal(w) {
			t.Errorf("line %d: %s = %s %#v, want %s %#v", ev.Line, p, g.Kind, g.Interface(), w.Kind, w.Interface())
		}
	}
}

var absent = event.Value{}

func TestParseText(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	for _, tc := range []struct {
		name string
		f    Text
		line string
		time string // ev.Time in RFC 3339 (UTC)
		want map[string]event.Value
	}{
		{"traditional", text, "Nov 22 14:49:19 fw1 sshd[2211]: Accepted publickey for admin", "2026-11-22T14:49:19Z", map[string]event.Value{
			"@timestamp": event.Str("2026-11-22T14:49:19.000Z"), "event.timezone": event.Str("+00:00"),
			"host.name": event.Str("fw1"), "log.syslog.hostname": event.Str("fw1"), "process.name": event.Str("sshd"),
			"log.syslog.appname": event.Str("sshd"), "process.pid": event.IntV(2211), "log.syslog.procid": event.Str("2211"),
			"message": event.Str("Accepted publickey for admin"), "event.module": event.Str("syslog"),
			"event.dataset": event.Str("syslog"), "event.kind": event.Str("event"), "log.syslog.priority": absent,
			"log.file.path": event.Str("in"), "log.file.line": event.IntV(1),
		}},
		{"padded day, no pid", text, "Nov  2 04:02:01 fw1 sudo: pam_unix(sudo:session): session closed", "2026-11-02T04:02:01Z", map[string]event.Value{
			"process.name": event.Str("sudo"), "process.pid": absent, "log.syslog.procid": absent,
			"message": event.Str("pam_unix(sudo:session): session closed"),
		}},
		{"unpadded day", text, "Nov 2 04:02:01 fw1 cron[1]: x", "2026-11-02T04:02:01Z", nil},
		{"month after the reference's: last year", text, "Dec 31 23:59:59 fw1 cron[1]: x", "2025-12-31T23:59:59Z", nil},
		{"january in a december file", Text{Reference: time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC), Location: time.UTC},
			"Dec 31 23:59:59 fw1 cron[1]: x", "2026-12-31T23:59:59Z", nil},
		{"same month, later day: same year", text, "Nov 30 10:00:00 fw1 cron[1]: x", "2026-11-30T10:00:00Z", nil},
		{"feb 29 in a leap year", Text{Reference: time.Date(2028, 3, 1, 0, 0, 0, 0, time.UTC), Location: time.UTC},
			"Feb 29 12:00:00 fw1 cron[1]: x", "2028-02-29T12:00:00Z", nil},
		{"year in the stamp", text, "Nov 22 2024 14:49:19 fw1 app: x", "2024-11-22T14:49:19Z", nil},
		{"precise short", text, "Nov 22 14:49:19.123456 fw1 app: x", "2026-11-22T14:49:19.123456Z", map[string]event.Value{
			"@timestamp": event.Str("2026-11-22T14:49:19.123456Z"),
		}},
		{"local zone", Text{Reference: ref, Location: cet}, "Nov 22 14:49:19 fw1 app: x", "2026-11-22T13:49:19Z", map[string]event.Value{
			"@timestamp": event.Str("2026-11-22T13:49:19.000Z"), "event.timezone": event.Str("+01:00"),
		}},
		{"rsyslog high precision", Text{Reference: ref, Location: cet}, "2026-11-22T14:49:19.123456+00:00 fw1 sshd[7]: x", "2026-11-22T14:49:19.123456Z", map[string]event.Value{
			"@timestamp": event.Str("2026-11-22T14:49:19.123456Z"), "event.timezone": absent, "process.pid": event.IntV(7),
		}},
		{"offset", text, "2026-11-22T09:49:19-05:00 fw1 app: x", "2026-11-22T14:49:19Z", nil},
		{"short-iso +0000", text, "2026-11-22T14:49:19+0000 fw1 app[1]: x", "2026-11-22T14:49:19Z", nil},
		{"nanoseconds", text, "2026-11-22T14:49:19.123456789Z fw1 app: x", "2026-11-22T14:49:19.123456789Z", map[string]event.Value{
			"@timestamp": event.Str("2026-11-22T14:49:19.123456789Z"),
		}},
		{"millis", text, "2026-11-22T14:49:19.5Z fw1 app: x", "2026-11-22T14:49:19.5Z", map[string]event.Value{
			"@timestamp": event.Str("2026-11-22T14:49:19.500Z"),
		}},
		{"zone-less iso is local", Text{Reference: ref, Location: cet}, "2026-11-22T14:49:19 fw1 app: x", "2026-11-22T13:49:19Z", map[string]event.Value{
			"event.timezone": event.Str("+01:00"),
		}},
		{"rfc 3164 with pri", text, "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8", "2026-10-11T22:14:15Z", map[string]event.Value{
			"log.syslog.priority": event.IntV(34), "log.syslog.facility.code": event.IntV(4), "log.syslog.facility.name": event.Str("auth"),
			"log.syslog.severity.code": event.IntV(2), "log.syslog.severity.name": event.Str("crit"), "host.name": event.Str("mymachine"),
			"process.name": event.Str("su"),
		}},
		{"no host name", text, "<13>Nov 22 14:49:19 sshd[9]: x y", "2026-11-22T14:49:19Z", map[string]event.Value{
			"host.name": absent, "process.name": event.Str("sshd"), "process.pid": event.IntV(9), "message": event.Str("x y"),
		}},
		{"tag path", text, "Nov 22 14:49:19 fw1 /usr/sbin/cron[710]: x", "2026-11-22T14:49:19Z", map[string]event.Value{
			"process.name": event.Str("cron"), "log.syslog.appname": event.Str("/usr/sbin/cron"),
		}},
		{"non-numeric pid", text, "Nov 22 14:49:19 fw1 app[main]: x", "2026-11-22T14:49:19Z", map[string]event.Value{
			"process.pid": absent, "log.syslog.procid": event.Str("main"),
		}},
		{"empty pid", text, "Nov 22 14:49:19 fw1 app[]: x", "2026-11-22T14:49:19Z", map[string]event.Value{
			"process.pid": absent, "log.syslog.procid": absent,
		}},
		{"pid without colon", text, "Nov 22 14:49:19 fw1 app[5] x", "2026-11-22T14:49:19Z", map[string]event.Value{
			"process.pid": event.IntV(5), "message": event.Str("x"),
		}},
		{"empty message", text, "Nov 22 14:49:19 fw1 app:", "2026-11-22T14:49:19Z", map[string]event.Value{"message": event.Str("")}},
		{"message spacing kept", text, "Nov 22 14:49:19 fw1 sudo:    admin : TTY=pts/0", "2026-11-22T14:49:19Z", map[string]event.Value{
			"message": event.Str("   admin : TTY=pts/0"),
		}},
		{"rsyslog control escapes", text, "Nov 22 14:49:19 fw1 app: a#011b#012c #123 #", "2026-11-22T14:49:19Z", map[string]event.Value{
			"message": event.Str("a\tb\nc #123 #"),
		}},
		{"rfc 5424", text, "<165>1 2026-11-22T14:49:19.003Z mymachine.example.com evntslog 8710 ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\"] \xEF\xBB\xBFAn application event",
			"2026-11-22T14:49:19.003Z", map[string]event.Value{
				"log.syslog.priority": event.IntV(165), "log.syslog.facility.name": event.Str("local4"), "log.syslog.severity.name": event.Str("notice"),
				"log.syslog.version": event.IntV(1), "host.name": event.Str("mymachine.example.com"), "process.name": event.Str("evntslog"),
				"log.syslog.appname": event.Str("evntslog"), "process.pid": event.IntV(8710), "log.syslog.msgid": event.Str("ID47"),
				"log.syslog.structured_data.exampleSDID@32473.iut":         event.Str("3"),
				"log.syslog.structured_data.exampleSDID@32473.eventSource": event.Str("Application"),
				"message": event.Str("An application event"), "@timestamp": event.Str("2026-11-22T14:49:19.003Z"), "event.timezone": absent,
			}},
		{"rfc 5424 without pri, nil values", text, "1 2026-11-22T14:49:19Z - - - - - hello", "2026-11-22T14:49:19Z", map[string]event.Value{
			"log.syslog.priority": absent, "host.name": absent, "process.name": absent, "process.pid": absent, "log.syslog.msgid": absent,
			"message": event.Str("hello"), "log.syslog.version": event.IntV(1),
		}},
		{"rfc 5424 no message", text, "<14>1 2026-11-22T14:49:19Z fw1 app - - -", "2026-11-22T14:49:19Z", map[string]event.Value{
			"message": event.Str(""), "log.syslog.severity.name": event.Str("info"), "log.syslog.facility.name": event.Str("user"),
		}},
		{"rfc 5424 sd escapes and repeats", text, `<13>1 2026-11-22T14:49:19Z fw1 app - - [m@1 p="C:\\x" q="a\"b" b="x\]y" n="\n" ip="1" ip="2"][bare@1] m`,
			"2026-11-22T14:49:19Z", map[string]event.Value{
				"log.syslog.structured_data.m@1.p":  event.Str(`C:\x`),
				"log.syslog.structured_data.m@1.q":  event.Str(`a"b`),
				"log.syslog.structured_data.m@1.b":  event.Str(`x]y`),
				"log.syslog.structured_data.m@1.n":  event.Str(`\n`),
				"log.syslog.structured_data.m@1.ip": event.Strs("1", "2"),
				"message":                           event.Str("m"),
			}},
		{"priority 0", text, "<0>Nov 22 14:49:19 fw1 kernel: panic", "2026-11-22T14:49:19Z", map[string]event.Value{
			"log.syslog.priority": event.IntV(0), "log.syslog.facility.name": event.Str("kern"), "log.syslog.severity.name": event.Str("emerg"),
		}},
		{"priority 191", text, "<191>Nov 22 14:49:19 fw1 app: x", "2026-11-22T14:49:19Z", map[string]event.Value{
			"log.syslog.facility.name": event.Str("local7"), "log.syslog.severity.name": event.Str("debug"),
		}},
		{"leap second", text, "Nov 22 23:59:60 fw1 app: x", "2026-11-23T00:00:00Z", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := one(t, tc.f, tc.line)
			if got := ev.Time.Format(time.RFC3339Nano); got != tc.time {
				t.Errorf("time %s, want %s", got, tc.time)
			}
			if ev.Format != "syslog" || ev.Line != 1 || ev.File != "in" {
				t.Errorf("format %q line %d file %q", ev.Format, ev.Line, ev.File)
			}
			check(t, ev, tc.want)
		})
	}
}

// TestYearFromFile: with no Reference, the year comes from the file's
// modification time; standard input uses the current time.
func TestYearFromFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "auth.log.1")
	if err := os.WriteFile(p, []byte("Dec 31 23:59:59 fw1 cron[1]: a\nJan  1 00:00:01 fw1 cron[1]: b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mtime := time.Date(2031, 1, 1, 6, 25, 0, 0, time.UTC)
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	evs, st := readFile(t, Text{Location: time.UTC}, p)
	if len(evs) != 2 || st.BadCount != 0 {
		t.Fatalf("%d events, %d bad %v", len(evs), st.BadCount, st.Examples)
	}
	if y0, y1 := evs[0].Time.Year(), evs[1].Time.Year(); y0 != 2030 || y1 != 2031 {
		t.Errorf("years %d, %d; want 2030, 2031", y0, y1)
	}

	now := time.Now().UTC()
	evs, _ = read(t, Text{Location: time.UTC}, "-", strings.NewReader(now.Format(time.Stamp)+" fw1 app: x\n"))
	if len(evs) != 1 || evs[0].Time.Year() != now.Year() {
		t.Errorf("stdin: %v, want the year %d", evs, now.Year())
	}
}

// TestGolden compares the events read from each testdata input with
// testdata/golden/<file>.golden.ndjson; refresh with -update.
func TestGolden(t *testing.T) {
	inputs := map[string]source.Format{
		"auth.log":         text,
		"rollover.log":     Text{Reference: time.Date(2027, 1, 2, 6, 25, 0, 0, time.UTC), Location: time.UTC},
		"syslog":           text,
		"kern.log":         text,
		"rfc5424.log":      text,
		"bad.log":          text,
		"journal.json":     Journal{},
		"bad_journal.json": Journal{},
	}
	for name, f := range inputs {
		t.Run(name, func(t *testing.T) {
			in := filepath.Join("testdata", name)
			evs, st := readFile(t, f, in)
			got := goldenBytes(t, evs, st)
			gp := filepath.Join("testdata", "golden", name+".golden.ndjson")
			if *update {
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
	// Every input has a golden file and vice versa.
	files, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.golden.ndjson"))
	if len(files) != len(inputs) && !*update {
		t.Errorf("%d golden files for %d inputs", len(files), len(inputs))
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

// TestTestdata checks what the golden files hold that matters most.
func TestTestdata(t *testing.T) {
	evs, st := readFile(t, text, filepath.Join("testdata", "auth.log"))
	if len(evs) != 19 || st.BadCount != 0 {
		t.Fatalf("auth.log: %d events, %d bad %v", len(evs), st.BadCount, st.Examples)
	}
	for i, ev := range evs {
		if ev.Line != i+1 || ev.Get("event.module").Str != "syslog" || !ev.Get("process.name").Exists() || ev.Time.IsZero() {
			t.Errorf("auth.log event %d: line %d module %v name %v", i, ev.Line, ev.Get("event.module"), ev.Get("process.name"))
		}
	}
	check(t, evs[8], map[string]event.Value{
		"event.category": event.Strs("process"), "event.type": event.Strs("info"), "event.action": event.Str("sudo-command"),
		"event.outcome": event.Str("success"), "process.command_line": event.Str("/usr/sbin/iptables -F"),
		"user.name": event.Str("admin"), "user.effective.name": event.Str("root"), "process.working_directory": event.Str("/home/admin"),
		"process.args": absent, "process.executable": absent,
	})
	check(t, evs[12], map[string]event.Value{
		"event.outcome": event.Str("failure"), "event.reason": event.Str("user NOT in sudoers"), "user.name": event.Str("guest"),
		"process.command_line": event.Str("/usr/sbin/nft flush ruleset"),
	})
	check(t, evs[9], map[string]event.Value{"event.category": absent, "event.action": absent, "user.name": absent})

	evs, st = readFile(t, text, filepath.Join("testdata", "kern.log"))
	if len(evs) != 12 || st.BadCount != 0 {
		t.Fatalf("kern.log: %d events, %d bad %v", len(evs), st.BadCount, st.Examples)
	}
	check(t, evs[0], map[string]event.Value{
		"event.category": event.Strs("network"), "event.type": event.Strs("denied"), "event.action": event.Str("ufw-block"),
		"source.ip": event.Str("203.0.113.77"), "destination.ip": event.Str("192.0.2.10"), "source.port": event.IntV(40112),
		"destination.port": event.IntV(23), "network.transport": event.Str("tcp"), "network.type": event.Str("ipv4"),
		"observer.ingress.interface.name": event.Str("eth0"), "observer.egress.interface.name": absent, "process.name": event.Str("kernel"),
	})
	check(t, evs[1], map[string]event.Value{"event.action": event.Str("ufw-allow"), "event.type": event.Strs("allowed"),
		"network.transport": event.Str("udp"), "observer.egress.interface.name": event.Str("eth0"), "observer.ingress.interface.name": absent})
	check(t, evs[2], map[string]event.Value{"event.action": event.Str("ufw-audit"), "source.ip": event.Str("::1"), "network.type": event.Str("ipv6")})
	check(t, evs[3], map[string]event.Value{"event.action": event.Str("ufw-limit-block")})
	check(t, evs[4], map[string]event.Value{"network.transport": event.Str("icmp"), "source.port": absent})
	check(t, evs[5], map[string]event.Value{"event.action": event.Str("netfilter-log"), "event.type": event.Strs("denied"), "destination.port": event.IntV(3306)})
	check(t, evs[6], map[string]event.Value{"event.category": absent})
	check(t, evs[8], map[string]event.Value{"source.ip": event.Str("203.0.113.77"), "destination.port": absent, "network.transport": event.Str("icmp")})
	check(t, evs[9], map[string]event.Value{"network.iana_number": event.Str("2"), "network.transport": absent})
	check(t, evs[11], map[string]event.Value{"event.category": absent, "source.ip": absent})

	evs, _ = readFile(t, text, filepath.Join("testdata", "syslog"))
	check(t, evs[2], map[string]event.Value{"event.category": event.Strs("configuration"), "process.name": event.Str("firewalld")})
	check(t, evs[9], map[string]event.Value{"process.name": event.Str("sysmon")})
}

func TestJournal(t *testing.T) {
	evs, st := readFile(t, Journal{}, filepath.Join("testdata", "journal.json"))
	if len(evs) != 8 || st.BadCount != 0 {
		t.Fatalf("%d events, %d bad %v", len(evs), st.BadCount, st.Examples)
	}
	check(t, evs[0], map[string]event.Value{
		"@timestamp": event.Str("2026-11-22T14:49:19.123456Z"), "event.module": event.Str("syslog"), "event.dataset": event.Str("journald"),
		"event.kind": event.Str("event"), "host.name": event.Str("fw1"), "log.syslog.hostname": event.Str("fw1"),
		"process.name": event.Str("sshd"), "log.syslog.appname": event.Str("sshd"), "process.pid": event.IntV(2211),
		"log.syslog.procid": event.Str("2211"), "process.executable": event.Str("/usr/sbin/sshd"),
		"process.command_line": event.Str("sshd: admin [priv]"), "user.id": event.Str("0"), "group.id": event.Str("0"),
		"systemd.unit": event.Str("ssh.service"), "host.id": event.Str("0123456789abcdef0123456789abcdef"),
		"log.syslog.priority": event.IntV(38), "log.syslog.facility.name": event.Str("auth"), "log.syslog.severity.name": event.Str("info"),
		"message":                        event.Str("Accepted publickey for admin from 198.51.100.23 port 51514 ssh2: ED25519 SHA256:3mFzPq6k0c1VYQk2r1Zk3o0aH3sZ9cXo8b0cQm7cJ3E"),
		"journald.MESSAGE":               event.Str("Accepted publickey for admin from 198.51.100.23 port 51514 ssh2: ED25519 SHA256:3mFzPq6k0c1VYQk2r1Zk3o0aH3sZ9cXo8b0cQm7cJ3E"),
		"journald._SYSTEMD_SLICE":        event.Str("system.slice"),
		"journald.__MONOTONIC_TIMESTAMP": event.Str("8006657000"),
		"log.file.line":                  event.IntV(1),
	})
	if evs[0].Format != "journald" || !evs[0].Time.Equal(time.UnixMicro(1795358959123456)) {
		t.Errorf("format %q time %v", evs[0].Format, evs[0].Time)
	}
	// sudo: the journal's own _CMDLINE is the source's; the hint never replaces it.
	check(t, evs[1], map[string]event.Value{
		"process.command_line": event.Str("sudo iptables -F"), "event.action": event.Str("sudo-command"),
		"user.name": event.Str("admin"), "user.effective.name": event.Str("root"), "user.id": event.Str("1000"),
		"user.audit.id": event.Str("1000"), "log.syslog.facility.name": event.Str("authpriv"), "log.syslog.severity.name": event.Str("notice"),
	})
	check(t, evs[2], map[string]event.Value{
		"process.name": event.Str("kernel"), "process.pid": absent, "event.action": event.Str("ufw-block"),
		"destination.port": event.IntV(23), "log.syslog.priority": event.IntV(4),
	})
	check(t, evs[3], map[string]event.Value{"event.category": event.Strs("configuration"), "process.executable": event.Str("/usr/bin/python3.11")})
	check(t, evs[4], map[string]event.Value{"message": event.Str("\x1b[1mdone\x1b[0m caf\uFFFD\n")})
	check(t, evs[5], map[string]event.Value{
		"journald.CODE_LINE": event.Strs("41", "97"), "journald.TAGS": event.Strs("firewall", "x\uFFFDy"),
		"journald._CMDLINE": event.NullV(), "process.command_line": absent, "log.syslog.priority": absent,
		"log.syslog.severity.code": event.IntV(3), "log.syslog.facility.code": absent,
	})
	check(t, evs[6], map[string]event.Value{"user.audit.id": absent, "journald._AUDIT_LOGINUID": event.Str("4294967295")})
	check(t, evs[7], map[string]event.Value{"process.name": event.Str("fwctl"), "log.syslog.appname": absent})
}

func TestBadText(t *testing.T) {
	const good = "Nov 22 14:49:19 fw1 sshd[1]: good"
	for _, tc := range []struct {
		name, line, err string
	}{
		{"garbage", "this is not syslog", `in:2:1: not a syslog line: "this" is not a month, expected a time stamp such as Nov 22 14:49:19`},
		{"binary", "\x00\x01\x02\xff", `in:2:1: not a syslog line: "\x00\x01\x02\xff", expected a time stamp such as Nov 22 14:49:19 or 2026-11-22T14:49:19+00:00`},
		{"no tag", "Nov 22 14:49:20 fw1 no-colon-tag message", `in:2:21: no tag: "no-colon-tag message", expected a tag such as prog[pid]: after the host name`},
		{"no tag at the end", "Nov 22 14:49:20 fw1", `in:2:20: line ends after the host name, expected a tag such as prog[pid]:`},
		{"bad date", "Feb 30 10:00:00 fw1 app: x", `in:2:1: no such date: "Feb 30 10:00:00" in 2026, expected a day that exists in the month`},
		{"feb 29 not leap", "Feb 29 10:00:00 fw1 app: x", `in:2:1: no such date: "Feb 29 10:00:00" in 2026, expected a day that exists in the month`},
		{"bad hour", "Nov 22 25:00:00 fw1 app: x", `in:2:8: bad time "25:00:00", expected hh:mm:ss`},
		{"bad day", "Nov 32 10:00:00 fw1 app: x", `in:2:5: bad day "32", expected a day of the month (1-31)`},
		{"bad priority", "<999>Nov 22 14:49:21 fw1 app: x", `in:2:2: priority <999> out of range, expected <0> to <191>`},
		{"priority out of range", "<192>Nov 22 14:49:21 fw1 app: x", `in:2:2: priority <192> out of range, expected <0> to <191>`},
		{"unterminated priority", "<13", `in:2:4: bad priority "<13", expected <N> with N from 0 to 191`},
		{"5424 nil time", "<13>1 - fw1 app - - - x", `in:2:7: RFC 5424 time stamp is the nil value -, expected a time such as 2026-11-22T14:49:19.003Z (an event needs a time)`},
		{"5424 broken sd", `<13>1 2026-11-22T14:50:08Z fw1 app - - [broken sd`, `in:2:50: unexpected end of line after PARAM-NAME "sd", expected ="`},
		{"5424 unterminated value", `<13>1 2026-11-22T14:50:08Z fw1 app - - [a b="c] x`, `in:2:45: unterminated PARAM-VALUE of "b", expected a closing '"'`},
		{"5424 bad sd start", `<13>1 2026-11-22T14:50:08Z fw1 app - - x msg`, `in:2:40: unexpected "x", expected STRUCTURED-DATA: - or [id name="value"]`},
		{"5424 missing fields", `<13>1 2026-11-22T14:50:08Z fw1 app`, `in:2:35: unexpected end of line, expected a space and the PROCID`},
		{"5424 sd no space after", `<13>1 2026-11-22T14:50:08Z fw1 app - - [a@1]x`, `in:2:45: unexpected "x" after the STRUCTURED-DATA, expected a space and the message`},
		{"unterminated pid", "Nov 22 14:49:24 fw1 sshd[9: x", `in:2:25: unterminated [pid] in the tag, expected ']'`},
		{"month 13", "2026-13-22T14:49:24+00:00 fw1 app: x", `in:2:1: bad date "2026-13-22T14:49:24+00:00", expected yyyy-mm-dd`},
		{"weekday first", "Sat Nov 22 14:49:25 fw1 app: x", `in:2:1: not a syslog line: "Sat" is not a month, expected a time stamp such as Nov 22 14:49:19`},
		{"no space after stamp", "2026-11-22T14:49:24Zfw1 app: x", `in:2:21: unexpected "fw1" after the time stamp, expected a space and the host name`},
		{"bad zone", "2026-11-22T14:49:24+5 fw1 app: x", `in:2:20: bad zone offset "+5", expected ±hh:mm`},
		{"only a stamp", "Nov 22 14:49:24", `in:2:16: unexpected end of line after the time stamp, expected a space and the host name`},
		{"two spaces", "Nov 22 14:49:24  fw1 app: x", `in:2:17: unexpected " fw1", expected the host name after the time stamp`},
		{"fraction without digits", "Nov 22 14:49:24. fw1 app: x", `in:2:17: unexpected " fw1", expected the digits of a fraction of a second`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, st := readString(t, text, good+"\n"+tc.line+"\n"+good+"\n")
			if len(evs) != 2 || st.BadCount != 1 || st.Examples[0].Error() != tc.err {
				t.Errorf("%d events, %d bad %v\nwant 2 events, 1 bad: %s", len(evs), st.BadCount, st.Examples, tc.err)
			}
			if len(evs) == 2 && (evs[0].Line != 1 || evs[1].Line != 3) {
				t.Errorf("lines %d, %d", evs[0].Line, evs[1].Line)
			}
		})
	}
}

func TestBadJournal(t *testing.T) {
	const good = `{"__CURSOR":"s=1","__REALTIME_TIMESTAMP":"1795358959000000","MESSAGE":"ok","SYSLOG_IDENTIFIER":"x"}`
	for _, tc := range []struct {
		name, line, err string
	}{
		{"truncated", `{"__CURSOR":"s=1","MESSAGE":"unterminated`, `in:2:41: invalid journald JSON record: unexpected end of JSON input, expected a JSON object per line`},
		{"bad syntax", `{"__CURSOR":"s=1",,}`, `in:2:19: invalid journald JSON record: invalid character ',' looking for beginning of object key string, expected a JSON object per line`},
		{"array", `[1,2,3]`, `in:2:1: not a JSON object: "[1,2,3]", expected a journalctl -o json record {"__CURSOR":…}`},
		{"garbage", `garbage`, `in:2:1: not a JSON object: "garbage", expected a journalctl -o json record {"__CURSOR":…}`},
		{"no time", `{"__CURSOR":"s=2","MESSAGE":"x"}`, `in:2:1: journald record without a valid __REALTIME_TIMESTAMP, expected microseconds since the epoch ("__REALTIME_TIMESTAMP":"1795358959123456")`},
		{"bad time", `{"__REALTIME_TIMESTAMP":"soon"}`, `in:2:1: journald record without a valid __REALTIME_TIMESTAMP, expected microseconds since the epoch ("__REALTIME_TIMESTAMP":"1795358959123456")`},
		{"nested non-bytes", `{"__REALTIME_TIMESTAMP":"1","MESSAGE":[[1,2],[300]]}`, `in:2:1: journald field "MESSAGE" holds a nested array that is not bytes, expected strings or byte arrays`},
		{"trailing text", `{"__REALTIME_TIMESTAMP":"1"} x`, `in:2:30: invalid journald JSON record: invalid character 'x' after top-level value, expected a JSON object per line`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, st := readString(t, Journal{}, good+"\n"+tc.line+"\n"+good+"\n")
			if len(evs) != 2 || st.BadCount != 1 || st.Examples[0].Error() != tc.err {
				t.Errorf("%d events, %d bad %v\nwant 2 events, 1 bad: %s", len(evs), st.BadCount, st.Examples, tc.err)
			}
		})
	}
	// json-seq's record separator, blank lines, and odd but harmless values.
	evs, st := readString(t, Journal{}, "\x1e"+good+"\n\n"+`{"__REALTIME_TIMESTAMP":"1795358959000000","N":5,"B":true,"O":{"a":1},"E":[]}`+"\n")
	if len(evs) != 2 || st.BadCount != 0 {
		t.Fatalf("%d events, %d bad %v", len(evs), st.BadCount, st.Examples)
	}
	check(t, evs[1], map[string]event.Value{"journald.N": event.Str("5"), "journald.B": event.Str("true"),
		"journald.O": event.Str(`{"a":1}`), "journald.E": event.ListV(), "message": absent, "process.name": absent})
}

func TestInvalidUTF8(t *testing.T) {
	evs, st := readString(t, text, "Nov 22 14:49:22 f\xffw1 caf\xe9[7]: invalid \xff\xfe kept#011\xe9\n")
	if len(evs) != 1 || st.BadCount != 0 {
		t.Fatalf("%d events, %d bad %v", len(evs), st.BadCount, st.Examples)
	}
	check(t, evs[0], map[string]event.Value{
		"host.name": event.Str("f\uFFFDw1"), "process.name": event.Str("caf\uFFFD"), "process.pid": event.IntV(7),
		"message": event.Str("invalid \uFFFD\uFFFD kept\t\uFFFD"),
	})
	if _, err := json.Marshal(evs[0]); err != nil {
		t.Error(err)
	}
}

func TestLongLine(t *testing.T) {
	good := "Nov 22 14:49:19 fw1 app: x\n"
	evs, st := readString(t, text, good+"Nov 22 14:49:19 fw1 app: "+strings.Repeat("a", source.MaxRecord+10)+"\n"+good)
	if len(evs) != 2 || st.BadCount != 1 || !strings.Contains(st.Examples[0].Error(), "in:2: line longer than") {
		t.Errorf("%d events, %d bad %v", len(evs), st.BadCount, st.Examples)
	}
}

func TestEmitError(t *testing.T) {
	stop := errors.New("stop")
	for _, f := range []source.Format{text, Journal{}} {
		in := "Nov 22 14:49:19 fw1 app: x\nNov 22 14:49:19 fw1 app: y\n"
		if f.Name() == "journald" {
			in = `{"__REALTIME_TIMESTAMP":"1"}` + "\n" + `{"__REALTIME_TIMESTAMP":"2"}` + "\n"
		}
		n := 0
		err := f.Read(context.Background(), &source.Input{Name: "in", R: strings.NewReader(in), Stats: &source.Stats{}},
			func(*event.Event) error { n++; return stop })
		if !errors.Is(err, stop) || n != 1 {
			t.Errorf("%s: err %v after %d events", f.Name(), err, n)
		}
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := text.Read(ctx, &source.Input{Name: "in", R: strings.NewReader("Nov 22 14:49:19 fw1 app: x\n"), Stats: &source.Stats{}},
		func(*event.Event) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err %v", err)
	}
}
