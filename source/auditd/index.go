package auditd

// Index names (event.Event.Index), documented in docs/elastic.md.
const (
	// Index is where Elastic's Auditd Logs integration, the one that
	// reads audit.log files, writes them: its auditd.log data stream.
	// (Auditd Manager and Auditbeat, which Elastic's auditd rules select,
	// read the kernel directly, not the files firewarden reads.)
	Index = "logs-auditd.log-default"
	// LaurelIndex is for laurel's JSON: no Elastic integration parses it,
	// so firewarden names a dataset in the auditd family, which a
	// logs-auditd.* pattern selects.
	LaurelIndex = "logs-auditd.laurel-default"
)
