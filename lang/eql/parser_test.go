package eql

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/firewarden/firewarden/internal/testenv"
	"github.com/firewarden/firewarden/query"
)

// sexpr renders an expression as a fully parenthesised prefix form, so
// that precedence and associativity show in the expected strings.
func sexpr(x Expr) string {
	switch x := x.(type) {
	case *Binary:
		return "(" + x.Op + " " + sexpr(x.X) + " " + sexpr(x.Y) + ")"
	case *Match:
		return "(" + x.Op + "list " + sexpr(x.X) + " " + sexprs(x.Patterns) + ")"
	case *In:
		op := "in"
		if x.Fold {
			op += "~"
		}
		if x.Not {
			op = "not-" + op
		}
		return "(" + op + " " + sexpr(x.X) + " " + sexprs(x.List) + ")"
	case *Unary:
		return "(" + x.Op + " " + sexpr(x.X) + ")"
	case *FieldRef:
		s := "f:" + x.Path
		if x.Optional {
			s = "?" + s
		}
		if len(x.Index) > 0 {
			s += fmt.Sprintf("%v@%v", x.Index, x.IndexAt)
		}
		return s
	case *Literal:
		switch x.Kind {
		case StringLit:
			return map[Quote]string{DoubleQuote: "s", RawQuote: "raw", SingleQuote: "sq", PythonRawQuote: "py"}[x.Quote] + ":" + strconv.Quote(x.Str)
		case IntLit:
			return "i:" + strconv.FormatInt(x.Int, 10)
		case FloatLit:
			return "d:" + strconv.FormatFloat(x.Float, 'g', -1, 64)
		case BoolLit:
			return strconv.FormatBool(x.Bool)
		case NullLit:
			return "null"
		}
	case *Call:
		name := x.Name
		if x.Fold {
			name += "~"
		}
		return "(call " + name + " " + sexprs(x.Args) + ")"
	case *Relationship:
		return "(" + x.Kind + "-of " + x.Query.Category + " " + sexpr(x.Query.Where) + ")"
	case nil:
		return "<nil>"
	}
	return fmt.Sprintf("<%T>", x)
}

