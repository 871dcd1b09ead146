package eql

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/firewarden/firewarden/query"
)

// The AST mirrors the surface syntax closely enough that the compiler can
// refuse a construct by the name the user wrote, and that String() can
// print it back so that parsing the print gives the same tree.
//
// Statement-like nodes (Query, EventQuery, Step, Pipe, Duration) carry
// their position in a field named Pos; expression nodes carry it in At and
// expose it through the Expr interface's Pos method.

// QueryKind says which kind of query a Query is.
type QueryKind int

const (
	EventKind    QueryKind = iota // category where expr
	SequenceKind                  // sequence [by k] [with maxspan=N] [q]... [until [q]]
	SampleKind                    // sample [by k] [q]...
	JoinKind                      // Python eql's join [by k] [q]... [until [q]]
)

func (k QueryKind) String() string {
	switch k {
	case EventKind:
		return "event query"
	case SequenceKind:
		return "sequence"
	case SampleKind:
		return "sample"
	case JoinKind:
		return "join"
	}
	return "unknown query kind"
}

// Query is a whole EQL query: an event query, sequence, sample or join,
// followed by pipes.
type Query struct {
	Kind  QueryKind
	Event *EventQuery // EventKind only
	// By holds the keys shared by every step (`sequence by a, b`), for
	// sequences, samples and joins.
	By []Expr
	// MaxSpan is `with maxspan=N unit` of a sequence, nil when absent.
	MaxSpan *Duration
	Steps   []*Step // sequences, samples and joins
	Until   *Step   // `until [q]` of a sequence or join, nil when absent
	Pipes   []*Pipe
	Pos     query.Pos // the first token of the query
}

// EventQuery is `category where condition`. Category is "any" for the any
// keyword; a quoted category is stored unquoted.
type EventQuery struct {
	Category    string
	CategoryPos query.Pos
	// CategoryQuote is how a quoted category was written (NoQuote for a
	// name or any), so that the compiler can refuse 'single' quotes.
	CategoryQuote Quote
	Where         Expr
	Pos           query.Pos
}

// Step is one bracketed step of a sequence, sample or join.
type Step struct {
	Query *EventQuery
	By    []Expr
	// Missing marks a missing-event step, `![q]`: the sequence matches
	// only when no such event occurs there.
	Missing bool
	// Runs is N of `with runs=N`; zero when absent.
	Runs    int
	RunsPos query.Pos // where N is, when Runs is set
	Pos     query.Pos // the opening bracket (or the ! before it)
}

// Duration is a time value such as `maxspan=10s`, kept as written: Value
// is the number and Unit the unit as spelt ("" when missing; the compiler
// decides what is valid).
type Duration struct {
	Value int64
	Unit  string
	Pos   query.Pos
}

// Pipe is `| name args...`. Pipes are kept generically so that the
// compiler can refuse those Elasticsearch does not run by name.
type Pipe struct {
	Name    string
	NamePos query.Pos
	Args    []Expr
	Pos     query.Pos // the | token
}

// Expr is an expression node.
type Expr interface {
	Pos() query.Pos
	String() string
	exprNode()
}

// Binary is a binary operator: "and", "or", "==", "!=", "<", "<=", ">",
// ">=", ":", "like", "like~", "regex", "regex~", "+", "-", "*", "/", "%",
// and two forms only older dialects have: "=" (equality in Elasticsearch
// 7.x and Python eql) and "!:" (not ":", in Python eql and early
// Elasticsearch).
// For ":", like and regex with one pattern Y is that pattern; with a
// parenthesised list the parser builds a Match instead.
type Binary struct {
	Op   string
	X, Y Expr
	At   query.Pos // the operator
}

// Match is `x : ("a", "b")`, `x like~ ("a", "b")`, `x regex ("a", "b")`:
// a pattern operator over a parenthesised list. Op is ":", "like",
// "like~", "regex", "regex~" or "!:".
type Match struct {
	X        Expr
	Op       string
	Patterns []Expr
	At       query.Pos // the operator
}

// In is `x in (a, b)`, `x in~ (a, b)`, `x not in (a, b)`, `x not in~ (…)`.
type In struct {
	X    Expr
	List []Expr
	Not  bool
	Fold bool      // in~
	At   query.Pos // the in (or the not of not in)
}

