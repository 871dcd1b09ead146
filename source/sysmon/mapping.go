package sysmon

import (
	"strings"
	"time"

	"github.com/firewarden/firewarden/event"
)

// mapper turns a parsed record into ECS fields. docs/fields-sysmon.md
// documents every field it writes; keep the two in step.
type mapper struct {
	paths map[string]string // Data/System name → "sysmon.<Name>"
}

const maxRawPaths = 4096

// raw returns the path "sysmon.<name>".
func (m *mapper) raw(name []byte) string {
	if s, ok := m.paths[string(name)]; ok {
		return s
	}
	s := "sysmon." + string(name)
	if len(m.paths) < maxRawPaths {
		m.paths[s[len("sysmon."):]] = s
	}
	return s
}

// Shared immutable values (an event's values are never modified once
// stored, so events may share them).
var (
	catProcess  = event.Strs("process")
	catNetwork  = event.Strs("network")
	catFile     = event.Strs("file")
	catConfig   = event.Strs("configuration")
	typeStart   = event.Strs("start")
	typeEnd     = event.Strs("end")
	typeConn    = event.Strs("connection", "start")
	typeCreate  = event.Strs("creation")
	typeDelete  = event.Strs("deletion")
	typeChange  = event.Strs("change")
	strEvent    = event.Str("event")
	strSysmon   = event.Str("sysmon")
	strExec     = event.Str("exec")
	strProvider = event.Str("Linux-Sysmon")
	strEgress   = event.Str("egress")
	strIngress  = event.Str("ingress")
	strIPv4     = event.Str("ipv4")
	strIPv6     = event.Str("ipv6")
)

// EventIDs.
const (
	idProcessCreate     = 1
	idNetworkConnect    = 3
	idServiceState      = 4
	idProcessTerminate  = 5
	idFileCreate        = 11
	idConfigChange      = 16
	idFileDelete        = 23
	idFileDeleteDetectd = 26
)

