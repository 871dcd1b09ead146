package spl

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/firewarden/firewarden/query"
)

// Macro is one search macro: `name` or `name(arg1, arg2)`, whose
// definition replaces the call with each $arg$ substituted, as Splunk
// expands macros before it parses a search.
type Macro struct {
	Name       string
	Args       []string
	Definition string
	Path       string // the file it came from; "builtin" for the CIM macros
}

// Macros is a set of macro definitions, keyed by name and argument count
// ("name" or "name(2)", as Splunk's macros.conf keys them).
type Macros struct {
	defs map[string]*Macro
}

func macroKey(name string, n int) string {
	if n == 0 {
		return name
	}
	return fmt.Sprintf("%s(%d)", name, n)
}

// Builtin returns the macros firewarden ships: the CIM and ESCU ones every
// ESCU search uses, with ESCU's default definitions.
func Builtin() *Macros {
	m := &Macros{defs: map[string]*Macro{}}
	for _, d := range []Macro{
		{Name: "security_content_summariesonly", Definition: "summariesonly=false allow_old_summaries=true fillnull_value=null"},
		{Name: "summariesonly", Definition: "summariesonly=false allow_old_summaries=true fillnull_value=null"},
		{Name: "drop_dm_object_name", Args: []string{"object"}, Definition: `rename $object$.* as *`},
		{Name: "security_content_ctime", Args: []string{"field"}, Definition: `convert timeformat="%Y-%m-%dT%H:%M:%S" ctime($field$)`},
	} {
		d := d
		d.Path = "builtin"
		m.defs[macroKey(d.Name, len(d.Args))] = &d
	}
	return m
}

// Add defines (or redefines) a macro.
func (m *Macros) Add(d *Macro) {
	if m.defs == nil {
		m.defs = map[string]*Macro{}
	}
	m.defs[macroKey(d.Name, len(d.Args))] = d
}

// Len is the number of definitions.
func (m *Macros) Len() int {
	if m == nil {
		return 0
	}
	return len(m.defs)
}

// Lookup finds a macro by name and argument count.
func (m *Macros) Lookup(name string, nargs int) *Macro {
	if m == nil {
		return nil
	}
	return m.defs[macroKey(name, nargs)]
}

// Merge returns a set with m's definitions and then o's (o wins).
func (m *Macros) Merge(o *Macros) *Macros {
	out := &Macros{defs: map[string]*Macro{}}
	for _, s := range []*Macros{m, o} {
		if s == nil {
			continue
		}
		for k, v := range s.defs {
			out.defs[k] = v
		}
	}
	return out
}

type macroFile struct {
	Name       string   `yaml:"name"`
	Definition *string  `yaml:"definition"`
	Arguments  []string `yaml:"arguments"`
}

// ParseMacroFile reads one ESCU macro file (YAML: name, definition,
// arguments). ok is false when data is not a macro file.
func ParseMacroFile(path string, data []byte) (d *Macro, ok bool, err error) {
	var f macroFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		return nil, false, nil
	}
	if f.Name == "" || f.Definition == nil {
		return nil, false, nil
	}
	name := f.Name
	// ESCU names a macro with arguments "name(1)" in some files.
	if i := strings.IndexByte(name, '('); i > 0 {
		name = name[:i]
	}
	return &Macro{Name: name, Args: f.Arguments, Definition: *f.Definition, Path: path}, true, nil
}

// IsMacroFile reports whether data looks like an ESCU macro definition.
func IsMacroFile(data []byte) bool {
	_, ok, _ := ParseMacroFile("", data)
	return ok && !hasTopKey(data, "search")
}

// LoadMacroDir reads every *.yml / *.yaml macro file of dir.
func LoadMacroDir(dir string) (*Macros, error) {
	m := &Macros{defs: map[string]*Macro{}}
	var files []string
	for _, pat := range []string{"*.yml", "*.yaml"} {
		fs, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			return nil, err
		}
		files = append(files, fs...)
	}
	if len(files) == 0 {
		if _, err := os.Stat(dir); err != nil {
			return nil, err
		}
	}
	sort.Strings(files)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if d, ok, _ := ParseMacroFile(f, data); ok {
			m.Add(d)
		}
	}
	return m, nil
}

