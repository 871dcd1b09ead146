package kql

import "github.com/firewarden/firewarden/query"

// The ASIM tables firewarden serves, and their columns over ECS events.
// They are data: docs/kql.md shows the same tables, and a test keeps the
// two in step. Never written after initialisation.

// colType is a column's Kusto type, as far as the compiler needs it.
type colType uint8

const (
	tyString colType = iota
	tyNumber
	tyTime
	tyBool
	tyDynamic
)

func (t colType) String() string {
	return [...]string{"string", "number", "datetime", "bool", "dynamic"}[t]
}

// column is how a column reads an event: an ECS field (Path), or a
// computed value (X).
type column struct {
	Path string
	X    query.Expr
	Type colType
	Doc  string // for docs/kql.md
	// Agg is the aggregation function of a summarize output column
	// ("count", "dcount"…), "derived" for a column computed from one.
	Agg string
}

func (c column) expr() query.Expr {
	if c.X != nil {
		return c.X
	}
	return query.Field{Path: c.Path}
}

// table is an ASIM parser firewarden serves.
type table struct {
	Name  string
	Scope query.Expr
	Cols  map[string]column
	// Order is the columns in the documented order.
	Order []string
}

func ecsIs(path string, vals ...string) query.Expr {
	return query.Match{Field: query.Field{Path: path}, Op: query.Equal, Values: vals}
}

func str(path string) column  { return column{Path: path, Type: tyString} }
func when(path string) column { return column{Path: path, Type: tyTime} }
func lit(s string) column {
	return column{X: query.Lit{V: strValue(s)}, Type: tyString, Doc: `"` + s + `"`}
}

// common are the columns every ASIM table has.
func common(cols map[string]column) map[string]column {
	for k, v := range map[string]column{
		"TimeGenerated":  when("@timestamp"),
		"EventStartTime": when("@timestamp"),
		"EventEndTime":   when("@timestamp"),
		"DvcHostname":    str("host.name"),
		"DvcHostName":    str("host.name"),
		"Dvc":            str("host.name"),
		"DvcId":          str("host.id"),
		"DvcOs":          str("host.os.type"),
		"DvcIpAddr":      str("host.ip"),
		"EventProduct":   str("event.module"),
		"EventVendor":    str("event.provider"),
		"EventResult":    str("event.outcome"),
	} {
		cols[k] = v
	}
	return cols
}

var tables = map[string]*table{
	"imProcessCreate": {
		Name:  "imProcessCreate",
		Scope: query.And{X: []query.Expr{ecsIs("event.category", "process"), ecsIs("event.type", "start")}},
		Cols: common(map[string]column{
			"EventType":                     lit("ProcessCreated"),
			"TargetProcessName":             str("process.executable"),
			"TargetProcessFilename":         str("process.name"),
			"TargetProcessCommandLine":      str("process.command_line"),
			"TargetProcessId":               str("process.pid"),
			"TargetProcessGuid":             str("process.entity_id"),
			"TargetProcessCurrentDirectory": str("process.working_directory"),
			"TargetProcessMD5":              str("process.hash.md5"),
			"TargetProcessSHA1":             str("process.hash.sha1"),
			"TargetProcessSHA256":           str("process.hash.sha256"),
			"TargetUsername":                str("user.name"),
			"TargetUserId":                  str("user.id"),
			"ActingProcessName":             str("process.parent.executable"),
			"ActingProcessCommandLine":      str("process.parent.command_line"),
			"ActingProcessId":               str("process.parent.pid"),
			"ActingProcessGuid":             str("process.parent.entity_id"),
			"ParentProcessName":             str("process.parent.executable"),
			"ParentProcessId":               str("process.parent.pid"),
			"ParentProcessGuid":             str("process.parent.entity_id"),
			"ActorUsername":                 str("process.parent.user.name"),
			"CommandLine":                   str("process.command_line"),
			"Process":                       str("process.executable"),
			"User":                          str("user.name"),
		}),
	},
	"imFileEvent": {
		Name:  "imFileEvent",
		Scope: ecsIs("event.category", "file"),
		Cols: common(map[string]column{
			"EventType":                lit("computed"), // replaced in init
			"TargetFilePath":           str("file.path"),
			"TargetFileName":           str("file.name"),
			"TargetFileDirectory":      str("file.directory"),
			"TargetFileExtension":      str("file.extension"),
			"TargetFileMD5":            str("file.hash.md5"),
			"TargetFileSHA1":           str("file.hash.sha1"),
			"TargetFileSHA256":         str("file.hash.sha256"),
			"ActingProcessName":        str("process.executable"),
			"ActingProcessCommandLine": str("process.command_line"),
			"ActingProcessId":          str("process.pid"),
			"ActingProcessGuid":        str("process.entity_id"),
			"ActorUsername":            str("user.name"),
			"ActorUserId":              str("user.id"),
			"FilePath":                 str("file.path"),
			"Process":                  str("process.executable"),
			"User":                     str("user.name"),
		}),
	},
}

func init() {
	tables["imFileEvent"].Cols["EventType"] = column{
		X:    query.Call{Name: "kql_file_event_type", Args: []query.Expr{query.Field{Path: "event.type"}}},
		Type: tyString,
		Doc:  "from `event.type`: creation → FileCreated, deletion → FileDeleted, change → FileModified, rename → FileRenamed, access → FileAccessed",
	}
	for _, t := range tables {
		t.Order = sortedKeys(t.Cols)
	}
}

// unmapped are real ASIM columns of these tables that firewarden has no
// ECS field for: a query naming one is refused by name (a typo is an
// error, as in Kusto).
var unmapped = map[string]bool{
	"TargetProcessFileCompany": true, "TargetProcessFileDescription": true, "TargetProcessFileProduct": true,
	"TargetProcessFileVersion": true, "TargetProcessFileOriginalName": true, "TargetProcessIntegrityLevel": true,
	"TargetProcessTokenElevation": true, "TargetProcessIMPHASH": true, "TargetProcessSHA512": true,
	"TargetUserSessionId": true, "TargetUserType": true, "TargetUsernameType": true, "TargetUserIdType": true,
	"ActingProcessFileCompany": true, "ActingProcessIntegrityLevel": true, "ActingProcessSHA256": true,
	"ActingProcessMD5": true, "ActingProcessSHA1": true, "ActorUserId": true, "ActorUserType": true,
	"ActorSessionId": true, "ActorUsernameType": true, "ActorUserIdType": true, "DvcDomain": true, "DvcFQDN": true,
	"DvcMacAddr": true, "DvcZone": true, "DvcAction": true, "DvcOriginalAction": true, "EventCount": true,
	"EventMessage": true, "EventOriginalType": true, "EventOriginalUid": true, "EventSeverity": true,
	"EventSchema": true, "EventSchemaVersion": true, "EventOriginalResultDetails": true, "EventResultDetails": true,
	"EventUid": true, "EventReportUrl": true, "Hash": true, "HashType": true, "Rule": true, "RuleName": true,
	"RuleNumber": true, "ThreatId": true, "ThreatName": true, "SrcFilePath": true, "SrcFileName": true,
	"SrcFileDirectory": true, "SrcIpAddr": true, "TargetFileCreationTime": true, "TargetFileSize": true,
	"TargetFileMimeType": true, "TargetUrl": true, "Type": true, "_ResourceId": true, "_SubscriptionId": true,
}
