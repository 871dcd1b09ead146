package syslog

import (
	"strings"
	"testing"

	"github.com/firewarden/firewarden/event"
)

// TestIndex: syslog lines and journal entries go to the System
// integration's data stream that would collect them: auth by file name or
// facility, the rest to syslog; journal entries the System integration
// filters out to the Custom Journald logs integration.
func TestIndex(t *testing.T) {
	journal := func(fac string) string {
		f := ""
		if fac != "" {
			f = `,"SYSLOG_FACILITY":"` + fac + `"`
		}
		return `{"__REALTIME_TIMESTAMP":"1795358959123456","_HOSTNAME":"fw1","SYSLOG_IDENTIFIER":"x","MESSAGE":"m"` + f + "}\n"
	}
	tests := []struct {
		name, file, in, want string
		journal              bool
	}{
		{"syslog file", "/var/log/syslog", "Nov 22 14:17:01 fw1 CRON[1802]: x\n", "logs-system.syslog-default", false},
		{"messages file", "messages.1", "Nov 22 14:17:01 fw1 kernel: x\n", "logs-system.syslog-default", false},
		{"auth.log", "/var/log/auth.log", "Nov 22 14:17:01 fw1 sshd[1]: x\n", "logs-system.auth-default", false},
		{"rotated secure", "logs/secure-20261122", "Nov 22 14:17:01 fw1 sudo: x\n", "logs-system.auth-default", false},
		{"authpriv by priority", "collected.log", "<86>1 2026-11-22T14:17:01Z fw1 sshd 1 - - x\n", "logs-system.auth-default", false},
		{"daemon by priority", "collected.log", "<30>1 2026-11-22T14:17:01Z fw1 ufw 1 - - x\n", "logs-system.syslog-default", false},
		{"journal auth", "j.json", journal("4"), "logs-system.auth-default", true},
		{"journal authpriv", "j.json", journal("10"), "logs-system.auth-default", true},
		{"journal kern", "j.json", journal("0"), "logs-system.syslog-default", true},
		{"journal daemon", "j.json", journal("3"), "logs-system.syslog-default", true},
		{"journal cron", "j.json", journal("9"), "logs-system.syslog-default", true},
		{"journal local0", "j.json", journal("16"), "logs-journald.logs-default", true},
		{"journal log audit", "j.json", journal("13"), "logs-journald.logs-default", true},
		{"journal without facility", "j.json", journal(""), "logs-journald.logs-default", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var evs []*event.Event
			if tc.journal {
				evs, _ = read(t, Journal{}, tc.file, strings.NewReader(tc.in))
			} else {
				evs, _ = read(t, Text{}, tc.file, strings.NewReader(tc.in))
			}
			if len(evs) != 1 {
				t.Fatalf("%d events", len(evs))
			}
			if evs[0].Index != tc.want {
				t.Errorf("index %q, want %q", evs[0].Index, tc.want)
			}
		})
	}
}
