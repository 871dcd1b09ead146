package sigma

import (
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/firewarden/firewarden/query"
)

// Filter is a parsed Sigma filter rule (the filters specification 2.1):
// selections and a condition ANDed onto the condition of each rule it
// names (or, with rules: any, every rule whose log source it covers).
type Filter struct {
	Rules []Ref
	Any   bool // rules: any (or an empty list), as pySigma reads it
	Pos   query.Pos

	key, det *yaml.Node // the filter block without its rules
	lines    []string
}

// parseFilter reads a filter rule's filter block and checks that it
// compiles against the filter's own log source.
func parseFilter(r *Rule, fp *pair, lines []string) error {
	file := r.Path
	if fp.val.Kind != yaml.MappingNode {
		return query.Errorf(nodePos(file, fp.val), "%s as filter, expected a mapping with rules, selections and a condition", kindName(fp.val))
	}
	fps, err := pairs(file, fp.val)
	if err != nil {
		return err
	}
	f := &Filter{Pos: nodePos(file, fp.key), key: fp.key, det: without(fp.val, "rules"), lines: lines}
	rp := find(fps, "rules")
	if rp == nil {
		return query.Errorf(f.Pos, "filter without rules, expected rules: the ids or names of the rules it tunes, or any")
	}
	switch {
	case rp.val.Kind == yaml.ScalarNode && strings.EqualFold(rp.val.Value, "any"):
		f.Any = true
	case rp.val.Kind == yaml.SequenceNode && len(rp.val.Content) == 0:
		f.Any = true
	default:
		if f.Rules, err = refList(file, rp.val, "rules"); err != nil {
			return err
		}
	}
	cp := find(fps, "condition")
	if cp == nil {
		return query.Errorf(f.Pos, "filter without a condition, expected condition: ...")
	}
	if cp.val.Kind != yaml.ScalarNode || isNull(cp.val) {
		return query.Errorf(nodePos(file, cp.val), "%s as filter condition, expected a string", kindName(cp.val))
	}
	r.Filter = f
	if _, err := f.compile(r, r); err != nil {
		r.Filter = nil
		return err
	}
	return nil
}

// compile compiles the filter's selections and condition with target's
// field map.
func (f *Filter) compile(self, target *Rule) (query.Expr, error) {
	c := &compiler{file: self.Path, lines: f.lines, src: target.src}
	x, err := c.detection(f.key, f.det)
	if err != nil {
		return nil, err
	}
	return query.Named{Name: "filter " + self.Title, X: x}, nil
}

// Covers reports whether a filter's log source covers a rule's: every
// attribute the filter sets (product, category, service) is the rule's.
func (f *Rule) Covers(target *Rule) bool {
	a, b := f.LogSource, target.LogSource
	for _, p := range [][2]string{{a.Product, b.Product}, {a.Category, b.Category}, {a.Service, b.Service}} {
		if p[0] != "" && !strings.EqualFold(p[0], p[1]) {
			return false
		}
	}
	return true
}

// Names reports whether ref (an id or a name) names r.
func (r *Rule) Names(ref string) bool { return refersTo(ref, r) }

// ApplyFilter returns target's query q with filter rule f's condition
// ANDed onto it, compiled with target's field map. The caller checks
// that f covers target (Covers).
func ApplyFilter(f, target *Rule, q *query.Query) (*query.Query, error) {
	if f.Filter == nil {
		return nil, query.Errorf(f.Pos, "internal: %q is not a filter", f.Title)
	}
	if target.src == nil || q == nil {
		return nil, query.Errorf(f.Filter.Pos, "internal: %q is not a detection rule", target.Title)
	}
	x, err := f.Filter.compile(f, target)
	if err != nil {
		return nil, err
	}
	out := *q
	out.Stages = nil
	done := false
	for _, st := range q.Stages {
		if fl, ok := st.(query.Filter); ok && !done {
			st = query.Filter{Expr: flatten(query.And{X: []query.Expr{fl.Expr, x}})}
			done = true
		}
		out.Stages = append(out.Stages, st)
	}
	if !done {
		out.Stages = append([]query.Stage{query.Filter{Expr: x}}, out.Stages...)
	}
	return &out, nil
}

// Identity is how a document of a rule file may be referred to.
type Identity struct{ ID, Name, Title string }

// Identities lists, best effort, the id, name and title of every document
// of a rule file, even one that does not compile: a correlation that
// references a refused rule can then say why it is missing.
func Identities(data []byte) []Identity {
	docs, err := decodeDocuments("", data)
	if err != nil {
		return nil
	}
	var out []Identity
	for _, d := range docs {
		if d.root.Kind != yaml.MappingNode {
			continue
		}
		var id Identity
		for i := 0; i+1 < len(d.root.Content); i += 2 {
			k, v := resolve(d.root.Content[i]), resolve(d.root.Content[i+1])
			if v.Kind != yaml.ScalarNode || isNull(v) {
				continue
			}
			switch k.Value {
			case "id":
				id.ID = v.Value
			case "name":
				id.Name = v.Value
			case "title":
				id.Title = v.Value
			}
		}
		out = append(out, id)
	}
	return out
}
