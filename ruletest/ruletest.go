// Package ruletest runs the test cases that ship beside rule files: the
// events a rule must match and the events it must not, for a rule of any
// language firewarden reads (Sigma, Elastic EQL/KQL, SPL, Sentinel KQL).
//
// The cases of rule file x.yml (x.toml, x.kql…) live in x.tests.yml in
// the same folder (rule.TestSuffix), so the rule file stays exactly what
// its ecosystem's tools read:
//
//	rule: Iptables Flush, Chain Delete or Accept Policy (Any Binary Name)  # id or title; optional
//	tests:
//	  - name: iptables -F from root's shell
//	    expect: match            # match | no match; or alerts: N (exactly N)
//	    event:                   # one ECS document (nested or dotted keys)
//	      process: {executable: /usr/sbin/xtables-nft-multi, command_line: iptables -F,
//	                parent: {command_line: -bash}}
//	  - name: a correlation needs several
//	    alerts: 1
//	    events: [{...}, {...}]   # ECS documents, in order
//	  - name: the kernel's own record
//	    expect: match
//	    log: |                   # raw telemetry in any format hunt reads (auditd,
//	      type=NETFILTER_CFG ... # laurel, Sysmon for Linux, ECS, syslog, journald)
//
// An ECS event without @timestamp gets one (2026-01-01T00:00:00Z plus one
// second per event of the case), and without event.category/event.type
// the process start an exec is (process_creation). A case tests the rule
// named by its own rule:, else the file's rule:, else the file's only
// rule that raises alerts; every rule of the file is compiled, so a
// correlation sees the rules it references.
package ruletest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/firewarden/firewarden/alert"
	"github.com/firewarden/firewarden/engine"
	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/exception"
	"github.com/firewarden/firewarden/hunt"
	"github.com/firewarden/firewarden/query"
	"github.com/firewarden/firewarden/rule"
	"github.com/firewarden/firewarden/source"
)

// Case is one test case as written.
type Case struct {
	Name   string           `yaml:"name"`
	Rule   string           `yaml:"rule"`
	Expect string           `yaml:"expect"`
	Alerts *int             `yaml:"alerts"`
	Event  map[string]any   `yaml:"event"`
	Events []map[string]any `yaml:"events"`
	Log    string           `yaml:"log"`

	pos query.Pos
}

// File is a tests file.
type File struct {
	Rule  string `yaml:"rule"`
	Tests []Case `yaml:"tests"`
}

// Result is the outcome of one case.
type Result struct {
	RuleFile string
	Rule     string // the rule's title
	Case     string
	Pos      query.Pos // where the case is written
	Pass     bool
	// Want and Got describe the expectation and the outcome ("match",
	// "no match", "2 alerts").
	Want, Got string
	// Why explains a failure: the events, and for each which parts of
	// the rule were true.
	Why []string
	Err error // the case could not run (bad file, unknown rule, unreadable log)
}

// Report is what a run found.
type Report struct {
	Results []Result
	// Untested lists rule files without a tests file.
	Untested []string
	// Files counts the tests files run.
	Files int
}

// Failed counts the cases that failed or could not run.
func (r *Report) Failed() int {
	n := 0
	for _, x := range r.Results {
		if !x.Pass {
			n++
		}
	}
	return n
}

// Runner runs tests files. Formats are the telemetry formats a case's
// log: is sniffed against (the CLI's list).
type Runner struct {
	Formats []source.Format
}

// RunFS runs the tests of every rule file under root in fsys; names in
// the report are prefix + the file's path.
func (rn *Runner) RunFS(ctx context.Context, fsys fs.FS, root, prefix string, rep *Report) error {
	files, err := rule.Files(fsys, root)
	if err != nil {
		return err
	}
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			return err
		}
		tf := TestsPath(f)
		tdata, err := fs.ReadFile(fsys, tf)
		if err != nil {
			rep.Untested = append(rep.Untested, prefix+f)
			continue
		}
		rep.Files++
		rn.runFile(ctx, prefix+f, data, prefix+tf, tdata, rep)
	}
	return nil
}

// TestsPath is the tests file of a rule file: x.yml → x.tests.yml.
func TestsPath(ruleFile string) string {
	return strings.TrimSuffix(ruleFile, path.Ext(ruleFile)) + rule.TestSuffix
}

