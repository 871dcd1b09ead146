package engine

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/internal/testenv"
	"github.com/firewarden/firewarden/query"
)

// TestSeriesSpec runs Elasticsearch's own sequence-matching spec
// (sequences.series-spec): each spec lays events out one row per stage,
// "key|LabelN" with N the time, and lists the sequences expected.
func TestSeriesSpec(t *testing.T) {
	root := testenv.Shared(t)
	data, err := os.ReadFile(filepath.Join(root, "corpus", "eql", "sequences.series-spec"))
	if err != nil {
		t.Fatal(err)
	}
	specs := parseSeries(t, string(data))
	if len(specs) < 20 {
		t.Fatalf("parsed %d specs, want the file's 20+", len(specs))
	}
	for _, sp := range specs {
		t.Run(sp.name, func(t *testing.T) {
			var steps []query.Step
			for i := range sp.rows {
				steps = append(steps, query.Step{Filter: query.Match{Field: f("row"), Op: query.Equal, Values: []string{strconv.Itoa(i)}}})
			}
			e := New()
			if _, err := e.Add(&query.Query{Stages: []query.Stage{query.Sequence{By: []query.Expr{f("key")}, Steps: steps}}}); err != nil {
				t.Fatal(err)
			}
			var got []string
			collect := func(r *Result) {
				var ids []string
				for _, ev := range r.Events {
					ids = append(ids, ev.Get("label").Str)
				}
				got = append(got, strings.Join(ids, " "))
			}
			for _, ev := range sp.events {
				e.Match(ev, collect)
			}
			e.Flush(collect)
			if !slices.Equal(got, sp.want) {
				t.Errorf("got %q, want %q", got, sp.want)
			}
		})
	}
}

type seriesSpec struct {
	name   string
	rows   []string
	events []*event.Event
	want   []string
}

func parseSeries(t *testing.T, src string) []seriesSpec {
	var specs []seriesSpec
	var lines []string
	for _, l := range strings.Split(src, "\n") {
		if i := strings.Index(l, "//"); i >= 0 {
			l = l[:i]
		}
		if strings.TrimSpace(l) != "" {
			lines = append(lines, strings.TrimRight(l, " \t\r"))
		}
	}
	for i := 0; i < len(lines); {
		sp := seriesSpec{name: strings.TrimSpace(lines[i])}
		i++
		for ; i < len(lines) && strings.TrimSpace(lines[i]) != ";"; i++ {
			sp.rows = append(sp.rows, lines[i])
		}
		i++
		for ; i < len(lines) && strings.TrimSpace(lines[i]) != ";"; i++ {
			var ids []string
			for _, tok := range strings.Fields(lines[i]) {
				ids = append(ids, labelOf(tok))
			}
			sp.want = append(sp.want, strings.Join(ids, " "))
		}
		i++
		for row, l := range sp.rows {
			for _, tok := range strings.Fields(l) {
				key := ""
				if k, rest, ok := strings.Cut(tok, "|"); ok {
					key, tok = k, rest
				}
				n, err := strconv.Atoi(strings.TrimLeft(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
				if err != nil {
					t.Fatalf("%s: token %q: %v", sp.name, tok, err)
				}
				ev := event.New(4)
				ev.SetStr("row", strconv.Itoa(row))
				ev.SetStr("key", key)
				ev.SetStr("label", tok)
				ev.Set("n", event.IntV(int64(n)))
				ev.Time = time.UnixMilli(int64(n))
				sp.events = append(sp.events, ev)
			}
		}
		slices.SortStableFunc(sp.events, func(a, b *event.Event) int { return a.Time.Compare(b.Time) })
		specs = append(specs, sp)
	}
	return specs
}

func labelOf(tok string) string {
	if _, rest, ok := strings.Cut(tok, "|"); ok {
		return rest
	}
	return tok
}
