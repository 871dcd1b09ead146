package engine

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/query"
)

// aggRecord is one generated connection event, kept compact so that the
// input costs little memory of its own: a million of them are 24 MB.
type aggRecord struct {
	at     int64 // ns after the start
	host   int32
	parent int8
	port   int16
	action int8
}

var benchParents = []string{"/usr/bin/bash", "/usr/sbin/sshd", "/usr/bin/python3", "/usr/lib/systemd/systemd", "/usr/bin/nc"}
var benchActions = []string{"connection_attempted", "connection_accepted"}
var benchPorts = []int64{22, 80, 443, 3306, 5432, 6379, 8080, 8443, 9200, 27017}

// genAggInput generates n events across hosts hosts over two hours, in time
// order up to a second of jitter. Each host has up to three parents; most
// connect to one or two ports, one host in a hundred scans all ten.
func genAggInput(n, hosts int) ([]aggRecord, []string) {
	rng := rand.New(rand.NewPCG(1, 2))
	names := make([]string, hosts)
	for i := range names {
		names[i] = fmt.Sprintf("host-%05d.example.net", i)
	}
	span := int64(2 * time.Hour)
	recs := make([]aggRecord, n)
	for i := range recs {
		h := rng.IntN(hosts)
		port := int16(benchPorts[h%2])
		if h%100 == 0 {
			port = int16(benchPorts[rng.IntN(len(benchPorts))])
		} else if rng.IntN(10) == 0 {
			port = int16(benchPorts[2])
		}
		recs[i] = aggRecord{
			at:     span*int64(i)/int64(n) + rng.Int64N(int64(time.Second)),
			host:   int32(h),
			parent: int8((h + rng.IntN(3)) % len(benchParents)),
			port:   port,
			action: int8(rng.IntN(10) / 9), // one in ten accepted
		}
	}
	return recs, names
}

// BenchmarkAggregate runs a value_count correlation (distinct ports per
// host and parent within five minutes, at least three) over a million
// events from ten thousand hosts, against the same filter alone. Each op is
// the whole input; run with -cpu 1 for one core. Events are reused unless
// the engine retained them, as a source does.
func BenchmarkAggregate(b *testing.B) {
	const n, hosts = 1_000_000, 10_000
	recs, names := genAggInput(n, hosts)
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	filter := query.Filter{Expr: query.Match{Field: f("event.action"), Op: query.Equal, Values: []string{"connection_attempted"}}}
	agg := query.Aggregate{
		GroupBy:   []query.Expr{f("host.name"), f("process.parent.executable")},
		Names:     []string{"host.name", "process.parent.executable"},
		Window:    5 * time.Minute,
		Tolerance: 2 * time.Second,
		Funcs:     []query.AggFunc{{Name: "distinct", Field: f("destination.port"), As: "ports"}},
		Having:    query.Compare{Op: query.Ge, L: f("ports"), R: query.Lit{V: event.IntV(3)}},
	}
	for _, bc := range []struct {
		name   string
		stages []query.Stage
	}{
		{"filter", []query.Stage{filter}},
		{"value_count", []query.Stage{filter, agg}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := New()
			id, err := e.Add(&query.Query{Stages: bc.stages})
			if err != nil {
				b.Fatal(err)
			}
			var ev *event.Event
			results := 0
			count := func(*Result) { results++ }
			var base, peak runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&base)
			b.ReportAllocs()
			b.ResetTimer()
			cpu := cpuTime()
			for range b.N {
				results = 0
				for i := range recs {
					r := &recs[i]
					if ev == nil || ev.Retained() {
						ev = event.New(8)
					} else {
						ev.Reset()
					}
					ev.Time = t0.Add(time.Duration(r.at))
					ev.SetStr("host.name", names[r.host])
					ev.SetStr("process.parent.executable", benchParents[r.parent])
					ev.SetStr("event.action", benchActions[r.action])
					ev.Set("destination.port", event.IntV(int64(r.port)))
					e.Match(ev, count)
					if i%100_000 == 99_999 {
						b.StopTimer()
						c0 := cpuTime()
						var m runtime.MemStats
						runtime.GC()
						runtime.ReadMemStats(&m)
						if m.HeapAlloc > peak.HeapAlloc {
							peak = m
						}
						cpu += cpuTime() - c0 // not the measurement's own collection
						b.StartTimer()
					}
				}
				e.Flush(count)
			}
			b.StopTimer()
			cpu = cpuTime() - cpu
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			// On a busy machine wall time flatters nobody: events per second
			// of this process's CPU (the collector's included).
			b.ReportMetric(float64(n)*float64(b.N)/cpu.Seconds(), "events/cpu-s")
			b.ReportMetric(float64(results), "results")
			b.ReportMetric(float64(peak.HeapAlloc-min(base.HeapAlloc, peak.HeapAlloc))/(1<<20), "peak-heap-MB")
			if st := e.AggState(id); st != nil {
				b.ReportMetric(float64(e.State(id).PeakKeys), "peak-groups")
				b.ReportMetric(float64(st.PeakValues), "peak-values")
				b.ReportMetric(float64(st.Late), "late")
			}
		})
	}
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
