// Package spl compiles the Splunk SPL that Splunk's ESCU detections use
// into the query IR: tstats over the CIM Endpoint data models, raw
// searches of the linux:audit sourcetype, and the streaming commands and
// stats after them (docs/spl.md says exactly what runs and what is
// refused).
//
// Parse (parser.go) expands macros (macro.go) and turns the search into
// commands with positions; Compile (compile.go) lowers them to the IR,
// mapping CIM and auditd field names onto ECS (cim.go), and refuses by
// name every construct firewarden does not run.
package spl

import "github.com/firewarden/firewarden/query"

// Options tune parsing and compilation.
type Options struct {
	// Base is where the search text starts (file, line, column), so
	// errors point into the file that holds it.
	Base query.Pos
	// Macros are the macro definitions (nil: Builtin only). An undefined
	// macro whose name ends in _filter means `search *`.
	Macros *Macros
}
