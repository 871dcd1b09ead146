package ecs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/source"
	"github.com/firewarden/firewarden/source/process"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// read reads r as ECS JSON named name and returns its events and stats.
func read(t testing.TB, name string, r io.Reader) ([]*event.Event, *source.Stats) {
	t.Helper()
	st := &source.Stats{Name: name, Format: "ecs"}
	var evs []*event.Event
	err := NDJSON{}.Read(context.Background(), &source.Input{Name: name, R: r, Stats: st}, func(ev *event.Event) error {
		evs = append(evs, ev)
		return nil
	})
	if err != nil {
		t.Fatalf("%s: Read: %v", name, err)
	}
	return evs, st
}

func readString(t testing.TB, s string) ([]*event.Event, *source.Stats) {
	t.Helper()
	return read(t, "in", strings.NewReader(s))
}

func readFile(t testing.TB, path string) ([]*event.Event, *source.Stats) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return read(t, filepath.ToSlash(path), f)
}

// shared returns ../shared/samples/<elem>, skipping when the development
// workspace's shared folder is absent (failing in CI).
func shared(t testing.TB, elem ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{"..", "..", "..", "shared", "samples"}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s: %v (CI runs with ../shared beside the repository)", p, err)
		}
		t.Skip("../shared samples not found (they exist only in the development workspace)")
	}
	return p
}

func TestSniff(t *testing.T) {
	for _, tc := range []struct {
		name string
		head string
		want bool
	}{
		{"ndjson", `{"@timestamp":"2026-11-22T14:49:19.860Z","process":{"pid":1}}` + "\n", true},
		{"ndjson spaced keys", `{"@timestamp" : "x"}`, true},
		{"pretty", "{\n  \"_index\": \"x\",\n  \"_source\": {\n", true},
		{"array", "[\n  {\n    \"event\": {\"kind\": \"event\"}", true},
		{"response", `{"took":3,"timed_out":false,"hits":{"hits":[]}}`, true},
		{"bom", "\xef\xbb\xbf{\"ecs\":{\"version\":\"8.11.0\"}}", true},
		{"leading blank lines", "\n\n  {\"process\":{}}", true},
		{"laurel", `{"ID":"1795358959.844:5916","DAEMON_START":{"op":"start"}}`, false},
		{"laurel keys", `{ "ID" : "1.2:3", "SYSCALL": {"syscall": 59}, "EXECVE": {}}`, false},
		{"endgame", "[\n  {\n    \"event_type\": \"process\",\n    \"serial_event_id\": 1,\n    \"unique_pid\": 1\n", false},
		{"journald json", `{"__CURSOR":"s=1","MESSAGE":"hello","_HOSTNAME":"vm","event":1}`, false},
		{"json without ECS keys", `{"a":1,"b":"process"}`, false},
		{"value not key", `{"a":"@timestamp"}`, false},
		{"sysmon", `Nov 22 14:49:19 vm sysmon: <Event><System>`, false},
		{"audit", `type=SYSCALL msg=audit(1795358959.840:22251): arch=c000003e`, false},
		{"empty", ``, false},
		{"binary", "\x00\x01\x02{\"event\":1}", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := (NDJSON{}).Sniff([]byte(tc.head)); got != tc.want {
				t.Errorf("Sniff(%q) = %v, want %v", tc.head, got, tc.want)
			}
		})
	}
}

// TestGolden reads every input under testdata and compares the events
// (json.Marshal of each) and the bad-record report with
// testdata/golden/<input>.golden.ndjson. Refresh with -update.
func TestGolden(t *testing.T) {
	inputs, _ := filepath.Glob(filepath.Join("testdata", "*.*json"))
	if len(inputs) == 0 {
		t.Fatal("no inputs in testdata")
	}
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			evs, st := readFile(t, in)
			got := goldenBytes(t, evs, st)
			gp := filepath.Join("testdata", "golden", filepath.Base(in)+".golden.ndjson")
			if *update {
				if err := os.MkdirAll(filepath.Dir(gp), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(gp, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(gp)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
				for i := 0; i < len(gl) || i < len(wl); i++ {
					var g, w string
					if i < len(gl) {
						g = gl[i]
					}
					if i < len(wl) {
						w = wl[i]
					}
					if g != w {
						t.Fatalf("%s differs from %s at line %d:\ngot  %s\nwant %s\n(run go test -update if the change is intended)", in, gp, i+1, g, w)
					}
				}
			}
		})
	}
}

