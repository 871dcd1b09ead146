package engine

import (
	"math"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/query"
)

// Rows mirror Elasticsearch's own tests: x-pack/plugin/ql
// BinaryArithmeticProcessorTests and BinaryArithmeticTests, and x-pack/plugin/eql
// {Between,CIDRMatch,Concat,IndexOf,Length,Substring,ToNumber,ToString}FunctionProcessorTests,
// BetweenUtilsTests and StringUtilsTests (substringSlice), plus the
// functions queries of the EQL spec (additional_test_queries.toml). Where
// Elasticsearch throws, the row wants null and says so.

var (
	vnull   = event.NullV()
	vabsent = event.Value{}
)

func vs(s string) event.Value          { return event.Str(s) }
func vi(i int64) event.Value           { return event.IntV(i) }
func vf(x float64) event.Value         { return event.FloatV(x) }
func vb(b bool) event.Value            { return event.BoolV(b) }
func vl(xs ...event.Value) event.Value { return event.ListV(xs...) }

type fnCase struct {
	name string
	fn   string
	args []event.Value
	fold bool
	want event.Value
}

func runFnCases(t *testing.T, cases []fnCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.fn+"/"+tc.name, func(t *testing.T) {
			f, ok := eqlFunctions[tc.fn]
			if !ok {
				t.Fatalf("no function %q", tc.fn)
			}
			got := f.fn(tc.args, tc.fold)
			if !sameValue(got, tc.want) {
				t.Errorf("%s(%v) = %#v, want %#v", tc.fn, tc.args, got, tc.want)
			}
		})
	}
}

// sameValue is Equal, except that NaN equals NaN, 0.0 and -0.0 differ, and
// absent equals null (a function's "no value").
func sameValue(a, b event.Value) bool {
	if a.IsNull() && b.IsNull() {
		return true
	}
	if a.Kind == event.Float && b.Kind == event.Float {
		if math.IsNaN(a.Num) || math.IsNaN(b.Num) {
			return math.IsNaN(a.Num) && math.IsNaN(b.Num)
		}
		return a.Num == b.Num && math.Signbit(a.Num) == math.Signbit(b.Num)
	}
	if a.Kind == event.List && b.Kind == event.List && len(a.List) == len(b.List) {
		for i := range a.List {
			if !sameValue(a.List[i], b.List[i]) {
				return false
			}
		}
		return true
	}
	return a.Equal(b)
}

func TestEQLArithmetic(t *testing.T) {
	runFnCases(t, []fnCase{
		// BinaryArithmeticProcessorTests
		{"add", "add", []event.Value{vi(7), vi(3)}, false, vi(10)},
		{"sub", "subtract", []event.Value{vi(7), vi(3)}, false, vi(4)},
		{"mul", "multiply", []event.Value{vi(7), vi(3)}, false, vi(21)},
		{"div long", "divide", []event.Value{vi(7), vi(3)}, false, vi(2)},
		{"div double", "divide", []event.Value{vf(7), vi(3)}, false, vf(7.0 / 3)},
		{"mod", "modulo", []event.Value{vi(7), vi(3)}, false, vi(1)},
		{"negate", "negate", []event.Value{vi(7)}, false, vi(-7)},
		{"null add", "add", []event.Value{vnull, vi(3)}, false, vnull},
		{"null sub", "subtract", []event.Value{vnull, vi(3)}, false, vnull},
		{"null mul", "multiply", []event.Value{vnull, vi(3)}, false, vnull},
		{"null div", "divide", []event.Value{vnull, vi(3)}, false, vnull},
		{"null mod", "modulo", []event.Value{vnull, vi(3)}, false, vnull},
		{"null negate", "negate", []event.Value{vnull}, false, vnull},
		{"null right", "add", []event.Value{vi(3), vnull}, false, vnull},
		{"absent", "multiply", []event.Value{vabsent, vi(3)}, false, vnull},
		// BinaryArithmeticTests
		{"add longs", "add", []event.Value{vi(1), vi(2)}, false, vi(3)},
		{"mod 10 8", "modulo", []event.Value{vi(10), vi(8)}, false, vi(2)},
		{"mod 10 -8", "modulo", []event.Value{vi(10), vi(-8)}, false, vi(2)},
		{"mod -10 8", "modulo", []event.Value{vi(-10), vi(8)}, false, vi(-2)},
		{"mod -10 -8", "modulo", []event.Value{vi(-10), vi(-8)}, false, vi(-2)},
		{"mod 10.3 8", "modulo", []event.Value{vf(10.3), vi(8)}, false, vf(2.3000000000000007)},
		{"mod 10 -8.5", "modulo", []event.Value{vi(10), vf(-8.5)}, false, vf(1.5)},
		{"mod -10.3 -8.5", "modulo", []event.Value{vf(-10.3), vf(-8.5)}, false, vf(-1.8000000000000007)},
		// Overflow and division by zero are ArithmeticExceptions in Java.
		{"add overflow", "add", []event.Value{vi(math.MaxInt64), vi(1)}, false, vnull},
		{"add to min", "add", []event.Value{vi(math.MinInt64), vi(-1)}, false, vnull},
		{"sub overflow", "subtract", []event.Value{vi(math.MinInt64), vi(1)}, false, vnull},
		{"sub max", "subtract", []event.Value{vi(-1), vi(math.MaxInt64)}, false, vi(math.MinInt64)},
		{"mul overflow", "multiply", []event.Value{vi(math.MaxInt64), vi(2)}, false, vnull},
		{"mul -1 min", "multiply", []event.Value{vi(-1), vi(math.MinInt64)}, false, vnull},
		{"mul min -1", "multiply", []event.Value{vi(math.MinInt64), vi(-1)}, false, vnull},
		{"mul large ok", "multiply", []event.Value{vi(1 << 31), vi(1 << 31)}, false, vi(1 << 62)},
		{"div min -1 wraps", "divide", []event.Value{vi(math.MinInt64), vi(-1)}, false, vi(math.MinInt64)},
		{"div truncates", "divide", []event.Value{vi(-7), vi(2)}, false, vi(-3)},
		{"div by zero", "divide", []event.Value{vi(1), vi(0)}, false, vnull},
		{"mod by zero", "modulo", []event.Value{vi(1), vi(0)}, false, vnull},
		{"mod min -1", "modulo", []event.Value{vi(math.MinInt64), vi(-1)}, false, vi(0)},
		{"double div by zero", "divide", []event.Value{vf(1), vi(0)}, false, vf(math.Inf(1))},
		{"double div by -zero", "divide", []event.Value{vi(-1), vf(0)}, false, vf(math.Inf(-1))},
		{"double 0/0", "divide", []event.Value{vf(0), vi(0)}, false, vf(math.NaN())},
		{"double mod zero", "modulo", []event.Value{vf(1), vi(0)}, false, vf(math.NaN())},
		{"double mod inf", "modulo", []event.Value{vf(5), vf(math.Inf(1))}, false, vf(5)},
		{"negate min", "negate", []event.Value{vi(math.MinInt64)}, false, vnull},
		{"negate zero", "negate", []event.Value{vf(0)}, false, vf(math.Copysign(0, -1))},
		{"negate double", "negate", []event.Value{vf(1.5)}, false, vf(-1.5)},
		// Arithmetics.negate mistakes Double.MIN_VALUE for the most negative.
		{"negate Double.MIN_VALUE", "negate", []event.Value{vf(math.SmallestNonzeroFloat64)}, false, vnull},
		// "A number is required"
		{"string", "add", []event.Value{vs("1"), vi(2)}, false, vnull},
		{"bool", "subtract", []event.Value{vi(1), vb(true)}, false, vnull},
		{"negate string", "negate", []event.Value{vs("1")}, false, vnull},
		// additional_test_queries.toml
		{"82 / 2", "divide", []event.Value{vi(82), vi(2)}, false, vi(41)},
		{"83 / 2", "divide", []event.Value{vi(83), vi(2)}, false, vi(41)},
		{"66.0 / 66", "divide", []event.Value{vf(66), vi(66)}, false, vf(1)},
		{"modulo(11, 10)", "modulo", []event.Value{vi(11), vi(10)}, false, vi(1)},
		// Multi-valued: one result per value, as ES evaluates per doc value.
		{"list", "add", []event.Value{vl(vi(1), vi(2)), vi(10)}, false, vl(vi(11), vi(12))},
		{"two lists", "add", []event.Value{vl(vi(1), vi(2)), vl(vi(10), vi(20))}, false, vl(vi(11), vi(21), vi(12), vi(22))},
		{"list with null", "add", []event.Value{vl(vnull, vi(1)), vi(1)}, false, vi(2)},
		{"empty list", "add", []event.Value{vl(), vi(1)}, false, vnull},
		{"list error dropped", "divide", []event.Value{vi(6), vl(vi(0), vi(3))}, false, vi(2)},
	})
}

