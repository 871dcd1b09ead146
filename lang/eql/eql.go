// Package eql compiles Elastic's Event Query Language, with the semantics
// of Elasticsearch (not of the Python eql library), into the query IR.
//
// Parse (parser.go) turns text into an AST with positions; Compile checks
// it and lowers it to the IR, refusing by name any construct firewarden
// does not run.
package eql

import "github.com/firewarden/firewarden/query"

// Options tune compilation.
type Options struct {
	// Base is where the query text starts (file, line, column), so errors
	// point into the file that holds it (a TOML rule, say).
	Base query.Pos
	// CaseInsensitive is Elasticsearch 7.10's case_sensitive=false request
	// mode: ==, !=, in and the string functions fold case. Only the
	// conformance suite's old specs use it.
	CaseInsensitive bool
}