func goldenBytes(t testing.TB, evs []*event.Event, st *source.Stats) []byte {
	var b bytes.Buffer
	for _, ev := range evs {
		j, err := json.Marshal(ev)
		if err != nil {
			t.Fatalf("marshal event %s:%d: %v", ev.File, ev.Line, err)
		}
		b.Write(j)
		b.WriteByte('\n')
	}
	examples := make([]string, len(st.Examples))
	for i, e := range st.Examples {
		examples[i] = e.Error()
	}
	j, _ := json.Marshal(map[string]any{"_stats": map[string]any{"events": len(evs), "bad": st.BadCount, "examples": examples}})
	b.Write(j)
	b.WriteByte('\n')
	return b.Bytes()
}

// TestSharedCapture reads the capture's ECS rendition: every line is an
// event, and the fastjson walker flattens each exactly as Event.SetTree
// does with encoding/json.
func TestSharedCapture(t *testing.T) {
	path := shared(t, "audit", "ecs.ndjson")
	evs, st := readFile(t, path)
	if len(evs) != 1292 || st.BadCount != 0 {
		t.Fatalf("%d events, %d bad (%v); want 1292, 0", len(evs), st.BadCount, st.Examples)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	table := process.NewTable(0)
	for i, ev := range evs {
		if ev.Format != "ecs" || ev.Line != i+1 || ev.File != filepath.ToSlash(path) {
			t.Fatalf("event %d: format %q, origin %s:%d", i, ev.Format, ev.File, ev.Line)
		}
		if ev.Time.IsZero() {
			t.Errorf("event %d: no time", i)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &m); err != nil {
			t.Fatal(err)
		}
		want := event.New(64)
		want.SetTree("", m)
		want.Fill("log.file.path", event.Str(ev.File))
		want.Fill("log.file.line", event.IntV(int64(ev.Line)))
		table.Derive(want, process.ShellSplit)
		if d := diff(ev, want); d != "" {
			t.Fatalf("line %d: fastjson walker and SetTree disagree:\n%s", i+1, d)
		}
	}
	// Elastic Defend gives process.name: never rewritten by derivation.
	for _, ev := range evs {
		if ev.Get("process.command_line").Str == "/usr/bin/python3 /usr/sbin/ufw disable" {
			if n := ev.Get("process.name").Str; n != "python3.11" {
				t.Errorf("ufw disable: process.name = %q, want Defend's python3.11", n)
			}
		}
	}
}

// diff describes how two events' fields differ, "" when they are equal.
func diff(got, want *event.Event) string {
	var out []string
	for _, p := range union(got.Paths(), want.Paths()) {
		g, w := got.Get(p), want.Get(p)
		if !g.Equal(w) {
			out = append(out, fmt.Sprintf("  %s: got %s %v, want %s %v", p, g.Kind, g.Interface(), w.Kind, w.Interface()))
		}
	}
	return strings.Join(out, "\n")
}

func union(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range append(a, b...) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// TestDefendHit reads the Elastic Defend exec event of ECS RFC 0030, a
// pretty-printed Elasticsearch hit.
func TestDefendHit(t *testing.T) {
	evs, st := readFile(t, shared(t, "elastic_defend_linux_exec_rfc0030.json"))
	if len(evs) != 1 || st.BadCount != 0 {
		t.Fatalf("%d events, %d bad (%v); want 1, 0", len(evs), st.BadCount, st.Examples)
	}
	ev := evs[0]
	for path, want := range map[string]event.Value{
		"firewarden.index":                          event.Str(".ds-logs-endpoint.events.process-default-2022.02.15-000001"),
		"firewarden.id":                             event.Str("BuvxBH8BU45FNSRmRWIK"),
		"process.name":                              event.Str("ls"),
		"process.pid":                               event.IntV(12641),
		"process.args":                              event.Strs("ls", "--color=auto", "-la"),
		"process.args_count":                        event.IntV(3),
		"process.parent.pid":                        event.IntV(12627),
		"process.parent.user.name":                  event.Str("vagrant"),
		"process.parent.tty.char_device.minor":      event.IntV(1),
		"process.entry_leader.entry_meta.source.ip": event.Str("10.0.2.2"),
		"process.previous.args":                     event.Strs("-bash"),
		"process.previous.args_count":               event.ListV(event.IntV(0)),
		"process.parent.group.supplemental.name":    event.Strs("vagrant"),
		"process.parent.group.supplemental.id":      event.ListV(event.IntV(1000)),
		"group.supplemental":                        event.ListV(),
		"process.hash.sha256":                       event.Str("4ef89baf437effd684a125da35674dc6147ef2e34b76d11ea0837b543b60352f"),
		"host.ip":                                   event.Strs("127.0.0.1", "::1", "10.0.2.15", "fe80::b6:64ff:fef1:a5f0"),
		"event.category":                            event.Strs("process"),
		"event.type":                                event.Strs("start"),
		"process.interactive":                       event.BoolV(true),
		"log.file.line":                             event.IntV(1),
	} {
		if got := ev.Get(path); !got.Equal(want) {
			t.Errorf("%s = %s %v, want %v", path, got.Kind, got.Interface(), want.Interface())
		}
	}
	if got := ev.Get("process.Ext.ancestry"); got.Kind != event.List || len(got.List) != 8 {
		t.Errorf("process.Ext.ancestry = %v, want a list of 8", got.Interface())
	}
	if want := time.Date(2022, 2, 16, 23, 49, 50, 502285100, time.UTC); !ev.Time.Equal(want) {
		t.Errorf("Time = %v, want %v", ev.Time, want)
	}
	if ev.Has("_index") || ev.Has("_source.process.pid") || ev.Has("_score") {
		t.Errorf("hit metadata leaked into the event: %v", ev.Paths())
	}
}

// TestShapes: one document reads the same whatever its wrapping.
func TestShapes(t *testing.T) {
	doc := `{"@timestamp":"2026-11-22T14:49:20.420Z","host":{"name":"vm"},"event":{"category":["process"],"type":["start"]},` +
		`"process":{"pid":14434,"executable":"/usr/sbin/xtables-nft-multi","args":["iptables","-F"],"parent":{"pid":14391}},` +
		`"group":{"supplemental":[{"id":1,"name":"a"},{"id":2}]},"tags":["x",["y"]],"message":"caf\u00e9 \"q\""}`
	var m map[string]any
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatal(err)
	}
	pretty, _ := json.MarshalIndent(m, "", "  ")
	hit := `{"_index":"idx","_id":"1","_source":` + doc + `}`
	prettyHit, _ := json.MarshalIndent(map[string]any{"_index": "idx", "_id": "1", "_source": m}, "", "\t")
	response := `{"took":1,"timed_out":false,"_shards":{"total":1},"hits":{"total":{"value":1},"max_score":1,"hits":[` + hit + `]},"aggregations":{"a":{"buckets":[]}}}`
	prettyResponse, _ := json.MarshalIndent(map[string]any{"took": 1, "hits": map[string]any{"max_score": 1, "hits": []any{json.RawMessage(hit), json.RawMessage(hit)}}}, "", " ")
	for _, tc := range []struct {
		name  string
		in    string
		n     int
		index bool
	}{
		{"ndjson", doc + "\n", 1, false},
		{"ndjson no newline", doc, 1, false},
		{"crlf", doc + "\r\n" + doc + "\r\n", 2, false},
		{"pretty", string(pretty) + "\n", 1, false},
		{"two pretty", string(pretty) + string(pretty), 2, false},
		{"hit", hit + "\n", 1, true},
		{"pretty hit", string(prettyHit), 1, true},
		{"array", "[" + doc + "," + doc + "]", 2, false},
		{"pretty array", "[\n  " + strings.ReplaceAll(string(pretty), "\n", "\n  ") + ",\n  " + doc + "\n]\n", 2, false},
		{"array of hits on one line", "[" + hit + "," + hit + "]\n", 2, true},
		{"response line", response + "\n" + response + "\n", 2, true},
		{"pretty response", string(prettyResponse) + "\n", 2, true},
		{"bulk", `{"index":{"_index":"idx","_id":"1"}}` + "\n" + doc + "\n", 1, true},
		{"bom", "\xef\xbb\xbf" + doc + "\n", 1, false},
		{"bom pretty", "\xef\xbb\xbf" + string(pretty), 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, st := readString(t, tc.in)
			if len(evs) != tc.n || st.BadCount != 0 {
				t.Fatalf("%d events, %d bad %v; want %d, 0", len(evs), st.BadCount, st.Examples, tc.n)
			}
			for _, ev := range evs {
				want := event.New(32)
				want.SetTree("", m)
				if tc.index {
					want.SetStr("firewarden.index", "idx")
					want.SetStr("firewarden.id", "1")
				}
				want.Set("log.file.path", event.Str("in"))
				want.Set("log.file.line", ev.Get("log.file.line"))
				process.NewTable(0).Derive(want, process.ShellSplit)
				if d := diff(ev, want); d != "" {
					t.Errorf("event at line %d:\n%s", ev.Line, d)
				}
				if !ev.Time.Equal(time.Date(2026, 11, 22, 14, 49, 20, 420e6, time.UTC)) {
					t.Errorf("Time = %v", ev.Time)
				}
			}
		})
	}
}

