package engine

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"

	"github.com/firewarden/firewarden/event"
)

// eqlFunctions are the IR built-ins Elastic's EQL needs beyond functions.
//
// Each follows Elasticsearch's own implementation (x-pack/plugin/eql
// *FunctionProcessor and ql's Arithmetics), including its quirks, with these
// rules where a search engine and a per-event matcher must differ:
//
//   - Where Elasticsearch throws (a type it does not accept, a malformed IP or
//     number, an integer overflow, an integer division by zero), the whole
//     search fails there; here the function returns null for that event.
//   - Strings are measured and indexed in UTF-16 code units, and ~ lowers
//     text as Java's toLowerCase(Locale.ROOT) does, because Elasticsearch's
//     positions and lengths are Java's.
//   - A number or boolean where Elasticsearch wants a string is taken as its
//     Java text: a keyword field holding JSON 5 has the doc value "5".
//     (Elasticsearch rejects a non-string literal there at compile time.)
//   - Multi-valued arguments: since 7.15 Elasticsearch evaluates a scripted
//     condition once per value of each field occurrence and keeps the event
//     if any evaluation holds (Scripts.multiValueDocValuesRewrite). These
//     functions therefore map over every combination of argument values and
//     return the list of results, which the engine's comparisons match on any
//     value; cidrmatch, a predicate, returns whether any combination is in
//     range.
//     Past maxCombinations argument combinations the call is null.
//   - Integers are Java longs: Elasticsearch's 32-bit int literals (whose
//     arithmetic overflows at 2^31) are not told apart from long fields, and
//     doubles are float64 (a float-mapped field's 0.1 prints as
//     0.10000000149011612 in Elasticsearch, 0.1 here).
//   - ~ does not apply Java's Greek final-sigma rule, and a surrogate pair
//     cut by a position becomes U+FFFD where Java keeps half of it.
//
// length is also defined in functions, which takes precedence; the version
// here is Elasticsearch's (UTF-16 length of each value).
var eqlFunctions = map[string]function{
	// Multi-valued arguments: lifted functions return one result per
	// combination of values (Elasticsearch runs the script once per value).
	"add":      {2, 2, arith(opAdd)},
	"subtract": {2, 2, arith(opSub)},
	"multiply": {2, 2, arith(opMul)},
	"divide":   {2, 2, arith(opDiv)},
	"modulo":   {2, 2, arith(opMod)},
	"negate":   {1, 1, lifted(negate)},
	"between":  {3, 4, lifted(between)},
	// Multi-valued arguments: true if any combination is in range (the
	// terms query Elasticsearch runs matches any value of the ip field).
	"cidrmatch": {2, -1, fnCIDRMatch},
	"concat":    {0, -1, lifted(concat)},
	"indexof":   {2, 3, lifted(indexOf)},
	"length":    {1, 1, lifted(eqlLength)},
	"number":    {1, 2, lifted(toNumber)},
	"string":    {1, 1, lifted(toString)},
	"substring": {2, 3, lifted(substring)},
}

// maxCombinations bounds the argument combinations one call evaluates: two
// long multi-valued arguments would otherwise cost their product per event.
// Past it the call is null.
const maxCombinations = 1 << 16

// lifted makes a scalar function map over multi-valued arguments (see
// eqlFunctions): it is called once per combination of argument values.
func lifted(f func(args []event.Value, fold bool) event.Value) func([]event.Value, bool) event.Value {
	return func(args []event.Value, fold bool) event.Value {
		return eachCombination(args, func(a []event.Value) event.Value { return f(a, fold) })
	}
}