func TestEQLArithmeticTree(t *testing.T) {
	// ((3*2+4)/2-2)%2, BinaryArithmeticProcessorTests.testTree
	call := func(name string, a ...event.Value) event.Value { return eqlFunctions[name].fn(a, false) }
	got := call("modulo", call("subtract", call("divide", call("add", call("multiply", vi(3), vi(2)), vi(4)), vi(2)), vi(2)), vi(2))
	if !sameValue(got, vi(1)) {
		t.Errorf("tree = %#v, want 1", got)
	}
}

func TestEQLBetween(t *testing.T) {
	const path = `C:\workspace\dev\TestLogs\something.json`
	const sip = "System Idle Process"
	const welcome = "welcome to event query language"
	runFnCases(t, []fnCase{
		// BetweenUtilsTests.testBasicEQLExamples (case-insensitive there)
		{"welcome", "between", []event.Value{vs(welcome), vs(" "), vs(" "), vb(false)}, true, vs("to")},
		{"welcome greedy", "between", []event.Value{vs(welcome), vs(" "), vs(" "), vb(true)}, true, vs("to event query")},
		{"sip greedy fold", "between", []event.Value{vs(sip), vs("s"), vs("e"), vb(true)}, true, vs("ystem Idle Proc")},
		{"sip fold", "between", []event.Value{vs(sip), vs("s"), vs("e"), vb(false)}, true, vs("yst")},
		{"path", "between", []event.Value{vs(path), vs("dev"), vs(".json"), vb(false)}, true, vs(`\TestLogs\something`)},
		{"path greedy", "between", []event.Value{vs(path), vs("dev"), vs(".json"), vb(true)}, true, vs(`\TestLogs\something`)},
		// The same, case-sensitive: the first "s" is the third letter.
		{"sip greedy", "between", []event.Value{vs(sip), vs("s"), vs("e"), vb(true)}, false, vs("tem Idle Proc")},
		{"sip", "between", []event.Value{vs(sip), vs("s"), vs("e"), vb(false)}, false, vs("t")},
		{"sip cased miss", "between", []event.Value{vs(sip), vs("S"), vs("Z")}, false, vs("")},
		{"default greedy false", "between", []event.Value{vs(welcome), vs(" "), vs(" ")}, false, vs("to")},
		// additional_test_queries.toml betweenAdditional1/2
		{"spec", "between", []event.Value{vs(path), vs("dev"), vs(".json"), vb(false)}, false, vs(`\TestLogs\something`)},
		// BetweenUtilsTests.testNullOrEmptyString / testEmptyNullLeftRight
		{"null source", "between", []event.Value{vnull, vs("a"), vs("b"), vb(false)}, false, vnull},
		{"absent source", "between", []event.Value{vabsent, vs("a"), vs("b")}, false, vnull},
		{"empty source", "between", []event.Value{vs(""), vs("a"), vs("b"), vb(true)}, false, vs("")},
		{"empty left", "between", []event.Value{vs("abc"), vs(""), vs("c")}, false, vs("abc")},
		{"empty right", "between", []event.Value{vs("abc"), vs("a"), vs("")}, true, vs("abc")},
		// BetweenFunctionProcessorTests: a null left, right or greedy throws.
		{"null left", "between", []event.Value{vs("abc"), vnull, vs("c")}, false, vnull},
		{"null right", "between", []event.Value{vs("abc"), vs("a"), vnull}, false, vnull},
		{"null greedy", "between", []event.Value{vs("abc"), vs("a"), vs("c"), vnull}, false, vnull},
		{"string greedy", "between", []event.Value{vs("abc"), vs("a"), vs("c"), vs("true")}, false, vnull},
		{"null source beats bad greedy", "between", []event.Value{vnull, vs("a"), vs("c"), vs("x")}, false, vnull},
		// Misses, and the greedy right before the start (substring throws).
		{"no left", "between", []event.Value{vs("abc"), vs("x"), vs("c")}, false, vs("")},
		{"no right", "between", []event.Value{vs("abc"), vs("a"), vs("x")}, false, vs("")},
		{"greedy right before left", "between", []event.Value{vs("a.b"), vs("."), vs("a"), vb(true)}, false, vnull},
		{"greedy same char", "between", []event.Value{vs("a"), vs("a"), vs("a"), vb(true)}, false, vnull},
		{"greedy overlap", "between", []event.Value{vs("aXa"), vs("a"), vs("a"), vb(true)}, false, vs("X")},
		{"adjacent", "between", []event.Value{vs("ab"), vs("a"), vs("b")}, false, vs("")},
		// Positions are UTF-16 units; under ~ they come from the lowered text
		// (İ lowers to two units) and cut the original, as in Java.
		{"astral", "between", []event.Value{vs("😀[x]😀"), vs("["), vs("]")}, false, vs("x")},
		{"dotted I", "between", []event.Value{vs("İa-b"), vs("a"), vs("b")}, true, vs("b")},
		{"number source", "between", []event.Value{vi(12345), vs("1"), vs("4")}, false, vs("23")},
		{"multi-valued", "between", []event.Value{vl(vs("a[x]"), vs("b[y]")), vs("["), vs("]")}, false, vl(vs("x"), vs("y"))},
	})
}

