package sysmon

import (
	"path/filepath"
	"testing"
)

// TestIndex: Sysmon for Linux events live where Elastic's Sysmon for Linux
// integration writes them.
func TestIndex(t *testing.T) {
	evs, _ := readFile(t, filepath.Join("testdata", "events.log"))
	if len(evs) == 0 {
		t.Fatal("no events")
	}
	for _, ev := range evs {
		if ev.Index != "logs-sysmon_linux.log-default" {
			t.Fatalf("%s:%d: index %q", ev.File, ev.Line, ev.Index)
		}
	}
}
