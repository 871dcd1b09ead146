package sigma

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/firewarden/firewarden/query"
)

// document is one YAML document of a rule file.
type document struct {
	root *yaml.Node // the top-level node (not the DocumentNode)
	raw  []byte     // the document's text
}

// maxYAMLBytes bounds the input: a Sigma rule is a few kilobytes, and the
// YAML decoder's cost on hostile input grows faster than linearly.
const maxYAMLBytes = 4 << 20

// decodeDocuments decodes every document of data. A syntax error becomes a
// positioned *query.Error.
func decodeDocuments(file string, data []byte) ([]document, error) {
	if len(data) > maxYAMLBytes {
		return nil, query.Errorf(query.Pos{File: file}, "file is %d bytes, expected a Sigma rule of at most %d", len(data), maxYAMLBytes)
	}
	nodes, err := decodeNodes(data)
	if err != nil {
		return nil, yamlError(file, data, err)
	}
	chunks := splitDocuments(data)
	var docs []document
	for _, n := range nodes {
		if n.Kind != yaml.DocumentNode || len(n.Content) == 0 {
			continue
		}
		root := n.Content[0]
		if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
			continue // an empty document, e.g. after a trailing ---
		}
		docs = append(docs, document{root: root, raw: chunkAt(chunks, root.Line)})
	}
	return docs, nil
}

func decodeNodes(data []byte) (nodes []*yaml.Node, err error) {
	// The decoder is not supposed to panic, but a rule file is untrusted
	// input and a panic would take the whole process down.
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("yaml: internal error decoding the document")
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return nodes, nil
		}
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, &n)
	}
}

// chunk is the text of one document and the line it starts on.
type chunk struct {
	line int // 1-based first line
	text []byte
}

// splitDocuments cuts data at document markers ("---" or "..." at the
// start of a line), which YAML recognises even inside block scalars.
func splitDocuments(data []byte) []chunk {
	var chunks []chunk
	start, startLine, line := 0, 1, 1
	for off := 0; off < len(data); {
		end := bytes.IndexByte(data[off:], '\n')
		next := len(data)
		if end >= 0 {
			next = off + end + 1
		}
		l := data[off:next]
		if isMarker(l, "---") || isMarker(l, "...") {
			chunks = append(chunks, chunk{line: startLine, text: data[start:off]})
			start, startLine = next, line+1
		}
		off = next
		line++
	}
	return append(chunks, chunk{line: startLine, text: data[start:]})
}

func isMarker(l []byte, m string) bool {
	if !bytes.HasPrefix(l, []byte(m)) {
		return false
	}
	rest := l[len(m):]
	return len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\n' || rest[0] == '\r'
}

// chunkAt returns the text of the document holding line.
func chunkAt(chunks []chunk, line int) []byte {
	for i := len(chunks) - 1; i >= 0; i-- {
		if chunks[i].line <= line {
			return chunks[i].text
		}
	}
	return nil
}

// splitYAMLError splits the decoder's "yaml: line N: msg" into N and msg.
func splitYAMLError(s string) (int, string) {
	rest, ok := strings.CutPrefix(s, "yaml: ")
	if !ok {
		return 0, s
	}
	if r, ok := strings.CutPrefix(rest, "line "); ok {
		if i := strings.Index(r, ": "); i > 0 {
			if n, err := strconv.Atoi(r[:i]); err == nil {
				return n, r[i+2:]
			}
		}
	}
	return 0, rest
}

// yamlError turns a decoder error into "file:line:col: yaml: msg". The
// decoder reports a line only, and often the line where the enclosing
// construct began rather than the offending one; findProblem narrows it.
func yamlError(file string, data []byte, err error) error {
	line, msg := splitYAMLError(err.Error())
	l, c := locateProblem(data, msg, line)
	return query.Errorf(query.Pos{File: file, Line: l, Col: c}, "yaml: %s", msg)
}

// maxLocate bounds the bytes locateProblem re-decodes.
const maxLocate = 4 << 20

// locateProblem finds the first line whose inclusion makes the document
// fail with the same message (a prefix that ends inside an unfinished
// construct fails differently and is skipped), then a column on it from
// the kind of problem. The search starts a line before the decoder's
// line, which is where the failing construct began or the problem itself.
func locateProblem(data []byte, msg string, line int) (int, int) {
	lines := strings.SplitAfter(string(data), "\n")
	prefix, spent := 0, 0
	for k := 1; k <= len(lines); k++ {
		prefix += len(lines[k-1])
		if k < line-1 {
			continue
		}
		if spent += prefix; spent > maxLocate {
			break
		}
		_, err := decodeNodes(data[:prefix])
		if err == nil {
			continue
		}
		if _, m := splitYAMLError(err.Error()); m == msg {
			line = k
			break
		}
	}
	if strings.HasPrefix(msg, "unknown anchor '") {
		name := strings.TrimSuffix(strings.TrimPrefix(msg, "unknown anchor '"), "' referenced")
		for i, l := range lines {
			if j := strings.Index(l, "*"+name); j >= 0 {
				return i + 1, utf8.RuneCountInString(l[:j]) + 1
			}
		}
	}
	if line < 1 || line > len(lines) {
		if line < 1 {
			line = 1
		}
		return line, 1
	}
	text := strings.TrimRight(lines[line-1], "\r\n")
	col := problemColumn(text, msg)
	return line, utf8.RuneCountInString(text[:col]) + 1
}