// TestBadInput: each bad record is reported with its position and what
// was expected, and everything else is still read.
func TestBadInput(t *testing.T) {
	good := `{"process":{"pid":1}}`
	for _, tc := range []struct {
		name   string
		in     string
		events int
		bad    []string // the reports, in order (up to source.MaxExamples)
	}{
		{"truncated line", good + "\n" + `{"process":{"pid":2` + "\n" + good + "\n", 2,
			[]string{`in:2:20: invalid JSON: unexpected end of input, expected ',' or '}' after an object value`}},
		{"truncated string", good + "\n" + `{"process":{"name":"ip` + "\n" + good + "\n", 2,
			[]string{`in:2:23: invalid JSON: unexpected end of input, expected '"' closing the string`}},
		{"trailing comma", `{"a":1,}` + "\n" + good, 1,
			[]string{`in:1:8: invalid JSON: unexpected '}', expected '"' (an object key)`}},
		{"missing colon", `{"a" 1}` + "\n" + good, 1,
			[]string{`in:1:6: invalid JSON: unexpected '1', expected ':' after an object key`}},
		{"bad literal", good + "\n" + `{"a":tru}`, 1,
			[]string{`in:2:9: invalid JSON: unexpected '}', expected "true"`}},
		{"unknown escape kept, as fastjson does", good + "\n" + `{"a":"\q"}` + "\n[" + `{"a":"\q\u12"}` + "]", 3, nil},
		{"escaped newline", "[" + good + `,{"a":"\` + "\n" + `"}]` + "\n", 1,
			[]string{`in:1:31: invalid JSON: unexpected end of line, expected an escaped character`}},
		{"bad number", good + "\n" + `{"a":-x}`, 1,
			[]string{`in:2:7: invalid JSON: unexpected 'x', expected a digit after '-'`}},
		{"number", good + "\n42\n" + good, 2,
			[]string{`in:2:1: JSON a number is not a document, expected an object`}},
		{"string", good + "\n  \"s\"\n", 1,
			[]string{`in:2:3: JSON a string is not a document, expected an object`}},
		{"null", good + "\nnull\n", 1,
			[]string{`in:2:1: JSON null is not a document, expected an object`}},
		{"array of scalars", good + "\n[1, \"x\", " + good + "]\n", 2,
			[]string{`in:2:2: JSON a number is not a document, expected an object`, `in:2:5: JSON a string is not a document, expected an object`}},
		{"two objects on a line", good + "\n" + good + good + "\n", 3, nil},
		{"trailing garbage", good + "\n" + good + " xyz\n" + good, 3,
			[]string{`in:2:23: invalid JSON: unexpected 'x', expected a JSON value`}},
		{"binary", good + "\n\x00\x01\x89PNG\n" + good, 2,
			[]string{`in:2:1: invalid JSON: unexpected byte 0x00, expected a JSON value`}},
		{"binary in a string", good + "\n{\"a\":\"\x00\"}\n", 2, nil}, // control characters are accepted (as fastjson does)
		{"hit without source", good + "\n" + `{"_index":"i","_id":"1","_score":1}` + "\n", 1,
			[]string{`in:2: Elasticsearch hit without _source, expected a hit with _source (export with _source enabled)`}},
		{"source not an object", `{"_index":"i","_source":[1]}` + "\n" + good, 1,
			[]string{`in:1: Elasticsearch hit: _source is array, expected an object`}},
		{"response with a bad hit", `{"hits":{"hits":[` + good + `,3]}}` + "\n", 1,
			[]string{`in:1: search response: hits.hits[1] is number, expected an object`}},
		{"deep nesting", good + "\n" + strings.Repeat("[", 400) + strings.Repeat("]", 400) + "\n" + good, 2,
			[]string{`in:2:300: invalid JSON: nested deeper than 300 levels`}},
		{"pretty, broken in the middle", "{\n  \"process\": {\n    \"pid\": 1,\n    \"name\" \"x\"\n  }\n}\n{\n  \"process\": {\"pid\": 2}\n}\n", 1,
			[]string{`in:4:12: invalid JSON: unexpected '"', expected ':' after an object key (skipped to line 7)`}},
		{"pretty, truncated, then a document", "{\n  \"process\": {\n    \"pid\": 1,\n{\"process\":{\"pid\":2}}\n", 1,
			[]string{`in:4:1: invalid JSON: unexpected '{', expected '"' (an object key)`}},
		{"array, broken element", "[\n  {\"a\":1},\n  {\"a\": ,},\n  {\"a\":3}\n]\n", 2,
			[]string{`in:3:9: invalid JSON: unexpected ',', expected a JSON value`}},
		{"array, unterminated", "[\n  {\"a\":1},\n  {\"a\":2}\n", 2,
			[]string{`in:4:1: invalid JSON: unexpected end of input, expected ']'`}},
		{"stray closer", "{\"a\":1}\n]\n{\"a\":2}\n", 2,
			[]string{`in:2:1: invalid JSON: unexpected ']', expected '{' (a document)`}},
		{"newline in a string", "[{\"a\":\"x\n\"}, {\"b\":1}]\n{\"c\":1}\n", 1,
			[]string{`in:1:9: invalid JSON: unexpected end of line, expected '"' closing the string (skipped to line 3)`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, st := readString(t, tc.in)
			var got []string
			for _, e := range st.Examples {
				got = append(got, e.Error())
			}
			if len(evs) != tc.events || int(st.BadCount) != len(tc.bad) || strings.Join(got, "\n") != strings.Join(tc.bad, "\n") {
				t.Errorf("%d events, %d bad:\n  %s\nwant %d events, %d bad:\n  %s", len(evs), st.BadCount,
					strings.Join(got, "\n  "), tc.events, len(tc.bad), strings.Join(tc.bad, "\n  "))
			}
			for _, ev := range evs {
				if _, err := json.Marshal(ev); err != nil {
					t.Errorf("event at line %d does not marshal: %v", ev.Line, err)
				}
			}
		})
	}
}

