package ruletest

import (
	"strings"
	"testing"
)

// TestParseRefuses: a malformed tests file is an error at the case.
func TestParseRefuses(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"tests:\n  - name: a\n    expect: maybe\n    event: {x: 1}\n", `2:5: case "a": expect "maybe"`},
		{"tests:\n  - name: a\n    expect: match\n", `2:5: case "a" has 0 inputs`},
		{"tests:\n  - expect: match\n    event: {x: 1}\n", `2:5: a case without a name`},
		{"rule: x\n", `no cases`},
	} {
		_, err := Parse("t.tests.yml", []byte(c.text))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.text, err, c.want)
		}
	}
	n := normalize(map[string]any{"process.parent.name": "dockerd", "process": map[string]any{"pid": 1}})
	if p := n["process"].(map[string]any); p["pid"] != 1 || p["parent"].(map[string]any)["name"] != "dockerd" {
		t.Errorf("normalize: %v", n)
	}
}
