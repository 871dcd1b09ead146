package kuery

import (
	"sort"
	"unicode/utf8"

	"github.com/firewarden/firewarden/query"
)

// source is the query text with what it takes to turn a byte offset into
// a position in the file that holds it.
type source struct {
	text  string
	base  query.Pos
	lines []int // byte offsets of the starts of lines
	// The last offset mapped and its column, so that mapping offsets in
	// increasing order (as the parsers do) costs linear time.
	lastOff, lastCol, lastLine int
}

func newSource(text string, base query.Pos) *source {
	if base.Line <= 0 {
		base.Line = 1
	}
	if base.Col <= 0 {
		base.Col = 1
	}
	s := &source{text: text, base: base, lines: []int{0}, lastCol: 1}
	for i := 0; i < len(text); i++ {
		if text[i] == '\n' {
			s.lines = append(s.lines, i+1)
		}
	}
	return s
}

// pos maps a byte offset to a position: the first line of the text starts
// at base's column, later lines at column 1; columns count characters.
func (s *source) pos(off int) query.Pos {
	off = min(max(off, 0), len(s.text))
	l := sort.Search(len(s.lines), func(i int) bool { return s.lines[i] > off }) - 1
	from, col := s.lines[l], 1
	if l == s.lastLine && off >= s.lastOff && s.lastOff >= from {
		from, col = s.lastOff, s.lastCol
	}
	col += utf8.RuneCountInString(s.text[from:off])
	s.lastOff, s.lastCol, s.lastLine = off, col, l
	p := query.Pos{File: s.base.File, Line: s.base.Line + l, Col: col}
	if l == 0 {
		p.Col = s.base.Col + col - 1
	}
	return p
}

// checkUTF8 refuses text that is not UTF-8 where the first bad byte is.
func (s *source) checkUTF8() error {
	for i := 0; i < len(s.text); {
		r, n := utf8.DecodeRuneInString(s.text[i:])
		if r == utf8.RuneError && n == 1 {
			return query.Errorf(s.pos(i), "invalid UTF-8 byte 0x%02x", s.text[i])
		}
		i += n
	}
	return nil
}

// maxDepth bounds nesting (parentheses, not) so that hostile input cannot
// exhaust the stack.
const maxDepth = 500