// TestInvalidUTF8: invalid bytes in strings are replaced by U+FFFD and the
// event is kept (not counted as bad).
func TestInvalidUTF8(t *testing.T) {
	evs, st := readString(t, "{\"message\":\"caf\xe9 \xff\",\"k\xfe\":1}\n")
	if len(evs) != 1 || st.BadCount != 0 {
		t.Fatalf("%d events, %d bad", len(evs), st.BadCount)
	}
	if got := evs[0].Get("message").Str; got != "caf\uFFFD \uFFFD" {
		t.Errorf("message = %q", got)
	}
	if !evs[0].Has("k\uFFFD") {
		t.Errorf("key not sanitised: %v", evs[0].Paths())
	}
}

func TestLongRecords(t *testing.T) {
	big := `{"message":"` + strings.Repeat("x", 10<<20) + `"}`
	good := `{"process":{"pid":1}}`
	t.Run("line", func(t *testing.T) {
		evs, st := readString(t, good+"\n"+big+"\n"+good+"\n")
		if len(evs) != 2 || st.BadCount != 1 || !strings.Contains(st.Examples[0].Error(), "in:2: line longer than") {
			t.Errorf("%d events, %d bad %v", len(evs), st.BadCount, st.Examples)
		}
	})
	t.Run("array", func(t *testing.T) {
		evs, st := readString(t, "[\n"+good+",\n"+big+",\n"+good+"\n]\n")
		if len(evs) != 2 || st.BadCount != 1 || !strings.Contains(st.Examples[0].Error(), "in:3:1: document longer than") {
			t.Errorf("%d events, %d bad %v", len(evs), st.BadCount, st.Examples)
		}
	})
}