func TestEQLCIDRMatch(t *testing.T) {
	runFnCases(t, []fnCase{
		// CIDRMatchFunctionProcessorTests
		{"null source", "cidrmatch", []event.Value{vnull, vs("10.0.0.0/8")}, false, vnull},
		{"null source no ranges", "cidrmatch", []event.Value{vnull}, false, vnull},
		{"no ranges", "cidrmatch", []event.Value{vs("10.6.48.157")}, false, vb(false)},
		{"in /8", "cidrmatch", []event.Value{vs("10.6.48.157"), vs("10.6.48.157/8")}, false, vb(true)},
		{"bad source", "cidrmatch", []event.Value{vs("10.6.48")}, false, vnull},
		{"bad address", "cidrmatch", []event.Value{vs("10.6.48.157"), vs("10.6.48")}, false, vnull},
		{"bad cidr", "cidrmatch", []event.Value{vs("10.6.48.157"), vs("10.6.12/12")}, false, vnull},
		{"number source", "cidrmatch", []event.Value{vi(12345)}, false, vnull},
		{"number cidr", "cidrmatch", []event.Value{vs("10.6.48.157"), vi(5678)}, false, vnull},
		// additional_test_queries.toml
		{"spec /8", "cidrmatch", []event.Value{vs("10.6.48.157"), vs("10.6.48.157/8")}, false, vb(true)},
		{"spec /16 miss", "cidrmatch", []event.Value{vs("10.6.48.157"), vs("192.168.0.0/16")}, false, vb(false)},
		{"spec two", "cidrmatch", []event.Value{vs("10.6.48.157"), vs("192.168.0.0/16"), vs("10.6.48.157/8")}, false, vb(true)},
		{"spec /0", "cidrmatch", []event.Value{vs("192.168.1.1"), vs("0.0.0.0/0")}, false, vb(true)},
		// CIDRUtils: single addresses, IPv6, mixed families.
		{"single address", "cidrmatch", []event.Value{vs("10.0.0.1"), vs("10.0.0.1")}, false, vb(true)},
		{"single address miss", "cidrmatch", []event.Value{vs("10.0.0.1"), vs("10.0.0.2")}, false, vb(false)},
		{"edge low", "cidrmatch", []event.Value{vs("10.0.0.0"), vs("10.0.0.0/30")}, false, vb(true)},
		{"edge high", "cidrmatch", []event.Value{vs("10.0.0.3"), vs("10.0.0.0/30")}, false, vb(true)},
		{"edge out", "cidrmatch", []event.Value{vs("10.0.0.4"), vs("10.0.0.0/30")}, false, vb(false)},
		{"ipv6", "cidrmatch", []event.Value{vs("2001:db8::1"), vs("2001:db8::/32")}, false, vb(true)},
		{"ipv6 miss", "cidrmatch", []event.Value{vs("2001:db9::1"), vs("2001:db8::/32")}, false, vb(false)},
		{"ipv6 upper", "cidrmatch", []event.Value{vs("2001:DB8::1"), vs("2001:db8::1")}, false, vb(true)},
		{"mapped source", "cidrmatch", []event.Value{vs("::ffff:10.0.0.1"), vs("10.0.0.0/8")}, false, vb(true)},
		{"mapped address", "cidrmatch", []event.Value{vs("10.0.0.1"), vs("::ffff:a00:1")}, false, vb(true)},
		{"mapped with prefix", "cidrmatch", []event.Value{vs("10.0.0.1"), vs("::ffff:10.0.0.0/104")}, false, vnull},
		{"v4 in v6 range", "cidrmatch", []event.Value{vs("10.0.0.1"), vs("::/0")}, false, vb(true)},
		{"v6 in v4 range", "cidrmatch", []event.Value{vs("::1"), vs("0.0.0.0/0")}, false, vb(false)},
		{"scope id", "cidrmatch", []event.Value{vs("fe80::1%eth0"), vs("fe80::/10")}, false, vb(true)},
		{"empty scope", "cidrmatch", []event.Value{vs("fe80::1%"), vs("fe80::/10")}, false, vnull},
		{"leading zero", "cidrmatch", []event.Value{vs("010.0.0.1"), vs("10.0.0.0/8")}, false, vnull},
		{"octet 256", "cidrmatch", []event.Value{vs("10.0.0.256"), vs("10.0.0.0/8")}, false, vnull},
		{"int overflow octet", "cidrmatch", []event.Value{vs("4294967297.0.0.1"), vs("1.0.0.1")}, false, vb(true)},
		{"five hex digits", "cidrmatch", []event.Value{vs("00001::"), vs("1::")}, false, vb(true)},
		{"two ::", "cidrmatch", []event.Value{vs("1::2::3"), vs("::/0")}, false, vnull},
		{"prefix 33", "cidrmatch", []event.Value{vs("10.0.0.1"), vs("10.0.0.0/33")}, false, vnull},
		{"prefix +8", "cidrmatch", []event.Value{vs("10.0.0.1"), vs("10.0.0.0/+8")}, false, vb(true)},
		{"trailing slash dropped by split", "cidrmatch", []event.Value{vs("10.0.0.1"), vs("10.0.0.0/8/")}, false, vb(true)},
		{"missing prefix", "cidrmatch", []event.Value{vs("10.0.0.1"), vs("10.0.0.0/")}, false, vnull},
		{"unicode", "cidrmatch", []event.Value{vs("10.0.0.١"), vs("10.0.0.0/8")}, false, vnull},
		// Ranges are read in order until one matches.
		{"match before junk", "cidrmatch", []event.Value{vs("10.0.0.1"), vs("10.0.0.0/8"), vs("junk")}, false, vb(true)},
		{"junk before match", "cidrmatch", []event.Value{vs("10.0.0.1"), vs("junk"), vs("10.0.0.0/8")}, false, vnull},
		{"null range", "cidrmatch", []event.Value{vs("10.0.0.1"), vs("10.0.0.0/8"), vnull}, false, vnull},
		// Multi-valued: any value in range, as the terms query.
		{"any value", "cidrmatch", []event.Value{vl(vs("1.1.1.1"), vs("10.0.0.1")), vs("10.0.0.0/8")}, false, vb(true)},
		{"no value", "cidrmatch", []event.Value{vl(vs("1.1.1.1"), vs("2.2.2.2")), vs("10.0.0.0/8")}, false, vb(false)},
	})
}

