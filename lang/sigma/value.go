package sigma

import (
	"encoding/base64"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/firewarden/firewarden/query"
)

// A pattern is a Sigma string after escape processing: runs of literal text
// and the two wildcards. Keeping wildcards apart from text lets modifiers
// such as wide or windash rewrite the text without touching them.
type pattern []piece

type piece struct {
	lit  string // literal text when wild == 0
	wild byte   // '*' or '?'
}

// parseSigmaString applies the spec's escaping rules: `\*`, `\?` and `\\`
// stand for the character itself; a backslash before anything else (or at
// the end) is a plain backslash.
func parseSigmaString(s string) pattern {
	var p pattern
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			p = append(p, piece{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			if i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\') {
				i++
				lit.WriteByte(s[i])
			} else {
				lit.WriteByte('\\')
			}
		case '*', '?':
			flush()
			p = append(p, piece{wild: c})
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return p.normalize()
}

// literalPattern is a pattern holding text verbatim.
func literalPattern(s string) pattern {
	if s == "" {
		return pattern{}
	}
	return pattern{{lit: s}}
}

// normalize merges adjacent literals and collapses runs of '*', which
// match the same strings as one '*'.
func (p pattern) normalize() pattern {
	out := make(pattern, 0, len(p))
	for _, pc := range p {
		n := len(out)
		switch {
		case pc.wild == 0 && pc.lit == "":
			continue
		case pc.wild == 0 && n > 0 && out[n-1].wild == 0:
			out[n-1].lit += pc.lit
		case pc.wild == '*' && n > 0 && out[n-1].wild == '*':
			continue
		default:
			out = append(out, pc)
		}
	}
	return out
}

func (p pattern) hasWild() bool {
	for _, pc := range p {
		if pc.wild != 0 {
			return true
		}
	}
	return false
}

// text concatenates the literal pieces (wildcards dropped); callers use it
// only on patterns without wildcards.
func (p pattern) text() string {
	var b strings.Builder
	for _, pc := range p {
		b.WriteString(pc.lit)
	}
	return b.String()
}

func (p pattern) startsWithStar() bool { return len(p) > 0 && p[0].wild == '*' }
func (p pattern) endsWithStar() bool   { return len(p) > 0 && p[len(p)-1].wild == '*' }

func (p pattern) withLeadingStar() pattern {
	if p.startsWithStar() {
		return p
	}
	return append(pattern{{wild: '*'}}, p...).normalize()
}

func (p pattern) withTrailingStar() pattern {
	if p.endsWithStar() {
		return p
	}
	out := append(append(pattern{}, p...), piece{wild: '*'})
	return out.normalize()
}

// glob renders p in the IR's canonical glob syntax: '*', '?', and '\'
// escaping the next character.
func (p pattern) glob() string {
	var b strings.Builder
	for _, pc := range p {
		if pc.wild != 0 {
			b.WriteByte(pc.wild)
			continue
		}
		for i := 0; i < len(pc.lit); i++ {
			if c := pc.lit[i]; c == '*' || c == '?' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(pc.lit[i])
		}
	}
	return b.String()
}

// matchSpec picks the cheapest IR operator that matches exactly what p
// matches: a plain literal, a literal with a '*' at one or both ends, or a
// general glob.
func (p pattern) matchSpec() (query.MatchOp, string) {
	inner := p
	lead, trail := p.startsWithStar(), p.endsWithStar()
	if lead {
		inner = inner[1:]
	}
	if trail && len(inner) > 0 {
		inner = inner[:len(inner)-1]
	}
	if inner.hasWild() {
		return query.Glob, p.glob()
	}
	s := inner.text()
	switch {
	case lead && trail, lead && len(inner) == 0:
		return query.Contains, s
	case lead:
		return query.Suffix, s
	case trail:
		return query.Prefix, s
	}
	return query.Equal, s
}

// mapLiterals rewrites every literal piece, leaving wildcards in place.
func (p pattern) mapLiterals(f func(string) string) pattern {
	out := make(pattern, len(p))
	for i, pc := range p {
		if pc.wild == 0 {
			pc.lit = f(pc.lit)
		}
		out[i] = pc
	}
	return out.normalize()
}

// Encodings of the utf16 family. Each rune becomes two or four bytes; the
// result is a byte string, which is how the text would appear in an event
// that kept UTF-16 data.
func utf16le(s string) string { return encodeUTF16(s, false) }
func utf16be(s string) string { return encodeUTF16(s, true) }

func encodeUTF16(s string, big bool) string {
	var b strings.Builder
	for _, r := range s {
		for _, u := range utf16.Encode([]rune{r}) {
			if big {
				b.WriteByte(byte(u >> 8))
				b.WriteByte(byte(u))
			} else {
				b.WriteByte(byte(u))
				b.WriteByte(byte(u >> 8))
			}
		}
	}
	return b.String()
}

// utf16BOM is the byte order mark the utf16 modifier puts first (UTF-16LE).
const utf16BOM = "\xff\xfe"

// base64Offsets returns the three forms a byte string takes inside a
// longer base64 text, depending on its offset modulo 3, cut to the
// characters that do not depend on the neighbouring bytes (as pySigma
// does). An empty form means the value is too short to be found at that
// offset at all.
func base64Offsets(data string) [3]string {
	start := [3]int{0, 2, 3}
	endCut := [3]int{0, 3, 2} // characters to drop at the end, by (len+i)%3
	var out [3]string
	for i := range 3 {
		enc := base64.StdEncoding.EncodeToString([]byte(strings.Repeat(" ", i) + data))
		lo, hi := start[i], len(enc)-endCut[(len(data)+i)%3]
		if lo < hi {
			out[i] = enc[lo:hi]
		}
	}
	return out
}

// windashChars are the characters the windash modifier makes
// interchangeable: '-', '/', en dash, em dash and horizontal bar.
const windashChars = "-/\u2013\u2014\u2015"

const numWindash = 5 // runes in windashChars

func isWindash(r rune) bool { return strings.ContainsRune(windashChars, r) }

// isWordRune is Python's Unicode \w (letters, numbers, '_'), which
// pySigma's windash regex uses.
func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r)
}

