package syslog

import (
	"path/filepath"
	"strings"

	"github.com/firewarden/firewarden/event"
)

// Index names (event.Event.Index) as Elastic's System integration writes
// them: its syslog data stream reads /var/log/syslog and /var/log/messages
// (or, from journald, every facility but auth, authpriv, the local ones
// and log audit/alert), its auth data stream /var/log/auth.log and
// /var/log/secure (journald: facilities auth and authpriv). Journal
// entries the System integration leaves out go to the Custom Journald
// logs integration. See docs/elastic.md.
const (
	SyslogIndex  = "logs-system.syslog-default"
	AuthIndex    = "logs-system.auth-default"
	JournalIndex = "logs-journald.logs-default"
)

// facility is the event's syslog facility code, or -1.
func facility(ev *event.Event) int {
	if v := ev.Get("log.syslog.facility.code"); v.Kind == event.Int {
		return int(v.Int)
	}
	return -1
}

func isAuth(fac int) bool { return fac == 4 || fac == 10 }

// textIndex: a syslog file goes where the System integration's log input
// reading it would send it, by the file's name; a line whose priority
// says auth or authpriv is auth wherever it was read.
func textIndex(ev *event.Event, file string) string {
	base := filepath.Base(file)
	if strings.HasPrefix(base, "auth.log") || strings.HasPrefix(base, "secure") || isAuth(facility(ev)) {
		return AuthIndex
	}
	return SyslogIndex
}

// journalIndex routes a journal entry by facility, as the System
// integration's journald inputs filter them.
func journalIndex(ev *event.Event) string {
	switch fac := facility(ev); {
	case isAuth(fac):
		return AuthIndex
	case fac >= 0 && fac <= 12 || fac == 15:
		return SyslogIndex
	}
	return JournalIndex
}
