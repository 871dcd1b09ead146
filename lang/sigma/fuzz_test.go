package sigma

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: ParseFile must never panic, whatever the input.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		ruleText("", "sel:\n  Image|endswith: /iptables\n  CommandLine|contains|all:\n    - '-F'\n    - '-X'\ncondition: sel"),
		ruleText("product: linux\n  service: auditd", "sel:\n  type: EXECVE\n  a0|re|i: '^ipt(?:ables)?$'\nfilter:\n  a1|windash|base64offset|contains: ' -F'\ncondition: sel and not 1 of filter*"),
		ruleText("", "k:\n  '|all':\n    - 'a*b'\n    - 'c\\?'\ncondition: all of them | count() by host > 5"),
		ruleText("", "sel:\n  DestinationIp|cidr: 10.0.0.0/8\n  ProcessId|gte: 5\n  User|fieldref|neq: ParentUser\n  '@timestamp|hour': 3\ncondition: 2 of s* or (sel and not sel)"),
		"action: global\ntitle: g\nlogsource:\n  product: linux\ndetection:\n  condition: s\n---\ndetection:\n  s: x\n---\naction: repeat\nid: 2\n",
		"title: [unclosed\n",
		"a: &x [*x]\n",
		"",
	} {
		f.Add([]byte(s))
	}
	if dir, ok := corpusPath(); ok {
		for _, sub := range []string{"sigma", "sigma-other"} {
			_ = filepath.WalkDir(filepath.Join(dir, sub), func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() && filepath.Ext(p) == ".yml" {
					if data, err := os.ReadFile(p); err == nil {
						f.Add(data)
					}
				}
				return nil
			})
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := ParseFile("fuzz.yml", data)
		if err == nil {
			for _, r := range rs {
				if r.Query == nil || len(r.Query.Stages) != 1 {
					t.Fatalf("rule without a query: %+v", r)
				}
			}
		}
	})
}
