package sigma

import (
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/query"
)

// LogSource is a rule's logsource block as written.
type LogSource struct {
	Product, Category, Service, Definition string
}

// fieldStyle is how field names outside a table are mapped.
type fieldStyle uint8

const (
	verbatim    fieldStyle = iota // the name is an ECS path (syslog events, ECS-written rules)
	sysmonStyle                   // CamelCase names are Sysmon fields kept as sysmon.<Name>
	auditdStyle                   // every name is a raw audit field kept as auditd.<name>
)

// source is what a log source means to firewarden: which events a rule
// sees and how its field names map onto them.
type source struct {
	scope query.Expr
	key   string
	table map[string]string
	style fieldStyle
	// keywords are the fields a keyword search reads: the record as the
	// log source wrote it (nil: every field).
	keywords []string
}

// path maps a Sigma field name to an event path.
func (s *source) path(name string) string {
	if p, ok := s.table[name]; ok {
		return p
	}
	switch s.style {
	case auditdStyle:
		if !strings.Contains(name, ".") {
			return "auditd." + name
		}
	case sysmonStyle:
		if isSysmonName(name) {
			return "sysmon." + name
		}
	}
	return name
}

// ecsIs matches an ECS keyword field holding one of the given values;
// categorisation values are lower case by definition, so no folding.
func ecsIs(path string, vals ...string) query.Expr {
	return query.Match{Field: query.Field{Path: path}, Op: query.Equal, Values: vals}
}

// categoryScope is the ECS categorisation firewarden's sources give each
// Sigma category.
func categoryScope(cat string) (query.Expr, map[string]string, bool) {
	both := func(c, t string) query.Expr {
		return query.And{X: []query.Expr{ecsIs("event.category", c), ecsIs("event.type", t)}}
	}
	switch cat {
	case "process_creation":
		return both("process", "start"), processFields, true
	case "process_termination":
		return both("process", "end"), processFields, true
	case "network_connection":
		return ecsIs("event.category", "network"), networkFields, true
	case "file_event":
		return both("file", "creation"), fileFields, true
	case "file_delete":
		return both("file", "deletion"), fileFields, true
	}
	return nil, nil, false
}

// resolveLogSource turns a logsource block into a scope and a field map.
// Anything firewarden has no events for is refused by name.
func resolveLogSource(file string, ls LogSource, nodes map[string]*yaml.Node, ecsTaxonomy bool) (*source, error) {
	at := func(k string) query.Pos {
		if n := nodes[k]; n != nil {
			return nodePos(file, n)
		}
		return query.Pos{File: file}
	}
	product := strings.ToLower(ls.Product)
	category := strings.ToLower(ls.Category)
	service := strings.ToLower(ls.Service)
	s := &source{style: verbatim}
	var parts []query.Expr
	var key []string

	switch product {
	case "":
	case "linux":
		parts = append(parts, query.Or{X: []query.Expr{
			query.Not{X: query.Exists{Path: "host.os.type"}},
			query.Match{Field: query.Field{Path: "host.os.type"}, Op: query.Equal, Values: []string{"linux"}, Fold: true},
		}})
	case "windows", "macos":
		parts = append(parts, query.Match{Field: query.Field{Path: "host.os.type"}, Op: query.Equal, Values: []string{product}, Fold: true})
	default:
		return nil, &query.Unsupported{Pos: at("product"), Construct: "log source product " + ls.Product, Why: "firewarden reads Linux, Windows and macOS host telemetry only"}
	}
	if product != "" {
		key = append(key, product)
	}

	if category != "" {
		scope, table, ok := categoryScope(category)
		if !ok {
			return nil, &query.Unsupported{Pos: at("category"), Construct: "log source category " + ls.Category, Why: "no firewarden source produces these events"}
		}
		parts = append(parts, scope)
		s.table, s.style = table, sysmonStyle
		key = append(key, category)
	}

	if service != "" {
		if product != "" && product != "linux" {
			return nil, &query.Unsupported{Pos: at("service"), Construct: "log source service " + ls.Service + " for product " + ls.Product}
		}
		switch service {
		case "auditd":
			parts = append(parts, ecsIs("event.module", "auditd"))
			s.table, s.style = nil, auditdStyle
			s.keywords = []string{"auditd."}
		case "syslog":
			parts = append(parts, ecsIs("event.module", "syslog"))
			s.keywords = []string{"message"}
		default:
			progs := syslogPrograms[service]
			if progs == nil {
				progs = []string{service}
			}
			parts = append(parts, ecsIs("event.module", "syslog"),
				query.Match{Field: query.Field{Path: "process.name"}, Op: query.Equal, Values: progs, Fold: true})
			s.keywords = []string{"message"}
		}
		key = append(key, service)
	}

	if category == "" && service == "" {
		// product linux alone: any Linux log line — a syslog message or a
		// raw audit record.
		s.keywords = []string{"message", "auditd."}
	}
	if ecsTaxonomy {
		s.table, s.style = nil, verbatim
	}
	switch len(parts) {
	case 0:
	case 1:
		s.scope = parts[0]
	default:
		s.scope = flatten(query.And{X: parts})
	}
	if len(key) == 0 {
		key = []string{"any"}
	}
	s.key = "sigma:" + strings.Join(key, "/")
	return s, nil
}

// flatten merges nested And (in an And) and Or (in an Or) nodes.
func flatten(x query.Expr) query.Expr {
	switch t := x.(type) {
	case query.And:
		var xs []query.Expr
		for _, y := range t.X {
			if a, ok := y.(query.And); ok {
				xs = append(xs, a.X...)
			} else {
				xs = append(xs, y)
			}
		}
		if len(xs) == 1 {
			return xs[0]
		}
		return query.And{X: xs}
	case query.Or:
		var xs []query.Expr
		for _, y := range t.X {
			if o, ok := y.(query.Or); ok {
				xs = append(xs, o.X...)
			} else {
				xs = append(xs, y)
			}
		}
		if len(xs) == 1 {
			return xs[0]
		}
		return query.Or{X: xs}
	}
	return x
}

// litNumber is a numeric literal in the IR.
func litNumber(isInt bool, i int64, f float64) query.Lit {
	if isInt {
		return query.Lit{V: event.IntV(i)}
	}
	return query.Lit{V: event.FloatV(f)}
}
