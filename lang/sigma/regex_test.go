package sigma

import "testing"

// TestRegexFeatures: PCRE constructs RE2 lacks are named; RE2 syntax passes.
func TestRegexFeatures(t *testing.T) {
	tests := []struct{ re, feature string }{
		{`a(?=b)`, "lookahead (?=...)"},
		{`a(?!b)`, "negative lookahead (?!...)"},
		{`(?<=a)b`, "lookbehind (?<=...)"},
		{`(?<!a)b`, "negative lookbehind (?<!...)"},
		{`(?>a+)b`, "atomic group (?>...)"},
		{`(?#note)a`, "comment group (?#...)"},
		{`(a)\1`, `backreference \1`},
		{`(?P<x>a)(?P=x)`, "named backreference (?P=name)"},
		{`(?<x>a)\k<x>`, `backreference \k`},
		{`a++`, "possessive quantifier ++"},
		{`a*+`, "possessive quantifier *+"},
		{`a\Z`, `escape \Z`},
		{`\Ga`, `escape \G`},
		{`(?x) a b`, "inline flags (?x"},
		{`(?(1)a|b)`, "conditional group (?(...)"},
		{`(?R)`, "recursion (?R)"},
		{`a{1001}`, "repetition count above 1000 {1001}"},
		// RE2 accepts these.
		{`(?i)abc`, ""},
		{`(?P<name>a)(?<n2>b)`, ""},
		{`\s-[^-\s]{0,20}i`, ""},
		{`(^|\/)\.[^.\/]`, ""},
		{`(.){200,}`, ""},
		{`[[:alpha:]]\d+\x41\p{L}`, ""},
		// Malformed, not a feature: reported as an invalid expression.
		{`a(b`, ""},
	}
	for _, tc := range tests {
		if got := unsupportedRegexFeature(tc.re); got != tc.feature {
			t.Errorf("unsupportedRegexFeature(%q) = %q, want %q", tc.re, got, tc.feature)
		}
	}
}
