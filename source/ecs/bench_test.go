package ecs

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"runtime"
	"sync"
	"testing"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/internal/gen"
	"github.com/firewarden/firewarden/source"
	"github.com/firewarden/firewarden/source/process"
)

const benchEvents = 20_000

var benchOnce struct {
	sync.Once
	ndjson, array []byte
}

// benchData is a generated ECS NDJSON stream of realistic Linux process
// exec events (about 1% firewall commands), and the same documents as a
// pretty-printed JSON array.
func benchData(b *testing.B) (ndjson, array []byte) {
	benchOnce.Do(func() {
		var buf bytes.Buffer
		if err := gen.Write(&buf, gen.Options{Events: benchEvents, Seed: 1}); err != nil {
			panic(err)
		}
		benchOnce.ndjson = buf.Bytes()
		var arr bytes.Buffer
		arr.WriteString("[\n")
		for i, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
			if i > 0 {
				arr.WriteString(",\n")
			}
			if err := json.Indent(&arr, line, "  ", "  "); err != nil {
				panic(err)
			}
		}
		arr.WriteString("\n]\n")
		benchOnce.array = arr.Bytes()
	})
	return benchOnce.ndjson, benchOnce.array
}

// report sets the per-event metrics: events/s and allocations per event.
func report(b *testing.B, events int, m0 *runtime.MemStats) {
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(events), "allocs/event")
}

func benchRead(b *testing.B, data []byte) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	b.ResetTimer()
	events := 0
	for i := 0; i < b.N; i++ {
		st := &source.Stats{}
		err := NDJSON{}.Read(context.Background(), &source.Input{Name: "bench", R: bytes.NewReader(data), Stats: st},
			func(*event.Event) error { events++; return nil })
		if err != nil || st.BadCount != 0 {
			b.Fatal(err, st.Examples)
		}
	}
	b.StopTimer()
	if events != b.N*benchEvents {
		b.Fatalf("%d events, want %d", events, b.N*benchEvents)
	}
	report(b, events, &m0)
}

// BenchmarkNDJSON reads generated ECS NDJSON into events (fastjson, the
// line-by-line path; flattening, origin fields and process derivation
// included). One op is a stream of 20,000 events.
func BenchmarkNDJSON(b *testing.B) {
	data, _ := benchData(b)
	benchRead(b, data)
}

// BenchmarkNDJSONStream reads the same documents pretty-printed in one
// JSON array (the streaming scanner).
func BenchmarkNDJSONStream(b *testing.B) {
	_, data := benchData(b)
	benchRead(b, data)
}

// BenchmarkNDJSONStdlib decodes the same bytes with encoding/json into
// map[string]any, line by line: the baseline DESIGN.md measures.
func BenchmarkNDJSONStdlib(b *testing.B) {
	data, _ := benchData(b)
	benchStdlib(b, data, false)
}

// BenchmarkNDJSONStdlibEvent is the naive full path: encoding/json into a
// map, Event.SetTree, then the same derivation.
func BenchmarkNDJSONStdlibEvent(b *testing.B) {
	data, _ := benchData(b)
	benchStdlib(b, data, true)
}

func benchStdlib(b *testing.B, data []byte, full bool) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	b.ResetTimer()
	events := 0
	for i := 0; i < b.N; i++ {
		table := process.NewTable(0)
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 64<<10), source.MaxRecord)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				b.Fatal(err)
			}
			if full {
				ev := event.New(len(m) * 4)
				ev.SetTree("", m)
				table.Derive(ev, process.ShellSplit)
			}
			events++
		}
	}
	b.StopTimer()
	report(b, events, &m0)
}