// eachCombination calls f for every combination of the scalar values of
// args and gathers the non-null results: null if there is none, the result
// itself if there is one, a list otherwise.
func eachCombination(args []event.Value, f func([]event.Value) event.Value) event.Value {
	multi := false
	total := 1
	for _, a := range args {
		if a.Kind == event.List {
			multi = true
			n := len(docValues(a))
			if n > 1 {
				total *= n
				if total > maxCombinations {
					return event.NullV()
				}
			}
		}
	}
	if !multi {
		return f(args)
	}
	// Doc values hold no nulls, and a field whose values are all null has no
	// doc values at all: the script sees null.
	vals := make([][]event.Value, len(args))
	for i, a := range args {
		if a.Kind != event.List {
			vals[i] = []event.Value{a}
			continue
		}
		if vals[i] = docValues(a); len(vals[i]) == 0 {
			vals[i] = []event.Value{event.NullV()}
		}
	}
	cur := make([]event.Value, len(args))
	idx := make([]int, len(args))
	var out []event.Value
	for {
		for i := range args {
			cur[i] = vals[i][idx[i]]
		}
		if r := f(cur); !r.IsNull() {
			out = append(out, r)
		}
		i := len(args) - 1
		for ; i >= 0; i-- {
			if idx[i]++; idx[i] < len(vals[i]) {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			break
		}
	}
	switch len(out) {
	case 0:
		return event.NullV()
	case 1:
		return out[0]
	}
	return event.ListV(out...)
}

// docValues are the non-null elements of a list.
func docValues(v event.Value) []event.Value {
	n := 0
	for _, e := range v.List {
		if !e.IsNull() {
			n++
		}
	}
	if n == len(v.List) {
		return v.List
	}
	out := make([]event.Value, 0, n)
	for _, e := range v.List {
		if !e.IsNull() {
			out = append(out, e)
		}
	}
	return out
}

// --- arithmetic (ql Arithmetics) ---

const (
	opAdd = iota
	opSub
	opMul
	opDiv
	opMod
)

func arith(op int) func([]event.Value, bool) event.Value {
	return lifted(func(a []event.Value, _ bool) event.Value { return arith2(op, a[0], a[1]) })
}

// arith2 is one binary operation: long arithmetic when both are integers
// (Math.addExact and friends: overflow, division and remainder by zero are
// errors), double arithmetic otherwise. Anything but a number is an error.
func arith2(op int, l, r event.Value) event.Value {
	if l.IsNull() || r.IsNull() {
		return event.NullV()
	}
	if !isNum(l) || !isNum(r) {
		return event.NullV() // "A number is required"
	}
	if l.Kind == event.Int && r.Kind == event.Int {
		x, y := l.Int, r.Int
		var z int64
		switch op {
		case opAdd:
			z = x + y
			if (x^z)&(y^z) < 0 {
				return event.NullV() // long overflow
			}
		case opSub:
			z = x - y
			if (x^y)&(x^z) < 0 {
				return event.NullV() // long overflow
			}
		case opMul:
			z = x * y
			if x != 0 && (z/x != y || x == -1 && y == math.MinInt64) {
				return event.NullV() // long overflow
			}
		case opDiv:
			if y == 0 {
				return event.NullV() // ArithmeticException: / by zero
			}
			z = x / y // truncates, and MinInt64 / -1 wraps, as in Java
		case opMod:
			if y == 0 {
				return event.NullV() // ArithmeticException: / by zero
			}
			z = x % y
		}
		return event.IntV(z)
	}
	x, y := toFloat(l), toFloat(r)
	switch op {
	case opAdd:
		return event.FloatV(x + y)
	case opSub:
		return event.FloatV(x - y)
	case opMul:
		return event.FloatV(x * y)
	case opDiv:
		return event.FloatV(x / y)
	}
	return event.FloatV(math.Mod(x, y)) // Java's % on doubles is fmod
}

func toFloat(v event.Value) float64 {
	if v.Kind == event.Int {
		return float64(v.Int)
	}
	return v.Num
}

func negate(a []event.Value, _ bool) event.Value {
	switch v := a[0]; v.Kind {
	case event.Int:
		if v.Int == math.MinInt64 {
			return event.NullV() // Math.negateExact overflows
		}
		return event.IntV(-v.Int)
	case event.Float:
		// Arithmetics.negate compares with Double.MIN_VALUE, the smallest
		// positive double, and throws "double overflow" for it.
		if v.Num == math.SmallestNonzeroFloat64 {
			return event.NullV()
		}
		return event.FloatV(-v.Num)
	}
	return event.NullV()
}

// --- strings ---

// javaString is Object.toString of a doc value: the text of a string, a
// long or a double as Java prints them, true/false.
func javaString(v event.Value) (string, bool) {
	switch v.Kind {
	case event.String:
		return v.Str, true
	case event.Int:
		return strconv.FormatInt(v.Int, 10), true
	case event.Float:
		return javaDouble(v.Num), true
	case event.Bool:
		if v.Int != 0 {
			return "true", true
		}
		return "false", true
	}
	return "", false
}

// javaDouble is Double.toString (JDK 19 and later, which Elasticsearch 8
// bundles): the shortest decimal that reads back as f, plain between 10^-3
// and 10^7, computerized scientific notation ("1.0E7") outside.
func javaDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	digits, exp := shortestDigits(f)
	if len(digits) == 1 {
		// Where one digit is the shortest, Java picks the closest decimal
		// of one or two digits (4.9E-324, not 5.0E-324).
		if d2, e2 := decimalDigits(strconv.FormatFloat(f, 'e', 1, 64)); readsBack(d2, e2, f) {
			digits, exp = d2, e2
		}
	}
	digits = strings.TrimRight(digits, "0")
	if digits == "" {
		digits = "0"
	}
	var b strings.Builder
	if f < 0 {
		b.WriteByte('-')
	}
	// The value is 0.d1d2… × 10^(exp+1); exp is the exponent of d1.
	switch {
	case exp >= 0 && exp < 7:
		if len(digits) <= exp+1 {
			b.WriteString(digits)
			b.WriteString(strings.Repeat("0", exp+1-len(digits)))
			b.WriteString(".0")
		} else {
			b.WriteString(digits[:exp+1])
			b.WriteByte('.')
			b.WriteString(digits[exp+1:])
		}
	case exp < 0 && exp >= -3:
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", -exp-1))
		b.WriteString(digits)
	default:
		b.WriteByte(digits[0])
		b.WriteByte('.')
		if len(digits) > 1 {
			b.WriteString(digits[1:])
		} else {
			b.WriteByte('0')
		}
		b.WriteByte('E')
		b.WriteString(strconv.Itoa(exp))
	}
	return b.String()
}