func sexprs(xs []Expr) string {
	var parts []string
	for _, x := range xs {
		parts = append(parts, sexpr(x))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// stripPos zeroes every query.Pos in an AST so that trees parsed from
// different texts (an original and its print) compare equal.
func stripPos(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			stripPos(v.Elem())
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			stripPos(v.Index(i))
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(query.Pos{}) {
			v.Set(reflect.Zero(v.Type()))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			stripPos(v.Field(i))
		}
	}
}

// roundTrip checks that printing q and parsing the print gives q back
// (positions aside), and that the print is a fixed point.
func roundTrip(q *Query) error {
	printed := q.String()
	q2, err := Parse(printed, query.Pos{File: "printed"})
	if err != nil {
		return fmt.Errorf("the print does not parse: %v\n%s", err, printed)
	}
	if again := q2.String(); again != printed {
		return fmt.Errorf("the print is not stable:\n%s\n---\n%s", printed, again)
	}
	stripPos(reflect.ValueOf(q))
	stripPos(reflect.ValueOf(q2))
	if !reflect.DeepEqual(q, q2) {
		return fmt.Errorf("the print parses to a different tree:\n%s", printed)
	}
	return nil
}

func parseWhere(t *testing.T, cond string) Expr {
	t.Helper()
	q, err := Parse("any where "+cond, query.Pos{File: "t.eql"})
	if err != nil {
		t.Fatalf("Parse(%q): %v", cond, err)
	}
	if q.Kind != EventKind || q.Event.Category != "any" {
		t.Fatalf("Parse(%q): not an any-event query: %s", cond, q)
	}
	if err := roundTrip(q); err != nil {
		t.Errorf("round trip of %q: %v", cond, err)
	}
	return q.Event.Where
}

func TestParseExpressions(t *testing.T) {
	tests := []struct{ name, src, want string }{
		// precedence and associativity
		{"or below and", `a == 1 or b == 2 and c == 3`, `(or (== f:a i:1) (and (== f:b i:2) (== f:c i:3)))`},
		{"and left assoc", `a and b and c`, `(and (and f:a f:b) f:c)`},
		{"or left assoc", `a or b or c`, `(or (or f:a f:b) f:c)`},
		{"not above and", `not a == 1 and b`, `(and (not (== f:a i:1)) f:b)`},
		{"not not", `not not a`, `(not (not f:a))`},
		{"not of comparison", `not a : "x"`, `(not (: f:a s:"x"))`},
		{"parens", `(a or b) and c`, `(and (or f:a f:b) f:c)`},
		{"additive left assoc", `a - b + c`, `(+ (- f:a f:b) f:c)`},
		{"mul above add", `a + b * c - d`, `(- (+ f:a (* f:b f:c)) f:d)`},
		{"mul left assoc", `a * b / c % d`, `(% (/ (* f:a f:b) f:c) f:d)`},
		{"unary minus binds tightest", `-a * b`, `(* (- f:a) f:b)`},
		{"double minus", `- -1`, `(- (- i:1))`},
		{"unary plus", `+a`, `(+ f:a)`},
		{"arith under comparison", `a + b == c * 2`, `(== (+ f:a f:b) (* f:c i:2))`},
		{"arith left of in", `a + 1 in (2, 3)`, `(in (+ f:a i:1) [i:2 i:3])`},
		{"comparison in parens as operand", `(a == 1) == true`, `(== (== f:a i:1) true)`},
		// every comparison operator
		{"eq", `a == 1`, `(== f:a i:1)`},
		{"ne", `a != 1`, `(!= f:a i:1)`},
		{"lt", `a < 1`, `(< f:a i:1)`},
		{"le", `a <= 1`, `(<= f:a i:1)`},
		{"gt", `a > 1`, `(> f:a i:1)`},
		{"ge", `a >= 1`, `(>= f:a i:1)`},
		{"single equals (7.x, Python)", `a = 1`, `(= f:a i:1)`},
		// pattern operators, single and list
		{"seq", `a : "x*"`, `(: f:a s:"x*")`},
		{"seq list", `a : ("x", "y")`, `(:list f:a [s:"x" s:"y"])`},
		{"seq list of one", `a : ("x")`, `(:list f:a [s:"x"])`},
		{"not seq (Python)", `a !: "x"`, `(!: f:a s:"x")`},
		{"not seq list", `a !: ("x", "y")`, `(!:list f:a [s:"x" s:"y"])`},
		{"seq call", `length(a) : length("python.exe")`, `(: (call length [f:a]) (call length [s:"python.exe"]))`},
		{"seq negative", `a : -1`, `(: f:a (- i:1))`},
		{"like", `a like "x*"`, `(like f:a s:"x*")`},
		{"like~", `a like~ "x*"`, `(like~ f:a s:"x*")`},
		{"like list", `a like ("x*", "?y")`, `(likelist f:a [s:"x*" s:"?y"])`},
		{"like~ list", `a like~ ("x*", "?y")`, `(like~list f:a [s:"x*" s:"?y"])`},
		{"regex", `a regex ".*"`, `(regex f:a s:".*")`},
		{"regex~", `a regex~ ".*"`, `(regex~ f:a s:".*")`},
		{"regex list", `a regex ("a.*", "b+")`, `(regexlist f:a [s:"a.*" s:"b+"])`},
		{"regex~ list", `a regex~ ("a.*")`, `(regex~list f:a [s:"a.*"])`},
		{"in", `a in (1, "x", null)`, `(in f:a [i:1 s:"x" null])`},
		{"in~", `a in~ ("X", "y")`, `(in~ f:a [s:"X" s:"y"])`},
		{"not in", `a not in (1, 2)`, `(not-in f:a [i:1 i:2])`},
		{"not in~", `a not in~ ("x")`, `(not-in~ f:a [s:"x"])`},
		{"in expressions", `a in (b, c + 1)`, `(in f:a [f:b (+ f:c i:1)])`},
		{"predicate then and", `a : "x" and b in (1)`, `(and (: f:a s:"x") (in f:b [i:1]))`},
		// functions
		{"call", `length(a)`, `(call length [f:a])`},
		{"call no args", `f()`, `(call f [])`},
		{"call keeps case", `startsWith(a, "x")`, `(call startsWith [f:a s:"x"])`},
		{"call ~", `stringContains~(a, "x")`, `(call stringContains~ [f:a s:"x"])`},
		{"call nested", `concat(a, substring(b, 1, 2), 1)`, `(call concat [f:a (call substring [f:b i:1 i:2]) i:1])`},
		// field references
		{"dotted", `process.parent.name`, `f:process.parent.name`},
		{"optional", `?a.b`, `?f:a.b`},
		{"optional spaced", `? a`, `?f:a`},
		{"at sign", `@timestamp > 0`, `(> f:@timestamp i:0)`},
		{"underscore", `_id`, `f:_id`},
		{"backticks", "`my field`.x", `f:my field.x`},
		{"backtick escape", "`a``b`", "f:a`b"},
		{"backtick keyword", "`sequence` > 10", `(> f:sequence i:10)`},
		{"backtick dotted", "`a.b`", `f:a.b`},
		{"index", `a[0].b[12]`, `f:a.b[0 12]@[1 2]`},
		{"index first", `events[1].serial_event_id : 92`, `(: f:events.serial_event_id[1]@[1] i:92)`},
		// literals
		{"int", `a == 0`, `(== f:a i:0)`},
		{"int max", `a == 9223372036854775807`, `(== f:a i:9223372036854775807)`},
		{"decimal", `a == 1.5`, `(== f:a d:1.5)`},
		{"decimal trailing dot", `a == 1.`, `(== f:a d:1)`},
		{"decimal leading dot", `a >= .5`, `(>= f:a d:0.5)`},
		{"exponent", `a == 1e3`, `(== f:a d:1000)`},
		{"exponent signed", `a == 1.5E-3`, `(== f:a d:0.0015)`},
		{"exponent plus", `a == 2e+2`, `(== f:a d:200)`},
		{"booleans", `true or false`, `(or true false)`},
		{"null", `a == null`, `(== f:a null)`},
		{"string", `a == "x y"`, `(== f:a s:"x y")`},
		{"empty string", `a == ""`, `(== f:a s:"")`},
		{"raw string", `a == """C:\Windows\"x"\n"""`, `(== f:a raw:"C:\\Windows\\\"x\"\\n")`},
		{"raw string trailing quotes", `a == """x"""""`, `(== f:a raw:"x\"\"")`},
		{"raw empty", `a == """"""`, `(== f:a raw:"")`},
		{"single-quoted", `a == 'it\'s'`, `(== f:a sq:"it's")`},
		{"python raw", `a == ?"C:\\x\d"`, `(== f:a py:"C:\\\\x\\d")`},
		{"python raw escaped quote", `a == ?"a\"b"`, `(== f:a py:"a\\\"b")`},
		{"python raw single", `a == ?'a"b'`, `(== f:a py:"a\"b")`},
		{"unicode text", `a == "héllo ✓"`, `(== f:a s:"héllo ✓")`},
		// escapes
		{"escapes", `a == "\n\r\t\"\\\'\b\f"`, `(== f:a s:"\n\r\t\"\\'\b\f")`},
		{"unicode escapes", `a == "\u{41}\u{00e9}\u{1F600}"`, `(== f:a s:"Aé😀")`},
		{"control char escape", `a == "\u{01}"`, `(== f:a s:"\x01")`},
		// comments
		{"block comment", `a /* x */ == 1`, `(== f:a i:1)`},
		{"nested block comment", `a /* x /* y */ z */ == 1`, `(== f:a i:1)`},
		{"line comment", "a == // c\n 1", `(== f:a i:1)`},
		{"comment at end", "a == 1 // end", `(== f:a i:1)`},
		// relationships (Python eql)
		{"descendant of", `a and descendant of [process where b == 1]`, `(and f:a (descendant-of process (== f:b i:1)))`},
		{"not child of", `not child of [file where true]`, `(not (child-of file true))`},
		{"event of", `event of [process where x : "y"]`, `(event-of process (: f:x s:"y"))`},
		{"field named event", `event.category == "process"`, `(== f:event.category s:"process")`},
		// keywords-like names that are not keywords
		{"runs and fork are names", `runs == fork`, `(== f:runs f:fork)`},
		{"tilde in field position is a call", `endsWith~(a, "x") and b`, `(and (call endsWith~ [f:a s:"x"]) f:b)`},
		{"number then name", `x == 10 and y`, `(and (== f:x i:10) f:y)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sexpr(parseWhere(t, tt.src)); got != tt.want {
				t.Errorf("Parse(%q)\n got  %s\n want %s", tt.src, got, tt.want)
			}
		})
	}
}

func TestParseQueries(t *testing.T) {
	tests := []struct {
		name, src string
		want      string // the canonical print
		check     func(t *testing.T, q *Query)
	}{
		{
			name: "event query",
			src:  `process where process.name == "iptables"`,
			want: `process where process.name == "iptables"`,
			check: func(t *testing.T, q *Query) {
				if q.Kind != EventKind || q.Event.Category != "process" || q.Event.CategoryQuote != NoQuote {
					t.Errorf("got %v %q %v", q.Kind, q.Event.Category, q.Event.CategoryQuote)
				}
			},
		},
		{
			name: "any",
			src:  `any where true`,
			want: `any where true`,
		},
		{
			name: "quoted category",
			src:  `"my category" where true`,
			want: `"my category" where true`,
			check: func(t *testing.T, q *Query) {
				if q.Event.Category != "my category" || q.Event.CategoryQuote != DoubleQuote {
					t.Errorf("category %q %v", q.Event.Category, q.Event.CategoryQuote)
				}
			},
		},
		{
			name: "single-quoted category is kept as such",
			src:  `'process' where true`,
			want: `'process' where true`,
			check: func(t *testing.T, q *Query) {
				if q.Event.CategoryQuote != SingleQuote {
					t.Errorf("quote %v", q.Event.CategoryQuote)
				}
			},
		},
		{
			name: "sequence with every clause",
			src: `sequence by host.id, user.name with maxspan=30s
  [process where a == 1] by process.pid with runs=2
  ![file where b == 2] by process.pid
  [network where true] by process.parent.pid
until [process where event.type == "end"] by process.pid`,
			want: `sequence by host.id, user.name with maxspan=30s
  [process where a == 1] by process.pid with runs=2
  ![file where b == 2] by process.pid
  [network where true] by process.parent.pid
until [process where event.type == "end"] by process.pid`,
			check: func(t *testing.T, q *Query) {
				if q.Kind != SequenceKind || len(q.By) != 2 || len(q.Steps) != 3 || q.Until == nil {
					t.Fatalf("shape: %+v", q)
				}
				if q.MaxSpan.Value != 30 || q.MaxSpan.Unit != "s" {
					t.Errorf("maxspan %+v", q.MaxSpan)
				}
				if q.Steps[0].Runs != 2 || q.Steps[0].Missing || !q.Steps[1].Missing || q.Steps[1].Runs != 0 {
					t.Errorf("steps: runs %d missing %v, runs %d missing %v", q.Steps[0].Runs, q.Steps[0].Missing, q.Steps[1].Runs, q.Steps[1].Missing)
				}
			},
		},
		{
			name: "with maxspan before by",
			src:  `sequence with maxspan=5 m by a [x where true] [y where true]`,
			want: "sequence by a with maxspan=5m\n  [x where true]\n  [y where true]",
			check: func(t *testing.T, q *Query) {
				if q.MaxSpan.Value != 5 || q.MaxSpan.Unit != "m" || len(q.By) != 1 {
					t.Errorf("maxspan %+v by %v", q.MaxSpan, q.By)
				}
			},
		},
		{
			name: "maxspan units and bare number",
			src:  "sequence with maxspan=500ms [x where true] [y where true]",
			want: "sequence with maxspan=500ms\n  [x where true]\n  [y where true]",
		},
		{
			name: "maxspan without a unit is kept for the compiler",
			src:  "sequence with maxspan=10 [x where true] [y where true]",
			want: "sequence with maxspan=10\n  [x where true]\n  [y where true]",
			check: func(t *testing.T, q *Query) {
				if q.MaxSpan.Value != 10 || q.MaxSpan.Unit != "" {
					t.Errorf("maxspan %+v", q.MaxSpan)
				}
			},
		},
		{
			name: "one step with runs is a sequence",
			src:  `sequence by host.id with maxspan=5s [process where true] with runs=5`,
			want: "sequence by host.id with maxspan=5s\n  [process where true] with runs=5",
		},
		{
			name: "old missing-step syntax after by keys",
			src: `sequence with maxspan=1s
  [ a where true ] by k1
 -[ a where tag == "missing" ] by k1
  [ a where true ] by k1`,
			want: "sequence with maxspan=1s\n  [a where true] by k1\n  ![a where tag == \"missing\"] by k1\n  [a where true] by k1",
			check: func(t *testing.T, q *Query) {
				if !q.Steps[1].Missing || q.Steps[1].Pos.Line != 3 || q.Steps[1].Pos.Col != 2 {
					t.Errorf("step 2: missing %v at %v", q.Steps[1].Missing, q.Steps[1].Pos)
				}
			},
		},
		{
			name: "subtraction in a key is still subtraction",
			src:  `sequence by a - b [x where true] [y where true]`,
			want: "sequence by a - b\n  [x where true]\n  [y where true]",
		},
		{
			name: "sample",
			src:  `sample by host [any where a == 1] by k [any where b] by k`,
			want: "sample by host\n  [any where a == 1] by k\n  [any where b] by k",
			check: func(t *testing.T, q *Query) {
				if q.Kind != SampleKind || len(q.Steps) != 2 || len(q.Steps[1].By) != 1 {
					t.Errorf("shape %+v", q)
				}
			},
		},
		{
			name: "join",
			src:  `join by user_name [process where true] by unique_pid [file where true] until [network where true]`,
			want: "join by user_name\n  [process where true] by unique_pid\n  [file where true]\nuntil [network where true]",
			check: func(t *testing.T, q *Query) {
				if q.Kind != JoinKind || len(q.Steps) != 2 || q.Until == nil {
					t.Errorf("shape %+v", q)
				}
			},
		},
		{
			name: "pipes",
			src:  `process where true | head 5 | tail 2`,
			want: "process where true\n| head 5\n| tail 2",
			check: func(t *testing.T, q *Query) {
				if len(q.Pipes) != 2 || q.Pipes[0].Name != "head" || q.Pipes[0].Args[0].(*Literal).Int != 5 {
					t.Errorf("pipes %+v", q.Pipes)
				}
			},
		},
		{
			name: "python pipes with spaced and comma arguments",
			src:  `process where true | unique a b | sort md5, c | filter x > 6 and y | count | unique_count a`,
			want: "process where true\n| unique a, b\n| sort md5, c\n| filter x > 6 and y\n| count\n| unique_count a",
		},
		{
			name: "sequence with pipe",
			src:  "sequence [a where true] [b where true] | head 1",
			want: "sequence\n  [a where true]\n  [b where true]\n| head 1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := Parse(tt.src, query.Pos{File: "t.eql"})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := q.String(); got != tt.want {
				t.Errorf("print\n got  %q\n want %q", got, tt.want)
			}
			if tt.check != nil {
				tt.check(t, q)
			}
			if err := roundTrip(q); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	file := query.Pos{File: "x.eql"}
	tests := []struct {
		name string
		src  string
		base query.Pos
		want string
	}{
		{"empty", ``, file, `x.eql:1:1: expected an event category (a name, "any" or a string) or "sequence", "sample" or "join", found end of query`},
		{"no where", `process`, file, `x.eql:1:8: expected "where" after the event category, found end of query`},
		{"no condition", `process where`, file, `x.eql:1:14: expected an expression, found end of query`},
		{"trailing token", `process where a == 1 b`, file, `x.eql:1:22: expected an operator, "|" or end of query, found "b"`},
		{"unclosed step", "sequence\n  [process where true\n  [file where true]", file, `x.eql:3:3: expected "]" to close the sequence step, found "["`},
		{"step closed by where", "sequence [process where true where", file, `x.eql:1:30: expected "]" to close the sequence step, found "where"`},
		{"one step", `sequence [a where true]`, file, `x.eql:1:24: expected "[" to start the second sequence step (a sequence has at least two), found end of query`},
		{"no steps", `sequence by a`, file, `x.eql:1:14: expected "[" to start the first sequence step, found end of query`},
		{"sample of one", `sample by a [x where true]`, file, `x.eql:1:27: expected "[" to start the second sample step (a sample has at least two), found end of query`},
		{"until without step", `sequence [a where true] [b where true] until`, file, `x.eql:1:45: expected "[" to start the until step, found end of query`},
		{"with without maxspan", `sequence with span=1s [a where true] [b where true]`, file, `x.eql:1:15: expected "maxspan" after "with", found "span"`},
		{"maxspan without =", `sequence with maxspan 1s [a where true] [b where true]`, file, `x.eql:1:23: expected "=" after "maxspan", found "1"`},
		{"maxspan decimal", `sequence with maxspan=1.5h [a where true] [b where true]`, file, `x.eql:1:23: decimal time span 1.5 is not supported, expected an integer such as 10s`},
		{"maxspan not a number", `sequence with maxspan=s [a where true] [b where true]`, file, `x.eql:1:23: expected a time span such as 10s, 5m or 500ms, found "s"`},
		{"runs not runs", `sequence [a where true] with run=2 [b where true]`, file, `x.eql:1:30: expected "runs" after "with", found "run"`},
		{"runs zero", `sequence [a where true] with runs=0 [b where true]`, file, `x.eql:1:35: runs=0 is out of range, expected a positive integer`},
		{"runs not a number", `sequence [a where true] with runs=x [b where true]`, file, `x.eql:1:35: expected the number of runs, found "x"`},
		{"fork", `sequence [a where true] fork=true [b where true]`, file, `x.eql:1:25: unsupported: fork (a step option of early Elasticsearch EQL that current Elasticsearch does not have)`},
		{"unclosed paren", `a where (b == 1`, file, `x.eql:1:16: expected ")" to close the parenthesis, found end of query`},
		{"unclosed call", `a where f(b, c`, file, `x.eql:1:15: expected "," or ")" to close the arguments of f(), found end of query`},
		{"unclosed list", `a where b in (1, 2`, file, `x.eql:1:19: expected "," or ")" to close the list of "in", found end of query`},
		{"in without list", `a where b in 1`, file, `x.eql:1:14: expected "(" to start the list after "in", found "1"`},
		{"not without in", `a where b not like "x"`, file, `x.eql:1:15: expected "in" or "in~" after "not", found "like"`},
		{"empty list", `a where b in ()`, file, `x.eql:1:15: expected an expression, found ")"`},
		{"tilde name without call", `a where b~ == 1`, file, `x.eql:1:12: expected "(" after the function name "b~", found "=="`},
		{"field after dot", `a where b. == 1`, file, `x.eql:1:12: expected a field name after ".", found "=="`},
		{"keyword as field", `a where b.sequence == 1`, file, `x.eql:1:11: expected a field name after ".", found "sequence"`},
		{"optional without name", `a where ? == 1`, file, `x.eql:1:11: expected a field name after "?", found "=="`},
		{"index unclosed", `a where b[0 == 1`, file, `x.eql:1:13: expected "]" to close the array index, found "=="`},
		{"comparison chain", `a where b == 1 == 2`, file, `x.eql:1:16: expected an operator, "|" or end of query, found "=="`},
		{"unknown relationship", `a where parent of [b where true]`, file, `x.eql:1:9: unknown relationship "parent of", expected "descendant of", "child of" or "event of"`},
		{"relationship unclosed", `a where child of [b where true`, file, `x.eql:1:31: expected "]" to close the child of query, found end of query`},
		{"pipe without name", `a where true |`, file, `x.eql:1:15: expected a pipe name such as "head" or "tail" after "|", found end of query`},
		{"pipe trailing comma", `a where true | sort a,`, file, `x.eql:1:23: expected another argument after ",", found end of query`},
		{"after pipe", `a where true | head 1 )`, file, `x.eql:1:23: expected an expression, found ")"`},
		// lexical errors
		{"integer too big", `a where b == 9223372036854775808`, file, `x.eql:1:14: integer 9223372036854775808 is out of range, expected at most 9223372036854775807`},
		{"decimal too big", `a where b == 1e999`, file, `x.eql:1:14: decimal 1e999 is out of range`},
		{"unknown escape", `a where b == "x\qy"`, file, `x.eql:1:16: invalid escape "\q", expected one of \b \t \n \f \r \" \' \\ \u{…}`},
		{"unicode escape short", `a where b == "\u{1}"`, file, `x.eql:1:15: invalid unicode escape \u{1}, expected 2 to 8 hex digits`},
		{"unicode escape unclosed", `a where b == "\u{41"`, file, `x.eql:1:15: invalid unicode escape, expected hex digits and "}"`},
		{"unicode escape surrogate", `a where b == "\u{D800}"`, file, `x.eql:1:15: invalid unicode escape \u{D800}, not a code point`},
		{"unicode escape too big", `a where b == "\u{110000}"`, file, `x.eql:1:15: invalid unicode escape \u{110000}, not a code point`},
		{"unicode escape in single quotes", `a where b == '\u{41}'`, file, `x.eql:1:15: invalid escape "\u", expected \u{hex digits}`},
		{"unterminated string", "a where b == \"x\nand c", file, `x.eql:1:14: unterminated string, expected '"' before the end of the line`},
		{"unterminated raw", `a where b == """x""`, file, `x.eql:1:14: unterminated raw string, expected """ before the end of the line`},
		{"unterminated python raw", `a where b == ?"x\"`, file, `x.eql:1:14: unterminated raw string, expected '"' before the end of the line`},
		{"unterminated comment", "a where b /* x\n y", file, `x.eql:1:11: unterminated comment, expected "*/"`},
		{"unterminated nested comment", "a where b /* /* */", file, `x.eql:1:11: unterminated comment, expected "*/"`},
		{"unterminated backtick", "a where `b", file, "x.eql:1:9: unterminated quoted identifier, expected \"`\""},
		{"empty backtick", "a where `` == 1", file, "x.eql:1:9: empty quoted identifier"},
		{"bang", `a where !b`, file, `x.eql:1:9: unexpected "!", expected "!=", "![" or "!:"`},
		{"stray character", `a where b == #`, file, `x.eql:1:14: unexpected character '#'`},
		{"invalid utf-8", "a where b == \xff", file, `x.eql:1:14: invalid UTF-8 byte 0xff`},
		{"invalid utf-8 in a string", "a where b == \"x\xe4\"", file, `x.eql:1:16: invalid UTF-8 byte 0xe4`},
		{"invalid utf-8 in a comment", "a where b == 1 /* \xe4 */ and", file, `x.eql:1:19: invalid UTF-8 byte 0xe4`},
		{"column counts characters", `a where "é✓" == é`, file, `x.eql:1:17: unexpected character 'é'`},
		{"lexical error reached", `a where (b == 1 "x\q"`, file, `x.eql:1:19: invalid escape "\q", expected one of \b \t \n \f \r \" \' \\ \u{…}`},
		{"parse error before lexical error", `a where b c "\q"`, file, `x.eql:1:11: expected an operator, "|" or end of query, found "c"`},
		// base offsets: the first line shifts by the base column, later
		// lines keep their own columns.
		{"base first line", `process where a ==`, query.Pos{File: "rules/r.toml", Line: 12, Col: 10}, `rules/r.toml:12:28: expected an expression, found end of query`},
		{"base later line", "sequence\n  [process where true]\n  [file where a === 1]", query.Pos{File: "rules/r.toml", Line: 40, Col: 9}, `rules/r.toml:42:19: expected an expression, found "="`},
		{"base zero", `process where`, query.Pos{}, `:1:14: expected an expression, found end of query`},
		{"depth", "any where " + strings.Repeat("(", 2000) + "a", file, `x.eql:1:1011: query nested more than 1000 levels deep`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := Parse(tt.src, tt.base)
			if err == nil {
				t.Fatalf("Parse(%q) = %s, want error %q", tt.src, q, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("Parse(%q)\n got  %s\n want %s", tt.src, err, tt.want)
			}
			var qe *query.Error
			var qu *query.Unsupported
			if !errors.As(err, &qe) && !errors.As(err, &qu) {
				t.Errorf("error is a %T, want *query.Error or *query.Unsupported", err)
			}
		})
	}
}

func TestParsePositions(t *testing.T) {
	src := "sequence by host.id\n  [process where a == 1]\n  ![file where b in (2)]\n| head 3"
	q, err := Parse(src, query.Pos{File: "r.toml", Line: 5, Col: 9})
	if err != nil {
		t.Fatal(err)
	}
	where0 := q.Steps[0].Query.Where.(*Binary)
	in := q.Steps[1].Query.Where.(*In)
	tests := []struct {
		name string
		got  query.Pos
		want string
	}{
		{"query", q.Pos, "r.toml:5:9"},
		{"by key", q.By[0].Pos(), "r.toml:5:21"},
		{"step", q.Steps[0].Pos, "r.toml:6:3"},
		{"category", q.Steps[0].Query.CategoryPos, "r.toml:6:4"},
		{"operator", where0.At, "r.toml:6:20"},
		{"field", where0.X.Pos(), "r.toml:6:18"},
		{"literal", where0.Y.Pos(), "r.toml:6:23"},
		{"missing step", q.Steps[1].Pos, "r.toml:7:3"},
		{"in", in.At, "r.toml:7:18"},
		{"list item", in.List[0].Pos(), "r.toml:7:22"},
		{"pipe", q.Pipes[0].Pos, "r.toml:8:1"},
		{"pipe name", q.Pipes[0].NamePos, "r.toml:8:3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got.String() != tt.want {
				t.Errorf("got %s, want %s", tt.got, tt.want)
			}
		})
	}
	q, err = Parse("sequence with maxspan=5m [a where true] with runs=3 [b where true]", query.Pos{File: "f"})
	if err != nil {
		t.Fatal(err)
	}
	if got := q.MaxSpan.Pos.String(); got != "f:1:23" {
		t.Errorf("maxspan at %s, want f:1:23", got)
	}
	if got := q.Steps[0].RunsPos.String(); got != "f:1:51" {
		t.Errorf("runs at %s, want f:1:51", got)
	}
}

// elasticRule is the part of an Elastic detection rule file the parser
// needs.
type elasticRule struct {
	Rule struct {
		Type, Language, Query string
	} `toml:"rule"`
}

// elasticQueries returns the EQL queries of the Elastic rule files in dir,
// by file name.
func elasticQueries(tb testing.TB, dir string) map[string]string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.toml"))
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range files {
		var r elasticRule
		if _, err := toml.DecodeFile(f, &r); err != nil {
			tb.Errorf("%s: %v", f, err)
			continue
		}
		if r.Rule.Type == "eql" {
			out[filepath.Base(f)] = r.Rule.Query
		}
	}
	return out
}

func TestParseElasticRules(t *testing.T) {
	for _, dir := range []string{"elastic", "elastic-cross-platform"} {
		t.Run(dir, func(t *testing.T) {
			queries := elasticQueries(t, testenv.Shared(t, "corpus", dir))
			if len(queries) == 0 {
				t.Fatal("no eql rules found")
			}
			names := make([]string, 0, len(queries))
			for n := range queries {
				names = append(names, n)
			}
			sort.Strings(names)
			failed := 0
			for _, n := range names {
				q, err := Parse(queries[n], query.Pos{File: n})
				if err != nil {
					failed++
					t.Errorf("%s: %v", n, err)
					continue
				}
				if err := roundTrip(q); err != nil {
					t.Errorf("%s: %v", n, err)
				}
			}
			t.Logf("%s: %d eql rules, %d parse and round-trip, %d fail", dir, len(queries), len(queries)-failed, failed)
		})
	}
}

type specQuery struct {
	Name  string
	Query string
}

// conformanceQueries returns the [[queries]] of every spec file of the
// EQL conformance suite, by file name.
func conformanceQueries(tb testing.TB, dir string) map[string][]specQuery {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.toml"))
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string][]specQuery{}
	for _, f := range files {
		var spec struct{ Queries []specQuery }
		if _, err := toml.DecodeFile(f, &spec); err != nil {
			tb.Errorf("%s: %v", f, err)
			continue
		}
		out[filepath.Base(f)] = spec.Queries
	}
	return out
}

// unsupportedFile lists queries Elasticsearch itself does not run: they
// may fail to parse, with a positioned error.
const unsupportedFile = "test_queries_unsupported.toml"

func TestParseConformanceQueries(t *testing.T) {
	all := conformanceQueries(t, testenv.Shared(t, "corpus", "eql"))
	unsupported := map[string]bool{}
	for _, q := range all[unsupportedFile] {
		unsupported[strings.TrimSpace(q.Query)] = true
	}
	files := make([]string, 0, len(all))
	for f := range all {
		files = append(files, f)
	}
	sort.Strings(files)
	total, parsed := 0, 0
	var refused []string
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			for i, sq := range all[f] {
				total++
				label := fmt.Sprintf("%s #%d %s", f, i+1, sq.Name)
				q, err := Parse(sq.Query, query.Pos{File: f})
				if err != nil {
					var qe *query.Error
					var qu *query.Unsupported
					positioned := errors.As(err, &qe) && qe.Pos.Line > 0 || errors.As(err, &qu) && qu.Pos.Line > 0
					switch {
					case !positioned:
						t.Errorf("%s: error without a position: %v", label, err)
					case f == unsupportedFile || unsupported[strings.TrimSpace(sq.Query)]:
						refused = append(refused, fmt.Sprintf("%s: %v", label, err))
					default:
						t.Errorf("%s: %v\n%s", label, err, sq.Query)
					}
					continue
				}
				parsed++
				if err := roundTrip(q); err != nil {
					t.Errorf("%s: %v", label, err)
				}
			}
		})
	}
	t.Logf("%d conformance queries in %d files: %d parse and round-trip, %d do not (all of them queries Elasticsearch does not run):", total, len(files), parsed, len(refused))
	for _, r := range refused {
		t.Log("  " + r)
	}
}