func TestEQLConcat(t *testing.T) {
	runFnCases(t, []fnCase{
		// ConcatFunctionProcessorTests.testConcat
		{"none", "concat", nil, false, vs("")},
		{"null", "concat", []event.Value{vnull}, false, vnull},
		{"one", "concat", []event.Value{vs("foo")}, false, vs("foo")},
		{"bool", "concat", []event.Value{vb(true)}, false, vs("true")},
		{"double", "concat", []event.Value{vf(3.14)}, false, vs("3.14")},
		{"five", "concat", []event.Value{vs("foo"), vs("::"), vs("bar"), vs("::"), vs("baz")}, false, vs("foo::bar::baz")},
		{"null inside", "concat", []event.Value{vs("foo"), vs("::"), vnull, vs("::"), vs("baz")}, false, vnull},
		{"nulls", "concat", []event.Value{vs("foo"), vs("::"), vnull, vs("::"), vnull}, false, vnull},
		{"1.0", "concat", []event.Value{vs("foo"), vs("::"), vf(1), vs("::"), vs("baz")}, false, vs("foo::1.0::baz")},
		// additional_test_queries.toml
		{"spec", "concat", []event.Value{vi(5), vs("::"), vs("wininit.exe"), vs("::"), vi(3)}, false, vs("5::wininit.exe::3")},
		{"spec one number", "concat", []event.Value{vi(1)}, false, vs("1")},
		{"absent", "concat", []event.Value{vs("a"), vabsent}, false, vnull},
		{"large double", "concat", []event.Value{vf(1e7)}, false, vs("1.0E7")},
		{"multi-valued", "concat", []event.Value{vl(vs("a"), vs("b")), vs("-"), vl(vi(1), vi(2))}, false, vl(vs("a-1"), vs("a-2"), vs("b-1"), vs("b-2"))},
	})
}

