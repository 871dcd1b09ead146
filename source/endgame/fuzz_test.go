package endgame

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/internal/testenv"
	"github.com/firewarden/firewarden/source"
)

// FuzzRead: any input is read without a panic or an error; every event
// marshals and has a position; every bad record has a position.
func FuzzRead(f *testing.F) {
	// Seeds from Elasticsearch's EQL conformance data when the workspace
	// has it (whole small files, and the start of the large one).
	dir := filepath.Join(testenv.Root(), "..", "shared", "corpus", "eql")
	files, _ := filepath.Glob(filepath.Join(dir, "data", "*.data"))
	files = append(files, filepath.Join(dir, "test_data.json"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if len(b) > 8<<10 {
			b = b[:8<<10]
		}
		f.Add(b)
	}
	for _, s := range []string{
		winProc, "[\n{\"unique_pid\":1},\n{\"a\":", `{"hits":{"hits":[{"_source":{"a":1}},3]}}`,
		`{"hits":{"sequences":[{"events":[{"missing":true},{"_source":{"timestamp":"1"}}]},{}]}}`,
		`{"index":{"_index":"i"}}` + "\n" + `{"timestamp":131509374020000000}`, "\xef\xbb\xbf[]", `{"a":"\ud800"}`,
		`{"timestamp":1e999}`, `{"@timestamp":-1e30}`, `{"timestamp":-9223372036854775808}`, `[[[{"a":[[[]]]}]]]`,
		"// c\n/* d */ {\"x\":1} /", "{\"a\":\"\n{\"b\":1}", `{"command_line":"\"C:\\a b\\c.exe\" \\\"x\\\\\" \"y"}`,
		`{"process_path":"C:\\x.exe","command_line":""}`, "nul\n\"x\ntrue ]",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		JSON{}.Sniff(data)
		st := &source.Stats{}
		err := JSON{}.Read(context.Background(), &source.Input{Name: "fuzz", R: bytes.NewReader(data), Stats: st},
			func(ev *event.Event) error {
				if ev.Line < 1 || ev.Format != "endgame" || ev.Index == "" {
					t.Fatalf("event at line %d, format %q, index %q", ev.Line, ev.Format, ev.Index)
				}
				if _, err := json.Marshal(ev); err != nil {
					t.Fatalf("event does not marshal: %v", err)
				}
				return nil
			})
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		for _, e := range st.Examples {
			var re *source.RecordError
			if !errors.As(e, &re) || re.Line < 1 || re.Col < 0 || re.Msg == "" {
				t.Fatalf("bad record without a position: %v", e)
			}
		}
	})
}

// BenchmarkRead reads generated Endgame NDJSON (process, file and network
// events in turn) and reports events/s.
func BenchmarkRead(b *testing.B) {
	var buf bytes.Buffer
	const n = 20000
	for i := range n {
		switch i % 3 {
		case 0:
			buf.WriteString(`{"command_line":"\"C:\\Program Files\\App\\app.exe\" -x","event_subtype_full":"creation_event","event_type":"process","opcode":1,"pid":2256,"ppid":2460,"process_name":"app.exe","process_path":"C:\\Program Files\\App\\app.exe","serial_event_id":`)
		case 1:
			buf.WriteString(`{"event_subtype_full":"file_create_event","event_type":"file","file_name":"a.pf","file_path":"C:\\Windows\\Prefetch\\a.pf","opcode":0,"pid":896,"process_name":"svchost.exe","process_path":"C:\\Windows\\System32\\svchost.exe","serial_event_id":`)
		default:
			buf.WriteString(`{"destination_address":"10.6.48.157","destination_port":8000,"event_subtype_full":"ipv4_connection_attempt_event","event_type":"network","opcode":12,"pid":860,"protocol":"tcp","source_address":"10.6.48.157","source_port":52178,"serial_event_id":`)
		}
		buf.WriteString(`1,"timestamp":131509374020000000,"unique_pid":48,"user_name":"vagrant"}` + "\n")
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		st := &source.Stats{}
		count := 0
		err := JSON{}.Read(context.Background(), &source.Input{Name: "bench", R: bytes.NewReader(data), Stats: st}, func(*event.Event) error {
			count++
			return nil
		})
		if err != nil || count != n || st.BadCount != 0 {
			b.Fatalf("read %d events, %d bad, err %v", count, st.BadCount, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
}
