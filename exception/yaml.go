package exception

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/firewarden/firewarden/lang/eql"
	"github.com/firewarden/firewarden/lang/sigma"
	"github.com/firewarden/firewarden/query"
)

// ParseYAML reads a firewarden exceptions file:
//
//	exceptions:
//	  - name: Ansible manages the firewall
//	    rules: [83e9c2b3-24ef-4c1d-a8cd-5ebafb5dfa2f]  # rule ids or names; or
//	    tags: [attack.t1562.004]                       # rules with a tag; or
//	    all: true                                      # every rule
//	    expires: 2027-01-31                            # optional
//	    # the exclusion, in exactly one language:
//	    eql: 'process where process.parent.name == "ansible-playbook"'
//	    sigma: {logsource: {product: linux, category: process_creation},
//	            detection: {sel: {ParentImage|endswith: /ansible-playbook}, condition: sel}}
//	    entries: [{field: process.parent.name, operator: included, type: match, value: ansible-playbook}]
//
// Each bad exception is an error at its position; the good ones are still
// returned.
func ParseYAML(file string, data []byte) ([]*Exception, []error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, []error{query.Errorf(query.Pos{File: file, Line: 1, Col: 1}, "yaml: %v, expected a firewarden exceptions file", err)}
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	list := root
	if root.Kind == yaml.MappingNode {
		list = nil
		for i := 0; i+1 < len(root.Content); i += 2 {
			if root.Content[i].Value == "exceptions" {
				list = root.Content[i+1]
			} else {
				return nil, []error{query.Errorf(pos(file, root.Content[i]), "key %q, expected exceptions", root.Content[i].Value)}
			}
		}
	}
	if list == nil || list.Kind != yaml.SequenceNode {
		return nil, []error{query.Errorf(pos(file, root), "expected exceptions: followed by a list of exceptions")}
	}
	var out []*Exception
	var errs []error
	for _, n := range list.Content {
		x, err := one(file, data, n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, x)
	}
	return out, errs
}

func pos(file string, n *yaml.Node) query.Pos {
	return query.Pos{File: file, Line: n.Line, Col: n.Column}
}

func one(file string, data []byte, n *yaml.Node) (*Exception, error) {
	at := pos(file, n)
	if n.Kind != yaml.MappingNode {
		return nil, query.Errorf(at, "expected an exception (a mapping with name, what it applies to, and the exclusion)")
	}
	x := &Exception{Pos: at}
	var langs []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		vat := pos(file, v)
		var err error
		switch k.Value {
		case "name":
			x.Name = v.Value
		case "description":
			x.Description = v.Value
		case "rules":
			err = v.Decode(&x.Rules)
		case "tags":
			err = v.Decode(&x.Tags)
		case "all":
			err = v.Decode(&x.All)
		case "expires":
			x.Expires, err = parseTime(v.Value)
		case "eql":
			langs = append(langs, k.Value)
			var q *query.Query
			if q, err = eql.Compile(v.Value, eql.Options{Base: stringStart(file, v)}); err == nil {
				x.Match, err = Predicate(q, vat)
			}
		case "sigma":
			langs = append(langs, k.Value)
			var r *sigma.Rule
			if r, err = sigma.CompileNode(file, data, v); err == nil {
				x.Match, err = Predicate(r.Query, vat)
			}
		case "entries":
			langs = append(langs, k.Value)
			var es []Entry
			if es, err = yamlEntries(vat, v); err == nil {
				x.Match, err = Entries(vat, es)
			}
		default:
			return nil, query.Errorf(pos(file, k), "unknown key %q in an exception, expected name, description, rules, tags, all, expires, eql, sigma or entries", k.Value)
		}
		if err != nil {
			if _, ok := err.(*query.Error); ok {
				return nil, err
			}
			if _, ok := err.(*query.Unsupported); ok {
				return nil, err
			}
			return nil, query.Errorf(vat, "%s: %v", k.Value, err)
		}
	}
	if x.Name == "" {
		return nil, query.Errorf(at, "an exception without a name, expected name: (it is how the summary counts what it removed)")
	}
	scopes := 0
	for _, b := range []bool{len(x.Rules) > 0, len(x.Tags) > 0, x.All} {
		if b {
			scopes++
		}
	}
	if scopes != 1 {
		return nil, query.Errorf(at, "exception %q applies to %d kinds of target, expected exactly one of rules, tags or all: true", x.Name, scopes)
	}
	if len(langs) != 1 {
		return nil, query.Errorf(at, "exception %q has %d exclusions (%s), expected exactly one of eql, sigma or entries", x.Name, len(langs), strings.Join(langs, ", "))
	}
	return x, nil
}

// stringStart is where a scalar's text starts: after its opening quote,
// or on the next line for a block scalar.
func stringStart(file string, v *yaml.Node) query.Pos {
	p := pos(file, v)
	switch {
	case v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		p.Line++
		p.Col = 1
	case v.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0:
		p.Col++
	}
	return p
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q, expected a date (2006-01-02) or an RFC 3339 time", s)
}

// yamlEntries decodes Elastic-style entries written in YAML.
func yamlEntries(at query.Pos, n *yaml.Node) ([]Entry, error) {
	var raw []map[string]any
	if err := n.Decode(&raw); err != nil {
		return nil, err
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	var es []Entry
	if err := json.Unmarshal(b, &es); err != nil {
		return nil, query.Errorf(at, "entries: %v, expected a list of {field, operator, type, value}", err)
	}
	return es, nil
}