func TestEQLIndexOf(t *testing.T) {
	var cases []fnCase
	io := func(name string, src, sub event.Value, start *int64, fold bool, want event.Value) {
		args := []event.Value{src, sub}
		if start != nil {
			args = append(args, vi(*start))
		}
		cases = append(cases, fnCase{name, "indexof", args, fold, want})
	}
	p := func(i int64) *int64 { return &i }
	// IndexOfFunctionProcessorTests.testIndexOfFunctionWithValidInputInsensitive
	io("i1", vs("foobarbar"), vs("r"), nil, true, vi(5))
	io("i2", vs("foobaRbar"), vs("r"), nil, true, vi(5))
	io("i3", vs("foobar"), vs("Foo"), nil, true, vi(0))
	io("i4", vs("foo"), vs("foobar"), nil, true, vnull)
	io("i5", vs("foo"), vs("foo"), nil, true, vi(0))
	io("i6", vs("foo"), vs("oO"), nil, true, vi(1))
	io("i7", vs("foo"), vs("FOo"), nil, true, vi(0))
	io("i8", vs(""), vs("bar"), p(1), true, vnull)
	io("i9", vs("foobarbar"), vs("R"), p(5), true, vi(5))
	io("i10", vs("foobar"), vs("O"), p(2), true, vi(2))
	io("i11", vs("foobar"), vs("O"), p(3), true, vnull)
	io("i12", vs("foobarbaz"), vs("ba"), p(4), true, vi(6))
	io("i13", vnull, vs("bar"), p(2), true, vnull)
	io("i14", vs("foo"), vnull, p(3), true, vnull)
	io("i15", vnull, vnull, p(4), true, vnull)
	io("i16", vs("bar"), vs("bar"), nil, true, vi(0))
	io("i17 char", vs("f"), vs("f"), nil, true, vi(0))
	// ...WithValidInputSensitive
	io("s1", vs("foobarbar"), vs("r"), nil, false, vi(5))
	io("s2", vs("foobaRbar"), vs("r"), nil, false, vi(8))
	io("s3", vs("foobARbar"), vs("AR"), nil, false, vi(4))
	io("s4", vs("foobar"), vs("foo"), nil, false, vi(0))
	io("s5", vs("foo"), vs("foobar"), nil, false, vnull)
	io("s6", vs("foo"), vs("foo"), nil, false, vi(0))
	io("s7", vs("foo"), vs("oO"), nil, false, vnull)
	io("s8", vs("foo"), vs("FOo"), nil, false, vnull)
	io("s9", vs(""), vs("bar"), p(1), false, vnull)
	io("s10", vs("foobarbar"), vs("R"), p(5), false, vnull)
	io("s11", vs("foobar"), vs("O"), p(2), false, vnull)
	io("s12", vs("foobar"), vs("O"), p(3), false, vnull)
	io("s13", vs("foobarbaz"), vs("ba"), p(4), false, vi(6))
	io("s14", vnull, vs("bar"), p(2), false, vnull)
	io("s15", vs("foo"), vnull, p(3), false, vnull)
	io("s16", vnull, vnull, p(4), false, vnull)
	io("s17", vs("bar"), vs("bar"), nil, false, vi(0))
	// String.indexOf(str, from): negative from is 0; an empty needle is
	// found at min(from, length).
	io("negative start", vs("abc"), vs("a"), p(-5), false, vi(0))
	io("empty needle", vs("abc"), vs(""), p(2), false, vi(2))
	io("empty needle past end", vs("abc"), vs(""), p(10), false, vi(3))
	io("long start low bits", vs("abcabc"), vs("a"), p(1<<32+1), false, vi(3))
	io("utf-16 position", vs("😀a"), vs("a"), nil, false, vi(2))
	io("dotted I shifts positions", vs("İa"), vs("a"), nil, true, vi(2))
	cases = append(cases,
		fnCase{"null start", "indexof", []event.Value{vs("abc"), vs("c"), vnull}, false, vi(2)},
		fnCase{"double start", "indexof", []event.Value{vs("abcabc"), vs("a"), vf(1.9)}, false, vi(3)},
		// testIndexOfFunctionInputsValidation: Elasticsearch throws.
		fnCase{"string start", "indexof", []event.Value{vs("bar"), vs("a"), vs("1")}, false, vnull},
		fnCase{"bool start", "indexof", []event.Value{vs("bar"), vs("a"), vb(true)}, false, vnull},
		fnCase{"multi-valued", "indexof", []event.Value{vl(vs("xa"), vs("xxa"), vs("b")), vs("a")}, false, vl(vi(1), vi(2))},
	)
	runFnCases(t, cases)
}

func TestEQLLength(t *testing.T) {
	runFnCases(t, []fnCase{
		// LengthFunctionProcessorTests
		{"foobarbar", "length", []event.Value{vs("foobarbar")}, false, vi(9)},
		{"empty", "length", []event.Value{vs("")}, false, vi(0)},
		{"char", "length", []event.Value{vs("f")}, false, vi(1)},
		{"null", "length", []event.Value{vnull}, false, vnull},
		// Elasticsearch rejects a number literal at compile time; a keyword
		// field holding JSON 5 has the doc value "5".
		{"number as text", "length", []event.Value{vi(5)}, false, vi(1)},
		{"utf-16 units", "length", []event.Value{vs("😀é")}, false, vi(3)},
		{"multi-valued", "length", []event.Value{vl(vs("ab"), vs("abc"))}, false, vl(vi(2), vi(3))},
	})
}

