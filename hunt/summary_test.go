package hunt

import (
	"bytes"
	"strings"
	"testing"

	"github.com/firewarden/firewarden/engine"
	"github.com/firewarden/firewarden/rule"
)

// TestSummaryNamesShedState: when a sequence's bounds bite, the summary
// names the rule and what was shed, so a user knows where matches may have
// been missed.
func TestSummaryNamesShedState(t *testing.T) {
	r := &rule.Rule{Name: "Seq Rule", Severity: "high", Language: "eql"}
	sum := &Summary{Shed: []StateOf{{Rule: r, Stats: engine.StateStats{Evicted: 12, Forgotten: 3}}}}
	var b bytes.Buffer
	WriteSummary(&b, sum, 1, nil)
	want := "state bound hit: Seq Rule: 12 join keys evicted (cap 100000 keys, least recently used first), 3 missing-event matches forgotten (cap 64 per key)"
	if !strings.Contains(b.String(), want) {
		t.Errorf("summary lacks %q:\n%s", want, b.String())
	}
	b.Reset()
	WriteSummary(&b, &Summary{}, 1, nil)
	if strings.Contains(b.String(), "state bound") {
		t.Errorf("summary reports shed state where none was:\n%s", b.String())
	}
}