// windashSlots splits a literal at the dashes windash rewrites: those at a
// non-word boundary before and a word boundary after (pySigma's `\B[-/]\b`,
// applied to each literal run separately), such as the '-' of " -F" but not
// of "a-b". It returns the text between slots (len(slots)+1 of them).
func windashSlots(s string) []string {
	var parts []string
	last := 0
	prev := rune(-1) // none: start of the run
	for i, r := range s {
		size := utf8.RuneLen(r)
		if isWindash(r) && (prev < 0 || !isWordRune(prev)) {
			if next, _ := utf8.DecodeRuneInString(s[i+size:]); i+size < len(s) && isWordRune(next) {
				parts = append(parts, s[last:i])
				last = i + size
			}
		}
		prev = r
	}
	return append(parts, s[last:])
}

// windashCount is how many variants windash makes of p (5^slots), capped.
func windashCount(p pattern, limit int) int {
	n := 1
	for _, pc := range p {
		if pc.wild != 0 {
			continue
		}
		for range len(windashSlots(pc.lit)) - 1 {
			n *= numWindash
			if n > limit {
				return n
			}
		}
	}
	return n
}

// windash expands p into every combination of dash characters at its
// slots. The first variant is p itself with each slot's own character
// normalised to '-'.
func windash(p pattern) []pattern {
	out := []pattern{{}}
	for _, pc := range p {
		if pc.wild != 0 {
			for i := range out {
				out[i] = append(out[i], pc)
			}
			continue
		}
		parts := windashSlots(pc.lit)
		for j, text := range parts {
			for i := range out {
				out[i] = append(out[i], piece{lit: text})
			}
			if j == len(parts)-1 {
				break
			}
			next := make([]pattern, 0, len(out)*numWindash)
			for _, v := range out {
				for _, d := range windashChars {
					w := append(append(pattern{}, v...), piece{lit: string(d)})
					next = append(next, w)
				}
			}
			out = next
		}
	}
	for i := range out {
		out[i] = out[i].normalize()
	}
	return out
}
