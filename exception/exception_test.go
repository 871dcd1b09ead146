package exception

import (
	"strings"
	"testing"
	"time"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/query"
)

// kibanaExport is shaped like Kibana's "Export exception list": the list,
// its items, then the export summary.
const kibanaExport = `{"_version":"WzEsMV0=","created_at":"2026-11-01T10:00:00.000Z","description":"Firewall maintenance","id":"1","immutable":false,"list_id":"fw-maint","name":"Firewall maintenance","namespace_type":"single","os_types":[],"tags":[],"type":"detection","version":1}
{"comments":[],"description":"Ansible","entries":[{"field":"process.parent.name","operator":"included","type":"match","value":"ansible-playbook"},{"field":"user.name","operator":"excluded","type":"match","value":"mallory"}],"item_id":"i1","list_id":"fw-maint","name":"Ansible runs","namespace_type":"single","os_types":["linux"],"tags":[],"type":"simple"}
{"comments":[],"description":"","entries":[{"field":"process.parent.executable","operator":"included","type":"match_any","value":["/usr/bin/puppet","/opt/chef/bin/chef-client"]}],"item_id":"i2","list_id":"fw-maint","name":"Puppet or Chef","namespace_type":"single","os_types":[],"tags":[],"type":"simple"}
{"comments":[],"description":"","entries":[{"field":"process.command_line","operator":"included","type":"wildcard","value":"*ufw reload*"},{"field":"process.title","operator":"excluded","type":"exists"}],"item_id":"i3","list_id":"fw-maint","name":"ufw reload","namespace_type":"single","os_types":[],"tags":[],"type":"simple"}
{"comments":[],"description":"","entries":[{"field":"process.code_signature","type":"nested","entries":[{"field":"subject_name","operator":"included","type":"match","value":"Docker Inc"},{"field":"trusted","operator":"included","type":"match","value":"true"}]}],"item_id":"i4","list_id":"fw-maint","name":"signed docker","namespace_type":"single","os_types":[],"tags":[],"type":"simple"}
{"comments":[],"description":"","entries":[{"field":"process.name","operator":"included","type":"match","value":"x"}],"item_id":"i5","list_id":"fw-maint","name":"windows only","namespace_type":"single","os_types":["windows"],"tags":[],"type":"simple"}
{"comments":[],"description":"","entries":[{"field":"process.name","operator":"included","type":"match","value":"x"}],"expire_time":"2020-01-01T00:00:00.000Z","item_id":"i6","list_id":"fw-maint","name":"expired","namespace_type":"single","os_types":[],"tags":[],"type":"simple"}
{"exported_exception_list_count":1,"exported_exception_list_item_count":6,"missing_exception_list_item_count":0,"missing_exception_list_items":[],"missing_exception_lists":[],"missing_exception_lists_count":0}
`

func proc(fields map[string]any) *event.Event {
	ev := event.New(8)
	for k, v := range fields {
		switch v := v.(type) {
		case string:
			ev.SetStr(k, v)
		case []string:
			var vs []event.Value
			for _, s := range v {
				vs = append(vs, event.Str(s))
			}
			ev.Set(k, event.ListV(vs...))
		}
	}
	return ev
}