func TestEQLNumber(t *testing.T) {
	runFnCases(t, []fnCase{
		// ToNumberFunctionProcessorTests (the cases its code produces: the
		// toNumberWith… methods lack the test prefix and never run, and some
		// contradict testNegativeBase16)
		{"decimal", "number", []event.Value{vs("1000")}, false, vi(1000)},
		{"hex prefix", "number", []event.Value{vs("0x3e8")}, false, vi(1000)},
		{"base 10", "number", []event.Value{vs("1000"), vi(10)}, false, vi(1000)},
		{"base 8", "number", []event.Value{vs("1750"), vi(8)}, false, vi(1000)},
		{"base 16", "number", []event.Value{vs("3e8"), vi(16)}, false, vi(1000)},
		{"base 16 prefix", "number", []event.Value{vs("0x3e8"), vi(16)}, false, vi(1000)},
		{"long range", "number", []event.Value{vs("0x7fffffffffffffff")}, false, vi(math.MaxInt64)},
		{"negative", "number", []event.Value{vs("-42")}, false, vi(-42)},
		{"negative base 8", "number", []event.Value{vs("-52"), vi(8)}, false, vi(-42)},
		{"negative base 16", "number", []event.Value{vs("-2a"), vi(16)}, false, vi(-42)},
		{"testNegativeBase16", "number", []event.Value{vs("-0x1"), vi(16)}, false, vnull},
		{"float", "number", []event.Value{vs("123.456")}, false, vf(123.456)},
		{"negative float", "number", []event.Value{vs("-0.5"), vi(10)}, false, vf(-0.5)},
		{"exponent", "number", []event.Value{vs("-7e3")}, false, vf(-7000)},
		{"negative exponent", "number", []event.Value{vs("5e-2")}, false, vf(0.05)},
		{"missing", "number", []event.Value{vnull}, false, vnull},
		{"missing base 8", "number", []event.Value{vnull, vi(8)}, false, vnull},
		{"missing base 16", "number", []event.Value{vabsent, vi(16)}, false, vnull},
		{"locale", "number", []event.Value{vs("1,000"), vi(7)}, false, vnull},
		{"locale base 10", "number", []event.Value{vs("1,000")}, false, vnull},
		{"double base 7", "number", []event.Value{vs("0.5"), vi(7)}, false, vnull},
		{"double base 8", "number", []event.Value{vs("0.5"), vi(8)}, false, vnull},
		{"double base 16", "number", []event.Value{vs("0.5"), vi(16)}, false, vnull},
		// testNumberInvalidDataType: a literal is refused by Elasticsearch
		// at compile time; a field's number or boolean is its text here.
		{"bool", "number", []event.Value{vb(false)}, false, vnull},
		{"double value", "number", []event.Value{vf(1)}, false, vf(1)},
		{"long value", "number", []event.Value{vi(1)}, false, vi(1)},
		// testInvalidBase
		{"base string", "number", []event.Value{vs("5"), vs("foo")}, false, vnull},
		{"base double", "number", []event.Value{vs("5"), vf(1)}, false, vnull},
		{"base bool", "number", []event.Value{vs("5"), vb(false)}, false, vnull},
		{"base long", "number", []event.Value{vs("5"), vi(1 << 32)}, false, vnull},
		// testInvalidSourceString
		{"empty", "number", []event.Value{vs("")}, false, vnull},
		{"empty 16", "number", []event.Value{vs(""), vi(16)}, false, vnull},
		{"foo", "number", []event.Value{vs("foo")}, false, vnull},
		{"foo 16", "number", []event.Value{vs("foo"), vi(16)}, false, vnull},
		{"dots", "number", []event.Value{vs("1.2.3.4"), vi(10)}, false, vnull},
		{"dots 16", "number", []event.Value{vs("1.2.3.4"), vi(16)}, false, vnull},
		// additional_test_queries.toml numberStringConversion*
		{"spec 17", "number", []event.Value{vs("17")}, false, vi(17)},
		{"spec null base", "number", []event.Value{vs("17"), vnull}, false, vi(17)},
		{"spec base 13", "number", []event.Value{vs("31"), vi(13)}, false, vi(40)},
		{"spec base 16", "number", []event.Value{vs("11"), vi(16)}, false, vi(17)},
		// Long.valueOf, then Double.valueOf, as Java reads them.
		{"space is a double", "number", []event.Value{vs(" 17 ")}, false, vf(17)},
		{"past long", "number", []event.Value{vs("9223372036854775808")}, false, vf(9223372036854775808)},
		{"min long", "number", []event.Value{vs("-9223372036854775808")}, false, vi(math.MinInt64)},
		{"plus", "number", []event.Value{vs("+5")}, false, vi(5)},
		{"sign only", "number", []event.Value{vs("-")}, false, vnull},
		{"suffix f", "number", []event.Value{vs("1.5f")}, false, vf(1.5)},
		{"suffix D", "number", []event.Value{vs("2D")}, false, vf(2)},
		{"point", "number", []event.Value{vs("1.")}, false, vf(1)},
		{"leading point", "number", []event.Value{vs(".5")}, false, vf(0.5)},
		{"bare point", "number", []event.Value{vs(".")}, false, vnull},
		{"bare exponent", "number", []event.Value{vs("1e")}, false, vnull},
		{"NaN", "number", []event.Value{vs("NaN")}, false, vf(math.NaN())},
		{"nan", "number", []event.Value{vs("nan")}, false, vnull},
		{"Infinity", "number", []event.Value{vs("-Infinity")}, false, vf(math.Inf(-1))},
		{"inf", "number", []event.Value{vs("inf")}, false, vnull},
		{"overflow", "number", []event.Value{vs("1e999")}, false, vf(math.Inf(1))},
		{"underscore", "number", []event.Value{vs("1_000")}, false, vnull},
		{"hex float base 10", "number", []event.Value{vs("0x1p3"), vi(10)}, false, vf(8)},
		{"hex float auto is base 16", "number", []event.Value{vs("0x1p3")}, false, vnull},
		{"0x alone", "number", []event.Value{vs("0x")}, false, vnull},
		{"0X upper", "number", []event.Value{vs("0X1F")}, false, vnull},
		{"0X upper base 16", "number", []event.Value{vs("0X1F"), vi(16)}, false, vnull},
		{"prefix base 8", "number", []event.Value{vs("0x10"), vi(8)}, false, vnull},
		{"base 36", "number", []event.Value{vs("zz"), vi(36)}, false, vi(1295)},
		{"base 37", "number", []event.Value{vs("1"), vi(37)}, false, vnull},
		{"base 1", "number", []event.Value{vs("0"), vi(1)}, false, vnull},
		{"hex overflow", "number", []event.Value{vs("0x8000000000000000")}, false, vnull},
		{"arabic-indic digits", "number", []event.Value{vs("١٢٣")}, false, vi(123)},
		{"full-width hex", "number", []event.Value{vs("ｆｆ"), vi(16)}, false, vi(255)},
		{"multi-valued", "number", []event.Value{vl(vs("1"), vs("x"), vs("2.5"))}, false, vl(vi(1), vf(2.5))},
	})
}

func TestEQLString(t *testing.T) {
	runFnCases(t, []fnCase{
		// ToStringFunctionProcessorTests
		{"string", "string", []event.Value{vs("foo")}, false, vs("foo")},
		{"int", "string", []event.Value{vi(123)}, false, vs("123")},
		{"long", "string", []event.Value{vi(1234)}, false, vs("1234")},
		{"double", "string", []event.Value{vf(123.456)}, false, vs("123.456")},
		{"char", "string", []event.Value{vs("f")}, false, vs("f")},
		{"null", "string", []event.Value{vnull}, false, vnull},
		{"absent", "string", []event.Value{vabsent}, false, vnull},
		{"bool", "string", []event.Value{vb(true)}, false, vs("true")},
		// additional_test_queries.toml stringCidrMatch2
		{"cidrmatch result", "string", []event.Value{vb(false)}, false, vs("false")},
		{"multi-valued", "string", []event.Value{vl(vi(1), vnull, vf(2))}, false, vl(vs("1"), vs("2.0"))},
	})
}

