package kql

import (
	"errors"
	"testing"

	"github.com/firewarden/firewarden/query"
)

// FuzzCompile: any input parses and compiles or fails with a positioned
// *query.Error or *query.Unsupported; never a panic.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		`imProcessCreate | where TargetProcessName endswith "/iptables" and TargetProcessCommandLine contains "-F"`,
		`let p = dynamic(["1", "2"]); imProcessCreate | where TimeGenerated > ago(1h) | where TargetProcessCommandLine has_any (p)`,
		`imProcessCreate | summarize c = count(), dcount(TargetProcessId) by DvcHostname, bin(TimeGenerated, 5m) | where c > 3`,
		`imProcessCreate | parse TargetProcessCommandLine with * "--dport " port:int " " * | extend x = strcat(port, "/") | project x`,
		`imFileEvent | where EventType == "FileDeleted" and isnotempty(TargetFilePath) and not(TargetFilePath matches regex "^/tmp")`,
		`imProcessCreate | where a between (1 .. 2) and b in~ ('x', @"y") | project-away a`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		_, err := Compile(src, Options{Base: query.Pos{File: "f.kql"}})
		if err == nil {
			return
		}
		var qe *query.Error
		var un *query.Unsupported
		switch {
		case errors.As(err, &qe):
			if qe.Pos.Line == 0 {
				t.Errorf("error without a position: %v", err)
			}
		case errors.As(err, &un):
			if un.Pos.Line == 0 {
				t.Errorf("refusal without a position: %v", err)
			}
		default:
			t.Errorf("error of type %T: %v", err, err)
		}
	})
}