// mapRecord fills ev from rec; it reports false when rec has no EventID.
// arena is the event's string arena, for the few strings built here.
func (m *mapper) mapRecord(ev *event.Event, rec *record, arena *[]byte) bool {
	idStr, ok := rec.sys("EventID")
	if !ok || idStr == "" {
		return false
	}
	id, _ := atoi(idStr)
	// Of System, only what a rule may name is kept raw; the rest is the
	// sensor's own bookkeeping (see docs/fields-sysmon.md). Every field
	// costs map space in every event.
	for _, f := range rec.system {
		switch string(f.name) {
		case "EventID", "Computer", "Channel", "Provider_Name":
			ev.Set(m.raw(f.name), event.Str(f.value))
		}
	}
	ev.Set("event.kind", strEvent)
	ev.Set("event.module", strSysmon)
	ev.SetStr("event.code", idStr)
	if p, ok := rec.sys("Provider_Name"); ok && p != "" {
		ev.SetStr("event.provider", p)
	} else {
		ev.Set("event.provider", strProvider)
	}
	if c, ok := rec.sys("Computer"); ok && known(c) {
		ev.SetStr("host.name", c)
	}
	switch id {
	case idProcessCreate:
		ev.Set("event.category", catProcess)
		ev.Set("event.type", typeStart)
		ev.Set("event.action", strExec)
	case idNetworkConnect:
		ev.Set("event.category", catNetwork)
		ev.Set("event.type", typeConn)
	case idProcessTerminate:
		ev.Set("event.category", catProcess)
		ev.Set("event.type", typeEnd)
	case idFileCreate:
		ev.Set("event.category", catFile)
		ev.Set("event.type", typeCreate)
	case idFileDelete, idFileDeleteDetectd:
		ev.Set("event.category", catFile)
		ev.Set("event.type", typeDelete)
	case idServiceState, idConfigChange:
		ev.Set("event.category", catConfig)
		ev.Set("event.type", typeChange)
	}
	// Hashes describe the new process for EventID 1, the file otherwise.
	hashes := &fileHashes
	if id == idProcessCreate {
		hashes = &processHashes
	}
	var utc string
	for _, f := range rec.data {
		ev.Set(m.raw(f.name), event.Str(f.value))
		v := f.value
		if !known(v) {
			continue
		}
		switch string(f.name) {
		case "UtcTime":
			utc = v
		case "RuleName":
			ev.SetStr("rule.name", v)
		case "ProcessGuid":
			if !zeroGUID(v) {
				ev.SetStr("process.entity_id", v)
			}
		case "ProcessId":
			setInt(ev, "process.pid", v)
		case "Image":
			ev.SetStr("process.executable", v)
		case "CommandLine":
			ev.SetStr("process.command_line", v)
		case "CurrentDirectory":
			ev.SetStr("process.working_directory", v)
		case "User":
			ev.SetStr("user.name", v)
		case "LogonId":
			if v != "4294967295" { // the unset auid
				ev.SetStr("user.audit.id", v)
			}
		case "ParentProcessGuid":
			if !zeroGUID(v) {
				ev.SetStr("process.parent.entity_id", v)
			}
		case "ParentProcessId":
			setInt(ev, "process.parent.pid", v)
		case "ParentImage":
			ev.SetStr("process.parent.executable", v)
		case "ParentCommandLine":
			ev.SetStr("process.parent.command_line", v)
		case "ParentUser":
			ev.SetStr("process.parent.user.name", v)
		case "Hashes":
			setHashes(ev, hashes, v)
		case "OriginalFileName":
			if id == idProcessCreate {
				ev.SetStr("process.pe.original_file_name", v)
			}
		case "Product":
			if id == idProcessCreate {
				ev.SetStr("process.pe.product", v)
			}
		case "Company":
			if id == idProcessCreate {
				ev.SetStr("process.pe.company", v)
			}
		case "Description":
			if id == idProcessCreate {
				ev.SetStr("process.pe.description", v)
			}
		case "FileVersion":
			if id == idProcessCreate {
				ev.SetStr("process.pe.file_version", v)
			}
		case "TargetFilename":
			setFile(ev, v)
		case "CreationUtcTime":
			if _, ok := parseUTC(v); ok {
				ev.SetStr("file.created", isoUTC(arena, v))
			}
		case "Protocol":
			ev.SetStr("network.transport", strings.ToLower(v))
		case "Initiated":
			switch v {
			case "true":
				ev.Set("network.direction", strEgress)
			case "false":
				ev.Set("network.direction", strIngress)
			}
		case "SourceIsIpv6":
			switch v {
			case "true":
				ev.Set("network.type", strIPv6)
			case "false":
				ev.Set("network.type", strIPv4)
			}
		case "SourceIp":
			ev.SetStr("source.ip", v)
		case "SourcePort":
			setInt(ev, "source.port", v)
		case "SourceHostname":
			ev.SetStr("source.domain", v)
		case "DestinationIp":
			ev.SetStr("destination.ip", v)
		case "DestinationPort":
			setInt(ev, "destination.port", v)
		case "DestinationHostname":
			ev.SetStr("destination.domain", v)
		}
	}
	// @timestamp: UtcTime (when the event happened), else System's
	// TimeCreated/@SystemTime (when Sysmon logged it).
	if t, ok := parseUTC(utc); ok {
		ev.Time = t
		ev.SetStr("@timestamp", isoUTC(arena, utc))
	} else if st, ok := rec.sys("TimeCreated_SystemTime"); ok {
		if t, err := time.Parse(time.RFC3339Nano, st); err == nil {
			ev.Time = t
			ev.SetStr("@timestamp", st)
		}
	}
	return true
}

// known reports whether a Sysmon value carries information: Sysmon writes
// "-" for unknown.
func known(v string) bool { return v != "" && v != "-" }

func zeroGUID(v string) bool {
	return v == "{00000000-0000-0000-0000-000000000000}" || v == "00000000-0000-0000-0000-000000000000"
}

func setInt(ev *event.Event, path, v string) {
	if n, ok := atoi(v); ok {
		ev.Set(path, event.IntV(n))
	}
}