func TestJavaDouble(t *testing.T) {
	tenth := 0.1
	point3 := tenth + 0.2 // at run time: not the exact constant 0.3
	tests := []struct {
		in   float64
		want string
	}{
		{1, "1.0"}, {-1, "-1.0"}, {0, "0.0"}, {math.Copysign(0, -1), "-0.0"},
		{3.14, "3.14"}, {123.456, "123.456"}, {100, "100.0"}, {0.5, "0.5"},
		{1234567, "1234567.0"}, {9999999, "9999999.0"}, {1e7, "1.0E7"}, {12345678, "1.2345678E7"},
		{0.001, "0.001"}, {0.0012, "0.0012"}, {0.002, "0.002"}, {0.0001, "1.0E-4"}, {0.00012, "1.2E-4"},
		{123456789, "1.23456789E8"}, {1e23, "1.0E23"}, {1e-5, "1.0E-5"}, {-1.5e300, "-1.5E300"},
		{point3, "0.30000000000000004"}, {100.25, "100.25"}, {2e22, "2.0E22"},
		{math.MaxFloat64, "1.7976931348623157E308"}, {math.SmallestNonzeroFloat64, "4.9E-324"},
		// Of the one- and two-digit decimals that read back, the closest.
		{2 * math.SmallestNonzeroFloat64, "9.9E-324"}, {2.2250738585072014e-308, "2.2250738585072014E-308"},
		{math.NaN(), "NaN"}, {math.Inf(1), "Infinity"}, {math.Inf(-1), "-Infinity"},
		{float64(float32(0.1)), "0.10000000149011612"},
	}
	for _, tc := range tests {
		if got := javaDouble(tc.in); got != tc.want {
			t.Errorf("javaDouble(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestEQLSubstring(t *testing.T) {
	const s10 = "abcdefghij" // StringUtilsTests use a random string of 10
	sub := func(name string, start, end event.Value, want event.Value) fnCase {
		args := []event.Value{vs(s10), start}
		if end.Kind != event.Absent {
			args = append(args, end)
		}
		return fnCase{name, "substring", args, false, want}
	}
	runFnCases(t, []fnCase{
		// StringUtilsTests (substringSlice)
		sub("positive", vi(1), vi(7), vs("bcdefg")),
		sub("negative", vi(-5), vi(-1), vs("fghi")),
		sub("negative over length", vi(-15), vi(-11), vs("")),
		sub("positive over length", vi(11), vi(14), vs("")),
		sub("higher end than start negative", vi(-20), vi(-11), vs("")),
		sub("start negative past length", vi(-15), vi(-1), vs("abcdefghi")),
		sub("end past length", vi(0), vi(15), vs(s10)),
		sub("same start end", vi(3), vi(3), vs("")),
		sub("random slice negative", vi(-6), vi(-2), vs("efgh")),
		{"null", "substring", []event.Value{vnull, vi(0), vi(0)}, false, vnull},
		// SubstringFunctionProcessor: a null start is the whole string, a
		// null end the length.
		sub("null start", vnull, vabsent, vs(s10)),
		sub("null start ignores bad end", vnull, vs("x"), vs(s10)),
		sub("null end", vi(7), vnull, vs("hij")),
		sub("no end", vi(-3), vabsent, vs("hij")),
		{"empty", "substring", []event.Value{vs(""), vi(1)}, false, vs("")},
		// SubstringFunctionProcessorTests.testSubstringFunctionInputsValidation
		{"number source", "substring", []event.Value{vi(5), vs("foo")}, false, vnull},
		{"bool start", "substring", []event.Value{vs("bar"), vb(false)}, false, vnull},
		{"string end", "substring", []event.Value{vs("foo"), vi(1), vs("abc")}, false, vnull},
		// additional_test_queries.toml matchWithSubstring
		{"spec", "substring", []event.Value{vs("net1  localgroup"), vi(5)}, false, vs(" localgroup")},
		// Number.intValue: low 32 bits of a long, truncation of a double.
		sub("long start", vi(1<<32+1), vabsent, vs("bcdefghij")),
		sub("double start", vf(1.9), vf(-1.5), vs("bcdefghi")),
		// UTF-16 units; a cut surrogate pair leaves a replacement character.
		{"astral", "substring", []event.Value{vs("😀xy"), vi(2)}, false, vs("xy")},
		{"half surrogate", "substring", []event.Value{vs("😀xy"), vi(1)}, false, vs("\uFFFDxy")},
		{"multi-valued", "substring", []event.Value{vl(vs("abc"), vs("xyz")), vi(1)}, false, vl(vs("bc"), vs("yz"))},
	})
}

func TestEQLLiftCap(t *testing.T) {
	big := make([]event.Value, 200)
	for i := range big {
		big[i] = vi(int64(i))
	}
	if got := eqlFunctions["add"].fn([]event.Value{vl(big...), vl(big...)}, false); got.Kind != event.List || len(got.List) != 200*200 {
		t.Errorf("200×200 combinations: got %v values", got.Len())
	}
	if got := eqlFunctions["concat"].fn([]event.Value{vl(big...), vl(big...), vl(big...)}, false); !got.IsNull() {
		t.Errorf("200³ combinations = %v values, want null past maxCombinations", got.Len())
	}
}

// TestEQLFunctionsInEngine runs the functions through the compiler: the
// engine's comparisons match a multi-valued result on any value, as
// Elasticsearch's per-value scripts do.
func TestEQLFunctionsInEngine(t *testing.T) {
	call := func(name string, args ...query.Expr) query.Call { return query.Call{Name: name, Args: args} }
	lit := func(v event.Value) query.Lit { return query.Lit{V: v} }
	eq := func(l query.Expr, v event.Value) query.Expr { return query.Compare{Op: query.Eq, L: l, R: lit(v)} }
	tests := []struct {
		name string
		expr query.Expr
		want bool
	}{
		{"add", eq(call("add", f("process.pid"), lit(vi(1))), vi(4243)), true},
		{"add miss", eq(call("add", f("process.pid"), lit(vi(1))), vi(4242)), false},
		{"negate", eq(call("negate", f("process.pid")), vi(-4242)), true},
		{"cidrmatch", query.Truthy{X: call("cidrmatch", f("source.ip"), lit(vs("10.0.0.0/8")))}, true},
		{"cidrmatch miss", query.Truthy{X: call("cidrmatch", f("source.ip"), lit(vs("192.168.0.0/16")))}, false},
		{"not cidrmatch absent", query.Not{X: query.Truthy{X: call("cidrmatch", f("nope"), lit(vs("10.0.0.0/8")))}}, true},
		{"substring of any arg", eq(call("substring", f("process.args"), lit(vi(1))), vs("F")), true},
		{"string of any arg", eq(call("string", f("process.args")), vs("INPUT")), true},
		{"between", eq(call("between", f("process.executable"), lit(vs("xtables-")), lit(vs("-multi"))), vs("nft")), true},
		{"concat", eq(call("concat", f("process.name"), lit(vs(":")), f("process.pid")), vs("iptables:4242")), true},
		{"concat null", eq(call("concat", f("process.name"), f("process.parent.name")), vs("iptables")), false},
		{"indexof fold", eq(query.Call{Name: "indexof", Args: []query.Expr{f("process.command_line"), lit(vs("-f"))}, Fold: true}, vi(9)), true},
		{"number", eq(call("number", call("string", f("process.pid")), lit(vi(16))), vi(0x4242)), true},
	}
	ev := testEvent()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := New()
			id, err := e.Add(&query.Query{Stages: []query.Stage{query.Filter{Expr: tc.expr}}})
			if err != nil {
				t.Fatal(err)
			}
			if got := e.MatchOne(id, ev); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// FuzzEQLNumber checks number()'s Java parsers against Go's on the inputs
// where Java and Go agree (ASCII digits and signs), and that no input
// panics.
func FuzzEQLNumber(f *testing.F) {
	for _, s := range []string{"17", "0x11", "-0x1", "1.5e3", " 17", "NaN", "0x1p3", "9223372036854775808", "١٢٣", "1e", "+", ""} {
		f.Add(s, int64(10))
	}
	f.Add("ff", int64(16))
	f.Add("777", int64(8))
	f.Fuzz(func(t *testing.T, s string, base int64) {
		eqlFunctions["number"].fn([]event.Value{vs(s), vi(base)}, false)
		eqlFunctions["number"].fn([]event.Value{vs(s)}, false)
		if strings.Trim(s, "+-0123456789") != "" || strings.Count(s, "+")+strings.Count(s, "-") > 1 {
			return
		}
		got, ok := parseJavaInt(s, 10, 64)
		want, err := strconv.ParseInt(s, 10, 64)
		if s != "" && s[0] != '+' && s[0] != '-' && strings.ContainsAny(s, "+-") {
			return // a sign inside: both refuse, by different rules
		}
		if ok != (err == nil) || ok && got != want {
			t.Errorf("parseJavaInt(%q) = %d, %v; strconv: %d, %v", s, got, ok, want, err)
		}
	})
}

// FuzzEQLCIDR checks the port of Elasticsearch's IP parser against
// net/netip on plain dotted quads and full IPv6 forms, where both follow
// the same rules, and that no input panics.
func FuzzEQLCIDR(f *testing.F) {
	for _, s := range []string{"10.6.48.157", "10.6.48", "::ffff:10.0.0.1", "2001:db8::1", "fe80::1%eth0", "1::2::3", "4294967297.0.0.1", "::", "1:2:3:4:5:6:7::", "010.0.0.1"} {
		f.Add(s, "10.0.0.0/8")
	}
	f.Fuzz(func(t *testing.T, ip, cidr string) {
		cidrMatch([]event.Value{vs(ip), vs(cidr)}, false)
		b, ok := ipBytes(ip)
		if ok && len(b) != 4 && len(b) != 16 {
			t.Fatalf("ipBytes(%q) has %d bytes", ip, len(b))
		}
		if strings.ContainsAny(ip, "%") {
			return
		}
		a, err := netip.ParseAddr(ip)
		// netip refuses hextets of more than four digits and octets past
		// three; the port, like Elasticsearch, reads them with Java int
		// arithmetic. Compare only where neither rule is met.
		for _, part := range strings.FieldsFunc(ip, func(r rune) bool { return r == '.' || r == ':' }) {
			if len(part) > 3 {
				return
			}
		}
		if ok != (err == nil) {
			t.Fatalf("ipBytes(%q) ok=%v, netip err=%v", ip, ok, err)
		}
		if ok && !bytesEqualAddr(b, a) {
			t.Fatalf("ipBytes(%q) = %v, netip %v", ip, b, a)
		}
	})
}

func bytesEqualAddr(b []byte, a netip.Addr) bool {
	a = a.Unmap()
	return string(b) == string(a.AsSlice())
}

// FuzzJavaDouble checks that Double.toString's text reads back as the
// same double and has Java's shape.
func FuzzJavaDouble(f *testing.F) {
	for _, x := range []float64{1, 0.1, 1e7, 1e-3, 5e-324, math.MaxFloat64, 123.456} {
		f.Add(x)
	}
	f.Fuzz(func(t *testing.T, x float64) {
		s := javaDouble(x)
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return
		}
		y, err := strconv.ParseFloat(s, 64)
		if err != nil || y != x {
			t.Fatalf("javaDouble(%v) = %q reads back as %v, %v", x, s, y, err)
		}
		m, _, _ := strings.Cut(strings.TrimPrefix(s, "-"), "E")
		if i := strings.IndexByte(m, '.'); i < 1 || i == len(m)-1 {
			t.Fatalf("javaDouble(%v) = %q: want digits on both sides of the point", x, s)
		}
	})
}

// FuzzEQLStrings feeds arbitrary text to the string functions: they never
// panic, and between and substring return part of their input.
func FuzzEQLStrings(f *testing.F) {
	f.Add("System Idle Process", "s", "e", int64(1), int64(-1))
	f.Add("İa-b😀", "a", "😀", int64(-3), int64(40))
	f.Add("", "", "", int64(0), int64(0))
	f.Fuzz(func(t *testing.T, s, l, r string, start, end int64) {
		for _, fold := range []bool{false, true} {
			for _, greedy := range []bool{false, true} {
				eqlFunctions["between"].fn([]event.Value{vs(s), vs(l), vs(r), vb(greedy)}, fold)
			}
			eqlFunctions["indexof"].fn([]event.Value{vs(s), vs(l), vi(start)}, fold)
		}
		got := eqlFunctions["substring"].fn([]event.Value{vs(s), vi(start), vi(end)}, false)
		if got.Kind != event.String || len(utf16Of(got.Str)) > len(utf16Of(s)) {
			t.Fatalf("substring(%q, %d, %d) = %#v", s, start, end, got)
		}
		eqlFunctions["length"].fn([]event.Value{vs(s)}, false)
	})
}