// problemColumn guesses the byte offset in text that msg is about.
func problemColumn(text, msg string) int {
	first := len(text) - len(strings.TrimLeft(text, " "))
	if first == len(text) {
		first = 0
	}
	switch {
	case strings.Contains(msg, "tab"), strings.Contains(msg, "cannot start any token"):
		if i := strings.IndexAny(text, "\t@`%"); i >= 0 {
			return i
		}
	case strings.Contains(msg, "mapping values are not allowed"):
		if i := strings.LastIndex(text, ": "); i >= 0 {
			return i
		}
		if strings.HasSuffix(text, ":") {
			return len(text) - 1
		}
	case strings.Contains(msg, "unknown escape character"):
		for i := 0; i+1 < len(text); i++ {
			if text[i] == '\\' {
				if !strings.ContainsRune(`0abt	nvfre "/\N_LPxuU`, rune(text[i+1])) {
					return i
				}
				i++
			}
		}
	case strings.Contains(msg, "expected ',' or ']'"):
		if i := strings.LastIndex(text, "["); i >= 0 {
			return i
		}
	case strings.Contains(msg, "expected ',' or '}'"):
		if i := strings.LastIndex(text, "{"); i >= 0 {
			return i
		}
	case strings.Contains(msg, "end of stream"), strings.Contains(msg, "closing quote"):
		if i := strings.LastIndexAny(text, `'"`); i >= 0 {
			return i
		}
	}
	return first
}

// Node helpers.

// resolve follows aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func nodePos(file string, n *yaml.Node) query.Pos {
	return query.Pos{File: file, Line: n.Line, Col: n.Column}
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// kindName names a node's kind for error messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "null"
		}
		return "a scalar"
	}
	return "nothing"
}

// pair is one key of a mapping with its value.
type pair struct {
	key, val *yaml.Node
}

// pairs lists a mapping's keys in order and rejects duplicates, which
// YAML forbids and which would otherwise silently drop a condition.
func pairs(file string, m *yaml.Node) ([]pair, error) {
	var ps []pair
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := resolve(m.Content[i]), resolve(m.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			return nil, query.Errorf(nodePos(file, k), "%s as a mapping key, expected a name", kindName(k))
		}
		if k.Value == "<<" && k.ShortTag() == "!!merge" {
			return nil, &query.Unsupported{Pos: nodePos(file, k), Construct: "YAML merge key <<"}
		}
		if first, dup := seen[k.Value]; dup {
			return nil, query.Errorf(nodePos(file, k), "duplicate key %q, expected each key once (first at line %d)", k.Value, first.Line)
		}
		seen[k.Value] = k
		ps = append(ps, pair{k, v})
	}
	return ps, nil
}

// scalarOffsetPos maps a byte offset inside a scalar's value to its
// position in the source: exact for one-line plain or quoted scalars and
// for literal blocks, the scalar's start otherwise.
func scalarOffsetPos(file string, n *yaml.Node, lines []string, off int) query.Pos {
	p := nodePos(file, n)
	v := n.Value
	if off < 0 || off > len(v) {
		return p
	}
	switch {
	case n.Style&yaml.LiteralStyle != 0:
		row := strings.Count(v[:off], "\n")
		start := strings.LastIndex(v[:off], "\n") + 1
		line := n.Line + 1 + row
		if line-1 >= len(lines) {
			return p
		}
		// The block's indentation is the source line's leading spaces
		// less those the value line keeps.
		src, val := lines[line-1], v[start:]
		if end := strings.IndexByte(val, '\n'); end >= 0 {
			val = val[:end]
		}
		indent := (len(src) - len(strings.TrimLeft(src, " "))) - (len(val) - len(strings.TrimLeft(val, " ")))
		return query.Pos{File: file, Line: line, Col: indent + utf8.RuneCountInString(v[start:off]) + 1}
	case strings.Contains(v, "\n"):
		return p
	case n.Style&yaml.SingleQuotedStyle != 0:
		// '' stands for one quote in a single-quoted scalar.
		p.Col += 1 + utf8.RuneCountInString(v[:off]) + strings.Count(v[:off], "'")
	case n.Style&yaml.DoubleQuotedStyle != 0:
		p.Col += 1 + utf8.RuneCountInString(v[:off]) + strings.Count(v[:off], `"`) + strings.Count(v[:off], `\`)
	case n.Style&(yaml.FoldedStyle) != 0:
		return p
	default:
		p.Col += utf8.RuneCountInString(v[:off])
	}
	return p
}

// keyOffsetPos is scalarOffsetPos for a one-line mapping key.
func keyOffsetPos(file string, k *yaml.Node, off int) query.Pos {
	return scalarOffsetPos(file, k, nil, off)
}

// scalarText renders a scalar value as the text Sigma compares: strings
// as written, integers in decimal, floats in their shortest form and
// booleans as true/false.
func scalarText(n *yaml.Node) string {
	switch n.ShortTag() {
	case "!!int":
		if i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64); err == nil {
			return strconv.FormatInt(i, 10)
		}
		var v int64
		if n.Decode(&v) == nil {
			return strconv.FormatInt(v, 10)
		}
	case "!!float":
		var f float64
		if n.Decode(&f) == nil {
			return strconv.FormatFloat(f, 'f', -1, 64)
		}
	case "!!bool":
		var b bool
		if n.Decode(&b) == nil {
			return strconv.FormatBool(b)
		}
	}
	return n.Value
}

// stringOrList reads a metadata field that is a string or a list of them.
func stringOrList(file string, n *yaml.Node) ([]string, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		if isNull(n) {
			return nil, nil
		}
		return []string{n.Value}, nil
	case yaml.SequenceNode:
		var out []string
		for _, e := range n.Content {
			e = resolve(e)
			if e.Kind != yaml.ScalarNode {
				return nil, query.Errorf(nodePos(file, e), "%s in a list of strings, expected a string", kindName(e))
			}
			out = append(out, e.Value)
		}
		return out, nil
	}
	return nil, query.Errorf(nodePos(file, n), "%s, expected a string or a list of strings", kindName(n))
}
