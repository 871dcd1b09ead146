package kuery

import (
	"strconv"
	"strings"

	"github.com/firewarden/firewarden/query"
)

// Node is a node of the AST both languages parse to. The Lucene parser
// resolves its clause occurrences (+, -, NOT, AND, OR and the default OR)
// into And, Or and Not as Lucene's BooleanQuery evaluates them, so one
// compiler serves both languages.
type Node interface {
	Pos() query.Pos
	String() string // a canonical form, for tests and messages
}

// Bool is a conjunction (Op "and") or a disjunction (Op "or").
type Bool struct {
	Op string
	X  []Node
	P  query.Pos
}

// Not is true where X is false, missing fields included (Elasticsearch's
// must_not).
type Not struct {
	X Node
	P query.Pos
}

// MatchAll matches every event: an empty KQL query, `*:*`.
type MatchAll struct{ P query.Pos }

// Nested is KQL's `path:{ query }` over a nested field.
type Nested struct {
	Path string
	X    Node
	P    query.Pos
}

// TermKind is what a Term tests.
type TermKind uint8

const (
	Exact    TermKind = iota // the whole value equals Text
	Wildcard                 // the whole value matches the glob Text (* any run, ? one character, \ escapes)
	Regexp                   // the whole value matches the Lucene regular expression Text
	Exists                   // the field has a value
	Range                    // the value lies between Lo and Hi
)

// Term is one field test. Field is "" for a value with no field, which
// searches every field.
type Term struct {
	Field    string
	FieldPos query.Pos
	Kind     TermKind
	Text     string
	Quoted   bool // a quoted phrase (Exact)
	// Ranges: a nil bound is open.
	Lo, Hi         *Bound
	LoIncl, HiIncl bool
	P              query.Pos
}

// Bound is one end of a range.
type Bound struct {
	Text   string
	Quoted bool
	P      query.Pos
}

func (n *Bool) Pos() query.Pos     { return n.P }
func (n *Not) Pos() query.Pos      { return n.P }
func (n *MatchAll) Pos() query.Pos { return n.P }
func (n *Nested) Pos() query.Pos   { return n.P }
func (n *Term) Pos() query.Pos     { return n.P }

func (n *Bool) String() string {
	var b strings.Builder
	b.WriteString("(" + n.Op)
	for _, x := range n.X {
		b.WriteString(" " + x.String())
	}
	b.WriteString(")")
	return b.String()
}

func (n *Not) String() string      { return "(not " + n.X.String() + ")" }
func (n *MatchAll) String() string { return "all" }
func (n *Nested) String() string   { return "(nested " + n.Path + " " + n.X.String() + ")" }

func (n *Term) String() string {
	f := n.Field
	if f == "" {
		f = "_"
	}
	switch n.Kind {
	case Exact:
		if n.Quoted {
			return f + ":phrase" + strconv.Quote(n.Text)
		}
		return f + ":" + strconv.Quote(n.Text)
	case Wildcard:
		return f + ":glob" + strconv.Quote(n.Text)
	case Regexp:
		return f + ":/" + n.Text + "/"
	case Exists:
		return f + ":exists"
	}
	s := f + ":"
	if n.LoIncl {
		s += "["
	} else {
		s += "{"
	}
	s += n.Lo.String() + " TO " + n.Hi.String()
	if n.HiIncl {
		s += "]"
	} else {
		s += "}"
	}
	return s
}

func (b *Bound) String() string {
	if b == nil {
		return "*"
	}
	return strconv.Quote(b.Text)
}
