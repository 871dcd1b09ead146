// Package query is the intermediate representation every rule language
// (Sigma, EQL, SPL, KQL) compiles to, and the engine runs.
//
// A Query is a pipeline: per-event stages (Filter, Extract, Assign) and then
// at most one stateful stage (Aggregate or Sequence). Expressions carry their
// own case rule (Fold), multi-value rule (Quant) and null rule, so each
// language's semantics survive compilation unchanged.
package query

import (
	"fmt"
	"time"

	"github.com/firewarden/firewarden/event"
)

// Pos is a position in a rule's source text. Line and Col are 1-based; zero
// means unknown.
type Pos struct {
	File      string
	Line, Col int
}

func (p Pos) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Error is a positioned error: "file:line:col: msg".
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string {
	if s := e.Pos.String(); s != "" {
		return s + ": " + e.Msg
	}
	return e.Msg
}

// Errorf makes a positioned error.
func Errorf(p Pos, format string, args ...any) *Error {
	return &Error{Pos: p, Msg: fmt.Sprintf(format, args...)}
}

// Unsupported is returned when a rule uses a construct firewarden refuses to
// run rather than approximate. Construct names it as the rule's language does.
type Unsupported struct {
	Pos       Pos
	Construct string
	Why       string
}

func (e *Unsupported) Error() string {
	msg := "unsupported: " + e.Construct
	if e.Why != "" {
		msg += " (" + e.Why + ")"
	}
	if s := e.Pos.String(); s != "" {
		return s + ": " + msg
	}
	return msg
}

// Query is one compiled rule body.
type Query struct {
	// Scope selects the events the rule may see at all (a Sigma log source,
	// an EQL event category, a SPL data model). The engine evaluates each
	// distinct scope once per event, keyed by ScopeKey. Nil means every event.
	Scope    Expr
	ScopeKey string
	Stages   []Stage
	// Index lists the index patterns the rule reads (Elastic's `index`,
	// globs such as "logs-endpoint.events.*"). The engine honours them only
	// in strict-index mode; empty means every event.
	Index []string
}

// Stage is one step of the pipeline.
type Stage interface{ stage() }

// Filter keeps events for which Expr is true.
type Filter struct{ Expr Expr }

// Extract applies a regular expression (RE2 syntax) to a field and stores
// its named captures as fields. A non-matching event passes unchanged.
type Extract struct {
	Field string
	Regex string
}

// Assign stores the value of an expression in a field.
type Assign struct {
	Field string
	Value Expr
}

// Aggregate groups events and emits a result per group when Having holds
// (Sigma correlations, Elastic threshold rules, SPL stats, KQL summarize).
//
// Window is a sliding window on event time: a group's state covers the
// events whose time is within Window of the newest one. Events that arrive
// up to Tolerance older than the newest seen are still counted (out-of-order
// input); older ones are counted as late and dropped. When Having first
// holds for a group the engine emits one result and starts that group
// afresh, so one burst raises one alert.
type Aggregate struct {
	// Inputs are the event streams aggregated: one per referenced rule of
	// a Sigma correlation, each with its own filter and group-by (Sigma's
	// aliases). Empty means the events that reached this stage.
	Inputs  []AggInput
	GroupBy []Expr // used when Inputs is empty
	// Names are the output field names of the group-by values, in order
	// (a Sigma alias, the SPL by-field as written).
	Names     []string
	Window    time.Duration // 0: the rule's schedule decides
	Tolerance time.Duration
	Funcs     []AggFunc
	// Having tests the group: its expressions read the aggregates by
	// their As names and the group-by values by their Names, as Fields.
	Having Expr
	// Ordered requires the inputs to occur in order (Sigma
	// temporal_ordered): input i counts only after input i-1 has.
	Ordered bool
}

// AggInput is one input stream of an Aggregate.
type AggInput struct {
	Name    string // the referenced rule's id or name
	Filter  Expr
	GroupBy []Expr
}

// AggFunc is one aggregate: count, distinct (count of distinct values),
// values (the distinct values), min, max, sum, avg, percentile (Arg is
// the rank, 0-100), inputs (count of distinct inputs that matched: Sigma
// temporal). Field is nil for count and inputs.
type AggFunc struct {
	Name  string
	Field Expr    // nil for count() and inputs()
	As    string  // output field name
	Arg   float64 // percentile rank
}

// Sequence matches ordered steps joined by keys within MaxSpan.
type Sequence struct {
	By      []Expr
	MaxSpan time.Duration
	Steps   []Step
	Until   Expr
	UntilBy []Expr // the until step's own join keys, after By
}