// atoi parses a decimal integer (optionally negative) that fits int64.
func atoi(s string) (int64, bool) {
	neg := false
	if len(s) > 1 && s[0] == '-' {
		neg, s = true, s[1:]
	}
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

type hashPaths map[string]string

var processHashes = hashPaths{
	"md5": "process.hash.md5", "sha1": "process.hash.sha1", "sha256": "process.hash.sha256",
	"sha384": "process.hash.sha384", "sha512": "process.hash.sha512", "ssdeep": "process.hash.ssdeep",
	"tlsh": "process.hash.tlsh", "imphash": "process.pe.imphash",
}

var fileHashes = hashPaths{
	"md5": "file.hash.md5", "sha1": "file.hash.sha1", "sha256": "file.hash.sha256",
	"sha384": "file.hash.sha384", "sha512": "file.hash.sha512", "ssdeep": "file.hash.ssdeep",
	"tlsh": "file.hash.tlsh", "imphash": "file.pe.imphash",
}

// setHashes parses Sysmon's "SHA256=AB…,MD5=CD…,IMPHASH=…" into
// <prefix>.hash.<algorithm> fields, lower-cased (IMPHASH goes to
// <prefix>.pe.imphash). Unknown algorithms keep their lower-cased name.
func setHashes(ev *event.Event, paths *hashPaths, v string) {
	for v != "" {
		var part string
		part, v, _ = strings.Cut(v, ",")
		algo, val, ok := strings.Cut(part, "=")
		algo, val = strings.TrimSpace(algo), strings.TrimSpace(val)
		if !ok || algo == "" || !known(val) {
			continue
		}
		algo = strings.ToLower(algo)
		p, ok := (*paths)[algo]
		if !ok {
			base := "file.hash."
			if (*paths)["md5"] == "process.hash.md5" {
				base = "process.hash."
			}
			p = base + algo
		}
		ev.SetStr(p, strings.ToLower(val))
	}
}

// setFile fills file.path, file.name, file.directory and file.extension
// from a path.
func setFile(ev *event.Event, p string) {
	ev.SetStr("file.path", p)
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		i = strings.LastIndexByte(p, '\\')
	}
	name := p[i+1:]
	if i >= 0 {
		dir := p[:i]
		if dir == "" {
			dir = p[:1]
		}
		ev.SetStr("file.directory", dir)
	}
	if name != "" {
		ev.SetStr("file.name", name)
		if d := strings.LastIndexByte(name, '.'); d > 0 && d < len(name)-1 {
			ev.SetStr("file.extension", name[d+1:])
		}
	}
}

// parseUTC parses Sysmon's "2006-01-02 15:04:05.000" (UTC; any number of
// fraction digits, or none).
func parseUTC(s string) (time.Time, bool) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || s[10] != ' ' && s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	num := func(a, b int) (int, bool) {
		n := 0
		for i := a; i < b; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	y, ok1 := num(0, 4)
	mo, ok2 := num(5, 7)
	d, ok3 := num(8, 10)
	h, ok4 := num(11, 13)
	mi, ok5 := num(14, 16)
	sec, ok6 := num(17, 19)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 {
		return time.Time{}, false
	}
	ns := 0
	rest := s[19:]
	if rest != "" && rest[0] == '.' {
		digits := rest[1:]
		if digits == "" {
			return time.Time{}, false
		}
		scale := 100_000_000
		for i := 0; i < len(digits); i++ {
			c := digits[i]
			if c < '0' || c > '9' {
				return time.Time{}, false
			}
			if scale > 0 {
				ns += int(c-'0') * scale
				scale /= 10
			}
		}
		rest = ""
	}
	if rest == "Z" {
		rest = ""
	}
	if rest != "" {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, ns, time.UTC)
	if t.Day() != d {
		return time.Time{}, false // 2026-02-31
	}
	return t, true
}

// isoUTC turns a valid Sysmon UTC time "2006-01-02 15:04:05.000" into
// RFC 3339 "2006-01-02T15:04:05.000Z", keeping its precision; the string
// lives in the event's arena.
func isoUTC(arena *[]byte, s string) string {
	start := len(*arena)
	a := append(*arena, s[:10]...)
	a = append(a, 'T')
	a = append(a, s[11:]...)
	if s[len(s)-1] != 'Z' {
		a = append(a, 'Z')
	}
	*arena = a
	return bstr(a[start:])
}