// Parse reads a tests file.
func Parse(name string, data []byte) (*File, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, query.Errorf(query.Pos{File: name, Line: 1, Col: 1}, "yaml: %v, expected a rule tests file (tests: a list of cases)", err)
	}
	var f File
	if err := doc.Decode(&f); err != nil {
		return nil, query.Errorf(query.Pos{File: name, Line: 1, Col: 1}, "%v, expected rule: and tests: [{name, expect, event|events|log}]", err)
	}
	// Positions of the cases, for the report.
	if len(doc.Content) > 0 {
		root := doc.Content[0]
		for i := 0; i+1 < len(root.Content); i += 2 {
			if root.Content[i].Value == "tests" {
				for j, n := range root.Content[i+1].Content {
					if j < len(f.Tests) {
						f.Tests[j].pos = query.Pos{File: name, Line: n.Line, Col: n.Column}
					}
				}
			}
		}
	}
	if len(f.Tests) == 0 {
		return nil, query.Errorf(query.Pos{File: name, Line: 1, Col: 1}, "no cases, expected tests: followed by a list of cases")
	}
	for i, c := range f.Tests {
		inputs := 0
		for _, b := range []bool{c.Event != nil, c.Events != nil, c.Log != ""} {
			if b {
				inputs++
			}
		}
		switch {
		case c.Name == "":
			return nil, query.Errorf(c.pos, "a case without a name, expected name:")
		case inputs != 1:
			return nil, query.Errorf(c.pos, "case %q has %d inputs, expected exactly one of event, events or log", c.Name, inputs)
		case c.Alerts == nil && c.Expect != "match" && c.Expect != "no match":
			return nil, query.Errorf(c.pos, "case %q: expect %q, expected expect: match, expect: no match or alerts: N", c.Name, c.Expect)
		case c.Alerts != nil && c.Expect != "":
			return nil, query.Errorf(c.pos, "case %q has both expect and alerts, expected one", c.Name)
		}
		f.Tests[i] = c
	}
	return &f, nil
}

func (rn *Runner) runFile(ctx context.Context, ruleName string, ruleData []byte, testsName string, testsData []byte, rep *Report) {
	fail := func(err error) {
		rep.Results = append(rep.Results, Result{RuleFile: ruleName, Case: "(file)", Pos: query.Pos{File: testsName, Line: 1, Col: 1}, Err: err})
	}
	tf, err := Parse(testsName, testsData)
	if err != nil {
		fail(err)
		return
	}
	set := rule.LoadData(ruleName, ruleData, strings.HasPrefix(ruleName, "builtin:"))
	if len(set.Refused) > 0 {
		fail(fmt.Errorf("the rule file does not load: %v", set.Refused[0].Err))
		return
	}
	for _, c := range tf.Tests {
		res := Result{RuleFile: ruleName, Case: c.Name, Pos: c.pos}
		target, err := pick(set.Rules, c.Rule, tf.Rule)
		if err != nil {
			res.Err = query.Errorf(c.pos, "%v", err)
			rep.Results = append(rep.Results, res)
			continue
		}
		res.Rule = target.Name
		rn.runCase(ctx, set.Rules, target, c, &res)
		rep.Results = append(rep.Results, res)
	}
}

// pick finds the rule a case tests.
func pick(rules []*rule.Rule, caseRule, fileRule string) (*rule.Rule, error) {
	want := caseRule
	if want == "" {
		want = fileRule
	}
	if want != "" {
		for _, r := range rules {
			if r.ID == want || r.Name == want {
				return r, nil
			}
		}
		return nil, fmt.Errorf("rule %q is not in the rule file", want)
	}
	var alerting []*rule.Rule
	for _, r := range rules {
		if !r.CorrelationOnly {
			alerting = append(alerting, r)
		}
	}
	if len(alerting) != 1 {
		return nil, fmt.Errorf("the rule file has %d rules that raise alerts, expected rule: naming one (id or title)", len(alerting))
	}
	return alerting[0], nil
}

