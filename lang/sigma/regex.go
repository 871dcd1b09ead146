package sigma

import (
	"regexp"
	"regexp/syntax"
	"strings"

	"github.com/firewarden/firewarden/query"
)

// regex validates a Sigma regular expression against RE2 and renders it
// with its flags and the anchoring startswith/endswith asked for. Matching
// is a search (unanchored), as SigmaHQ's rules assume.
func (c *compiler) regex(v *sval) (string, error) {
	src := v.text
	if feat := unsupportedRegexFeature(src); feat != "" {
		return "", &query.Unsupported{Pos: c.pos(v.node), Construct: "regular expression feature " + feat, Why: "firewarden uses RE2, which runs in linear time and has no backtracking"}
	}
	if _, err := syntax.Parse(src, syntax.Perl); err != nil {
		return "", query.Errorf(c.pos(v.node), "invalid regular expression: %v", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	}
	re := src
	if v.atStart {
		re = `\A(?:` + re + `)`
	}
	if v.atEnd {
		if !v.atStart {
			re = `(?:` + re + `)`
		}
		re += `\z`
	}
	if v.reFlags != "" {
		re = "(?" + v.reFlags + ")" + re
	}
	if _, err := regexp.Compile(re); err != nil {
		return "", query.Errorf(c.pos(v.node), "invalid regular expression: %v", err)
	}
	return re, nil
}

// unsupportedRegexFeature names the PCRE construct in src that RE2 lacks,
// or returns "" (src is valid RE2, or malformed in both dialects).
func unsupportedRegexFeature(src string) string {
	_, err := syntax.Parse(src, syntax.Perl)
	if err == nil {
		return ""
	}
	// Group syntaxes of PCRE that RE2 lacks.
	pcreGroups := [...]struct{ prefix, name string }{
		{"(?=", "lookahead (?=...)"},
		{"(?!", "negative lookahead (?!...)"},
		{"(?<=", "lookbehind (?<=...)"},
		{"(?<!", "negative lookbehind (?<!...)"},
		{"(?>", "atomic group (?>...)"},
		{"(?#", "comment group (?#...)"},
		{"(?|", "branch reset group (?|...)"},
		{"(?(", "conditional group (?(...)"},
		{"(?R", "recursion (?R)"},
		{"(?P=", "named backreference (?P=name)"},
		{"(?P>", "subroutine call (?P>name)"},
		{"(?&", "subroutine call (?&name)"},
	}
	// The parser's error names only the start of the construct, so look
	// for the earliest PCRE group in the text (not escaped).
	best, name := len(src), ""
	for _, g := range pcreGroups {
		for from := 0; ; {
			i := strings.Index(src[from:], g.prefix)
			if i < 0 {
				break
			}
			i += from
			if !escaped(src, i) {
				if i < best {
					best, name = i, g.name
				}
				break
			}
			from = i + 1
		}
	}
	if name != "" {
		return name
	}
	se, ok := err.(*syntax.Error)
	if !ok {
		return ""
	}
	e := se.Expr
	switch se.Code {
	case syntax.ErrInvalidPerlOp, syntax.ErrMissingParen, syntax.ErrInvalidNamedCapture:
		if len(e) > 2 && e[:2] == "(?" && (e[2] >= '0' && e[2] <= '9' || e[2] == '+' || e[2] == '-' && len(e) > 3 && e[3] >= '0' && e[3] <= '9') {
			return "subroutine call " + e
		}
		if strings.HasPrefix(e, "(?") {
			return "inline flags " + e
		}
	case syntax.ErrInvalidEscape:
		if len(e) >= 2 && (e[1] >= '1' && e[1] <= '9' || e[1] == 'k' || e[1] == 'g') {
			return "backreference " + e
		}
		return "escape " + e
	case syntax.ErrInvalidRepeatOp:
		if strings.HasSuffix(e, "+") {
			return "possessive quantifier " + e
		}
	case syntax.ErrInvalidRepeatSize:
		return "repetition count above 1000 " + e
	}
	return ""
}

// escaped reports whether src[i] is preceded by an odd number of
// backslashes.
func escaped(src string, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && src[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}