// Unary is a prefix operator: "not", "-" or "+".
type Unary struct {
	Op string
	X  Expr
	At query.Pos
}

// FieldRef is a field reference such as process.parent.name, ?field, or
// `my field`.x. Path is Parts joined by dots. Index holds array indexes
// (Python eql's a[0].b) in order, and IndexAt[i] is how many parts precede
// Index[i]; Elasticsearch has no indexes, so the compiler refuses them.
type FieldRef struct {
	Path     string
	Parts    []string
	Optional bool // ?field: a missing field is null, not an error
	// Quoted[i] is true when Parts[i] was written with backticks; only
	// the printer needs it.
	Quoted  []bool
	Index   []int
	IndexAt []int
	At      query.Pos
}

// LitKind is the kind of a Literal.
type LitKind int

const (
	StringLit LitKind = iota
	IntLit
	FloatLit
	BoolLit
	NullLit
)

func (k LitKind) String() string {
	switch k {
	case StringLit:
		return "string"
	case IntLit:
		return "integer"
	case FloatLit:
		return "decimal"
	case BoolLit:
		return "boolean"
	case NullLit:
		return "null"
	}
	return "unknown literal"
}

// Quote is how a string literal was written.
type Quote int

const (
	NoQuote        Quote = iota // not a string
	DoubleQuote                 // "a\tb": escapes processed
	RawQuote                    // """a\tb""": no escapes
	SingleQuote                 // 'a': Python eql; Elasticsearch refuses it
	PythonRawQuote              // ?"a\b" or ?'a\b': Python eql's raw string; Elasticsearch refuses it
)

func (q Quote) String() string {
	switch q {
	case NoQuote:
		return "unquoted"
	case DoubleQuote:
		return "double-quoted"
	case RawQuote:
		return `"""raw"""`
	case SingleQuote:
		return "single-quoted"
	case PythonRawQuote:
		return `?"raw"`
	}
	return "unknown quote"
}

// Literal is a constant. Str holds a string's value after escapes; Int,
// Float and Bool the other kinds' values.
type Literal struct {
	Kind  LitKind
	Str   string
	Int   int64
	Float float64
	Bool  bool
	Quote Quote
	At    query.Pos
}

// Call is a function call, name(args) or name~(args). Name is kept as
// written; function names are case-insensitive and the compiler lowers
// them.
type Call struct {
	Name string
	Fold bool // name~(...)
	Args []Expr
	At   query.Pos
}

// Relationship is Python eql's lineage test inside a where:
// `descendant of [q]`, `child of [q]`, `event of [q]`. Kind is
// "descendant", "child" or "event". Elasticsearch has none of them.
type Relationship struct {
	Kind  string
	Query *EventQuery
	At    query.Pos
}

func (x *Binary) Pos() query.Pos       { return x.At }
func (x *Match) Pos() query.Pos        { return x.At }
func (x *In) Pos() query.Pos           { return x.At }
func (x *Unary) Pos() query.Pos        { return x.At }
func (x *FieldRef) Pos() query.Pos     { return x.At }
func (x *Literal) Pos() query.Pos      { return x.At }
func (x *Call) Pos() query.Pos         { return x.At }
func (x *Relationship) Pos() query.Pos { return x.At }

func (*Binary) exprNode()       {}
func (*Match) exprNode()        {}
func (*In) exprNode()           {}
func (*Unary) exprNode()        {}
func (*FieldRef) exprNode()     {}
func (*Literal) exprNode()      {}
func (*Call) exprNode()         {}
func (*Relationship) exprNode() {}

// Printing. String() gives canonical EQL text: parsing it again yields the
// same tree (positions aside). Operators are parenthesised only where
// precedence requires it, so the print reads like hand-written EQL.

// Precedence levels, lowest first; a child binds at least as tightly as
// its parent wants or it is parenthesised.
const (
	precOr = iota + 1
	precAnd
	precNot
	precCmp
	precAdd
	precMul
	precUnary
	precPrimary
)

