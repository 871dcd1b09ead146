package hunt

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/firewarden/firewarden/alert"
	"github.com/firewarden/firewarden/internal/testenv"
	"github.com/firewarden/firewarden/rule"
	"github.com/firewarden/firewarden/rules"
	"github.com/firewarden/firewarden/source"
	"github.com/firewarden/firewarden/source/auditd"
	"github.com/firewarden/firewarden/source/ecs"
	"github.com/firewarden/firewarden/source/endgame"
	"github.com/firewarden/firewarden/source/syslog"
	"github.com/firewarden/firewarden/source/sysmon"
)

var update = flag.Bool("update", false, "rewrite golden files")

func formats() []source.Format {
	return []source.Format{auditd.Laurel{}, auditd.Raw{}, sysmon.XML{}, endgame.JSON{}, ecs.NDJSON{}, syslog.Journal{}, syslog.Text{}}
}

type collect struct{ alerts []*alert.Alert }

func (c *collect) Write(a *alert.Alert) error { c.alerts = append(c.alerts, a); return nil }
func (c *collect) Close() error               { return nil }

func samples() string { return filepath.Join(testenv.Root(), "testdata", "samples") }

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file; run go test ./hunt -update and review the diff.\ngot:\n%s", p, got)
	}
}

// summarise renders alerts one line each, sorted, for a golden file.
func summarise(as []*alert.Alert) string {
	lines := make([]string, 0, len(as))
	for _, a := range as {
		ev := a.Events[0]
		lines = append(lines, fmt.Sprintf("%s\t%s:%d\t%s\t%s\t%s", a.Rule.Name, filepath.Base(ev.File), ev.Line,
			ev.Get("process.executable").String(), ev.Get("process.command_line").String(), strings.Join(a.Matched, ",")))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}

func hunt(t *testing.T, rs []*rule.Rule, paths ...string) ([]*alert.Alert, *Summary) {
	t.Helper()
	eng, refused := Compile(rs)
	for _, r := range refused {
		t.Errorf("engine refused %s: %v", r.Path, r.Err)
	}
	c := &collect{}
	sum, err := Run(context.Background(), eng, Options{Formats: formats(), Sink: c}, paths)
	if err != nil {
		t.Fatal(err)
	}
	return c.alerts, sum
}

// TestBuiltinPackOnSamples pins what the built-in pack finds in the bundled
// capture.
func TestBuiltinPackOnSamples(t *testing.T) {
	set, err := rule.LoadFS(rules.FS, ".", "builtin:", true)
	if err != nil {
		t.Fatal(err)
	}
	for _, rf := range set.Refused {
		t.Fatalf("built-in pack refused %s: %v", rf.Path, rf.Err)
	}
	as, sum := hunt(t, set.Rules, samples())
	if n := len(sum.Sources.Inputs); n != 4 || sum.Sources.Bad() != 0 {
		t.Errorf("inputs %d (want 4), bad records %d (want 0)", n, sum.Sources.Bad())
	}
	golden(t, "builtin-samples.golden", summarise(as))
}

// TestSigmaCorpusOnSamples runs every SigmaHQ Linux rule over the bundled
// capture: what the field's own rules catch of 25 real firewall attacks.
func TestSigmaCorpusOnSamples(t *testing.T) {
	set, err := rule.LoadPaths([]string{testenv.Shared(t, "corpus", "sigma")})
	if err != nil {
		t.Fatal(err)
	}
	as, _ := hunt(t, set.Rules, samples())
	golden(t, "sigma-corpus-samples.golden", summarise(as))
}

// TestElasticCorpusOnSamples compiles every eql, query, threshold and
// new_terms rule of Elastic's Linux and cross-platform rule sets into the
// engine (none may be refused; only esql rules are listed as not run) and
// pins what they find in the bundled capture.
func TestElasticCorpusOnSamples(t *testing.T) {
	set, err := rule.LoadPaths([]string{testenv.Shared(t, "corpus", "elastic"), testenv.Shared(t, "corpus", "elastic-cross-platform")})
	if err != nil {
		t.Fatal(err)
	}
	for _, rf := range set.Refused {
		if rf.Rule != nil && rf.Rule.Type != "esql" {
			t.Errorf("%s rule refused: %v", rf.Rule.Type, rf.Err)
		}
	}
	// eql 287 + 63; query, threshold and new_terms 68 + 13.
	if len(set.Rules) != 350+81 {
		t.Errorf("%d rules compiled, want 431", len(set.Rules))
	}
	as, _ := hunt(t, set.Rules, samples())
	golden(t, "elastic-corpus-samples.golden", summarise(as))
}

// TestAlertIDsStable: reading the same input twice, or a renamed copy of
// it, gives the same ids, and no two alerts share one.
func TestAlertIDsStable(t *testing.T) {
	set, err := rule.LoadPaths([]string{testenv.Shared(t, "corpus", "sigma")})
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(samples(), "audit.log.gz")
	// The second read is of a rotated copy under another name: where an
	// event was read is not part of its alert's id.
	data, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	rotated := filepath.Join(t.TempDir(), "audit.log.1.gz")
	if err := os.WriteFile(rotated, data, 0o644); err != nil {
		t.Fatal(err)
	}
	a1, _ := hunt(t, set.Rules, in)
	a2, _ := hunt(t, set.Rules, rotated)
	if len(a1) == 0 || len(a1) != len(a2) {
		t.Fatalf("alerts: %d then %d", len(a1), len(a2))
	}
	seen := map[string]bool{}
	for i := range a1 {
		if a1[i].ID != a2[i].ID {
			t.Errorf("alert %d: id %s then %s", i, a1[i].ID, a2[i].ID)
		}
		if seen[a1[i].ID] {
			t.Errorf("duplicate alert id %s", a1[i].ID)
		}
		seen[a1[i].ID] = true
	}
}

// TestPrefilterExact: the literal prefilter never changes the result.
func TestPrefilterExact(t *testing.T) {
	set, err := rule.LoadPaths([]string{testenv.Shared(t, "corpus", "sigma")})
	if err != nil {
		t.Fatal(err)
	}
	run := func(off bool) string {
		eng, _ := Compile(set.Rules)
		eng.eng.NoPrefilter = off
		c := &collect{}
		if _, err := Run(context.Background(), eng, Options{Formats: formats(), Sink: c}, []string{samples()}); err != nil {
			t.Fatal(err)
		}
		return summarise(c.alerts)
	}
	if with, without := run(false), run(true); with != without {
		t.Errorf("prefilter changes alerts:\nwith:\n%s\nwithout:\n%s", with, without)
	}
}
