package hunt

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firewarden/firewarden/internal/gen"
	"github.com/firewarden/firewarden/internal/testenv"
	"github.com/firewarden/firewarden/rule"
)

// TestPrefilterExactEQL: with every Elastic rule loaded (sequences and
// samples included, whose steps the prefilter guards), the prefilter
// changes neither the alerts nor their order, over the samples and a
// generated ECS stream.
func TestPrefilterExactEQL(t *testing.T) {
	set, err := rule.LoadPaths([]string{testenv.Shared(t, "corpus", "elastic")})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "events.ndjson")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := gen.Write(f, gen.Options{Events: 20_000, Seed: 7, Firewall: 0.2}); err != nil {
		t.Fatal(err)
	}
	// 25 runs of id by one parent within a second: the sequence of
	// discovery_unusual_user_enumeration_via_id (runs=20) completes.
	for i := range 25 {
		fmt.Fprintf(f, `{"@timestamp":"2026-11-23T00:00:00.%03dZ","event":{"category":["process"],"type":["start"],"action":"exec"},`+
			`"host":{"id":"h1","os":{"type":"linux"}},"process":{"name":"id","args":["id","-u"],"args_count":2,"pid":%d,`+
			`"parent":{"entity_id":"p1","name":"bash"}}}`+"\n", i*10, 5000+i)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	run := func(off bool) (string, int) {
		eng, _ := Compile(set.Rules)
		eng.eng.NoPrefilter = off
		c := &collect{}
		if _, err := Run(context.Background(), eng, Options{Formats: formats(), Sink: c}, []string{samples(), p}); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, a := range c.alerts {
			ids = append(ids, a.ID)
		}
		return strings.Join(ids, "\n") + "\n" + summarise(c.alerts), len(c.alerts)
	}
	with, n := run(false)
	without, _ := run(true)
	if with != without {
		t.Errorf("prefilter changes alerts:\nwith:\n%s\nwithout:\n%s", with, without)
	}
	if n == 0 {
		t.Error("no alerts: the comparison proves nothing")
	}
	if !strings.Contains(with, "Unusual User Privilege Enumeration via id") {
		t.Error("the sequence did not fire: the comparison does not cover guarded steps")
	}
	t.Logf("%d alerts", n)
}

// TestPrefilterExactStateful: the prefilter skips a sequence or sample for
// an event none of its steps can match, yet the alerts and their order are
// those without it — held candidates of a trailing missing step are still
// released by the time of any event, the maxspan sweep still runs on its
// schedule (the stream is long enough for several, and its timestamps go
// back now and then), until steps still cut.
func TestPrefilterExactStateful(t *testing.T) {
	rules := map[string]string{
		// A partial the sweep drops: its key then sees only events of
		// another rule, an hour later, then its second step, in time but
		// out of order. Whether it fires depends on the sweep alone.
		"sweep": `sequence by host.id with maxspan=1s
  [process where process.name == "delta"]
  [process where process.name == "echo"]`,
	}
	for name, q := range reuseRules {
		rules[name] = q
	}
	rs := writeReuseRules(t, t.TempDir(), rules)
	p := filepath.Join(t.TempDir(), "events.ndjson")
	writeReuseEvents(t, p, 60)
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	ev := `{"@timestamp":%q,"event":{"category":["process"],"type":["start"]},"host":{"id":"hs"},"process":{"name":%q,"pid":%d}}` + "\n"
	fmt.Fprintf(f, ev, "2026-11-23T02:00:00.000Z", "delta", 1)
	for i := range 2 * 4096 {
		fmt.Fprintf(f, ev, "2026-11-23T03:00:00.000Z", "foxtrot", 2+i)
	}
	fmt.Fprintf(f, ev, "2026-11-23T02:00:00.500Z", "echo", 1)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	run := func(off bool) (string, int) {
		eng, _ := Compile(rs)
		eng.eng.NoPrefilter = off
		c := &collect{}
		if _, err := Run(context.Background(), eng, Options{Formats: formats(), Sink: c}, []string{p}); err != nil {
			t.Fatal(err)
		}
		return render(t, c.alerts), len(c.alerts)
	}
	with, n := run(false)
	without, _ := run(true)
	if with != without {
		t.Errorf("prefilter changes alerts:\nwith:\n%s\nwithout:\n%s", with, without)
	}
	for name := range reuseRules {
		if !strings.Contains(with, `"name":"reuse `+name+`"`) {
			t.Errorf("rule %q never fired: the comparison does not cover it", name)
		}
	}
	t.Logf("%d alerts", n)
}