func prec(x Expr) int {
	switch x := x.(type) {
	case *Binary:
		switch x.Op {
		case "or":
			return precOr
		case "and":
			return precAnd
		case "+", "-":
			return precAdd
		case "*", "/", "%":
			return precMul
		}
		return precCmp
	case *Match, *In:
		return precCmp
	case *Unary:
		if x.Op == "not" {
			return precNot
		}
		return precUnary
	case *Relationship:
		// `descendant of [q]` is a whole condition; parenthesise it under
		// any operator so its bracket reads unambiguously.
		return precCmp
	}
	return precPrimary
}

func (q *Query) String() string {
	var b strings.Builder
	q.print(&b)
	return b.String()
}

func (q *Query) print(b *strings.Builder) {
	switch q.Kind {
	case EventKind:
		q.Event.print(b)
	case SequenceKind, SampleKind, JoinKind:
		b.WriteString(map[QueryKind]string{SequenceKind: "sequence", SampleKind: "sample", JoinKind: "join"}[q.Kind])
		if len(q.By) > 0 {
			b.WriteString(" by ")
			printList(b, q.By)
		}
		if q.MaxSpan != nil {
			b.WriteString(" with maxspan=")
			b.WriteString(q.MaxSpan.String())
		}
		for _, s := range q.Steps {
			b.WriteString("\n  ")
			s.print(b)
		}
		if q.Until != nil {
			b.WriteString("\nuntil ")
			q.Until.print(b)
		}
	}
	for _, p := range q.Pipes {
		b.WriteString("\n| ")
		p.print(b)
	}
}

func (e *EventQuery) String() string {
	var b strings.Builder
	e.print(&b)
	return b.String()
}

func (e *EventQuery) print(b *strings.Builder) {
	switch {
	case e.CategoryQuote != NoQuote:
		quoteString(b, e.Category, e.CategoryQuote)
	case e.Category == "any" || isIdent(e.Category):
		b.WriteString(e.Category)
	default:
		quoteString(b, e.Category, DoubleQuote)
	}
	b.WriteString(" where ")
	printExpr(b, e.Where, 0)
}

func (s *Step) String() string {
	var b strings.Builder
	s.print(&b)
	return b.String()
}

func (s *Step) print(b *strings.Builder) {
	if s.Missing {
		b.WriteByte('!')
	}
	b.WriteByte('[')
	s.Query.print(b)
	b.WriteByte(']')
	if len(s.By) > 0 {
		b.WriteString(" by ")
		printList(b, s.By)
	}
	if s.Runs != 0 {
		b.WriteString(" with runs=")
		b.WriteString(strconv.Itoa(s.Runs))
	}
}

func (d *Duration) String() string {
	s := strconv.FormatInt(d.Value, 10)
	return s + d.Unit
}

func (p *Pipe) String() string {
	var b strings.Builder
	p.print(&b)
	return b.String()
}

func (p *Pipe) print(b *strings.Builder) {
	b.WriteString(p.Name)
	for i, a := range p.Args {
		if i == 0 {
			b.WriteByte(' ')
		} else {
			b.WriteString(", ")
		}
		printExpr(b, a, 0)
	}
}

func printList(b *strings.Builder, xs []Expr) {
	for i, x := range xs {
		if i > 0 {
			b.WriteString(", ")
		}
		printExpr(b, x, 0)
	}
}

// printExpr prints x, parenthesised when it binds more loosely than min.
func printExpr(b *strings.Builder, x Expr, min int) {
	if x == nil {
		b.WriteString("<nil>")
		return
	}
	if prec(x) < min {
		b.WriteByte('(')
		printExpr(b, x, 0)
		b.WriteByte(')')
		return
	}
	switch x := x.(type) {
	case *Binary:
		p := prec(x)
		right := p + 1
		if p == precCmp {
			// Comparisons do not chain: both sides are arithmetic.
			printExpr(b, x.X, precAdd)
			right = precAdd
		} else {
			printExpr(b, x.X, p)
		}
		if x.Op == ":" {
			b.WriteString(" : ")
		} else {
			b.WriteByte(' ')
			b.WriteString(x.Op)
			b.WriteByte(' ')
		}
		printExpr(b, x.Y, right)
	case *Match:
		printExpr(b, x.X, precAdd)
		b.WriteByte(' ')
		b.WriteString(x.Op)
		b.WriteString(" (")
		printList(b, x.Patterns)
		b.WriteByte(')')
	case *In:
		printExpr(b, x.X, precAdd)
		if x.Not {
			b.WriteString(" not")
		}
		b.WriteString(" in")
		if x.Fold {
			b.WriteByte('~')
		}
		b.WriteString(" (")
		printList(b, x.List)
		b.WriteByte(')')
	case *Unary:
		b.WriteString(x.Op)
		if x.Op == "not" {
			b.WriteByte(' ')
			printExpr(b, x.X, precNot)
			return
		}
		// A space keeps "- -1" from reading as a decrement-like "--1"
		// and "-1" (a literal) apart from -(1) (a negation).
		b.WriteByte(' ')
		printExpr(b, x.X, precUnary)
	case *FieldRef:
		x.print(b)
	case *Literal:
		x.print(b)
	case *Call:
		b.WriteString(x.Name)
		if x.Fold {
			b.WriteByte('~')
		}
		b.WriteByte('(')
		printList(b, x.Args)
		b.WriteByte(')')
	case *Relationship:
		b.WriteString(x.Kind)
		b.WriteString(" of [")
		x.Query.print(b)
		b.WriteByte(']')
	}
}

