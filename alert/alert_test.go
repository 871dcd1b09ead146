package alert

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/rule"
)

func sample() (*rule.Rule, *event.Event) {
	r := &rule.Rule{ID: "r1", Name: "Nft Flush", Language: "sigma", Severity: "high", RiskScore: 73, Path: "x.yml",
		Threat: rule.ThreatFromTags([]string{"attack.t1686"}), FalsePositives: []string{"admins"}}
	ev := event.New(8)
	ev.Time = time.Date(2026, 11, 22, 14, 49, 20, 0, time.UTC)
	ev.File, ev.Line = "audit.log", 42
	ev.SetStr("host.name", "vm")
	ev.SetStr("user.name", "root")
	ev.Set("process.pid", event.IntV(7))
	ev.SetStr("process.command_line", "nft flush ruleset")
	ev.SetStr("process.parent.name", "bash")
	return r, ev
}

func TestAlertRecord(t *testing.T) {
	r, ev := sample()
	a := New(r, []*event.Event{ev}, []string{"sel"})
	b := New(r, []*event.Event{ev}, nil)
	if a.ID != b.ID || len(a.ID) != 24 {
		t.Errorf("ids %q %q: want stable 24-hex ids", a.ID, b.ID)
	}
	var buf bytes.Buffer
	s := NewNDJSON(&buf)
	if err := s.Write(a); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"@timestamp", "id", "rule", "threat", "host", "events", "process", "matched"} {
		if _, ok := m[k]; !ok {
			t.Errorf("alert lacks %q: %s", k, buf.String())
		}
	}
	if !strings.Contains(buf.String(), `"legacy_id":"T1562.004"`) || !strings.Contains(buf.String(), `"risk_score":73`) {
		t.Errorf("alert: %s", buf.String())
	}
}

func TestTable(t *testing.T) {
	r, ev := sample()
	var buf bytes.Buffer
	tb := NewTable(&buf)
	tb.Verbose = true
	tb.Write(New(r, []*event.Event{ev}, []string{"sel"}))
	if err := tb.Close(); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"SEVERITY", "Nft Flush", "nft flush ruleset", "audit.log:42", "T1686 (T1562.004)", "false pos. admins", "matched    sel"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	buf.Reset()
	empty := NewTable(&buf)
	empty.Close()
	if buf.String() != "no alerts\n" {
		t.Errorf("empty table: %q", buf.String())
	}
}