func TestKibanaExport(t *testing.T) {
	xs, errs := ParseKibana("fw.ndjson", []byte(kibanaExport))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var names []string
	for _, x := range xs {
		names = append(names, x.Name)
		if x.ListID != "fw-maint" {
			t.Errorf("%s: list %q", x.Name, x.ListID)
		}
	}
	// The Windows-only item never applies on Linux; the expired one is
	// read but no longer applies.
	if got := strings.Join(names, ","); got != "Ansible runs,Puppet or Chef,ufw reload,signed docker,expired" {
		t.Fatalf("items %s", got)
	}
	now := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	if xs[4].AppliesTo("r", "R", nil, []string{"fw-maint"}, now) {
		t.Error("an expired item applies")
	}
	if !xs[0].AppliesTo("r", "R", nil, []string{"other", "fw-maint"}, now) || xs[0].AppliesTo("r", "R", nil, []string{"other"}, now) {
		t.Error("list linking")
	}
	set, cerrs := Compile(xs[:4])
	if len(cerrs) > 0 {
		t.Fatal(cerrs)
	}
	tests := []struct {
		name string
		ev   map[string]any
		want [4]bool
	}{
		{"ansible, no user (is not: true on a missing field)", map[string]any{"process.parent.name": "ansible-playbook"}, [4]bool{true}},
		{"ansible as another user", map[string]any{"process.parent.name": "ansible-playbook", "user.name": "root"}, [4]bool{true}},
		{"ansible as mallory", map[string]any{"process.parent.name": "ansible-playbook", "user.name": "mallory"}, [4]bool{}},
		{"Ansible-Playbook: is is case-sensitive", map[string]any{"process.parent.name": "Ansible-Playbook"}, [4]bool{}},
		{"chef (is one of)", map[string]any{"process.parent.executable": "/opt/chef/bin/chef-client"}, [4]bool{false, true}},
		{"ufw reload, no title", map[string]any{"process.command_line": "/usr/sbin/ufw reload now"}, [4]bool{false, false, true}},
		{"ufw reload with a title (does not exist fails)", map[string]any{"process.command_line": "ufw reload", "process.title": "x"}, [4]bool{}},
		{"nested, one object", map[string]any{"process.code_signature.subject_name": "Docker Inc", "process.code_signature.trusted": "true"}, [4]bool{false, false, false, true}},
		{"nested, two objects: cannot tell, does not apply", map[string]any{"process.code_signature.subject_name": []string{"Docker Inc", "Evil"}, "process.code_signature.trusted": []string{"false", "true"}}, [4]bool{}},
		{"multi-valued field: any value", map[string]any{"process.parent.name": []string{"sh", "ansible-playbook"}}, [4]bool{true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := set.Hits(proc(tc.ev))
			for i := range 4 {
				if got[i] != tc.want[i] {
					t.Errorf("%s: %v, want %v", set.List[i].Name, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestKibanaBadLines(t *testing.T) {
	in := `{"item_id":"a","list_id":"l","name":"ok","type":"simple","entries":[{"field":"a","operator":"included","type":"match","value":"b"}]}
not json
{"item_id":"b","list_id":"l","name":"list","type":"simple","entries":[{"field":"a","operator":"included","type":"list","list":{"id":"ips","type":"ip"}}]}
{"item_id":"c","list_id":"l","name":"op","type":"simple","entries":[{"field":"a","operator":"sometimes","type":"match","value":"b"}]}
`
	xs, errs := ParseKibana("x.ndjson", []byte(in))
	if len(xs) != 1 || len(errs) != 3 {
		t.Fatalf("%d exceptions, errors %v", len(xs), errs)
	}
	for i, want := range []string{"x.ndjson:2:1: invalid character", "x.ndjson:3:1: unsupported: exception entry of type list", `x.ndjson:4:1: exception operator "sometimes"`} {
		if !strings.HasPrefix(errs[i].Error(), want) {
			t.Errorf("error %d: %v, want %q…", i, errs[i], want)
		}
	}
}

const yamlFile = `exceptions:
  - name: Ansible
    rules: [83e9c2b3-24ef-4c1d-a8cd-5ebafb5dfa2f, "Flush Iptables Ufw Chain"]
    eql: 'process where process.parent.name == "ansible-playbook"'
  - name: Puppet
    tags: [attack.t1562.004]
    sigma:
      logsource: {product: linux, category: process_creation}
      detection:
        sel:
          ParentImage|endswith: /puppet
        condition: sel
  - name: Docker
    all: true
    expires: 2099-01-01
    entries:
      - {field: process.parent.name, operator: included, type: match_any, value: [dockerd, containerd]}
`

func TestYAML(t *testing.T) {
	xs, errs := ParseYAML("x.yml", []byte(yamlFile))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if len(xs) != 3 {
		t.Fatalf("%d exceptions", len(xs))
	}
	now := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	if !xs[0].AppliesTo("x", "Flush Iptables Ufw Chain", nil, nil, now) || xs[0].AppliesTo("x", "other", nil, nil, now) {
		t.Error("rules by name")
	}
	if !xs[1].AppliesTo("x", "y", []string{"attack.T1562.004"}, nil, now) || xs[1].AppliesTo("x", "y", []string{"attack.t1562"}, nil, now) {
		t.Error("rules by tag")
	}
	if !xs[2].AppliesTo("x", "y", nil, nil, now) || xs[2].AppliesTo("x", "y", nil, nil, time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Error("all, expiry")
	}
	set, cerrs := Compile(xs)
	if len(cerrs) > 0 {
		t.Fatal(cerrs)
	}
	ev := proc(map[string]any{"event.category": []string{"process"}, "event.type": []string{"start"}, "process.parent.name": "ansible-playbook", "process.parent.executable": "/usr/bin/puppet"})
	if got := set.Hits(ev); !got[0] || !got[1] || got[2] {
		t.Errorf("hits %v, want [true true false]", got)
	}
}

func TestYAMLErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"exceptions:\n  - name: a\n    all: true\n    eql: 'process where a =='\n", "x.yml:4:"},
		{"exceptions:\n  - name: a\n    eql: 'process where true'\n", "x.yml:2:5: exception \"a\" applies to 0 kinds of target"},
		{"exceptions:\n  - name: a\n    all: true\n", "exactly one of eql, sigma or entries"},
		{"exceptions:\n  - all: true\n    eql: 'any where true'\n", "x.yml:2:5: an exception without a name"},
		{"exceptions:\n  - name: a\n    all: true\n    colour: red\n    eql: 'any where true'\n", `x.yml:4:5: unknown key "colour"`},
		{"exceptions:\n  - name: a\n    all: true\n    eql: 'sequence [process where true] [process where true]'\n", "stateful query in an exception"},
		{"rules: []\n", `x.yml:1:1: key "rules", expected exceptions`},
		{"exceptions:\n  - name: a\n    all: true\n    sigma: {logsource: {product: linux}, detection: {sel: {Image|bogus: x}, condition: sel}}\n", "x.yml:4:"},
	}
	for _, tc := range tests {
		_, errs := ParseYAML("x.yml", []byte(tc.in))
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.want) {
			t.Errorf("%q: errors %v, want one containing %q", tc.in, errs, tc.want)
		}
	}
}

func TestExcludeStateful(t *testing.T) {
	x := query.Match{Field: query.Field{Path: "user.name"}, Op: query.Equal, Values: []string{"ansible"}}
	q := &query.Query{Stages: []query.Stage{query.Sequence{Steps: []query.Step{{Filter: query.Const{V: true}}, {Filter: query.Const{V: true}}}, Until: query.Const{V: true}}}}
	out := Exclude(q, x)
	seq := out.Stages[0].(query.Sequence)
	for _, st := range seq.Steps {
		if a, ok := st.Filter.(query.And); !ok || len(a.X) != 2 {
			t.Errorf("step filter %#v", st.Filter)
		}
	}
	if _, ok := seq.Until.(query.And); !ok {
		t.Errorf("until %#v", seq.Until)
	}
	if _, ok := q.Stages[0].(query.Sequence).Steps[0].Filter.(query.Const); !ok {
		t.Error("Exclude changed its input")
	}
	agg := Exclude(&query.Query{Stages: []query.Stage{query.Aggregate{}}}, x)
	if _, ok := agg.Stages[0].(query.Filter); !ok || len(agg.Stages) != 2 {
		t.Errorf("aggregate without inputs: %#v", agg.Stages)
	}
}