func (x *Binary) String() string       { return exprString(x) }
func (x *Match) String() string        { return exprString(x) }
func (x *In) String() string           { return exprString(x) }
func (x *Unary) String() string        { return exprString(x) }
func (x *FieldRef) String() string     { return exprString(x) }
func (x *Literal) String() string      { return exprString(x) }
func (x *Call) String() string         { return exprString(x) }
func (x *Relationship) String() string { return exprString(x) }

func exprString(x Expr) string {
	var b strings.Builder
	printExpr(&b, x, 0)
	return b.String()
}

func (f *FieldRef) print(b *strings.Builder) {
	if f.Optional {
		b.WriteByte('?')
	}
	k := 0
	for i, p := range f.Parts {
		for ; k < len(f.Index) && f.IndexAt[k] <= i; k++ {
			fmt.Fprintf(b, "[%d]", f.Index[k])
		}
		if i > 0 {
			b.WriteByte('.')
		}
		if (i < len(f.Quoted) && f.Quoted[i]) || !isIdent(p) {
			b.WriteByte('`')
			b.WriteString(strings.ReplaceAll(p, "`", "``"))
			b.WriteByte('`')
		} else {
			b.WriteString(p)
		}
	}
	for ; k < len(f.Index); k++ {
		fmt.Fprintf(b, "[%d]", f.Index[k])
	}
}

func (l *Literal) print(b *strings.Builder) {
	switch l.Kind {
	case StringLit:
		quoteString(b, l.Str, l.Quote)
	case IntLit:
		b.WriteString(strconv.FormatInt(l.Int, 10))
	case FloatLit:
		s := strconv.FormatFloat(l.Float, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eEIN") {
			s += ".0" // keep it a decimal when read back
		}
		b.WriteString(s)
	case BoolLit:
		b.WriteString(strconv.FormatBool(l.Bool))
	case NullLit:
		b.WriteString("null")
	}
}

// quoteString writes s in the quoting form q, escaping as that form needs.
// Raw forms cannot hold every string; the parser only produces raw values
// that their form can hold, so printing them verbatim round-trips.
func quoteString(b *strings.Builder, s string, q Quote) {
	switch q {
	case RawQuote:
		b.WriteString(`"""`)
		b.WriteString(s)
		b.WriteString(`"""`)
		return
	case PythonRawQuote:
		// A Python raw string keeps backslashes, and a backslash before
		// the delimiter keeps it from ending the string; s came from one
		// of the two delimiters, so one of them holds it verbatim.
		d := byte('"')
		if hasUnescaped(s, '"') {
			d = '\''
		}
		b.WriteByte('?')
		b.WriteByte(d)
		b.WriteString(s)
		b.WriteByte(d)
		return
	}
	d := byte('"')
	if q == SingleQuote {
		d = '\''
	}
	b.WriteByte(d)
	for _, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case rune(d):
			b.WriteByte('\\')
			b.WriteByte(d)
		default:
			// 'single' quotes have no \u{…}: keep the character itself.
			if (r < 0x20 || r == 0x7f) && q != SingleQuote {
				fmt.Fprintf(b, `\u{%02x}`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte(d)
}