func TestTimestamp(t *testing.T) {
	utc := func(y, mo, d, h, mi, s, ns int) time.Time {
		return time.Date(y, time.Month(mo), d, h, mi, s, ns, time.UTC)
	}
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{`"2026-11-22T14:49:19.860Z"`, utc(2026, 11, 22, 14, 49, 19, 860e6)},
		{`"2026-11-22T14:49:19Z"`, utc(2026, 11, 22, 14, 49, 19, 0)},
		{`"2026-11-22T15:49:19.5+01:00"`, utc(2026, 11, 22, 14, 49, 19, 500e6)},
		{`"2026-11-22 14:49:19.860"`, utc(2026, 11, 22, 14, 49, 19, 860e6)},
		{`"2026-11-22T14:49:19.123456789"`, utc(2026, 11, 22, 14, 49, 19, 123456789)},
		{`1795358959860`, time.UnixMilli(1795358959860)},
		{`"1795358959860"`, time.UnixMilli(1795358959860)},
		{`["2026-11-22T14:49:19Z"]`, utc(2026, 11, 22, 14, 49, 19, 0)},
		{`"yesterday"`, time.Time{}},
		{`null`, time.Time{}},
	} {
		evs, _ := readString(t, `{"@timestamp":`+tc.in+`}`)
		if len(evs) != 1 || !evs[0].Time.Equal(tc.want) {
			t.Errorf("@timestamp %s: got %v, want %v", tc.in, evs[0].Time, tc.want)
		}
	}
}

