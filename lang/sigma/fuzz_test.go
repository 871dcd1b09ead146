package sigma

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/firewarden/firewarden/query"
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
		// Correlation and filter rules, after the specification's examples.
		corrText("type: value_count\nrules: [port_open]\ngroup-by: [ParentProcessId]\ntimespan: 5m\ncondition:\n  field: CommandLine\n  gte: 3") + baseDocs,
		corrText("type: temporal\nrules: [port_open, audit_exec]\ngroup-by: [internal_ip]\ntimespan: 10s\naliases:\n  internal_ip:\n    port_open: User\n    audit_exec: auid") + baseDocs,
		corrText("type: value_percentile\nrules: port_open\ngroup-by: [Computer]\ntimespan: 24h\ncondition: {field: ProcessId, percentile: 99, gt: 100, lte: 200}", "generate: true") + baseDocs,
		"title: Correlation - Multiple Failed Logins Followed by Successful Login\nid: b180ead8-d58f-40b2-ae54-c8940995b9b6\nstatus: experimental\ncorrelation:\n    type: temporal_ordered\n    rules:\n        - multiple_failed_login\n        - successful_login\n    group-by:\n        - User\n    timespan: 10m\nlevel: high\n---\ntitle: Multiple failed logons\nid: a8418a5a-5fc4-46b5-b23b-6c73beb19d41\nname: multiple_failed_login\ncorrelation:\n    type: event_count\n    rules:\n        - failed_login\n    group-by:\n        - User\n    timespan: 10m\n    condition:\n        gte: 10\n---\ntitle: Single failed login\nid: 53ba33fd-3a50-4468-a5ef-c583635cfa92\nname: failed_login\nlogsource:\n    product: windows\n    service: security\ndetection:\n    selection:\n        EventID:\n            - 529\n            - 4625\n    condition: selection\n",
		filterDoc + baseDocs,
		"title: Filter Administrator account\nlogsource:\n    category: process_creation\n    product: windows\nfilter:\n    rules:\n        - 6f3e2987-db24-4c78-a860-b4f4095a7095\n    selection:\n        User|startswith: 'adm_'\n    condition: not selection\n",
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
		if err != nil {
			return
		}
		for _, r := range rs {
			if (r.Query == nil) != (r.Correlation != nil || r.Filter != nil) || r.Query != nil && len(r.Query.Stages) != 1 {
				t.Fatalf("%s without a query: %+v", r.Kind(), r)
			}
		}
		// Linking within the file must not panic either; a correlation
		// that links compiles to one Aggregate.
		qs, err := linkFile(rs)
		if err != nil {
			return
		}
		for _, r := range rs {
			if r.Correlation != nil {
				if _, ok := qs[r].Stages[0].(query.Aggregate); !ok {
					t.Fatalf("correlation compiled to %+v", qs[r])
				}
			}
		}
	})
}
