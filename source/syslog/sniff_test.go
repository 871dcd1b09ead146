package syslog

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/source"
	"github.com/firewarden/firewarden/source/auditd"
	"github.com/firewarden/firewarden/source/ecs"
	"github.com/firewarden/firewarden/source/sysmon"
)

const sysmonEvent = `<Event><System><Provider Name="Linux-Sysmon" Guid="{ff032593-a8d3-4f13-b0d6-01fc615a0f97}"/><EventID>1</EventID>` +
	`<Computer>fw1</Computer></System><EventData><Data Name="UtcTime">2026-11-22 14:49:20.420</Data>` +
	`<Data Name="CommandLine">iptables -F</Data></EventData></Event>`

func repeat(line string, n int) string { return strings.Repeat(line+"\n", n) }

func TestSniffText(t *testing.T) {
	cron := "Nov 22 14:17:01 fw1 CRON[1803]: (root) CMD (cd / && run-parts --report /etc/cron.hourly)"
	sysmonLine := "Nov 22 14:49:20 fw1 sysmon: " + sysmonEvent
	audispd := "Nov 22 14:49:20 fw1 audispd: node=fw1 type=EXECVE msg=audit(1795358960.420:7): argc=2 a0=\"iptables\" a1=\"-F\""
	auditSyslog := "2026-11-22T14:49:20.420000+00:00 fw1 audit: type=SYSCALL msg=audit(1795358960.420:7): arch=c000003e syscall=59 success=yes"
	kernelAudit := "Nov 22 14:55:07 fw1 kernel: [ 8129.5] audit: type=1400 audit(1795359307.500:812): apparmor=\"STATUS\" operation=\"profile_load\" name=\"/usr/bin/man\""
	for _, tc := range []struct {
		name, head string
		want       bool
	}{
		{"auth.log", repeat(cron, 5), true},
		{"high precision", "2026-11-22T14:48:55.104233+00:00 fw1 systemd[1]: Starting firewalld.service...\n", true},
		{"rfc 5424", "<165>1 2026-11-22T14:49:19.003Z host app 1 ID47 - hi\n", true},
		{"rfc 5424 without pri", "1 2026-11-22T14:49:19.003Z host app 1 ID47 - hi\n", true},
		{"rfc 3164 with pri", "<34>Oct 11 22:14:15 mymachine su: 'su root' failed\n", true},
		{"journalctl short with separator", "-- Logs begin at Sun 2026-11-22 10:00:00 UTC, end at Sun 2026-11-22 15:00:00 UTC. --\n" + repeat(cron, 3), true},
		{"journalctl short-iso", "2026-11-22T14:49:19+0000 fw1 sshd[2211]: Accepted publickey\n", true},
		{"one line, no newline", cron, true},
		{"cut off last line ignored", repeat(cron, 3) + "Nov 22 14:1", true},
		{"a few sysmon lines among others", repeat(cron, 3) + repeat(sysmonLine, 2) + repeat(cron, 3), true},
		{"kernel audit printk lines are syslog", repeat(kernelAudit, 6) + cron + "\n", true},
		{"blank lines first", "\n\n  \n" + cron + "\n", true},
		{"sysmon behind syslog", repeat(sysmonLine, 5), false},
		{"sysmon first", sysmonLine + "\n" + repeat(cron, 5), false},
		{"mostly sysmon", cron + "\n" + repeat(sysmonLine, 5), false},
		{"audispd", repeat(audispd, 4), false},
		{"audispd first", audispd + "\n" + repeat(cron, 4), false},
		{"mostly audit behind syslog", cron + "\n" + repeat(auditSyslog, 3), false},
		{"raw audit.log", "type=SYSCALL msg=audit(1795358960.420:7): arch=c000003e syscall=59\n", false},
		{"bare sysmon", sysmonEvent + "\n", false},
		{"journald json", `{"__CURSOR":"s=1","__REALTIME_TIMESTAMP":"1","MESSAGE":"x"}` + "\n", false},
		{"ecs json", `{"@timestamp":"2026-11-22T14:49:19Z","message":"Nov 22 14:49:19 fw1 app: x"}` + "\n", false},
		{"first line garbage", "hello world\n" + repeat(cron, 5), false},
		{"mostly garbage", cron + "\n" + repeat("hello world", 3), false},
		{"binary", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", false},
		{"empty", "", false},
		{"only separators", "-- No entries --\n", false},
		{"weekday first (journalctl short-full)", "Sun 2026-11-22 14:49:19 UTC fw1 sshd[1]: x\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := (Text{}).Sniff([]byte(tc.head)); got != tc.want {
				t.Errorf("Sniff = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSniffJournal(t *testing.T) {
	rec := `{"__CURSOR":"s=1;i=2","__REALTIME_TIMESTAMP":"1795358959123456","_HOSTNAME":"fw1","SYSLOG_IDENTIFIER":"sshd","MESSAGE":"Accepted"}`
	sysmonRec := `{"__CURSOR":"s=1;i=3","__REALTIME_TIMESTAMP":"1795358959123456","SYSLOG_IDENTIFIER":"sysmon","MESSAGE":"` + strings.ReplaceAll(sysmonEvent, `"`, `\"`) + `"}`
	auditRec := `{"__CURSOR":"s=1;i=4","__REALTIME_TIMESTAMP":"1795358959123456","SYSLOG_IDENTIFIER":"audisp-syslog","MESSAGE":"type=EXECVE msg=audit(1795358960.420:7): argc=1 a0=\"nft\""}`
	for _, tc := range []struct {
		name, head string
		want       bool
	}{
		{"journal", repeat(rec, 3), true},
		{"realtime only", `{"__REALTIME_TIMESTAMP" : "1","MESSAGE":"x"}` + "\n", true},
		{"json-seq", "\x1e" + rec + "\n\x1e" + rec + "\n", true},
		{"huge first record cut off", rec[:60], true},
		{"a sysmon record among others", repeat(rec, 3) + sysmonRec + "\n" + repeat(rec, 2), true},
		{"sysmon first", sysmonRec + "\n" + repeat(rec, 3), false},
		{"mostly sysmon", rec + "\n" + repeat(sysmonRec, 3), false},
		{"audit first", auditRec + "\n" + repeat(rec, 3), false},
		{"cursor as a value", `{"message":"__CURSOR"}` + "\n", false},
		{"ecs", `{"@timestamp":"2026-11-22T14:49:19Z","event":{"kind":"event"}}` + "\n", false},
		{"syslog text", "Nov 22 14:17:01 fw1 CRON[1803]: x\n", false},
		{"pretty json", "{\n  \"__CURSOR\" : \"s=1\",\n", false},
		{"empty", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := (Journal{}).Sniff([]byte(tc.head)); got != tc.want {
				t.Errorf("Sniff = %v, want %v", got, tc.want)
			}
		})
	}
}

func head(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b[:min(len(b), source.SniffSize)]
}

// TestSniffAgainstOtherFormats: no input is claimed by two formats, so
// the order they are tried in never matters.
func TestSniffAgainstOtherFormats(t *testing.T) {
	all := []source.Format{Text{}, Journal{}, sysmon.XML{}, auditd.Raw{}, auditd.Laurel{}, ecs.NDJSON{}}
	var files []string
	for _, pat := range []string{"testdata/*", "../sysmon/testdata/*.log", "../auditd/testdata/*", "../ecs/testdata/*.*json"} {
		m, _ := filepath.Glob(pat)
		for _, p := range m {
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && !strings.HasSuffix(p, ".golden") {
				files = append(files, p)
			}
		}
	}
	mine := map[string]string{
		"testdata/auth.log": "syslog", "testdata/rollover.log": "syslog", "testdata/syslog": "syslog", "testdata/kern.log": "syslog",
		"testdata/rfc5424.log": "syslog", "testdata/bad.log": "syslog", "testdata/journal.json": "journald", "testdata/bad_journal.json": "journald",
	}
	for _, p := range files {
		h := head(t, p)
		var claimed []string
		for _, f := range all {
			if f.Sniff(h) {
				claimed = append(claimed, f.Name())
			}
		}
		want, isMine := mine[filepath.ToSlash(p)]
		switch {
		case isMine && !slices.Equal(claimed, []string{want}):
			t.Errorf("%s: claimed by %v, want only %s", p, claimed, want)
		case !isMine && (slices.Contains(claimed, "syslog") || slices.Contains(claimed, "journald")):
			t.Errorf("%s: claimed by %v; syslog formats must leave it alone", p, claimed)
		case len(claimed) > 1:
			t.Errorf("%s: claimed by %v", p, claimed)
		}
	}
}

// TestReaderIntegration: the CLI's path, formats tried in both orders.
func TestReaderIntegration(t *testing.T) {
	formats := []source.Format{sysmon.XML{}, auditd.Raw{}, ecs.NDJSON{}, Text{Reference: ref, Location: nil}, Journal{}}
	for _, order := range [][]source.Format{formats, {formats[4], formats[3], formats[2], formats[1], formats[0]}} {
		got := map[string]int{}
		rd := &source.Reader{Formats: order}
		inputs, _ := filepath.Glob(filepath.Join("testdata", "*"))
		inputs = slices.DeleteFunc(inputs, func(p string) bool { return filepath.Base(p) == "golden" })
		res, err := rd.Read(context.Background(), inputs, func(ev *event.Event) error {
			got[ev.Format]++
			return nil
		})
		if err != nil || len(res.Skipped) != 0 {
			t.Fatalf("err %v skipped %v", err, res.Skipped)
		}
		// bad.log: 14 bad lines; bad_journal.json: 7.
		if got["syslog"] != 74 || got["journald"] != 10 || len(got) != 2 || res.Bad() != 14+7 {
			t.Errorf("events by format %v, bad %d", got, res.Bad())
		}
	}
}