// shortestDigits are the digits of |f|'s shortest decimal and the power of
// ten of the first one.
func shortestDigits(f float64) (string, int) {
	return decimalDigits(strconv.FormatFloat(math.Abs(f), 'e', -1, 64))
}

// decimalDigits splits strconv's 'e' format ("d.ddde±xx") of a
// non-negative number.
func decimalDigits(s string) (string, int) {
	s = strings.TrimPrefix(s, "-")
	m, e, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(e)
	return strings.Replace(m, ".", "", 1), exp
}

func readsBack(digits string, exp int, f float64) bool {
	g, err := strconv.ParseFloat(digits+"e"+strconv.Itoa(exp-len(digits)+1), 64)
	return err == nil && g == math.Abs(f)
}

// javaLower is String.toLowerCase(Locale.ROOT): the simple lower-case
// mapping of each character, except that İ becomes i + combining dot above
// (two UTF-16 units). Greek final sigma is not special-cased here.
func javaLower(s string) string {
	if !strings.ContainsRune(s, 'İ') {
		return lower(s)
	}
	return lower(strings.ReplaceAll(s, "İ", "i\u0307"))
}

func utf16Of(s string) []uint16 { return utf16.Encode([]rune(s)) }

// stringOf turns UTF-16 back into text. A surrogate pair cut in two by a
// Java position (which Java keeps as a lone surrogate) becomes U+FFFD.
func stringOf(u []uint16) string { return string(utf16.Decode(u)) }