func TestIsIdent(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"a", true}, {"_a1", true}, {"@timestamp", true}, {"A_b", true},
		{"", false}, {"1a", false}, {"a b", false}, {"a-b", false}, {"a@b", false},
		{"and", false}, {"sequence", false}, {"runs", true}, {"é", false},
	}
	for _, tt := range tests {
		if got := isIdent(tt.s); got != tt.want {
			t.Errorf("isIdent(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

// TestPrintQuoting covers strings the parser can produce that need care
// when printed: quotes and backslashes in each quoting form.
func TestPrintQuoting(t *testing.T) {
	srcs := []string{
		`a where b == "\"\\\'"`,
		`a where b == '\'"'`,
		`a where b == ?"a\"b'c"`,
		`a where b == ?'a\'b"c'`,
		`a where b == ?"\\\d"`,
		`a where b == """"a""""`,
		`a where b == """a""b"""`,
		"a where `x``y`.`z w`.`1a`.`@b` == 1",
		"`a b` where true",
		`"" where true`,
		`a where b == "\u{7f}\u{85}"`,
	}
	for _, src := range srcs {
		t.Run(src, func(t *testing.T) {
			q, err := Parse(src, query.Pos{File: "t"})
			if err != nil {
				if strings.HasPrefix(src, "`") {
					return // a backticked category is not EQL; checked below
				}
				t.Fatal(err)
			}
			if err := roundTrip(q); err != nil {
				t.Error(err)
			}
		})
	}
	if _, err := Parse("`a b` where true", query.Pos{File: "t"}); err == nil {
		t.Error("a backticked category parsed; Elasticsearch's eventValue is a name or a string")
	}
}

func TestReadCorpusFiles(t *testing.T) {
	// The corpus helpers must see the files the issue counts; a silent
	// empty result would make the corpus tests vacuous.
	dir := testenv.Shared(t, "corpus", "eql")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".toml") {
			n++
		}
	}
	if got := len(conformanceQueries(t, dir)); got != n || n == 0 {
		t.Errorf("read %d spec files of %d", got, n)
	}
}
