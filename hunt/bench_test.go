package hunt

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/firewarden/firewarden/alert"
	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/internal/gen"
	"github.com/firewarden/firewarden/internal/testenv"
	"github.com/firewarden/firewarden/rule"
	"github.com/firewarden/firewarden/source"
	"github.com/firewarden/firewarden/source/ecs"
)

type countSink struct{ n int }

func (s *countSink) Write(*alert.Alert) error { s.n++; return nil }
func (s *countSink) Close() error             { return nil }

// benchFile writes n generated ECS events to a temporary file.
func benchFile(b *testing.B, n int) (string, int64) {
	b.Helper()
	p := filepath.Join(b.TempDir(), "events.ndjson")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	if err := gen.Write(f, gen.Options{Events: n, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	fi, _ := os.Stat(p)
	return p, fi.Size()
}

// BenchmarkHunt1M hunts a generated 1,000,000-event ECS NDJSON file (about
// 1% firewall commands) with every rule of the SigmaHQ Linux corpus loaded,
// and, in the same run, decodes the same file without rules. It reports
// events/s of both and their ratio. Set FIREWARDEN_BENCH_EVENTS to change
// the size.
func BenchmarkHunt1M(b *testing.B) { benchHunt(b, "corpus/sigma") }

// BenchmarkHuntEQL1M is BenchmarkHunt1M with every Elastic Linux rule
// loaded (the eql ones compile; the other types are refused). It also
// reports the peak join keys held by sequence state.
func BenchmarkHuntEQL1M(b *testing.B) { benchHunt(b, "corpus/elastic") }

// BenchmarkHuntSPL1M is BenchmarkHunt1M with every ESCU Linux detection
// whose search compiles (the corpus folder holds the macros too).
func BenchmarkHuntSPL1M(b *testing.B) { benchHunt(b, "corpus/splunk") }

func benchHunt(b *testing.B, corpus string) {
	n := 1_000_000
	if s := os.Getenv("FIREWARDEN_BENCH_EVENTS"); s != "" {
		var v int
		for _, c := range s {
			v = v*10 + int(c-'0')
		}
		n = v
	}
	set, err := rule.LoadPaths([]string{filepath.Join(testenv.Shared(b), filepath.FromSlash(corpus))})
	if err != nil {
		b.Fatal(err)
	}
	eng, refused := Compile(set.Rules)
	if len(eng.Rules()) == 0 {
		b.Fatal("no rules compiled")
	}
	path, size := benchFile(b, n)
	formats := []source.Format{ecs.NDJSON{}}
	ctx := context.Background()
	b.Logf("%d rules compiled, %d refused; %d events, %d MB", len(eng.Rules()), len(set.Refused)+len(refused), n, size>>20)

	var decode, full time.Duration
	var alerts int
	var ms runtime.MemStats
	var peak uint64
	var mallocs uint64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		rd := &source.Reader{Formats: formats, Reuse: true} // as Run reads
		var got int
		if _, err := rd.Read(ctx, []string{path}, func(*event.Event) error { got++; return nil }); err != nil {
			b.Fatal(err)
		}
		decode += time.Since(t0)
		if got != n {
			b.Fatalf("decoded %d events, want %d", got, n)
		}
		runtime.ReadMemStats(&ms)
		m0 := ms.Mallocs
		t1 := time.Now()
		sink := &countSink{}
		sum, err := Run(ctx, eng, Options{Formats: formats, Sink: sink}, []string{path})
		if err != nil {
			b.Fatal(err)
		}
		full += time.Since(t1)
		runtime.ReadMemStats(&ms)
		mallocs += ms.Mallocs - m0
		alerts = sink.n
		if sum.Events != int64(n) {
			b.Fatalf("hunted %d events, want %d", sum.Events, n)
		}
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapSys)
	}
	b.StopTimer()
	evs := float64(n) * float64(b.N)
	b.ReportMetric(evs/full.Seconds(), "events/s")
	b.ReportMetric(evs/decode.Seconds(), "decode-events/s")
	b.ReportMetric(full.Seconds()/decode.Seconds(), "x-decode")
	b.ReportMetric(float64(alerts), "alerts")
	b.ReportMetric(float64(peak>>20), "heap-MB")
	b.ReportMetric(float64(mallocs)/evs, "allocs/event")
	st := eng.StateStats()
	b.ReportMetric(float64(st.PeakKeys), "peak-seq-keys")
	b.Logf("stateful programs: peak keys %d, live partials %d, evicted %d, expired %d", st.PeakKeys, st.Partials, st.Evicted, st.Expired)
}

// BenchmarkMatch measures the engine alone: 50,000 generated events already
// decoded in memory, every SigmaHQ Linux rule, with and without the literal
// prefilter (alerts are built for every match, as hunt does).
func BenchmarkMatch(b *testing.B) { benchMatch(b, "sigma") }

// BenchmarkMatchEQL is BenchmarkMatch with every Elastic Linux rule: the
// prefilter also guards the steps of sequences and samples, which are
// evaluated for every event.
func BenchmarkMatchEQL(b *testing.B) { benchMatch(b, "elastic") }

func benchMatch(b *testing.B, corpus string) {
	set, err := rule.LoadPaths([]string{testenv.Shared(b, "corpus", corpus)})
	if err != nil {
		b.Fatal(err)
	}
	path, _ := benchFile(b, 50_000)
	var evs []*event.Event
	rd := &source.Reader{Formats: []source.Format{ecs.NDJSON{}}}
	if _, err := rd.Read(context.Background(), []string{path}, func(ev *event.Event) error { evs = append(evs, ev); return nil }); err != nil {
		b.Fatal(err)
	}
	for _, pf := range []bool{true, false} {
		name := "prefilter"
		if !pf {
			name = "no-prefilter"
		}
		b.Run(name, func(b *testing.B) {
			eng, _ := Compile(set.Rules)
			eng.eng.NoPrefilter = !pf
			alerts := 0
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				for _, ev := range evs {
					eng.Match(ev, func(*rule.Rule, *alert.Alert) error { alerts++; return nil })
				}
				n += len(evs)
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
