package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRulesTestBuiltin: every firewarden rule of the built-in pack has
// tests beside it, and they all pass.
func TestRulesTestBuiltin(t *testing.T) {
	out, errs, code := run(t, "", "rules", "test")
	if code != exitOK {
		t.Fatalf("rules test exited %d:\n%s\n%s", code, out, errs)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "NONE") && strings.Contains(line, "/firewarden/") {
			t.Errorf("a pack rule without tests: %s", line)
		}
	}
	if !strings.Contains(out, "PASS  builtin:sigma/firewarden/nft_flush.yml") || !strings.Contains(out, " 0 failed") {
		t.Errorf("output:\n%s", out)
	}
}

// TestRulesTestFailure: a deliberately wrong case (a listing expected to
// match a flush rule), in any language, is reported with where it is, the
// event, expected and got, and the rule's selections.
func TestRulesTestFailure(t *testing.T) {
	dir := t.TempDir()
	pack, err := os.ReadFile("../../rules/sigma/firewarden/nft_flush.yml")
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("nft_flush.yml", string(pack))
	write("nft_flush.tests.yml", `tests:
  - name: flush matches
    expect: match
    event:
      process: {executable: /usr/sbin/nft, command_line: nft flush ruleset}
  - name: listing wrongly expected to match
    expect: match
    event:
      process: {executable: /usr/sbin/nft, command_line: nft list ruleset}
`)
	// An Elastic EQL rule, and a case that wrongly expects no match.
	write("eql.toml", elasticRule("eql", `process where process.name == "iptables" and process.args == "-F"`))
	write("eql.tests.yml", `tests:
  - name: iptables -F wrongly expected quiet
    expect: no match
    event:
      process: {name: iptables, executable: /usr/sbin/iptables, args: [iptables, -F], command_line: iptables -F}
      host: {os: {type: linux}}
`)
	write("untested.yml", string(pack))
	out, errs, code := run(t, "", "rules", "test", dir)
	if code != exitTestFailed {
		t.Fatalf("exit %d, want %d:\n%s\n%s", code, exitTestFailed, out, errs)
	}
	for _, want := range []string{
		`nft_flush.tests.yml:6:5: "listing wrongly expected to match"`,
		`expected match, got no match`,
		`"command_line":"nft list ruleset"`,
		`log source matches; true: selection_img; false: selection_flush, selection_policy`,
		`eql.tests.yml:2:5: "iptables -F wrongly expected quiet"`,
		`expected no match, got match (1 alert)`,
		`NONE  ` + filepath.Join(dir, "untested.yml"),
		`2 tests file(s), 3 case(s): 1 passed, 2 failed; 1 rule file(s) without tests`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