// TestFlatten pins the Elasticsearch-style flattening, including what
// Event.SetTree cannot express through encoding/json (exact big integers).
func TestFlatten(t *testing.T) {
	evs, _ := readString(t, `{"n":[1.5,-0,1e3,12345678901234567890,-9223372036854775808,9007199254740993],`+
		`"b":[true,false,null],"e":[],"o":[{"a":1},{"a":[2,3]},{"b":null},{}],"mixed":[1,{"c":2}],`+
		`"x.y":{"z":"dotted"},"x":{"y.w":1},"u":"\u00e9\ud83d\ude00","nested":[[1,[2]],[{"d":4}]],"empty":{}}`)
	ev := evs[0]
	for path, want := range map[string]event.Value{
		"n":        event.ListV(event.FloatV(1.5), event.IntV(0), event.IntV(1000), event.FloatV(12345678901234567890), event.IntV(-9223372036854775808), event.IntV(9007199254740993)),
		"b":        event.ListV(event.BoolV(true), event.BoolV(false), event.NullV()),
		"e":        event.ListV(),
		"o.a":      event.ListV(event.IntV(1), event.IntV(2), event.IntV(3)),
		"o.b":      event.ListV(event.NullV()),
		"mixed":    event.ListV(event.IntV(1)),
		"mixed.c":  event.ListV(event.IntV(2)),
		"x.y.z":    event.Str("dotted"),
		"x.y.w":    event.IntV(1),
		"u":        event.Str("é😀"),
		"nested":   event.ListV(event.IntV(1), event.IntV(2)),
		"nested.d": event.ListV(event.IntV(4)),
	} {
		if got := ev.Get(path); !got.Equal(want) {
			t.Errorf("%s = %s %v, want %v", path, got.Kind, got.Interface(), want.Interface())
		}
	}
	for _, p := range []string{"o", "empty"} {
		if ev.Has(p) {
			t.Errorf("%s should be absent", p)
		}
	}
}

