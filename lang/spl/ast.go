package spl

import "github.com/firewarden/firewarden/query"

// Search is a parsed search: its commands in order. The first is the
// initial search (a Search, or a generating command such as tstats).
type Search struct {
	Commands []Command
	Text     string // the search after macro expansion
}

// Command is one command of the pipeline.
type Command interface{ Pos() query.Pos }

// Node positions.
type node struct{ P query.Pos }

func (n node) Pos() query.Pos { return n.P }

// Expressions (of search terms and of eval/where).
type (
	Expr interface{ Pos() query.Pos }

	// Ident is a field name.
	Ident struct {
		node
		Name string
	}
	// Str is a string literal ("…") or, in search terms, a bare word.
	Str struct {
		node
		V      string
		Quoted bool
	}
	// Num is a number literal.
	Num struct {
		node
		Text string
	}
	// Binary is a binary operator: AND OR XOR, comparisons (= == != < <= >
	// >=), LIKE, arithmetic (+ - * / %) and concatenation (.).
	Binary struct {
		node
		Op   string
		L, R Expr
	}
	// Unary is NOT or unary minus.
	Unary struct {
		node
		Op string
		X  Expr
	}
	// Call is a function call.
	Call struct {
		node
		Name string
		Args []Expr
	}
	// In is field IN (values…).
	In struct {
		node
		X      Expr
		Values []Expr
	}

	// Search terms.

	// Term is a bare search term (a keyword matched anywhere in the event).
	Term struct {
		node
		Text   string
		Quoted bool
	}
	// FieldTerm is field OP value in a search (field=value, field!=value,
	// field<value …): values are case-insensitive, * is a wildcard.
	FieldTerm struct {
		node
		Field  string
		Op     string
		Value  string
		Quoted bool
	}
	// FieldIn is field IN (v1, v2 …) in a search.
	FieldIn struct {
		node
		Field  string
		Values []string
	}
)

// Commands.
type (
	// SearchCmd is the initial search or the search command: nil X is *.
	SearchCmd struct {
		node
		X Expr
	}
	// Tstats is | tstats opts aggs from datamodel=M where … by … .
	Tstats struct {
		node
		Opts      map[string]string
		Aggs      []Agg
		DataModel string
		Where     Expr
		By        []ByField
	}
	// Stats is stats aggs by fields.
	Stats struct {
		node
		Aggs []Agg
		By   []ByField
	}
	// Agg is fn(field) as name.
	Agg struct {
		P     query.Pos
		Func  string
		Field string // "" for count
		As    string
	}
	// ByField is a group-by field; Span is a _time span ("10s").
	ByField struct {
		P    query.Pos
		Name string
		Span string
	}
	Where struct {
		node
		X Expr
	}
	Eval struct {
		node
		Assigns []EvalAssign
	}
	EvalAssign struct {
		P     query.Pos
		Field string
		X     Expr
	}
	Rex struct {
		node
		Field   string
		Pattern string
	}
	// Regex is the regex command: keep events whose field matches (or,
	// with Neg, does not).
	Regex struct {
		node
		Field   string
		Neg     bool
		Pattern string
	}
	Rename struct {
		node
		Pairs [][2]string
	}
	// Fields is table, or fields [+|-].
	Fields struct {
		node
		Table  bool
		Remove bool
		Names  []string
	}
	Dedup struct {
		node
		Names []string
	}
	Bin struct {
		node
		Field string
		Span  string
		As    string
	}
	Convert struct {
		node
		Funcs []ConvertFn
	}
	ConvertFn struct {
		Func, Field, As string
	}
	// Foreach runs its eval for each field matching Pattern; <<FIELD>>
	// in the body is the field's name.
	Foreach struct {
		node
		Pattern string
		Body    []Command
	}
)
