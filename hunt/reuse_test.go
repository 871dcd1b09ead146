package hunt

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firewarden/firewarden/alert"
	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/rule"
	"github.com/firewarden/firewarden/source"
	"github.com/firewarden/firewarden/source/ecs"
)

// reuseRules exercise everything that holds an event past Match: sequence
// partials (a key waiting at every stage while other events stream by),
// candidates held for a trailing missing step, a tail buffer, samples,
// and alerts a sink keeps. Their literals are long enough for the
// prefilter to skip them for the events they cannot match.
var reuseRules = map[string]string{
	"seq": `sequence by host.id with maxspan=1h
  [process where process.name == "alpha"]
  [process where process.name == "bravo"]
  [process where process.name == "charlie"]`,
	"seq-missing": `sequence by host.id with maxspan=1s
  [process where process.name == "xray"]
  ![process where process.name == "yankee"]`,
	"seq-until": `sequence by host.id
  [process where process.name == "alpha"]
  [process where process.name == "charlie"]
until [process where process.name == "sierra"]`,
	"tail":   `process where process.name == "tango" | tail 3`,
	"single": `process where process.name == "sierra"`,
	"sample": `sample by host.id
  [process where process.name == "papa"]
  [process where process.name == "quebec"]`,
}

func writeReuseRules(t *testing.T, dir string, rules map[string]string) []*rule.Rule {
	t.Helper()
	i := 0
	for name, q := range rules {
		i++
		toml := fmt.Sprintf(`[metadata]
creation_date = "2026/01/01"
maturity = "production"
updated_date = "2026/01/01"

[rule]
author = ["firewarden"]
description = "reuse test"
language = "eql"
license = "Elastic License v2"
name = "reuse %s"
risk_score = 21
rule_id = "00000000-0000-0000-0000-%012d"
severity = "low"
type = "eql"
query = '''
%s
'''
`, name, i, q)
		if err := os.WriteFile(filepath.Join(dir, name+".toml"), []byte(toml), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	set, err := rule.LoadPaths([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Rules) != len(rules) {
		t.Fatalf("loaded %d rules, want %d (refused: %v)", len(set.Rules), len(rules), set.Refused)
	}
	return set.Rules
}

// writeReuseEvents writes a stream where the events a rule holds are
// followed by many it does not, which a reusing source builds in the
// events it would wrongly recycle. Timestamps go back now and then.
func writeReuseEvents(t *testing.T, p string, rounds int) {
	t.Helper()
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	names := strings.Fields("alpha zulu zulu bravo xray tango zulu papa charlie sierra xray zulu yankee quebec tango zulu alpha papa bravo tango tango zulu charlie xray sierra quebec")
	n := 0
	for round := range rounds {
		for _, name := range names {
			n++
			host := fmt.Sprintf("h%d", round%3)
			// Filler between the interesting events, each with its own
			// values, so that a recycled event shows.
			for k := range 5 {
				fmt.Fprintf(f, `{"@timestamp":"2026-11-23T00:%02d:%02d.%03dZ","event":{"id":"filler-%d-%d","category":["process"],"type":["start"]},"host":{"id":%q},"process":{"name":"filler%d","pid":%d,"args":["filler","%d"]}}`+"\n",
					round, n%60, k*100, n, k, host, k, 90000+n*10+k, n)
			}
			fmt.Fprintf(f, `{"@timestamp":"2026-11-23T00:%02d:%02d.900Z","event":{"id":"ev-%d","category":["process"],"type":["start"]},"host":{"id":%q},"process":{"name":%q,"pid":%d,"args":[%q,"%d"]}}`+"\n",
				round, n%60, n, host, name, 1000+n, name, n)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// render is an alert as the sink would write it, events included.
func render(t *testing.T, as []*alert.Alert) string {
	t.Helper()
	var b strings.Builder
	for _, a := range as {
		j, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}

// TestReuseKeepsHeldEvents: hunting with a source that reuses events
// (Run does) gives the same alerts, events and all, as matching events
// that were never reused, and the sink's alerts stay intact after the
// hunt has moved on.
func TestReuseKeepsHeldEvents(t *testing.T) {
	dir := t.TempDir()
	rs := writeReuseRules(t, dir, reuseRules)
	p := filepath.Join(t.TempDir(), "events.ndjson")
	writeReuseEvents(t, p, 6)
	formats := []source.Format{ecs.NDJSON{}}
	ctx := context.Background()

	// Reference: every event its own, never reused.
	var evs []*event.Event
	if _, err := (&source.Reader{Formats: formats}).Read(ctx, []string{p}, func(ev *event.Event) error {
		evs = append(evs, ev)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	eng, refused := Compile(rs)
	if len(refused) > 0 {
		t.Fatalf("refused: %v", refused[0].Err)
	}
	ref := &collect{}
	for _, ev := range evs {
		if err := eng.Match(ev, func(_ *rule.Rule, a *alert.Alert) error { return ref.Write(a) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := eng.Flush(func(_ *rule.Rule, a *alert.Alert) error { return ref.Write(a) }); err != nil {
		t.Fatal(err)
	}
	want := render(t, ref.alerts)

	eng, _ = Compile(rs)
	got := &collect{}
	if _, err := Run(ctx, eng, Options{Formats: formats, Sink: got}, []string{p}); err != nil {
		t.Fatal(err)
	}
	if g := render(t, got.alerts); g != want {
		t.Errorf("alerts differ when events are reused:\ngot:\n%s\nwant:\n%s", g, want)
	}
	fired := map[string]int{}
	for _, a := range ref.alerts {
		fired[strings.TrimPrefix(a.Rule.Name, "reuse ")]++
	}
	for name := range reuseRules {
		if fired[name] == 0 {
			t.Errorf("rule %q never fired: the test does not cover it", name)
		}
	}

	// The comparison means something only if events were reused.
	eng, _ = Compile(rs)
	seen := map[*event.Event]bool{}
	n := 0
	if _, err := (&source.Reader{Formats: formats, Reuse: true}).Read(ctx, []string{p}, func(ev *event.Event) error {
		n++
		seen[ev] = true
		return eng.Match(ev, func(*rule.Rule, *alert.Alert) error { return nil })
	}); err != nil {
		t.Fatal(err)
	}
	if len(seen)*4 > n {
		t.Errorf("%d events in %d distinct events: the source hardly reused any", n, len(seen))
	}
	t.Logf("%d alerts; %d events built in %d", len(ref.alerts), n, len(seen))
}