// TestDerive: fields the document gives are kept; what it lacks is derived.
func TestDerive(t *testing.T) {
	evs, _ := readString(t, ""+
		`{"host":{"name":"h"},"event":{"type":["start"]},"process":{"pid":10,"executable":"/usr/bin/bash","command_line":"bash"}}`+"\n"+
		`{"host":{"name":"h"},"event":{"type":["start"]},"process":{"pid":11,"executable":"/usr/bin/dash","command_line":"sh -c 'iptables -F; echo \"done\"'","parent":{"pid":10}}}`+"\n"+
		`{"host":{"name":"h"},"event":{"type":["start"]},"process":{"pid":12,"name":"python3.11","executable":"/usr/bin/python3.11","args":["/usr/bin/python3","/usr/sbin/ufw","disable"]},"log":{"file":{"path":"/var/log/x.json"},"offset":700}}`+"\n"+
		`{"host":{"name":"h"},"event":{"type":["start"]},"process":{"pid":13,"executable":"/usr/sbin/xtables-nft-multi","args":["iptables","-F"],"parent":{"pid":12}}}`+"\n")
	if len(evs) != 4 {
		t.Fatalf("%d events", len(evs))
	}
	check := func(i int, path string, want event.Value) {
		t.Helper()
		if got := evs[i].Get(path); !got.Equal(want) {
			t.Errorf("event %d: %s = %v, want %v", i, path, got.Interface(), want.Interface())
		}
	}
	check(1, "process.args", event.Strs("sh", "-c", `iptables -F; echo "done"`))
	check(1, "process.args_count", event.IntV(3))
	check(1, "process.name", event.Str("dash"))
	check(1, "process.parent.executable", event.Str("/usr/bin/bash"))
	check(1, "process.parent.command_line", event.Str("bash"))
	check(2, "process.name", event.Str("python3.11")) // given: never rewritten
	check(2, "process.command_line", event.Str("/usr/bin/python3 /usr/sbin/ufw disable"))
	check(2, "log.file.path", event.Str("/var/log/x.json")) // Filebeat's own origin stays
	check(2, "log.file.line", event.Value{})                // not paired with Filebeat's path
	if !evs[1].Has("log.file.line") || evs[2].Get("log.file.path").Str != "/var/log/x.json" {
		t.Error("origin fields")
	}
	check(3, "process.name", event.Str("iptables"))
	check(3, "process.parent.name", event.Str("python3.11"))
	check(3, "log.file.path", event.Str("in"))
	check(3, "log.file.line", event.IntV(4))
	if evs[2].File != "in" || evs[2].Line != 3 {
		t.Errorf("origin %s:%d, want in:3", evs[2].File, evs[2].Line)
	}
}

func TestEmitError(t *testing.T) {
	stop := errors.New("stop")
	for _, in := range []string{
		`{"a":1}` + "\n" + `{"a":2}` + "\n",
		"[\n" + `{"a":1},{"a":2}` + "\n]",
		`{"hits":{"hits":[{"_source":{"a":1}},{"_source":{"a":2}}]}}`,
		"{\n" + `"hits":{"hits":[{"_source":{"a":1}},{"_source":{"a":2}}]}}`,
	} {
		n := 0
		err := NDJSON{}.Read(context.Background(), &source.Input{Name: "in", R: strings.NewReader(in), Stats: &source.Stats{}},
			func(*event.Event) error { n++; return stop })
		if !errors.Is(err, stop) || n != 1 {
			t.Errorf("%q: err %v after %d events, want stop after 1", in, err, n)
		}
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, in := range []string{`{"a":1}` + "\n", "[\n{}]"} {
		err := NDJSON{}.Read(ctx, &source.Input{Name: "in", R: strings.NewReader(in), Stats: &source.Stats{}},
			func(*event.Event) error { return nil })
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%q: err = %v, want context.Canceled", in, err)
		}
	}
}

// TestReaderIntegration reads through source.Reader, as the CLI does.
func TestReaderIntegration(t *testing.T) {
	rd := &source.Reader{Formats: []source.Format{NDJSON{}}}
	n := 0
	res, err := rd.Read(context.Background(), []string{filepath.Join("testdata", "search_response.json")}, func(ev *event.Event) error {
		n++
		if ev.Format != "ecs" {
			t.Errorf("format %q", ev.Format)
		}
		return nil
	})
	if err != nil || n != 3 || res.Bad() != 0 || len(res.Skipped) != 0 {
		t.Errorf("n=%d err=%v bad=%d skipped=%v", n, err, res.Bad(), res.Skipped)
	}
}
