// Package kuery compiles the two query languages of Elastic's non-EQL
// detection rules into the query IR: the Kibana Query Language
// (rule.language = "kuery") and the Lucene query syntax of Elasticsearch's
// query_string query (rule.language = "lucene"), with the semantics
// Elasticsearch gives them over ECS fields.
//
// Both parsers (kql.go, lucene.go) are hand-written and produce one small
// AST (ast.go) with positions; Compile (compile.go) lowers it to the IR,
// refusing by name what firewarden does not run. docs/kuery.md describes
// the languages, the semantics and the deliberate differences.
package kuery

import (
	"github.com/firewarden/firewarden/query"
)

// Options tune compilation.
type Options struct {
	// Base is where the query text starts (file, line, column), so errors
	// point into the file that holds it (a TOML rule, say). The first line
	// of the query starts at Base.Col, later lines at column 1.
	Base query.Pos
}

// The languages, as Elastic's rule.language names them.
const (
	KQL    = "kuery"
	Lucene = "lucene"
)

// Compile parses and compiles a query of the given language ("kuery" or
// "lucene"). Errors are *query.Error (syntax) or *query.Unsupported (a
// construct firewarden refuses), positioned in the file that holds the
// query.
func Compile(src, language string, opts Options) (*query.Query, error) {
	n, err := Parse(src, language, opts.Base)
	if err != nil {
		return nil, err
	}
	x, err := compile(n)
	if err != nil {
		return nil, err
	}
	return &query.Query{Stages: []query.Stage{query.Filter{Expr: x}}}, nil
}

// Parse reads a query of the given language into the AST.
func Parse(src, language string, base query.Pos) (Node, error) {
	s := newSource(src, base)
	if err := s.checkUTF8(); err != nil {
		return nil, err
	}
	switch language {
	case KQL:
		return parseKQL(s)
	case Lucene:
		return parseLucene(s)
	}
	return nil, query.Errorf(s.pos(0), "unknown query language %q, expected %q or %q", language, KQL, Lucene)
}
