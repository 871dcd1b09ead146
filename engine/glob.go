package engine

import (
	"strings"
	"unicode/utf8"
)

// glob is a compiled wildcard pattern in the IR's canonical syntax: '*' any
// run of characters, '?' exactly one character, '\' escapes the next one.
type glob struct {
	parts []globPart // alternating literal runs and wildcards
	// Fast paths for the common shapes.
	kind globKind
	lit  string
	hasQ bool
}

type globKind uint8

const (
	globGeneral  globKind = iota
	globExact             // no wildcard
	globContains          // *lit*
	globPrefix            // lit*
	globSuffix            // *lit
	globAll               // * alone
)

type globPart struct {
	lit  string
	star bool // a run of '*'
	q    int  // number of '?' (one char each) when lit == "" && !star
}

// compileGlob parses pattern; fold lowers its literal parts.
func compileGlob(pattern string, fold bool) *glob {
	g := &glob{}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			s := lit.String()
			if fold {
				s = strings.ToLower(s)
			}
			g.parts = append(g.parts, globPart{lit: s})
			lit.Reset()
		}
	}
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch {
		case c == '\\' && i+1 < len(pattern):
			i++
			lit.WriteByte(pattern[i])
		case c == '*':
			flush()
			if n := len(g.parts); n == 0 || !g.parts[n-1].star {
				g.parts = append(g.parts, globPart{star: true})
			}
		case c == '?':
			flush()
			g.hasQ = true
			if n := len(g.parts); n > 0 && !g.parts[n-1].star && g.parts[n-1].lit == "" {
				g.parts[n-1].q++
			} else {
				g.parts = append(g.parts, globPart{q: 1})
			}
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	g.classify()
	return g
}

func (g *glob) classify() {
	p := g.parts
	isLit := func(x globPart) bool { return !x.star && x.q == 0 }
	switch {
	case len(p) == 0:
		g.kind, g.lit = globExact, ""
	case len(p) == 1 && isLit(p[0]):
		g.kind, g.lit = globExact, p[0].lit
	case len(p) == 1 && p[0].star:
		g.kind = globAll
	case len(p) == 2 && isLit(p[0]) && p[1].star:
		g.kind, g.lit = globPrefix, p[0].lit
	case len(p) == 2 && p[0].star && isLit(p[1]):
		g.kind, g.lit = globSuffix, p[1].lit
	case len(p) == 3 && p[0].star && isLit(p[1]) && p[2].star:
		g.kind, g.lit = globContains, p[1].lit
	default:
		g.kind = globGeneral
	}
}

func (g *glob) match(s string) bool {
	switch g.kind {
	case globExact:
		return s == g.lit
	case globAll:
		return true
	case globPrefix:
		return strings.HasPrefix(s, g.lit)
	case globSuffix:
		return strings.HasSuffix(s, g.lit)
	case globContains:
		return strings.Contains(s, g.lit)
	}
	return matchParts(g.parts, s)
}

// matchParts matches with backtracking only to the most recent star, which
// is linear in practice (the classic wildcard algorithm, generalised to
// literal runs).
func matchParts(parts []globPart, s string) bool {
	pi, si := 0, 0
	starPi, starSi := -1, 0
	for {
		if pi == len(parts) {
			if si == len(s) {
				return true
			}
		} else {
			p := parts[pi]
			switch {
			case p.star:
				starPi, starSi = pi, si
				pi++
				continue
			case p.q > 0:
				j, ok := skipRunes(s, si, p.q)
				if ok {
					pi, si = pi+1, j
					continue
				}
			default:
				if strings.HasPrefix(s[si:], p.lit) {
					pi, si = pi+1, si+len(p.lit)
					continue
				}
			}
		}
		if starPi < 0 || starSi >= len(s) {
			return false
		}
		// Let the last star eat one more character and retry.
		_, w := utf8.DecodeRuneInString(s[starSi:])
		starSi += w
		pi, si = starPi+1, starSi
	}
}

func skipRunes(s string, i, n int) (int, bool) {
	for ; n > 0; n-- {
		if i >= len(s) {
			return i, false
		}
		_, w := utf8.DecodeRuneInString(s[i:])
		i += w
	}
	return i, true
}
