package sigma

import "strings"

// Field maps: one table per log source, Sigma field name → ECS path. They
// are data; docs/sigma.md shows the same tables (a test keeps the two in
// step). Never written after initialisation.

// processFields serves process_creation and process_termination (Sysmon
// for Linux EventID 1 and 5, auditd execve, Elastic Defend exec).
var processFields = map[string]string{
	"Image":             "process.executable",
	"CommandLine":       "process.command_line",
	"ParentImage":       "process.parent.executable",
	"ParentCommandLine": "process.parent.command_line",
	"ProcessId":         "process.pid",
	"ParentProcessId":   "process.parent.pid",
	"CurrentDirectory":  "process.working_directory",
	"User":              "user.name",
	"ParentUser":        "process.parent.user.name",
	"LogonId":           "user.audit.id",
	"ProcessGuid":       "process.entity_id",
	"ParentProcessGuid": "process.parent.entity_id",
	"Hashes":            "sysmon.Hashes",
	"md5":               "process.hash.md5",
	"sha1":              "process.hash.sha1",
	"sha256":            "process.hash.sha256",
	"Imphash":           "process.pe.imphash",
	"Computer":          "host.name",
	"OriginalFileName":  "process.pe.original_file_name",
	"Product":           "process.pe.product",
	"Company":           "process.pe.company",
	"Description":       "process.pe.description",
	"FileVersion":       "process.pe.file_version",
}

// networkFields serves network_connection (Sysmon EventID 3). Initiated
// is deliberately absent: it falls through to sysmon.Initiated, which the
// Sysmon source keeps, because ECS's network.direction says where the peer
// is, not who opened the connection.
var networkFields = map[string]string{
	"Image":               "process.executable",
	"CommandLine":         "process.command_line",
	"ParentImage":         "process.parent.executable",
	"ProcessId":           "process.pid",
	"ProcessGuid":         "process.entity_id",
	"User":                "user.name",
	"Protocol":            "network.transport",
	"SourceIp":            "source.ip",
	"SourcePort":          "source.port",
	"SourceHostname":      "source.domain",
	"DestinationIp":       "destination.ip",
	"DestinationPort":     "destination.port",
	"DestinationHostname": "destination.domain",
	"Computer":            "host.name",
}

// fileFields serves file_event and file_delete (Sysmon EventID 11, 23).
var fileFields = map[string]string{
	"TargetFilename": "file.path",
	"Image":          "process.executable",
	"CommandLine":    "process.command_line",
	"ParentImage":    "process.parent.executable",
	"ProcessId":      "process.pid",
	"ProcessGuid":    "process.entity_id",
	"User":           "user.name",
	"Computer":       "host.name",
}

// auditdFields are the field names Linux audit records carry (the audit
// project's field dictionary, plus AppArmor's and a few newer kernels'),
// checked so a rule naming a field no record has is refused rather than
// never matching. ENRICHED logs add an upper-case twin holding the
// interpreted value (UID=root, SYSCALL=execve); those are accepted too.
var auditdFields = setOf(`
acct acl action added addr apparmor arch argc audit_backlog_limit
audit_backlog_wait_time audit_enabled audit_failure auid banners bool bus
capability cap_fe cap_fi cap_fp cap_frootid cap_fver cap_pa cap_pe cap_pi
cap_pp category cgroup changed cipher class cmd code comm compat cwd daddr
data default-context dev device dir direction dmac dport egid enforcing
entries errno euid exe exit fam family fd file flags fe feature fi fp
format frootid fsgid fsuid fver gid grantors grp hook hostname icmp_type id
igid img-ctx inif ip ipid ino inode inode_gid inode_uid invalid_context
ioctlcmd ipx-net item items iuid kernel key kind ksize laddr lport list
mac macproto maj major minor mode model msg nargs name nametype net new
new-chardev new-disk new-enabled new-fs new_gid new-level new_lock
new-log_passwd new-mem new-net new_pe new_pi new_pp new-range new-rng
new-role new-seuser new-vcpu nlnk-fam nlnk-grp nlnk-pid node oauid obj
obj_gid obj_uid ocomm oflag ogid old old-auid old-chardev old-disk
old-enabled old_enforcing old-fs old-level old_lock old-log_passwd old-mem
old-net old_pa old_pe old_pi old_pp old_prom old-range old-rng old-role
old-ses old-seuser old_val old-vcpu op opid oses ouid outif pa pe pi pp
parent path per perm perm_mask permissive pfs pid ppid printer prom
proctitle proto qbytes range rdev reason removed res resrc result role
rport saddr sauid scontext selected-context seperm seperms seqno seresult
ses seuser sgid sig sigev_signo smac spid sport state subj success suid
syscall table tclass tcontext terminal tty type uid unit uri user uuid val
ver virt vm vm-ctx vm-pid watch
operation profile denied_mask requested_mask info error sock_type protocol
signal peer fsuid_name ouid_name subj_user subj_role subj_type subj_sen
subj_clr obj_user obj_role obj_type obj_lev_low obj_lev_high sessionid
loginuid pers msgtype prog-id uringop lsm
`)

// auditdInterpreted are numeric audit fields whose interpreted text sits
// in the upper-case twin of ENRICHED logs: a rule value that is not a
// number (syscall: execve) can only ever match the twin.
var auditdInterpreted = setOf(`
syscall arch uid auid euid suid fsuid ouid oauid iuid inode_uid obj_uid
sauid gid egid sgid fsgid ogid igid inode_gid obj_gid new_gid id
`)

// syslogPrograms maps a Sigma linux service to the syslog program names
// (process.name) that log for it; matched case-insensitively. A service not
// listed matches a program of its own name.
var syslogPrograms = map[string][]string{
	"sshd":      {"sshd", "sshd-session", "sshd-auth"},
	"cron":      {"cron", "crond", "crontab", "anacron"},
	"sudo":      {"sudo"},
	"su":        {"su"},
	"auth":      {"sshd", "sshd-session", "sshd-auth", "sudo", "su", "login", "passwd", "chpasswd", "chage", "useradd", "userdel", "usermod", "groupadd", "groupdel", "groupmod", "gpasswd", "newgrp", "systemd-logind", "polkitd", "pkexec", "unix_chkpwd", "cron"},
	"clamav":    {"clamd", "freshclam", "clamav-milter", "clamscan", "clamonacc"},
	"vsftpd":    {"vsftpd"},
	"guacamole": {"guacd", "guacamole"},
}

func setOf(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

// isAuditdField reports whether name is a field some audit record has:
// a dictionary name, its upper-case twin, or an execve/syscall argument
// (a0, a1[2], a3_len).
func isAuditdField(name string) bool {
	if auditdFields[name] || auditdFields[strings.ToLower(name)] && name == strings.ToUpper(name) {
		return true
	}
	rest, ok := strings.CutPrefix(name, "a")
	if !ok {
		return false
	}
	digits := len(rest) - len(strings.TrimLeft(rest, "0123456789"))
	if digits == 0 {
		return false
	}
	switch tail := rest[digits:]; {
	case tail == "", tail == "_len":
		return true
	case strings.HasPrefix(tail, "[") && strings.HasSuffix(tail, "]"):
		return allDigits(tail[1 : len(tail)-1])
	}
	return false
}

// isSysmonName reports whether a field not in a table looks like a Sysmon
// event field (CamelCase, no dots), which the Sysmon source keeps as
// sysmon.<Name>.
func isSysmonName(name string) bool {
	if name == "" || name[0] < 'A' || name[0] > 'Z' {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
