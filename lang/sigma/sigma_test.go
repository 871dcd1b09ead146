package sigma

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firewarden/firewarden/query"
)

// ruleText wraps a detection block (two-space indented lines) in a
// minimal process_creation rule; the detection starts on line 6.
func ruleText(logsource, detection string) string {
	if logsource == "" {
		logsource = "product: linux\n  category: process_creation"
	}
	var b strings.Builder
	b.WriteString("title: test\nid: 11111111-2222-3333-4444-555555555555\nlogsource:\n  " + logsource + "\ndetection:\n")
	for _, l := range strings.Split(strings.Trim(detection, "\n"), "\n") {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}

func compile(t *testing.T, text string) (*Rule, error) {
	t.Helper()
	rs, err := ParseFile("t.yml", []byte(text))
	if err != nil {
		return nil, err
	}
	if len(rs) != 1 {
		t.Fatalf("got %d rules, want 1", len(rs))
	}
	return rs[0], nil
}

func filterOf(r *Rule) query.Expr { return r.Query.Stages[0].(query.Filter).Expr }

func mustCompile(t *testing.T, text string) query.Expr {
	t.Helper()
	r, err := compile(t, text)
	if err != nil {
		t.Fatalf("compile: %v\n%s", err, text)
	}
	return filterOf(r)
}

// TestModifiers checks the IR of every value form and modifier of the
// spec (appendix "Sigma Modifiers", v2.1).
func TestModifiers(t *testing.T) {
	tests := []struct {
		name, detection, want string
	}{
		{"plain", "sel:\n  Image: /usr/sbin/iptables\ncondition: sel",
			`sel:sel(process.executable~equal["/usr/sbin/iptables"])`},
		{"map is AND", "sel:\n  Image: /a\n  CommandLine: b\ncondition: sel",
			`sel:sel(and(process.executable~equal["/a"], process.command_line~equal["b"]))`},
		{"list is OR", "sel:\n  Image:\n    - /a\n    - /b\ncondition: sel",
			`sel:sel(process.executable~equal["/a" "/b"])`},
		{"list of maps is OR", "sel:\n  - Image: /a\n  - CommandLine: b\ncondition: sel",
			`sel:sel(or(process.executable~equal["/a"], process.command_line~equal["b"]))`},
		{"star glob", "sel:\n  Image: '*/ipt*les'\ncondition: sel",
			`sel:sel(process.executable~glob["*/ipt*les"])`},
		{"question glob", "sel:\n  Image: '/usr/sbin/ip?tables'\ncondition: sel",
			`sel:sel(process.executable~glob["/usr/sbin/ip?tables"])`},
		{"leading star is suffix", "sel:\n  Image: '*/iptables'\ncondition: sel",
			`sel:sel(process.executable~suffix["/iptables"])`},
		{"trailing star is prefix", "sel:\n  Image: '/usr/*'\ncondition: sel",
			`sel:sel(process.executable~prefix["/usr/"])`},
		{"both stars is contains", "sel:\n  CommandLine: '*-F*'\ncondition: sel",
			`sel:sel(process.command_line~contains["-F"])`},
		{"star alone", "sel:\n  CommandLine: '*'\ncondition: sel",
			`sel:sel(process.command_line~contains[""])`},
		{"escaped star", `sel:
  CommandLine: 'a\*b'
condition: sel`, `sel:sel(process.command_line~equal["a*b"])`},
		{"escaped question", `sel:
  CommandLine: 'a\?'
condition: sel`, `sel:sel(process.command_line~equal["a?"])`},
		{"escaped backslash before star", `sel:
  CommandLine: 'C:\\*'
condition: sel`, `sel:sel(process.command_line~prefix["C:\\"])`},
		{"plain backslashes", `sel:
  CommandLine: 'C:\Windows\x'
condition: sel`, `sel:sel(process.command_line~equal["C:\\Windows\\x"])`},
		{"three backslashes and star", `sel:
  CommandLine: 'a\\\*'
condition: sel`, `sel:sel(process.command_line~equal["a\\*"])`},
		{"four backslashes", `sel:
  CommandLine: 'a\\\\b'
condition: sel`, `sel:sel(process.command_line~equal["a\\\\b"])`},
		{"trailing backslash", `sel:
  CommandLine: '\'
condition: sel`, `sel:sel(process.command_line~equal["\\"])`},
		{"literal star in glob", `sel:
  CommandLine: '*a\*b?'
condition: sel`, `sel:sel(process.command_line~glob["*a\\*b?"])`},
		{"mixed list", "sel:\n  Image:\n    - /a\n    - '/b*'\n    - /c\ncondition: sel",
			`sel:sel(or(process.executable~equal["/a" "/c"], process.executable~prefix["/b"]))`},
		{"contains", "sel:\n  CommandLine|contains: -F\ncondition: sel",
			`sel:sel(process.command_line~contains["-F"])`},
		{"contains with wildcard", "sel:\n  CommandLine|contains: 'a*b'\ncondition: sel",
			`sel:sel(process.command_line~glob["*a*b*"])`},
		{"contains keeps existing star", "sel:\n  CommandLine|contains: '*ab'\ncondition: sel",
			`sel:sel(process.command_line~contains["ab"])`},
		{"startswith", "sel:\n  CommandLine|startswith: iptables\ncondition: sel",
			`sel:sel(process.command_line~prefix["iptables"])`},
		{"startswith with ?", "sel:\n  CommandLine|startswith: 'ip?tables'\ncondition: sel",
			`sel:sel(process.command_line~glob["ip?tables*"])`},
		{"endswith", "sel:\n  Image|endswith: /ufw\ncondition: sel",
			`sel:sel(process.executable~suffix["/ufw"])`},
		{"contains all", "sel:\n  CommandLine|contains|all:\n    - '-A'\n    - ACCEPT\ncondition: sel",
			`sel:sel(and(process.command_line~contains["-A"], process.command_line~contains["ACCEPT"]))`},
		{"all order free", "sel:\n  CommandLine|all|contains:\n    - '-A'\n    - ACCEPT\ncondition: sel",
			`sel:sel(and(process.command_line~contains["-A"], process.command_line~contains["ACCEPT"]))`},
		{"cased", "sel:\n  CommandLine|cased: '-F'\ncondition: sel",
			`sel:sel(process.command_lineequal["-F"])`},
		{"cased contains", "sel:\n  CommandLine|contains|cased: '-O'\ncondition: sel",
			`sel:sel(process.command_linecontains["-O"])`},
		{"exists true", "sel:\n  CommandLine|exists: true\ncondition: sel",
			`sel:sel(exists(process.command_line))`},
		{"exists false", "sel:\n  CommandLine|exists: false\ncondition: sel",
			`sel:sel(not(exists(process.command_line)))`},
		{"null", "sel:\n  ParentImage: null\ncondition: sel",
			`sel:sel(not(exists(process.parent.executable)))`},
		{"empty list is null", "sel:\n  ParentImage: []\ncondition: sel",
			`sel:sel(not(exists(process.parent.executable)))`},
		{"empty string", "sel:\n  CommandLine: ''\ncondition: sel",
			`sel:sel(process.command_line~equal[""])`},
		{"number as text", "sel:\n  ProcessId: 1234\ncondition: sel",
			`sel:sel(process.pid~equal["1234"])`},
		{"float as text", "sel:\n  ProcessId: 1.50\ncondition: sel",
			`sel:sel(process.pid~equal["1.5"])`},
		{"bool as text", "sel:\n  Initiated: true\ncondition: sel",
			`sel:sel(sysmon.Initiated~equal["true"])`},
		{"neq", "sel:\n  User|neq: root\ncondition: sel",
			`sel:sel(not(user.name~equal["root"]))`},
		{"neq list", "sel:\n  User|neq:\n    - root\n    - admin\ncondition: sel",
			`sel:sel(not(user.name~equal["root" "admin"]))`},
		{"neq null", "sel:\n  User|neq: null\ncondition: sel",
			`sel:sel(exists(user.name))`},
		{"windash", "sel:\n  CommandLine|windash|contains: ' -F'\ncondition: sel",
			"sel:sel(process.command_line~contains[\" -F\" \" /F\" \" \u2013F\" \" \u2014F\" \" \u2015F\"])"},
		{"windash only at boundaries", "sel:\n  CommandLine|windash: 'a-b'\ncondition: sel",
			`sel:sel(process.command_line~equal["a-b"])`},
		{"windash slash", "sel:\n  CommandLine|windash|contains: '/c'\ncondition: sel",
			"sel:sel(process.command_line~contains[\"-c\" \"/c\" \"\u2013c\" \"\u2014c\" \"\u2015c\"])"},
		{"windash two dashes", "sel:\n  CommandLine|windash: '-a -b'\ncondition: sel",
			"sel:sel(process.command_line~equal[" + windashProduct() + "])"},
		{"re", `sel:
  CommandLine|re: '\s-O\s'
condition: sel`, `sel:sel(process.command_lineregex["\\s-O\\s"])`},
		{"re is written verbatim", `sel:
  CommandLine|re: 'a\*b'
condition: sel`, `sel:sel(process.command_lineregex["a\\*b"])`},
		{"re i", "sel:\n  CommandLine|re|i: 'abc'\ncondition: sel",
			`sel:sel(process.command_lineregex["(?i)abc"])`},
		{"re flags sorted", "sel:\n  CommandLine|re|s|i|m: 'a.c'\ncondition: sel",
			`sel:sel(process.command_lineregex["(?ims)a.c"])`},
		{"re long flag names", "sel:\n  CommandLine|re|ignorecase|dotall: 'a.c'\ncondition: sel",
			`sel:sel(process.command_lineregex["(?is)a.c"])`},
		{"re contains", "sel:\n  CommandLine|re|contains: 'a|b'\ncondition: sel",
			`sel:sel(process.command_lineregex["a|b"])`},
		{"re startswith", "sel:\n  CommandLine|re|startswith: 'a|b'\ncondition: sel",
			`sel:sel(process.command_lineregex["\\A(?:a|b)"])`},
		{"re endswith", "sel:\n  CommandLine|re|endswith: 'a|b'\ncondition: sel",
			`sel:sel(process.command_lineregex["(?:a|b)\\z"])`},
		{"re list", "sel:\n  CommandLine|re:\n    - 'a+'\n    - 'b+'\ncondition: sel",
			`sel:sel(process.command_lineregex["a+" "b+"])`},
		{"base64", "sel:\n  CommandLine|base64: 'ping'\ncondition: sel",
			`sel:sel(process.command_line~equal["cGluZw=="])`},
		{"base64 contains", "sel:\n  CommandLine|base64|contains: 'ping'\ncondition: sel",
			`sel:sel(process.command_line~contains["cGluZw=="])`},
		{"base64offset", "sel:\n  CommandLine|base64offset|contains: 'ping'\ncondition: sel",
			`sel:sel(process.command_line~contains["cGluZ" "Bpbm" "waW5n"])`},
		{"base64offset path", "sel:\n  CommandLine|base64offset|contains: '/bin/sh'\ncondition: sel",
			`sel:sel(process.command_line~contains["L2Jpbi9za" "9iaW4vc2" "vYmluL3No"])`},
		{"utf16le base64offset", "sel:\n  CommandLine|utf16le|base64offset|contains: 'cmd'\ncondition: sel",
			`sel:sel(process.command_line~contains["YwBtAGQA" "MAbQBkA" "jAG0AZA"])`},
		{"wide is utf16le", "sel:\n  CommandLine|wide|base64offset|contains: 'cmd'\ncondition: sel",
			`sel:sel(process.command_line~contains["YwBtAGQA" "MAbQBkA" "jAG0AZA"])`},
		{"utf16be base64", "sel:\n  CommandLine|utf16be|base64: 'cmd'\ncondition: sel",
			`sel:sel(process.command_line~equal["AGMAbQBk"])`},
		{"utf16 has BOM", "sel:\n  CommandLine|utf16|base64: 'cmd'\ncondition: sel",
			`sel:sel(process.command_line~equal["//5jAG0AZAA="])`},
		{"wide alone", "sel:\n  CommandLine|wide|contains: 'ab'\ncondition: sel",
			`sel:sel(process.command_line~contains["a\x00b\x00"])`},
		{"cidr", "sel:\n  DestinationIp|cidr:\n    - 10.0.0.0/8\n    - 'fe80::/10'\ncondition: sel",
			`sel:sel(sysmon.DestinationIpcidr["10.0.0.0/8" "fe80::/10"])`},
		{"cidr single address", "sel:\n  DestinationIp|cidr: 10.1.2.3\ncondition: sel",
			`sel:sel(sysmon.DestinationIpcidr["10.1.2.3/32"])`},
		{"cidr host bits masked", "sel:\n  DestinationIp|cidr: 10.1.2.3/8\ncondition: sel",
			`sel:sel(sysmon.DestinationIpcidr["10.0.0.0/8"])`},
		{"lt", "sel:\n  ProcessId|lt: 100\ncondition: sel", `sel:sel(cmp(process.pid < 100))`},
		{"lte", "sel:\n  ProcessId|lte: 100\ncondition: sel", `sel:sel(cmp(process.pid <= 100))`},
		{"gt", "sel:\n  ProcessId|gt: 1.5\ncondition: sel", `sel:sel(cmp(process.pid > 1.5))`},
		{"gte", "sel:\n  ProcessId|gte: '7'\ncondition: sel", `sel:sel(cmp(process.pid >= 7))`},
		{"gt list", "sel:\n  ProcessId|gt:\n    - 5\n    - 9\ncondition: sel",
			`sel:sel(or(cmp(process.pid > 5), cmp(process.pid > 9)))`},
		{"neq number", "sel:\n  ProcessId|neq: 1\ncondition: sel", `sel:sel(not(process.pid~equal["1"]))`},
		{"fieldref", "sel:\n  User|fieldref: ParentUser\ncondition: sel",
			`sel:sel(cmp(user.name ==~ process.parent.user.name))`},
		{"fieldref neq", "sel:\n  User|fieldref|neq: ParentUser\ncondition: sel",
			`sel:sel(not(cmp(user.name ==~ process.parent.user.name)))`},
		{"fieldref cased", "sel:\n  User|fieldref|cased: ParentUser\ncondition: sel",
			`sel:sel(cmp(user.name == process.parent.user.name))`},
		{"fieldref startswith", "sel:\n  CommandLine|fieldref|startswith: Image\ncondition: sel",
			`sel:sel(truthy(call:startswith~(process.command_line, process.executable)))`},
		{"fieldref endswith", "sel:\n  CommandLine|fieldref|endswith: Image\ncondition: sel",
			`sel:sel(truthy(call:endswith~(process.command_line, process.executable)))`},
		{"fieldref contains", "sel:\n  CommandLine|fieldref|contains: Image\ncondition: sel",
			`sel:sel(truthy(call:stringcontains~(process.command_line, process.executable)))`},
		{"minute", "sel:\n  '@timestamp|minute': 5\ncondition: sel", `sel:sel(cmp(call:minute(@timestamp) == 5))`},
		{"hour", "sel:\n  '@timestamp|hour': 3\ncondition: sel", `sel:sel(cmp(call:hour(@timestamp) == 3))`},
		{"day", "sel:\n  '@timestamp|day': 31\ncondition: sel", `sel:sel(cmp(call:day(@timestamp) == 31))`},
		{"week", "sel:\n  '@timestamp|week': 52\ncondition: sel", `sel:sel(cmp(call:week(@timestamp) == 52))`},
		{"month", "sel:\n  '@timestamp|month': 12\ncondition: sel", `sel:sel(cmp(call:month(@timestamp) == 12))`},
		{"year", "sel:\n  '@timestamp|year': 2026\ncondition: sel", `sel:sel(cmp(call:year(@timestamp) == 2026))`},
		{"hour gte", "sel:\n  '@timestamp|hour|gte': 22\ncondition: sel", `sel:sel(cmp(call:hour(@timestamp) >= 22))`},
		{"keywords", "keywords:\n  - 'iptables -F'\n  - 'ufw disable'\ncondition: keywords",
			`sel:keywords(kw~["iptables -F" "ufw disable"])`},
		{"keyword wildcard", "keywords:\n  - 'Trojan*FOUND'\ncondition: keywords",
			`sel:keywords(kw~["Trojan*FOUND"])`},
		{"keyword literal star", `keywords:
  - 'a\*b'
condition: keywords`, `sel:keywords(kw~["a\\*b"])`},
		{"single keyword", "keywords: 'iptables -F'\ncondition: keywords",
			`sel:keywords(kw~["iptables -F"])`},
		{"keywords all", "keywords:\n  '|all':\n    - 'bash -c'\n    - '/dev/tcp/'\ncondition: keywords",
			`sel:keywords(kw~all["bash -c" "/dev/tcp/"])`},
		{"keywords cased", "keywords:\n  '|cased':\n    - 'REPLACE'\ncondition: keywords",
			`sel:keywords(kw["REPLACE"])`},
		{"keywords windash", "keywords:\n  '|windash': ' -F'\ncondition: keywords",
			"sel:keywords(kw~[\" -F\" \" /F\" \" \u2013F\" \" \u2014F\" \" \u2015F\"])"},
		{"keywords all windash", "keywords:\n  '|all|windash':\n    - ' -F'\n    - 'x'\ncondition: keywords",
			"sel:keywords(and(kw~[\" -F\" \" /F\" \" \u2013F\" \" \u2014F\" \" \u2015F\"], kw~[\"x\"]))"},
		{"keywords neq", "keywords:\n  '|neq': 'x'\ncondition: keywords", `sel:keywords(not(kw~["x"]))`},
		{"keyword number", "keywords:\n  - 42\ncondition: keywords", `sel:keywords(kw~["42"])`},
		{"ecs name verbatim", "sel:\n  process.name: iptables\ncondition: sel",
			`sel:sel(process.name~equal["iptables"])`},
		{"anchor and alias", "a: &v\n  - /x\n  - /y\nsel:\n  Image: *v\ncondition: sel",
			`sel:sel(process.executable~equal["/x" "/y"])`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := irString(mustCompile(t, ruleText("", tc.detection)))
			if got != tc.want {
				t.Errorf("IR\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

// windashProduct lists the 25 variants of "-a -b" in the order windash
// makes them.
func windashProduct() string {
	var qs []string
	for _, x := range []string{"-", "/", "\u2013", "\u2014", "\u2015"} {
		for _, y := range []string{"-", "/", "\u2013", "\u2014", "\u2015"} {
			qs = append(qs, `"`+x+"a "+y+`b"`)
		}
	}
	return strings.Join(qs, " ")
}

// TestSemantics evaluates compiled rules on events with the test
// evaluator: the meaning, not the spelling.
func TestSemantics(t *testing.T) {
	enc := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name, detection string
		ev              testEvent
		want            bool
	}{
		{"case-insensitive", "sel:\n  Image|endswith: /IPTABLES\ncondition: sel",
			testEvent{"process.executable": {"/usr/sbin/iptables"}}, true},
		{"cased", "sel:\n  CommandLine|contains|cased: -F\ncondition: sel",
			testEvent{"process.command_line": {"iptables -f"}}, false},
		{"re is case-sensitive", "sel:\n  CommandLine|re: '-F'\ncondition: sel",
			testEvent{"process.command_line": {"iptables -f"}}, false},
		{"re i", "sel:\n  CommandLine|re|i: '-F'\ncondition: sel",
			testEvent{"process.command_line": {"iptables -f"}}, true},
		{"re searches", "sel:\n  CommandLine|re: '-F'\ncondition: sel",
			testEvent{"process.command_line": {"iptables -F INPUT"}}, true},
		{"re startswith anchors", "sel:\n  CommandLine|re|startswith: '-F'\ncondition: sel",
			testEvent{"process.command_line": {"iptables -F INPUT"}}, false},
		{"re m makes ^ per line", "sel:\n  CommandLine|re|m: '^b'\ncondition: sel",
			testEvent{"process.command_line": {"a\nb"}}, true},
		{"re s dot newline", "sel:\n  CommandLine|re|s: 'a.b'\ncondition: sel",
			testEvent{"process.command_line": {"a\nb"}}, true},
		{"re without s", "sel:\n  CommandLine|re: 'a.b'\ncondition: sel",
			testEvent{"process.command_line": {"a\nb"}}, false},
		{"windash en dash", "sel:\n  CommandLine|windash|contains: ' -F'\ncondition: sel",
			testEvent{"process.command_line": {"iptables \u2013F"}}, true},
		{"windash slash", "sel:\n  CommandLine|windash|contains: ' -F'\ncondition: sel",
			testEvent{"process.command_line": {"iptables /F"}}, true},
		{"base64offset offset 0", "sel:\n  CommandLine|base64offset|contains: 'iptables -F'\ncondition: sel",
			testEvent{"process.command_line": {"echo " + enc("iptables -F; ls")}}, true},
		{"base64offset offset 1", "sel:\n  CommandLine|base64offset|contains: 'iptables -F'\ncondition: sel",
			testEvent{"process.command_line": {"echo " + enc("xiptables -F; ls")}}, true},
		{"base64offset offset 2", "sel:\n  CommandLine|base64offset|contains: 'iptables -F'\ncondition: sel",
			testEvent{"process.command_line": {"echo " + enc("xyiptables -F; ls")}}, true},
		{"base64offset offset 3", "sel:\n  CommandLine|base64offset|contains: 'iptables -F'\ncondition: sel",
			testEvent{"process.command_line": {"echo " + enc("xyziptables -F")}}, true},
		{"base64offset miss", "sel:\n  CommandLine|base64offset|contains: 'iptables -F'\ncondition: sel",
			testEvent{"process.command_line": {"echo " + enc("xyziptables -X")}}, false},
		{"multi-valued any", "sel:\n  a0: iptables\ncondition: sel",
			testEvent{"auditd.a0": {"3b", "iptables"}}, true},
		{"all over a multi-valued field", "sel:\n  a1|contains|all:\n    - '-F'\n    - INPUT\ncondition: sel",
			testEvent{"auditd.a1": {"-F", "INPUT"}}, true},
		{"null is absent", "sel:\n  CommandLine: null\ncondition: sel",
			testEvent{"process.executable": {"/x"}}, true},
		{"neq on absent field", "sel:\n  CommandLine|neq: x\ncondition: sel",
			testEvent{}, true},
		{"keyword anywhere", "keywords:\n  - 'REPLACE'\ncondition: keywords",
			testEvent{"message": {"(root) REPLACE (root)"}}, true},
		{"keyword all in different fields", "keywords:\n  '|all':\n    - a1\n    - b2\ncondition: keywords",
			testEvent{"x": {"xa1"}, "y": {"b2y"}}, true},
		{"keyword glob", "keywords:\n  - 'Trojan*FOUND'\ncondition: keywords",
			testEvent{"message": {"/tmp/x: Trojan.Foo FOUND"}}, true},
		{"cidr", "sel:\n  DestinationIp|cidr: 10.0.0.0/8\ncondition: sel",
			testEvent{"sysmon.DestinationIp": {"10.2.3.4"}}, true},
		{"lt numeric", "sel:\n  ProcessId|lt: 100\ncondition: sel",
			testEvent{"process.pid": {"99"}}, true},
		{"gt numeric not text", "sel:\n  ProcessId|gt: 100\ncondition: sel",
			testEvent{"process.pid": {"99"}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ls := ""
			if strings.Contains(tc.detection, "a0") || strings.Contains(tc.detection, "a1") {
				ls = "product: linux\n  service: auditd"
			}
			x := mustCompile(t, ruleText(ls, tc.detection))
			if got := evalIR(t, x, tc.ev); got != tc.want {
				t.Errorf("%s on %v = %v, want %v", irString(x), tc.ev, got, tc.want)
			}
		})
	}
}

// TestConditions checks every condition form.
func TestConditions(t *testing.T) {
	sels := "a:\n  User: a\nb:\n  User: b\nc_1:\n  User: c1\nc_2:\n  User: c2\nc_3:\n  User: c3\n_hidden:\n  User: h\n"
	A, B := `sel:a(user.name~equal["a"])`, `sel:b(user.name~equal["b"])`
	C1, C2, C3 := `sel:c_1(user.name~equal["c1"])`, `sel:c_2(user.name~equal["c2"])`, `sel:c_3(user.name~equal["c3"])`
	H := `sel:_hidden(user.name~equal["h"])`
	tests := []struct{ cond, want string }{
		{"a", A},
		{"a and b", "and(" + A + ", " + B + ")"},
		{"a or b", "or(" + A + ", " + B + ")"},
		{"not a", "not(" + A + ")"},
		{"not not a", A},
		{"a and not b", "and(" + A + ", not(" + B + "))"},
		{"a or b and c_1", "or(" + A + ", and(" + B + ", " + C1 + "))"},
		{"(a or b) and c_1", "and(or(" + A + ", " + B + "), " + C1 + ")"},
		{"not a and b", "and(not(" + A + "), " + B + ")"},
		{"not (a and b)", "not(and(" + A + ", " + B + "))"},
		{"a and b and c_1", "and(" + A + ", " + B + ", " + C1 + ")"},
		{"a and (b and c_1)", "and(" + A + ", " + B + ", " + C1 + ")"},
		{"1 of c_*", "or(" + C1 + ", " + C2 + ", " + C3 + ")"},
		{"any of c_*", "or(" + C1 + ", " + C2 + ", " + C3 + ")"},
		{"all of c_*", "and(" + C1 + ", " + C2 + ", " + C3 + ")"},
		{"all of c_1", C1},
		{"1 of them", "or(" + A + ", " + B + ", " + C1 + ", " + C2 + ", " + C3 + ")"},
		{"all of them", "and(" + A + ", " + B + ", " + C1 + ", " + C2 + ", " + C3 + ")"},
		{"1 of _*", H},
		{"1 of *_2", C2},
		{"1 of c*3", C3},
		{"2 of c_*", "or(and(" + C1 + ", " + C2 + "), and(" + C1 + ", " + C3 + "), and(" + C2 + ", " + C3 + "))"},
		{"3 of c_*", "and(" + C1 + ", " + C2 + ", " + C3 + ")"},
		{"a and not 1 of c_*", "and(" + A + ", not(or(" + C1 + ", " + C2 + ", " + C3 + ")))"},
		{"a and all of c_*", "and(" + A + ", " + C1 + ", " + C2 + ", " + C3 + ")"},
		{"  a   and\tb ", "and(" + A + ", " + B + ")"},
	}
	for _, tc := range tests {
		t.Run(tc.cond, func(t *testing.T) {
			got := irString(mustCompile(t, ruleText("", sels+"condition: '"+tc.cond+"'")))
			if got != tc.want {
				t.Errorf("IR\n got %s\nwant %s", got, tc.want)
			}
		})
	}
	t.Run("list of conditions is OR", func(t *testing.T) {
		got := irString(mustCompile(t, ruleText("", sels+"condition:\n  - a\n  - b and c_1")))
		if want := "or(" + A + ", and(" + B + ", " + C1 + "))"; got != want {
			t.Errorf("IR\n got %s\nwant %s", got, want)
		}
	})
}

// TestSeedRule: the seed rule "Flush Iptables Ufw Chain" compiles to the
// process_creation scope and an AND of its three named selections. The
// built-in pack's copy is in the repo; SigmaHQ's copy is in the corpus.
func TestSeedRule(t *testing.T) {
	paths := []string{filepath.Join("..", "..", "rules", "sigma", "flush_iptables_ufw_chain.yml")}
	if dir, ok := corpusPath(); ok {
		paths = append(paths, filepath.Join(dir, "sigma", "process_creation", "proc_creation_lnx_iptables_flush_ufw.yml"))
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			rs, err := ParseFile(path, data)
			if err != nil {
				t.Fatal(err)
			}
			r := rs[0]
			if r.Title != "Flush Iptables Ufw Chain" || r.ID != "3be619f4-d9ec-4ea8-a173-18fdd01996ab" || r.Level != "medium" ||
				r.LogSource != (LogSource{Product: "linux", Category: "process_creation"}) || len(r.Tags) != 2 ||
				len(r.References) != 3 || r.Date != "2023-01-18" || r.Author != "Joseliyo Sanchez, @Joseliyo_Jstnk" ||
				len(r.FalsePositives) != 1 || !bytes.Equal(r.Raw, data) {
				t.Errorf("metadata: %+v", r)
			}
			if r.Query.ScopeKey != "sigma:linux/process_creation" {
				t.Errorf("ScopeKey = %q", r.Query.ScopeKey)
			}
			if got, want := irString(r.Query.Scope), `and(or(not(exists(host.os.type)), host.os.type~equal["linux"]), event.categoryequal["process"], event.typeequal["start"])`; got != want {
				t.Errorf("scope\n got %s\nwant %s", got, want)
			}
			and, ok := filterOf(r).(query.And)
			if !ok || len(and.X) != 3 {
				t.Fatalf("filter is %s, want an AND of three selections", irString(filterOf(r)))
			}
			for i, name := range []string{"selection_img", "selection_params", "selection_ufw"} {
				if n, ok := and.X[i].(query.Named); !ok || n.Name != name {
					t.Errorf("operand %d = %s, want selection %s", i, irString(and.X[i]), name)
				}
			}
			hit := testEvent{"process.executable": {"/usr/sbin/iptables"}, "process.command_line": {"iptables -F ufw-logging-deny"}}
			miss := testEvent{"process.executable": {"/usr/sbin/iptables"}, "process.command_line": {"iptables -L"}}
			if !evalIR(t, filterOf(r), hit) || evalIR(t, filterOf(r), miss) {
				t.Errorf("seed rule matches wrongly: %s", irString(filterOf(r)))
			}
		})
	}
}

// TestLogSources checks scopes, scope keys and field maps.
func TestLogSources(t *testing.T) {
	tests := []struct {
		logsource, field, key, scope, path string
	}{
		{"product: linux\n  category: process_creation", "ParentImage", "sigma:linux/process_creation", "", "process.parent.executable"},
		{"product: linux\n  category: process_creation", "IntegrityLevel", "sigma:linux/process_creation", "", "sysmon.IntegrityLevel"},
		{"product: linux\n  category: process_creation", "process.args", "sigma:linux/process_creation", "", "process.args"},
		{"product: linux\n  category: network_connection", "DestinationPort", "sigma:linux/network_connection", "", "destination.port"},
		{"product: linux\n  category: network_connection", "Initiated", "sigma:linux/network_connection", "", "sysmon.Initiated"},
		{"product: linux\n  category: file_event", "TargetFilename", "sigma:linux/file_event",
			`and(or(not(exists(host.os.type)), host.os.type~equal["linux"]), event.categoryequal["file"], event.typeequal["creation"])`, "file.path"},
		{"product: linux\n  service: auditd", "exe", "sigma:linux/auditd",
			`and(or(not(exists(host.os.type)), host.os.type~equal["linux"]), event.moduleequal["auditd"])`, "auditd.exe"},
		{"product: linux\n  service: auditd", "a1", "sigma:linux/auditd", "", "auditd.a1"},
		{"product: linux\n  service: sshd", "message", "sigma:linux/sshd",
			`and(or(not(exists(host.os.type)), host.os.type~equal["linux"]), event.moduleequal["syslog"], process.name~equal["sshd" "sshd-session" "sshd-auth"])`, "message"},
		{"product: linux\n  service: syslog", "message", "sigma:linux/syslog",
			`and(or(not(exists(host.os.type)), host.os.type~equal["linux"]), event.moduleequal["syslog"])`, "message"},
		{"product: linux\n  service: myd", "message", "sigma:linux/myd",
			`and(or(not(exists(host.os.type)), host.os.type~equal["linux"]), event.moduleequal["syslog"], process.name~equal["myd"])`, "message"},
		{"product: linux", "message", "sigma:linux", `or(not(exists(host.os.type)), host.os.type~equal["linux"])`, "message"},
		{"product: windows\n  category: process_creation", "Image", "sigma:windows/process_creation",
			`and(host.os.type~equal["windows"], event.categoryequal["process"], event.typeequal["start"])`, "process.executable"},
		{"category: process_creation", "Image", "sigma:process_creation",
			`and(event.categoryequal["process"], event.typeequal["start"])`, "process.executable"},
	}
	for _, tc := range tests {
		t.Run(tc.key+"/"+tc.field, func(t *testing.T) {
			r, err := compile(t, ruleText(tc.logsource, "sel:\n  "+tc.field+": x\ncondition: sel"))
			if err != nil {
				t.Fatal(err)
			}
			if r.Query.ScopeKey != tc.key {
				t.Errorf("ScopeKey = %q, want %q", r.Query.ScopeKey, tc.key)
			}
			if tc.scope != "" {
				if got := irString(r.Query.Scope); got != tc.scope {
					t.Errorf("scope\n got %s\nwant %s", got, tc.scope)
				}
			}
			m := filterOf(r).(query.Named).X.(query.Match)
			if got := m.Field.(query.Field).Path; got != tc.path {
				t.Errorf("path = %q, want %q", got, tc.path)
			}
		})
	}
	t.Run("auditd interpreted twin", func(t *testing.T) {
		x := mustCompile(t, ruleText("product: linux\n  service: auditd", "sel:\n  syscall:\n    - execve\n    - 59\ncondition: sel"))
		if got, want := irString(x), `sel:sel(or(auditd.SYSCALL~equal["execve"], auditd.syscall~equal["59"]))`; got != want {
			t.Errorf("IR\n got %s\nwant %s", got, want)
		}
	})
	t.Run("ecs taxonomy", func(t *testing.T) {
		text := strings.Replace(ruleText("", "sel:\n  Image: x\ncondition: sel"), "logsource:", "taxonomy: ecs\nlogsource:", 1)
		if got, want := irString(mustCompile(t, text)), `sel:sel(Image~equal["x"])`; got != want {
			t.Errorf("IR\n got %s\nwant %s", got, want)
		}
	})
}

// TestCollections: Sigma v1 multi-document files.
func TestCollections(t *testing.T) {
	text := `action: global
title: Firewall tools
logsource:
  product: linux
  category: process_creation
detection:
  condition: sel
---
id: one
detection:
  sel:
    Image|endswith: /iptables
---
id: two
detection:
  sel:
    Image|endswith: /ufw
---
action: repeat
id: three
logsource:
  category: file_event
---
action: reset
---
title: Plain
id: four
logsource:
  product: linux
detection:
  k:
    - x
  condition: k
`
	rs, err := ParseFile("c.yml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ id, title, key, ir string }{
		{"one", "Firewall tools", "sigma:linux/process_creation", `sel:sel(process.executable~suffix["/iptables"])`},
		{"two", "Firewall tools", "sigma:linux/process_creation", `sel:sel(process.executable~suffix["/ufw"])`},
		{"three", "Firewall tools", "sigma:linux/file_event", `sel:sel(process.executable~suffix["/ufw"])`},
		{"four", "Plain", "sigma:linux", `sel:k(kw~["x"])`},
	}
	if len(rs) != len(want) {
		t.Fatalf("got %d rules, want %d", len(rs), len(want))
	}
	for i, w := range want {
		r := rs[i]
		if r.ID != w.id || r.Title != w.title || r.Query.ScopeKey != w.key || irString(filterOf(r)) != w.ir {
			t.Errorf("rule %d: id %q title %q key %q ir %s; want %+v", i, r.ID, r.Title, r.Query.ScopeKey, irString(filterOf(r)), w)
		}
	}
	if !strings.Contains(string(rs[3].Raw), "title: Plain") || strings.Contains(string(rs[3].Raw), "Firewall") {
		t.Errorf("Raw of the last rule = %q", rs[3].Raw)
	}
}

// TestErrors checks positions and wording of errors and refusals.
func TestErrors(t *testing.T) {
	tests := []struct {
		name, text string
		want       string // the full error text
		unsup      bool
	}{
		{"condition ends early", ruleText("", "sel:\n  User: a\ncondition: sel and"),
			`t.yml:9:21: unexpected end of condition, expected a search identifier, "not", "(" or "1 of"/"all of"`, false},
		{"unclosed paren", ruleText("", "sel:\n  User: a\ncondition: (sel"),
			`t.yml:9:18: unexpected end of condition, expected ")" to close "("`, false},
		{"quoted condition", ruleText("", "sel:\n  User: a\ncondition: 'sel or or'"),
			`t.yml:9:22: unexpected "or", expected a search identifier, "not", "(" or "1 of"/"all of"`, false},
		{"junk after expression", ruleText("", "sel:\n  User: a\ncondition: sel sel"),
			`t.yml:9:18: unexpected "sel", expected "and", "or" or end of condition`, false},
		{"unknown identifier", ruleText("", "sel:\n  User: a\nfilter:\n  User: b\ncondition: sel and not filtr"),
			`t.yml:11:26: unknown search identifier "filtr", expected one of sel, filter`, false},
		{"pattern matches nothing", ruleText("", "sel:\n  User: a\ncondition: 1 of filter_*"),
			`t.yml:9:19: no search identifier matches "filter_*", expected one of sel`, false},
		{"quantifier without of", ruleText("", "sel:\n  User: a\ncondition: all sel"),
			`t.yml:9:18: unexpected "sel" after "all", expected "of"`, false},
		{"illegal character", ruleText("", "sel:\n  User: a\ncondition: sel & sel"),
			`t.yml:9:18: unexpected "&", expected "and", "or" or end of condition`, false},
		{"literal block condition", ruleText("", "sel:\n  User: a\ncondition: |\n  sel and\n    (sel or"),
			`t.yml:11:14: unexpected end of condition, expected a search identifier, "not", "(" or "1 of"/"all of"`, false},
		{"unknown modifier", ruleText("", "sel:\n  Image|endswithh: /x\ncondition: sel"),
			`t.yml:8:11: unknown modifier "endswithh", expected one of ` + modifierNames, false},
		{"unknown modifier quoted key", ruleText("", "sel:\n  'Image|contains|bogus': /x\ncondition: sel"),
			`t.yml:8:21: unknown modifier "bogus", expected one of ` + modifierNames, false},
		{"missing condition", ruleText("", "sel:\n  User: a"),
			`t.yml:6:1: detection without a condition, expected condition: ...`, false},
		{"duplicate key", ruleText("", "sel:\n  User: a\n  User: b\ncondition: sel"),
			`t.yml:9:5: duplicate key "User", expected each key once (first at line 8)`, false},
		{"map as value", ruleText("", "sel:\n  User:\n    a: b\ncondition: sel"),
			`t.yml:9:7: a mapping as a field value, expected a value or a list of values`, false},
		{"null in list", ruleText("", "sel:\n  User:\n    - a\n    - null\ncondition: sel"),
			`t.yml:10:9: null in a list of values, expected null on its own (the spec forbids mixing it with other values)`, false},
		{"base64 wildcard", ruleText("", "sel:\n  CommandLine|base64: 'a*'\ncondition: sel"),
			`t.yml:8:17: modifier |base64 on a value with wildcards, expected plain text (escape * and ? as \* and \?)`, false},
		{"contains on cidr", ruleText("", "sel:\n  DestinationIp|cidr|contains: 10.0.0.0/8\ncondition: sel"),
			`t.yml:8:24: modifier |contains does not apply to a CIDR network`, false},
		{"bad cidr", ruleText("", "sel:\n  DestinationIp|cidr: 10.0.0.0/33\ncondition: sel"),
			`t.yml:8:25: "10.0.0.0/33" is not a CIDR network, expected e.g. 10.0.0.0/8 or fe80::/10`, false},
		{"lt on text", ruleText("", "sel:\n  ProcessId|lt: abc\ncondition: sel"),
			`t.yml:8:15: modifier |lt does not apply to a string`, false},
		{"re after contains", ruleText("", "sel:\n  CommandLine|contains|re: a\ncondition: sel"),
			`t.yml:8:26: modifier |re must come first, expected it before the other value modifiers`, false},
		{"flag without re", ruleText("", "sel:\n  CommandLine|i: a\ncondition: sel"),
			`t.yml:8:17: modifier |i applies to a regular expression, expected it after |re`, false},
		{"bad regex", ruleText("", "sel:\n  CommandLine|re: 'a(b'\ncondition: sel"),
			"t.yml:8:21: invalid regular expression: missing closing ): `a(b`", false},
		{"exists on text", ruleText("", "sel:\n  CommandLine|exists: maybe\ncondition: sel"),
			`t.yml:8:25: "maybe" after |exists, expected true or false`, false},
		{"missing detection", "title: x\nlogsource:\n  product: linux\n",
			`t.yml:1:1: rule without a detection, expected detection: with search identifiers and a condition`, false},
		{"missing title", "logsource:\n  product: linux\ndetection:\n  k: x\n  condition: k\n",
			`t.yml:1:1: rule without a title, expected title: ...`, false},
		{"top level list", "- a\n- b\n",
			`t.yml:1:1: a list at the top of the document, expected a Sigma rule (a mapping)`, false},
		{"empty file", "",
			`t.yml:1:1: no Sigma rule in the file, expected a YAML mapping with title, logsource and detection`, false},

		{"yaml bad indentation", "title: x\nlogsource:\n  product: linux\n detection: 1\n",
			`t.yml:4:2: yaml: did not find expected key`, false},
		{"yaml tab", "title: x\nlogsource:\n\tproduct: linux\n",
			`t.yml:3:1: yaml: found character that cannot start any token`, false},
		{"yaml unclosed flow", "title: x\ntags: [a, b\nlevel: high\n",
			`t.yml:2:7: yaml: did not find expected ',' or ']'`, false},
		{"yaml two colons", "title: a: b\n",
			`t.yml:1:9: yaml: mapping values are not allowed in this context`, false},
		{"yaml unknown alias", "title: x\nlevel: *nope\n",
			`t.yml:2:8: yaml: unknown anchor 'nope' referenced`, false},

		{"aggregation", ruleText("", "sel:\n  User: a\ncondition: sel | count() by host > 5"),
			`t.yml:9:18: unsupported: aggregation expression (| count ...) (Sigma v1 aggregations were replaced by correlation rules in Sigma 2)`, true},
		{"near", ruleText("", "sel:\n  User: a\ncondition: sel | near sel"),
			`t.yml:9:18: unsupported: near aggregation (| near ...) (Sigma v1 aggregations were replaced by correlation rules in Sigma 2)`, true},
		{"expand", ruleText("", "sel:\n  User|expand: '%Admins%'\ncondition: sel"),
			`t.yml:8:10: unsupported: modifier |expand (its %placeholders% take values from a processing pipeline, which firewarden does not have)`, true},
		{"lookahead", ruleText("", "sel:\n  CommandLine|re: 'a(?=b)'\ncondition: sel"),
			`t.yml:8:21: unsupported: regular expression feature lookahead (?=...) (firewarden uses RE2, which runs in linear time and has no backtracking)`, true},
		{"lookbehind", ruleText("", "sel:\n  CommandLine|re: '(?<!a)b'\ncondition: sel"),
			`t.yml:8:21: unsupported: regular expression feature negative lookbehind (?<!...) (firewarden uses RE2, which runs in linear time and has no backtracking)`, true},
		{"backreference", ruleText("", "sel:\n  CommandLine|re: '(a)\\1'\ncondition: sel"),
			`t.yml:8:21: unsupported: regular expression feature backreference \1 (firewarden uses RE2, which runs in linear time and has no backtracking)`, true},
		{"possessive", ruleText("", "sel:\n  CommandLine|re: 'a++'\ncondition: sel"),
			`t.yml:8:21: unsupported: regular expression feature possessive quantifier ++ (firewarden uses RE2, which runs in linear time and has no backtracking)`, true},
		{"correlation", "title: c\ncorrelation:\n  type: event_count\n",
			`t.yml:2:1: correlation without rules, expected rules: a list of the ids or names of the rules it correlates`, false},
		{"filter", "title: f\nlogsource:\n  product: linux\nfilter:\n  rules: [x]\n",
			`t.yml:4:1: filter without a condition, expected condition: ...`, false},
		{"keyword re", ruleText("", "k:\n  '|re': 'a+'\ncondition: k"),
			`t.yml:8:7: unsupported: modifier |re on keywords (a keyword search cannot be a regular expression)`, true},
		{"unknown category", ruleText("product: windows\n  category: registry_set", "sel:\n  User: a\ncondition: sel"),
			`t.yml:5:13: unsupported: log source category registry_set (no firewarden source produces these events)`, true},
		{"unknown product", ruleText("product: aws\n  service: cloudtrail", "sel:\n  User: a\ncondition: sel"),
			`t.yml:4:12: unsupported: log source product aws (firewarden reads Linux, Windows and macOS host telemetry only)`, true},
		{"auditd field", ruleText("product: linux\n  service: auditd", "sel:\n  cmdline: a\ncondition: sel"),
			`t.yml:8:5: unsupported: auditd field "cmdline" (no Linux audit record carries it, so the rule could never match)`, true},
		{"N above the matches", ruleText("", "s1:\n  User: a\ns2:\n  User: b\ncondition: 3 of s*"),
			`t.yml:11:14: "3 of s*" needs at least 3 search identifiers, found 2 (s1, s2)`, false},
		{"them without identifiers", ruleText("", "_s:\n  User: a\ncondition: 1 of them"),
			`t.yml:9:19: "them" matches no search identifier (those starting with _ are excluded), expected one of _s`, false},
		{"too many combinations", ruleText("", strings.Repeat("", 0)+manySelections(16)+"condition: 8 of s*"),
			`t.yml:39:14: unsupported: "8 of s*" over 16 search identifiers (more than 1024 combinations)`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseFile("t.yml", []byte(tc.text))
			if err == nil {
				t.Fatalf("no error, want %s\n%s", tc.want, tc.text)
			}
			if err.Error() != tc.want {
				t.Errorf("error\n got %s\nwant %s\n%s", err, tc.want, tc.text)
			}
			var u *query.Unsupported
			var e *query.Error
			switch {
			case tc.unsup && !errors.As(err, &u):
				t.Errorf("got %T, want *query.Unsupported", err)
			case !tc.unsup && !errors.As(err, &e):
				t.Errorf("got %T, want *query.Error", err)
			}
		})
	}
}

func manySelections(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("s" + string(rune('a'+i)) + ":\n  User: x\n")
	}
	return b.String()
}

// TestSigmaString checks escape processing and the glob rendering.
func TestSigmaString(t *testing.T) {
	tests := []struct{ in, glob string }{
		{`abc`, `abc`},
		{`a*b?c`, `a*b?c`},
		{`a\*b`, `a\*b`},
		{`a\?b`, `a\?b`},
		{`a\\b`, `a\\b`},
		{`a\b`, `a\\b`},
		{`a\\*`, `a\\*`},
		{`a\\\*`, `a\\\*`},
		{`a\`, `a\\`},
		{`**a***`, `*a*`},
	}
	for _, tc := range tests {
		if got := parseSigmaString(tc.in).glob(); got != tc.glob {
			t.Errorf("parseSigmaString(%q).glob() = %q, want %q", tc.in, got, tc.glob)
		}
	}
}

// TestWindashBoundaries follows pySigma's `\B[-/]\b` per literal run.
func TestWindashBoundaries(t *testing.T) {
	tests := []struct {
		in    string
		slots int
	}{
		{"-F", 1}, {" -F", 1}, {"a-b", 0}, {"--force", 1}, {"a /c", 1}, {"- x", 0}, {"x-", 0}, {"\u2013F", 1},
	}
	for _, tc := range tests {
		if got := len(windashSlots(tc.in)) - 1; got != tc.slots {
			t.Errorf("windashSlots(%q): %d slots, want %d", tc.in, got, tc.slots)
		}
	}
}