// indexOf16 is String.indexOf(str, fromIndex) over UTF-16 units.
func indexOf16(s, sub []uint16, from int) int {
	if from >= len(s) {
		if len(sub) == 0 {
			return len(s)
		}
		return -1
	}
	if from < 0 {
		from = 0
	}
	for i := from; i+len(sub) <= len(s); i++ {
		if equal16(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

// lastIndexOf16 is String.lastIndexOf(str) over UTF-16 units.
func lastIndexOf16(s, sub []uint16) int {
	for i := len(s) - len(sub); i >= 0; i-- {
		if equal16(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

func equal16(a, b []uint16) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// javaInt is Number.intValue of an integer-typed argument: a long keeps its
// low 32 bits, a double is truncated and saturated.
func javaInt(v event.Value) (int, bool) {
	switch v.Kind {
	case event.Int:
		return int(int32(v.Int)), true
	case event.Float:
		switch f := v.Num; {
		case math.IsNaN(f):
			return 0, true
		case f >= math.MaxInt32:
			return math.MaxInt32, true
		case f <= math.MinInt32:
			return math.MinInt32, true
		default:
			return int(int32(f)), true
		}
	}
	return 0, false
}

// between(source, left, right[, greedy]) is the text between the first left
// and the next right (greedy: the last right), compared case-insensitively
// with ~. Elasticsearch returns the source itself when any of the three is
// empty.
func between(a []event.Value, fold bool) event.Value {
	if a[0].IsNull() {
		return event.NullV()
	}
	src, ok1 := javaString(a[0])
	left, ok2 := javaString(a[1])
	right, ok3 := javaString(a[2])
	if !ok1 || !ok2 || !ok3 {
		return event.NullV() // "A string/char is required"
	}
	greedy := false
	if len(a) > 3 {
		if a[3].Kind != event.Bool {
			return event.NullV() // "A boolean is required"
		}
		greedy = a[3].Truth()
	}
	if src == "" || left == "" || right == "" {
		return event.Str(src)
	}
	s := utf16Of(src)
	m, l, r := s, utf16Of(left), utf16Of(right)
	if fold {
		m, l, r = utf16Of(javaLower(src)), utf16Of(javaLower(left)), utf16Of(javaLower(right))
	}
	i := indexOf16(m, l, 0)
	if i < 0 {
		return event.Str("")
	}
	start := i + len(l)
	var end int
	if greedy {
		end = lastIndexOf16(m, r)
	} else {
		end = indexOf16(m, r, start)
	}
	if end < 0 {
		return event.Str("")
	}
	// The positions come from the lowered text and cut the original, as in
	// Elasticsearch; where they do not fit, String.substring throws.
	if end < start || end > len(s) {
		return event.NullV()
	}
	return event.Str(stringOf(s[start:end]))
}

// concat joins the text of its arguments; null if any is null.
func concat(a []event.Value, _ bool) event.Value {
	var b strings.Builder
	for _, v := range a {
		if v.IsNull() {
			return event.NullV()
		}
		s, ok := javaString(v)
		if !ok {
			return event.NullV()
		}
		b.WriteString(s)
	}
	return event.Str(b.String())
}

// indexOf(source, substring[, start]) is the first position of substring at
// or after start, null when there is none.
func indexOf(a []event.Value, fold bool) event.Value {
	if a[0].IsNull() {
		return event.NullV()
	}
	src, ok := javaString(a[0])
	if !ok {
		return event.NullV() // "A string/char is required"
	}
	if a[1].IsNull() {
		return event.NullV()
	}
	sub, ok := javaString(a[1])
	if !ok {
		return event.NullV() // "A string/char is required"
	}
	from := 0
	if len(a) > 2 && !a[2].IsNull() {
		if from, ok = javaInt(a[2]); !ok {
			return event.NullV() // "A number is required"
		}
	}
	if fold {
		src, sub = javaLower(src), javaLower(sub)
	}
	if i := indexOf16(utf16Of(src), utf16Of(sub), from); i >= 0 {
		return event.IntV(int64(i))
	}
	return event.NullV()
}

// eqlLength is the number of UTF-16 units of a string.
func eqlLength(a []event.Value, _ bool) event.Value {
	if a[0].IsNull() {
		return event.NullV()
	}
	s, ok := javaString(a[0])
	if !ok {
		return event.NullV() // "A string/char is required"
	}
	return event.IntV(int64(len(utf16Of(s))))
}

// toString is string(value): the value's Java text.
func toString(a []event.Value, _ bool) event.Value {
	if s, ok := javaString(a[0]); ok {
		return event.Str(s)
	}
	return event.NullV()
}

// substring(source, start[, end]) slices like Python: negative positions
// count from the end, out-of-range ones are clamped.
func substring(a []event.Value, _ bool) event.Value {
	if a[0].IsNull() {
		return event.NullV()
	}
	src, ok := javaString(a[0])
	if !ok {
		return event.NullV() // "A string/char is required"
	}
	if a[1].IsNull() {
		return event.Str(src)
	}
	start, ok := javaInt(a[1])
	if !ok {
		return event.NullV() // "A number is required"
	}
	s := utf16Of(src)
	end := len(s)
	if len(a) > 2 && !a[2].IsNull() {
		if end, ok = javaInt(a[2]); !ok {
			return event.NullV() // "A number is required"
		}
	}
	if len(s) == 0 {
		return event.Str(src)
	}
	if start < 0 {
		start = max(start+len(s), 0)
	}
	if end < 0 {
		end = max(end+len(s), 0)
	} else if end > len(s) {
		end = len(s)
	}
	if start >= end {
		return event.Str("")
	}
	return event.Str(stringOf(s[start:end]))
}

// --- number() ---

// toNumber is number(string[, base]): a long, or for base 10 a double when
// the text is not a long. Without a base, a "0x" prefix means 16; with base
// 16 the prefix is dropped. Unparseable text is an error.
func toNumber(a []event.Value, _ bool) event.Value {
	if a[0].IsNull() {
		return event.NullV()
	}
	s, ok := javaString(a[0])
	if !ok {
		return event.NullV() // "A string/char is required"
	}
	hexPrefix := strings.HasPrefix(s, "0x")
	radix := 10
	if hexPrefix {
		radix = 16
	}
	if len(a) > 1 && !a[1].IsNull() {
		// The base is an Integer: a long or a double is refused.
		if a[1].Kind != event.Int || a[1].Int != int64(int32(a[1].Int)) {
			return event.NullV() // "An integer base is required"
		}
		radix = int(a[1].Int)
	}
	if hexPrefix && radix == 16 {
		s = s[2:]
	}
	if radix == 10 {
		if n, ok := parseJavaInt(s, 10, 64); ok {
			return event.IntV(n)
		}
		if f, ok := parseJavaDouble(s); ok {
			return event.FloatV(f)
		}
		return event.NullV() // "Unable to convert"
	}
	if n, ok := parseJavaInt(s, radix, 64); ok {
		return event.IntV(n)
	}
	return event.NullV() // "Unable to convert"
}

// parseJavaInt is Long.parseLong (bits 64) or Integer.parseInt (bits 32):
// an optional sign, then digits of the radix as Character.digit reads them,
// which includes every Unicode decimal digit of the BMP and the full-width
// Latin letters.
func parseJavaInt(s string, radix, bits int) (int64, bool) {
	if radix < 2 || radix > 36 {
		return 0, false
	}
	u := utf16Of(s)
	if len(u) == 0 {
		return 0, false
	}
	neg := false
	i := 0
	if u[0] < '0' {
		switch u[0] {
		case '-':
			neg = true
		case '+':
		default:
			return 0, false
		}
		if len(u) == 1 {
			return 0, false
		}
		i = 1
	}
	limit := uint64(1)<<(bits-1) - 1
	if neg {
		limit++
	}
	var n uint64
	for ; i < len(u); i++ {
		d := javaDigit(rune(u[i]), radix)
		if d < 0 {
			return 0, false
		}
		if n > (limit-uint64(d))/uint64(radix) {
			return 0, false
		}
		n = n*uint64(radix) + uint64(d)
	}
	if neg {
		return -int64(n), true // n ≤ 2^63 wraps to MinInt64 as intended
	}
	return int64(n), true
}

// javaDigit is Character.digit(char, radix).
func javaDigit(r rune, radix int) int {
	d := -1
	switch {
	case r >= 'A' && r <= 'Z':
		d = int(r-'A') + 10
	case r >= 'a' && r <= 'z':
		d = int(r-'a') + 10
	case r >= 'Ａ' && r <= 'Ｚ':
		d = int(r-'Ａ') + 10
	case r >= 'ａ' && r <= 'ｚ':
		d = int(r-'ａ') + 10
	case unicode.Is(unicode.Nd, r):
		// Unicode decimal digits come in runs of ten, 0 to 9.
		for _, rg := range unicode.Nd.R16 {
			if r >= rune(rg.Lo) && r <= rune(rg.Hi) {
				d = int(r-rune(rg.Lo)) % 10
			}
		}
	}
	if d >= radix {
		return -1
	}
	return d
}

// parseJavaDouble is Double.valueOf: surrounding characters up to U+0020
// trimmed, an optional sign, then NaN, Infinity, a decimal with an optional
// exponent, or a hexadecimal 0x…p… literal, each with an optional f/F/d/D
// suffix after a number. Overflow is Infinity, not an error.
func parseJavaDouble(s string) (float64, bool) {
	s = strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
	body := s
	sign := 1.0
	if body != "" && (body[0] == '+' || body[0] == '-') {
		if body[0] == '-' {
			sign = -1
		}
		body = body[1:]
	}
	switch body {
	case "NaN":
		return math.NaN(), true
	case "Infinity":
		return math.Inf(int(sign)), true
	}
	if n := len(body); n > 0 && strings.IndexByte("fFdD", body[n-1]) >= 0 {
		body = body[:n-1]
		s = s[:len(s)-1]
	}
	if len(body) > 1 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X') {
		if !javaHexFloat(body[2:]) {
			return 0, false
		}
	} else if !javaDecimal(body) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// javaDecimal reports whether s is digits with at most one point, at least
// one digit, and an optional exponent of at least one digit.
func javaDecimal(s string) bool {
	i, digits := 0, 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		digits++
	}
	if i < len(s) && s[i] == '.' {
		for i++; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		start := i
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		}
		if i == start {
			return false
		}
	}
	return i == len(s)
}

// javaHexFloat reports whether s (after 0x) is hex digits with at most one
// point, at least one digit, and a mandatory binary exponent p±digits.
func javaHexFloat(s string) bool {
	isHex := func(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }
	i, digits := 0, 0
	for ; i < len(s) && isHex(s[i]); i++ {
		digits++
	}
	if i < len(s) && s[i] == '.' {
		for i++; i < len(s) && isHex(s[i]); i++ {
			digits++
		}
	}
	if digits == 0 || i == len(s) || s[i] != 'p' && s[i] != 'P' {
		return false
	}
	i++
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	start := i
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
	}
	return i > start && i == len(s)
}

// --- cidrmatch() ---

// fnCIDRMatch is cidrmatch(ip, cidr…): whether the address is in any of the
// ranges, each a CIDR block or a single address. Over multi-valued
// arguments it is true when any combination is in range (Elasticsearch runs
// it as a terms query on the ip field: any value matches).
func fnCIDRMatch(args []event.Value, _ bool) event.Value {
	r := eachCombination(args, func(a []event.Value) event.Value { return cidrMatch(a, false) })
	if r.Kind != event.List {
		return r
	}
	for _, v := range r.List {
		if v.Truth() {
			return v
		}
	}
	return event.BoolV(false)
}

func cidrMatch(a []event.Value, _ bool) event.Value {
	if a[0].IsNull() {
		return event.NullV()
	}
	src, ok := javaString(a[0])
	if !ok {
		return event.NullV() // "A string/char is required"
	}
	cidrs := make([]string, len(a)-1)
	for i, v := range a[1:] {
		if cidrs[i], ok = javaString(v); !ok {
			return event.NullV() // "A string/char is required", null included
		}
	}
	addr, ok := ipBytes(src)
	if !ok {
		return event.NullV() // "… is not an IP string literal."
	}
	// Ranges are parsed in order until one matches: a malformed range after
	// a match is never read.
	for _, c := range cidrs {
		lo, hi, ok := ipRange(c)
		if !ok {
			return event.NullV()
		}
		if inRange(addr, lo, hi) {
			return event.BoolV(true)
		}
	}
	return event.BoolV(false)
}

// ipRange is the lowest and highest address of a CIDR block, or of a
// single address (CIDRUtils.isInRange).
func ipRange(cidr string) (lo, hi []byte, ok bool) {
	if !strings.Contains(cidr, "/") {
		lo, ok = ipBytes(cidr)
		return lo, lo, ok
	}
	// InetAddresses.parseCidr splits with String.split, which drops
	// trailing empty fields: "10.0.0.0/8/" is accepted.
	fields := strings.Split(cidr, "/")
	for len(fields) > 0 && fields[len(fields)-1] == "" {
		fields = fields[:len(fields)-1]
	}
	if len(fields) != 2 {
		return nil, nil, false
	}
	addr, ok := ipBytes(fields[0])
	if !ok || strings.Contains(fields[0], ":") && len(addr) == 4 {
		return nil, nil, false // mapped IPv4 with a prefix is ambiguous
	}
	prefix, ok := parseJavaInt(fields[1], 10, 32)
	if !ok || prefix < 0 || prefix > int64(8*len(addr)) {
		return nil, nil, false
	}
	lo, hi = bytes.Clone(addr), bytes.Clone(addr)
	for i := int(prefix); i < 8*len(addr); i++ {
		m := byte(1) << (7 - i&7)
		lo[i>>3] &^= m
		hi[i>>3] |= m
	}
	return lo, hi, true
}

// ipv4Prefix maps an IPv4 address into IPv6 (::ffff:a.b.c.d).
var ipv4Prefix = [12]byte{10: 0xff, 11: 0xff}

func inRange(addr, lo, hi []byte) bool {
	if len(addr) != len(lo) {
		addr, lo, hi = as16(addr), as16(lo), as16(hi)
	}
	return bytes.Compare(lo, addr) <= 0 && bytes.Compare(hi, addr) >= 0
}

func as16(b []byte) []byte {
	if len(b) == 16 {
		return b
	}
	return append(ipv4Prefix[:len(ipv4Prefix):len(ipv4Prefix)], b...)
}

// ipBytes is InetAddresses.forString(s).getAddress(): 4 bytes for IPv4 and
// for IPv4-mapped IPv6 (InetAddress.getByAddress unmaps them), 16 otherwise.
// It is a port of Elasticsearch's parser, Java int overflow included, so it
// accepts and refuses exactly what Elasticsearch does.
func ipBytes(s string) ([]byte, bool) {
	b := []byte(s)
	lastColon := -1
	hasDot := false
	for i, c := range b {
		switch {
		case c&0x80 != 0:
			return nil, false
		case c == '.':
			hasDot = true
		case c == ':':
			if hasDot {
				return nil, false
			}
			lastColon = i
		case c == '%':
			if i == len(b)-1 {
				return nil, false
			}
			b = b[:i] // a scope id is ignored
		}
		if c == '%' {
			break
		}
	}
	var addr []byte
	switch {
	case lastColon >= 0:
		if hasDot {
			quad, ok := ipv4Bytes(b[lastColon+1:])
			if !ok {
				return nil, false
			}
			const hex = "0123456789abcdef"
			b = append(bytes.Clone(b[:lastColon+1]),
				hex[quad[0]>>4], hex[quad[0]&15], hex[quad[1]>>4], hex[quad[1]&15], ':',
				hex[quad[2]>>4], hex[quad[2]&15], hex[quad[3]>>4], hex[quad[3]&15])
		}
		var ok bool
		if addr, ok = ipv6Bytes(b); !ok {
			return nil, false
		}
		if [12]byte(addr[:12]) == ipv4Prefix {
			return addr[12:], true
		}
		return addr, true
	case hasDot:
		return ipv4Bytes(b)
	}
	return nil, false
}

func ipv4Bytes(b []byte) ([]byte, bool) {
	out := make([]byte, 4)
	octet := 0
	var digits int8 // Java byte
	var cur int32   // Java int
	for _, c := range b {
		switch {
		case c == '.':
			if octet >= 4 || digits == 0 || cur > 255 {
				return nil, false
			}
			out[octet] = byte(cur)
			octet++
			cur, digits = 0, 0
		case c >= '0' && c <= '9':
			if digits != 0 && cur == 0 {
				return nil, false // leading zero
			}
			cur = cur*10 + int32(c-'0')
			digits++
		default:
			return nil, false
		}
	}
	if octet != 3 || digits == 0 || cur > 255 {
		return nil, false
	}
	out[3] = byte(cur)
	return out, true
}

func ipv6Bytes(b []byte) ([]byte, bool) {
	n := len(b)
	if n < 2 || b[0] == ':' && b[1] != ':' || b[n-1] == ':' && b[n-2] != ':' {
		return nil, false
	}
	out := make([]byte, 16)
	pos := 0
	put := func(h int32) bool {
		if pos > 14 || h > 0xffff {
			return false
		}
		out[pos], out[pos+1] = byte(h>>8), byte(h)
		pos += 2
		return true
	}
	compressed, hextets, start := -1, 0, 0
	var cur int32 // Java int
	for i, c := range b {
		switch {
		case c == ':':
			if start == i {
				if compressed >= 0 && i != 1 {
					return nil, false
				}
				compressed = hextets
			} else {
				if !put(cur) {
					return nil, false
				}
				cur = 0
				hextets++
			}
			start = i + 1
		case c >= '0' && c <= '9':
			cur = cur*16 + int32(c-'0')
		case c >= 'a' && c <= 'f':
			cur = cur*16 + int32(c-'a'+10)
		case c >= 'A' && c <= 'F':
			cur = cur*16 + int32(c-'A'+10)
		default:
			return nil, false
		}
	}
	if start < n {
		if !put(cur) {
			return nil, false
		}
		hextets++
	}
	if compressed >= 0 {
		if hextets >= 8 {
			return nil, false
		}
		shift := 8 - hextets
		for h := hextets - 1; h >= compressed; h-- {
			from, to := 2*h, 2*(h+shift)
			out[to], out[to+1] = out[from], out[from+1]
			out[from], out[from+1] = 0, 0
		}
	} else if hextets != 8 {
		return nil, false
	}
	return out, true
}