func hasTopKey(data []byte, key string) bool {
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, key+":") {
			return true
		}
	}
	return false
}

// maxExpansions bounds macro expansion (a macro that calls itself).
const maxExpansions = 1000

// expand replaces every `macro` and `macro(args)` of src by its
// definition, recursively. origin maps each byte of the result to the
// offset in src it came from: a macro's text maps to its call's backtick,
// so errors inside expanded text point at the call.
func expand(src string, ms *Macros, base query.Pos) (string, []int, error) {
	var out strings.Builder
	var origin []int
	n := 0
	var rec func(s string, at func(i int) int, depth int) error
	rec = func(s string, at func(i int) int, depth int) error {
		for i := 0; i < len(s); {
			c := s[i]
			if c == '"' { // a string: copy up to its end (no macros inside)
				j := i + 1
				for j < len(s) && s[j] != '"' {
					if s[j] == '\\' && j+1 < len(s) {
						j++
					}
					j++
				}
				if j < len(s) {
					j++
				}
				for k := i; k < j; k++ {
					out.WriteByte(s[k])
					origin = append(origin, at(k))
				}
				i = j
				continue
			}
			if c != '`' {
				out.WriteByte(c)
				origin = append(origin, at(i))
				i++
				continue
			}
			j := strings.IndexByte(s[i+1:], '`')
			if j < 0 {
				return &query.Error{Pos: posOf(src, at(i), base), Msg: "unterminated macro call: no closing `"}
			}
			call := s[i+1 : i+1+j]
			name, args, err := splitMacroCall(call)
			if err != nil {
				return &query.Error{Pos: posOf(src, at(i), base), Msg: err.Error()}
			}
			if n++; n > maxExpansions || depth > 50 {
				return &query.Error{Pos: posOf(src, at(i), base), Msg: "macro " + name + ": expansion does not end (recursive macro?)"}
			}
			def := ms.Lookup(name, len(args))
			var text string
			switch {
			case def != nil:
				text = def.Definition
				for k, a := range def.Args {
					text = strings.ReplaceAll(text, "$"+a+"$", args[k])
				}
			case len(args) == 0 && strings.HasSuffix(name, "_filter"):
				// ESCU: a detection's filter macro that nobody defined
				// keeps every result.
				text = "search *"
			default:
				return &query.Unsupported{Pos: posOf(src, at(i), base), Construct: "macro `" + macroKey(name, len(args)) + "`", Why: "not defined (pass the ESCU macros folder)"}
			}
			here := at(i)
			if err := rec(" "+text+" ", func(int) int { return here }, depth+1); err != nil {
				return err
			}
			i += j + 2
		}
		return nil
	}
	if err := rec(src, func(i int) int { return i }, 0); err != nil {
		return "", nil, err
	}
	return out.String(), origin, nil
}

// splitMacroCall splits "name(a, b)" into its name and arguments.
func splitMacroCall(call string) (string, []string, error) {
	call = strings.TrimSpace(call)
	i := strings.IndexByte(call, '(')
	if i < 0 {
		if call == "" {
			return "", nil, fmt.Errorf("empty macro call ``")
		}
		return call, nil, nil
	}
	if !strings.HasSuffix(call, ")") {
		return "", nil, fmt.Errorf("macro call `%s`: expected ) at its end", call)
	}
	name := strings.TrimSpace(call[:i])
	inner := call[i+1 : len(call)-1]
	var args []string
	depth, start := 0, 0
	inStr := false
	for k := 0; k < len(inner); k++ {
		switch c := inner[k]; {
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ',' && depth == 0:
			args = append(args, strings.TrimSpace(inner[start:k]))
			start = k + 1
		}
	}
	args = append(args, strings.TrimSpace(inner[start:]))
	if len(args) == 1 && args[0] == "" {
		args = nil
	}
	return name, args, nil
}

// posOf is the position of byte offset off of src.
func posOf(src string, off int, base query.Pos) query.Pos {
	line, col := 1, 1
	for i := 0; i < off && i < len(src); i++ {
		if src[i] == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	p := query.Pos{File: base.File, Line: line, Col: col}
	if base.Line > 0 {
		p.Line += base.Line - 1
		if line == 1 && base.Col > 0 {
			p.Col += base.Col - 1
		}
	}
	return p
}
