// Package kql compiles Microsoft Sentinel's KQL (the Kusto Query
// Language, as Sentinel analytic rules over ASIM parsers use it) into the
// query IR. It is not Kibana's KQL (package kuery).
//
// Parse (parser.go) turns text into an AST with positions; Compile checks
// it against the ASIM tables firewarden serves (tables.go: imProcessCreate
// and imFileEvent over ECS events) and lowers it to the IR with Kusto's
// semantics, refusing by name any construct firewarden does not run.
// docs/kql.md is the user-facing account.
package kql

import "github.com/firewarden/firewarden/query"

// Options tune compilation.
type Options struct {
	// Base is where the query text starts (file, line, column), so errors
	// point into the file that holds it (a Sentinel YAML rule, say).
	Base query.Pos
	// Indent is added to the column of every line after the first: the
	// indentation a YAML block scalar strips from its text.
	Indent int
}
