package kql

import (
	"time"

	"github.com/firewarden/firewarden/query"
)

// Query is a parsed KQL query: let statements, then one tabular
// expression: a table and its pipeline of operators.
type Query struct {
	Lets  []*Let
	Table Ident
	Ops   []Op
}

// Let binds a name to a scalar expression (let x = …;).
type Let struct {
	Pos   query.Pos
	Name  string
	Value Expr
}

// Op is one tabular operator after a pipe.
type Op interface{ opPos() query.Pos }

// Where keeps the rows for which Cond is true (where, filter).
type Where struct {
	Pos  query.Pos
	Cond Expr
}

// Extend adds computed columns.
type Extend struct {
	Pos   query.Pos
	Items []Item
}

// Project keeps (and computes) the columns listed.
type Project struct {
	Pos   query.Pos
	Items []Item
}

// ProjectAway drops columns.
type ProjectAway struct {
	Pos   query.Pos
	Names []Ident
}

// ProjectRename renames columns: Item.Name is the new name, Item.X the
// old column (an Ident).
type ProjectRename struct {
	Pos   query.Pos
	Items []Item
}

// Summarize aggregates rows into groups.
type Summarize struct {
	Pos  query.Pos
	Aggs []Item
	By   []Item
}

// ParseOp extracts columns from a string expression by a pattern.
type ParseOp struct {
	Pos   query.Pos
	Kind  string // simple (default) or regex
	Flags string
	Src   Expr
	Elems []ParseElem
}

// ParseElem is one element of a parse pattern: `*`, a string constant or
// a column with an optional type.
type ParseElem struct {
	Pos  query.Pos
	Star bool
	Lit  *string
	Col  string
	Type string
}

// Item is `[Name =] X`.
type Item struct {
	Pos  query.Pos
	Name string
	X    Expr
}

func (o *Where) opPos() query.Pos         { return o.Pos }
func (o *Extend) opPos() query.Pos        { return o.Pos }
func (o *Project) opPos() query.Pos       { return o.Pos }
func (o *ProjectAway) opPos() query.Pos   { return o.Pos }
func (o *ProjectRename) opPos() query.Pos { return o.Pos }
func (o *Summarize) opPos() query.Pos     { return o.Pos }
func (o *ParseOp) opPos() query.Pos       { return o.Pos }

// Expr is a scalar expression.
type Expr interface{ exprPos() query.Pos }

type (
	// Ident names a column, a let-bound value or a table.
	Ident struct {
		Pos  query.Pos
		Name string
	}
	// StrLit is a string literal.
	StrLit struct {
		Pos query.Pos
		V   string
	}
	// IntLit is an integer literal.
	IntLit struct {
		Pos query.Pos
		V   int64
	}
	// RealLit is a real literal.
	RealLit struct {
		Pos query.Pos
		V   float64
	}
	// BoolLit is true or false.
	BoolLit struct {
		Pos query.Pos
		V   bool
	}
	// TimespanLit is 1h, 30m, time(1d)…
	TimespanLit struct {
		Pos query.Pos
		D   time.Duration
	}
	// Call is a function call: name(args).
	Call struct {
		Pos  query.Pos
		Name string
		Args []Expr
	}
	// Binary is L op R: and, or, comparisons and the string operators
	// (Op as written: "contains", "!has_cs", "in~", "matches regex"…).
	Binary struct {
		Pos  query.Pos
		Op   string
		L, R Expr
	}
	// List is a parenthesised list (the right side of in, has_any…) or
	// dynamic([…]).
	List struct {
		Pos   query.Pos
		Items []Expr
	}
	// Between is X between (Lo .. Hi), or !between.
	Between struct {
		Pos       query.Pos
		Not       bool
		X, Lo, Hi Expr
	}
)

func (x *Ident) exprPos() query.Pos       { return x.Pos }
func (x *StrLit) exprPos() query.Pos      { return x.Pos }
func (x *IntLit) exprPos() query.Pos      { return x.Pos }
func (x *RealLit) exprPos() query.Pos     { return x.Pos }
func (x *BoolLit) exprPos() query.Pos     { return x.Pos }
func (x *TimespanLit) exprPos() query.Pos { return x.Pos }
func (x *Call) exprPos() query.Pos        { return x.Pos }
func (x *Binary) exprPos() query.Pos      { return x.Pos }
func (x *List) exprPos() query.Pos        { return x.Pos }
func (x *Between) exprPos() query.Pos     { return x.Pos }