var base = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// input renders a case's events as the bytes a source reads.
func input(c Case) ([]byte, error) {
	if c.Log != "" {
		return []byte(c.Log), nil
	}
	evs := c.Events
	if c.Event != nil {
		evs = []map[string]any{c.Event}
	}
	var b bytes.Buffer
	for i, ev := range evs {
		ev = normalize(ev)
		if _, ok := ev["@timestamp"]; !ok {
			ev["@timestamp"] = base.Add(time.Duration(i) * time.Second).Format(time.RFC3339Nano)
		}
		if !has(ev, "event", "category") && !has(ev, "event", "type") && has(ev, "process") {
			e, _ := ev["event"].(map[string]any)
			if e == nil {
				e = map[string]any{}
			}
			e["category"], e["type"] = []any{"process"}, []any{"start"}
			ev["event"] = e
		}
		line, err := json.Marshal(ev)
		if err != nil {
			return nil, err
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

// normalize turns YAML's maps (map[string]any with nested maps; dotted
// keys allowed) into nested JSON objects.
func normalize(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if vm, ok := v.(map[string]any); ok {
			v = normalize(vm)
		}
		parts := strings.Split(k, ".")
		if k == "@timestamp" {
			parts = []string{k}
		}
		cur := out
		for _, p := range parts[:len(parts)-1] {
			next, ok := cur[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				cur[p] = next
			}
			cur = next
		}
		last := parts[len(parts)-1]
		if old, ok := cur[last].(map[string]any); ok {
			if vm, ok := v.(map[string]any); ok {
				for kk, vv := range vm {
					old[kk] = vv
				}
				continue
			}
		}
		cur[last] = v
	}
	return out
}

func has(m map[string]any, keys ...string) bool {
	var cur any = m
	for _, k := range keys {
		mm, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = mm[k]; !ok {
			return false
		}
	}
	return true
}

func (rn *Runner) runCase(ctx context.Context, rules []*rule.Rule, target *rule.Rule, c Case, res *Result) {
	data, err := input(c)
	if err != nil {
		res.Err = query.Errorf(c.pos, "case %q: %v", c.Name, err)
		return
	}
	// Read the events once, keep them for the explanation.
	var evs []*event.Event
	rd := &source.Reader{Formats: rn.Formats, Stdin: bytes.NewReader(data)}
	sres, err := rd.Read(ctx, []string{"-"}, func(ev *event.Event) error {
		evs = append(evs, ev)
		return nil
	})
	if err == nil && sres != nil && len(sres.Skipped) > 0 {
		err = sres.Skipped[0]
	}
	if err == nil && sres != nil && sres.Bad() > 0 {
		for _, in := range sres.Inputs {
			if len(in.Examples) > 0 {
				err = fmt.Errorf("bad record: %v", in.Examples[0])
				break
			}
		}
		if err == nil {
			err = fmt.Errorf("%d bad record(s)", sres.Bad())
		}
	}
	if err == nil && len(evs) == 0 {
		err = fmt.Errorf("no events read")
	}
	if err != nil {
		res.Err = query.Errorf(c.pos, "case %q: reading its events: %v", c.Name, err)
		return
	}
	eng, refused := hunt.Compile(rules)
	if len(refused) > 0 {
		res.Err = query.Errorf(c.pos, "rule refused: %v", refused[0].Err)
		return
	}
	var got []*alert.Alert
	emit := func(r *rule.Rule, a *alert.Alert) error {
		if r == target {
			got = append(got, a)
		}
		return nil
	}
	for _, ev := range evs {
		if err := eng.Match(ev, emit); err != nil {
			res.Err = err
			return
		}
	}
	if err := eng.Flush(emit); err != nil {
		res.Err = err
		return
	}
	n := len(got)
	switch {
	case c.Alerts != nil:
		res.Want, res.Got = plural(*c.Alerts), plural(n)
		res.Pass = n == *c.Alerts
	case c.Expect == "match":
		res.Want, res.Got = "match", outcome(n)
		res.Pass = n > 0
	default:
		res.Want, res.Got = "no match", outcome(n)
		res.Pass = n == 0
	}
	if !res.Pass {
		res.Why = explain(target, evs, got)
	}
}

func outcome(n int) string {
	if n == 0 {
		return "no match"
	}
	return "match (" + plural(n) + ")"
}

func plural(n int) string {
	if n == 1 {
		return "1 alert"
	}
	return fmt.Sprintf("%d alerts", n)
}

// explain says, per event, what the rule saw: its log source and which of
// its named parts (Sigma selections) were true or false; for alerts, what
// they matched.
func explain(r *rule.Rule, evs []*event.Event, got []*alert.Alert) []string {
	var out []string
	var eng *engine.Engine
	id, scopeID := -1, -1
	var names []string
	if r.Query != nil && !exception.Stateful(r.Query) {
		eng = engine.New()
		var err error
		if id, err = eng.Add(r.Query); err != nil {
			eng = nil
		} else if r.Query.Scope != nil {
			scopeID, _ = eng.Add(&query.Query{Scope: r.Query.Scope, ScopeKey: r.Query.ScopeKey, Stages: []query.Stage{query.Filter{Expr: query.Const{V: true}}}})
		}
		names = namedParts(r.Query)
	}
	for i, ev := range evs {
		js, _ := json.Marshal(ev)
		line := string(js)
		if len(line) > 600 {
			line = line[:600] + "…"
		}
		out = append(out, fmt.Sprintf("event %d: %s", i+1, line))
		if eng == nil {
			continue
		}
		ls := "matches"
		if scopeID >= 0 && !eng.MatchOne(scopeID, ev) {
			ls = "does not match (the rule never sees this event: " + r.LogSource + ")"
		}
		t := eng.Explain(id, ev)
		isTrue := map[string]bool{}
		for _, n := range t {
			isTrue[n] = true
		}
		var f []string
		for _, n := range names {
			if !isTrue[n] {
				f = append(f, n)
			}
		}
		out = append(out, fmt.Sprintf("  log source %s; true: %s; false: %s", ls, list(t), list(f)))
	}
	for i, a := range got {
		out = append(out, fmt.Sprintf("alert %d matched: %s", i+1, list(a.Matched)))
	}
	return out
}

func list(xs []string) string {
	if len(xs) == 0 {
		return "-"
	}
	return strings.Join(xs, ", ")
}

// namedParts lists the named sub-expressions of a query, in order.
func namedParts(q *query.Query) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(e query.Expr)
	walk = func(e query.Expr) {
		switch x := e.(type) {
		case query.Named:
			if !seen[x.Name] {
				seen[x.Name] = true
				out = append(out, x.Name)
			}
			walk(x.X)
		case query.And:
			for _, y := range x.X {
				walk(y)
			}
		case query.Or:
			for _, y := range x.X {
				walk(y)
			}
		case query.Not:
			walk(x.X)
		}
	}
	for _, st := range q.Stages {
		if f, ok := st.(query.Filter); ok {
			walk(f.Expr)
		}
	}
	return out
}

// Write prints a report: one line per failed case with the reason, one
// per passing rule file, and a summary line.
func Write(w io.Writer, rep *Report, verbose bool) {
	type agg struct{ pass, fail int }
	per := map[string]*agg{}
	var order []string
	for _, r := range rep.Results {
		a := per[r.RuleFile]
		if a == nil {
			a = &agg{}
			per[r.RuleFile] = a
			order = append(order, r.RuleFile)
		}
		if r.Pass {
			a.pass++
			if verbose {
				fmt.Fprintf(w, "ok    %s: %s: %s\n", r.Pos, r.Case, r.Want)
			}
			continue
		}
		a.fail++
		if r.Err != nil {
			fmt.Fprintf(w, "ERROR %s: %v\n", r.RuleFile, r.Err)
			continue
		}
		fmt.Fprintf(w, "FAIL  %s: %q, rule %q: expected %s, got %s\n", r.Pos, r.Case, r.Rule, r.Want, r.Got)
		for _, l := range r.Why {
			fmt.Fprintf(w, "        %s\n", l)
		}
	}
	for _, f := range order {
		if a := per[f]; a.fail == 0 {
			fmt.Fprintf(w, "PASS  %s (%d cases)\n", f, a.pass)
		}
	}
	for _, f := range rep.Untested {
		fmt.Fprintf(w, "NONE  %s: no %s beside it\n", f, path.Base(TestsPath(f)))
	}
	fmt.Fprintf(w, "%d tests file(s), %d case(s): %d passed, %d failed; %d rule file(s) without tests\n",
		rep.Files, len(rep.Results), len(rep.Results)-rep.Failed(), rep.Failed(), len(rep.Untested))
}

// RunFile runs the tests of one rule file on disk (a tests file given
// directly stands for its rule file).
func (rn *Runner) RunFile(ctx context.Context, name string, rep *Report) error {
	if rule.IsTestFile(name) {
		base := strings.TrimSuffix(name, rule.TestSuffix)
		for _, ext := range []string{".yml", ".yaml", ".toml", ".kql"} {
			if _, err := os.Stat(base + ext); err == nil {
				name = base + ext
				break
			}
		}
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	tf := TestsPath(name)
	tdata, err := os.ReadFile(tf)
	if err != nil {
		rep.Untested = append(rep.Untested, name)
		return nil
	}
	rep.Files++
	rn.runFile(ctx, name, data, tf, tdata, rep)
	return nil
}
