package spl

import (
	"strconv"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/query"
)

// The field maps of docs/spl.md: Splunk's CIM data model fields and its
// auditd field names onto firewarden's ECS events. They are data: one
// table per data model, one for raw auditd searches.

func f(path string) query.Expr { return query.Field{Path: path} }

func str(s string) query.Expr { return query.Lit{V: event.Str(s)} }

// null is a field firewarden has no source for: always absent.
var null query.Expr = query.Lit{V: event.NullV()}

// timeField is SPL's _time: the event's @timestamp in epoch seconds.
var timeField query.Expr = query.Call{Name: "epoch", Args: []query.Expr{f("@timestamp")}}

func matchAny(path string, vals ...string) query.Expr {
	return query.Match{Field: f(path), Op: query.Equal, Values: vals}
}

// cimProcesses maps Endpoint.Processes fields (without the "Processes."
// prefix) onto ECS.
var cimProcesses = map[string]query.Expr{
	"process":                   f("process.command_line"),
	"process_name":              f("process.name"),
	"process_path":              f("process.executable"),
	"process_exec":              f("process.name"),
	"process_id":                f("process.pid"),
	"process_guid":              f("process.entity_id"),
	"process_current_directory": f("process.working_directory"),
	"process_hash":              f("process.hash.sha256"),
	"process_integrity_level":   null,
	"original_file_name":        null,
	"parent_process":            f("process.parent.command_line"),
	"parent_process_name":       f("process.parent.name"),
	"parent_process_path":       f("process.parent.executable"),
	"parent_process_exec":       f("process.parent.name"),
	"parent_process_id":         f("process.parent.pid"),
	"parent_process_guid":       f("process.parent.entity_id"),
	"user":                      f("user.name"),
	"user_id":                   f("user.id"),
	"dest":                      f("host.name"),
	"os":                        f("host.os.name"),
	"action":                    null,
	"vendor_product":            null,
	"process_arguments":         null,
	"_time":                     timeField,
}

// cimFilesystem maps Endpoint.Filesystem fields onto ECS.
var cimFilesystem = map[string]query.Expr{
	"file_name": f("file.name"),
	"file_path": f("file.path"),
	"file_hash": f("file.hash.sha256"),
	"file_size": f("file.size"),
	// action: created, deleted, modified, read from ECS event.type.
	"action": query.Call{Name: "case", Args: []query.Expr{
		matchAny("event.type", "creation"), str("created"),
		matchAny("event.type", "deletion"), str("deleted"),
		matchAny("event.type", "change"), str("modified"),
		matchAny("event.type", "access"), str("read"),
	}},
	"file_create_time": null,
	"file_modify_time": null,
	"file_access_time": null,
	"file_acl":         null,
	"dest":             f("host.name"),
	"user":             f("user.name"),
	"process_guid":     f("process.entity_id"),
	"process_id":       f("process.pid"),
	"process_path":     f("process.executable"),
	"process_name":     f("process.name"),
	"vendor_product":   null,
	"_time":            timeField,
}

// dataModel is a CIM data model node firewarden maps.
type dataModel struct {
	object string // the field prefix, "Processes"
	fields map[string]query.Expr
	scope  query.Expr
}

var dataModels = map[string]dataModel{
	"endpoint.processes": {"Processes", cimProcesses, query.And{X: []query.Expr{
		matchAny("event.category", "process"), matchAny("event.type", "start"),
	}}},
	"endpoint.filesystem": {"Filesystem", cimFilesystem, matchAny("event.category", "file")},
}

// auditdField maps a field of Splunk's linux:audit sourcetype (one audit
// record, its fields as audit.log writes them) onto firewarden's auditd
// events (one event per audit event id, every record's fields under
// auditd.*; docs/fields-auditd.md).
func auditdField(name string) query.Expr {
	switch name {
	case "host":
		return f("host.name")
	case "_time":
		return timeField
	case "proctitle":
		// Splunk sees the record undecoded: hex when the kernel wrote hex
		// (argv with NUL separators); ESCU's macros decode it themselves.
		return query.Call{Name: "audithex", Args: []query.Expr{f("auditd.proctitle")}}
	}
	// EXECVE's a0, a1 …: the exact argv.
	if len(name) > 1 && name[0] == 'a' {
		if n, err := strconv.Atoi(name[1:]); err == nil && n >= 0 && n < maxArgs {
			return query.Call{Name: "mvindex", Args: []query.Expr{f("process.args"), query.Lit{V: event.IntV(int64(n))}}}
		}
	}
	return f("auditd." + name)
}

// maxArgs is how many EXECVE argument fields (a0 …) a raw auditd search
// sees; foreach a* iterates over them and argc.
const maxArgs = 64

// auditdFieldNames lists the linux:audit field names a foreach pattern
// expands against, in Splunk's field order (a0 … a63, then the others).
func auditdFieldNames() []string {
	var out []string
	for i := 0; i < maxArgs; i++ {
		out = append(out, "a"+strconv.Itoa(i))
	}
	return append(out, "argc")
}

// sourcetypes maps the sourcetype values a raw search may name to the
// events that carry them.
var sourcetypes = map[string]query.Expr{
	"linux:audit":  matchAny("event.module", "auditd"),
	"sysmon:linux": matchAny("event.module", "sysmon"),
}