// Step is one element of a sequence or a sample.
type Step struct {
	Filter  Expr
	By      []Expr
	Missing bool // ![ ... ]: the step must not occur
	Runs    int  // with runs=N: the step repeats N times
	Pos     Pos
}

// Sample finds, per join key, one event for each step in any order (EQL's
// sample). MaxPerKey bounds the samples kept per key (0: one).
type Sample struct {
	By        []Expr
	Steps     []Step
	MaxPerKey int
}

// Limit keeps the first (or, with Tail, the last) N results of the rule
// over the whole input (EQL's head and tail pipes).
type Limit struct {
	N    int
	Tail bool
}

func (Filter) stage()    {}
func (Extract) stage()   {}
func (Assign) stage()    {}
func (Aggregate) stage() {}
func (Sequence) stage()  {}
func (Sample) stage()    {}
func (Limit) stage()     {}

// Expr is a boolean or value expression.
type Expr interface{ expr() }

// Boolean structure.
type (
	And   struct{ X []Expr }
	Or    struct{ X []Expr }
	Not   struct{ X Expr }
	Const struct{ V bool }
	// Named labels a sub-expression (a Sigma selection, say) so an alert can
	// say which parts of the query matched. It does not change evaluation.
	Named struct {
		Name string
		X    Expr
	}
)

// Values.
type (
	// Field reads an event field. An Optional field (EQL ?field) that is not
	// in the schema is not an error.
	Field struct {
		Path     string
		Optional bool
	}
	// Lit is a constant.
	Lit struct{ V event.Value }
	// Call is a function; Fold selects the case-insensitive variant (EQL fn~).
	Call struct {
		Name string
		Args []Expr
		Fold bool
	}
)

// MatchOp is how Match compares a field's text with a pattern.
type MatchOp uint8

const (
	Equal    MatchOp = iota // the whole value
	Contains                // substring
	Prefix                  // starts with
	Suffix                  // ends with
	Glob                    // * any run, ? one character, \ escapes the next
	Regex                   // RE2; flags inside the pattern, e.g. (?i)
	CIDR                    // an IP address inside a network
	Term                    // a whole term, as Kusto's has tokenises
)

var matchOpNames = [...]string{"equal", "contains", "prefix", "suffix", "glob", "regex", "cidr", "term"}

func (o MatchOp) String() string {
	if int(o) < len(matchOpNames) {
		return matchOpNames[o]
	}
	return fmt.Sprintf("matchop(%d)", o)
}

// Quant is the multi-value rule: how a predicate over a multi-valued field
// combines the per-value results.
type Quant uint8

const (
	Any   Quant = iota // true if any value matches (Elasticsearch, Sigma)
	Every              // true if every value matches (and there is one)
)

// Match tests a field's value against literal patterns. Patterns are ORed,
// or ANDed when All is set. Values are compared as text: numbers and
// booleans in their shortest form. An absent or null field never matches.
type Match struct {
	Field  Expr
	Op     MatchOp
	Values []string
	All    bool
	Fold   bool // case-insensitive
	Quant  Quant
}

// CmpOp is a comparison between two values.
type CmpOp uint8

const (
	Eq CmpOp = iota
	Ne
	Lt
	Le
	Gt
	Ge
)

var cmpNames = [...]string{"==", "!=", "<", "<=", ">", ">="}

func (o CmpOp) String() string { return cmpNames[o] }

// Compare compares two value expressions. Numbers compare numerically
// (a string holding a number compares as that number against a number);
// strings compare by bytes, or folded when Fold is set. When either side is
// absent or null the result is Null (false by default).
type Compare struct {
	Op    CmpOp
	L, R  Expr
	Fold  bool
	Quant Quant
	Null  bool // the result when a side is absent or null
}

// Exists is true when the field is present with a non-null value.
type Exists struct{ Path string }

// Keyword searches every string value of the event (Sigma keywords, SPL
// bare terms). Patterns are globs matched anywhere in a value.
type Keyword struct {
	Values []string
	All    bool
	Fold   bool
	// Fields limits the search to paths equal to, or under, one of these
	// ("auditd." covers every raw audit field); empty means every field.
	// A keyword stands for text in the original record, so a language
	// scopes it to the fields that carry that record, not derived ones.
	Fields []string
}

// Truthy turns a value expression into a predicate: true when the value
// is the boolean true (EQL's bare function calls, SPL's where).
type Truthy struct{ X Expr }

func (And) expr()     {}
func (Or) expr()      {}
func (Not) expr()     {}
func (Const) expr()   {}
func (Named) expr()   {}
func (Field) expr()   {}
func (Lit) expr()     {}
func (Call) expr()    {}
func (Match) expr()   {}
func (Compare) expr() {}
func (Exists) expr()  {}
func (Keyword) expr() {}
func (Truthy) expr()  {}
