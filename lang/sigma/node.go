package sigma

import (
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/firewarden/firewarden/query"
)

// CompileNode compiles one Sigma rule given as an already decoded YAML
// mapping (embedded in another file, such as a firewarden exceptions
// file): positions are those of the nodes in that file. A missing title is
// filled in, since an embedded detection needs none.
func CompileNode(file string, data []byte, n *yaml.Node) (*Rule, error) {
	if n.Kind != yaml.MappingNode {
		return nil, query.Errorf(nodePos(file, n), "%s, expected a Sigma rule (a mapping with logsource and detection)", kindName(n))
	}
	ps, err := pairs(file, n)
	if err != nil {
		return nil, err
	}
	if find(ps, "title") == nil {
		c := *n
		c.Content = append([]*yaml.Node{
			{Kind: yaml.ScalarNode, Tag: "!!str", Value: "title", Line: n.Line, Column: n.Column},
			{Kind: yaml.ScalarNode, Tag: "!!str", Value: "embedded", Line: n.Line, Column: n.Column},
		}, n.Content...)
		n = &c
	}
	return compileRule(file, n, nil, strings.Split(string(data), "\n"))
}
