package endgame

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/internal/testenv"
	"github.com/firewarden/firewarden/source"
)

func read(t testing.TB, name, s string) ([]*event.Event, *source.Stats) {
	t.Helper()
	st := &source.Stats{Name: name, Format: "endgame"}
	var evs []*event.Event
	err := JSON{}.Read(context.Background(), &source.Input{Name: name, R: strings.NewReader(s), Stats: st}, func(ev *event.Event) error {
		evs = append(evs, ev)
		return nil
	})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return evs, st
}

// badList renders the bad records as "file:line:col: msg" strings.
func badList(st *source.Stats) []string {
	var out []string
	for _, e := range st.Examples {
		out = append(out, e.Error())
	}
	return out
}

func TestSniff(t *testing.T) {
	for _, tc := range []struct {
		name, head string
		want       bool
	}{
		{"array", "[\n  {\n    \"event_subtype_full\": \"already_running\",\n    \"event_type\": \"process\",", true},
		{"ndjson", `{"serial_event_id":1,"event_type":"process","unique_pid":1}` + "\n", true},
		{"opcode and event_type", `{"opcode":1,"event_type":"file"}`, true},
		{"hit", `{"_index":"endgame-1.4.0","_id":"1","_source":{"unique_pid":4,"@timestamp":1}}`, true},
		{"hit with @timestamp, no category", `{"@timestamp":1509374020000,"event_type_full":"process_event"}`, true},
		{"bom and comment", "\xef\xbb\xbf// exported\n[{\"unique_ppid\":2}]", true},
		{"ecs document", `{"@timestamp":"2026-01-01T00:00:00Z","event":{"category":["process"]},"unique_pid":3}`, false},
		{"ecs dotted", `{"@timestamp":"2026-01-01T00:00:00Z","event.category":"process","serial_event_id":3}`, false},
		{"winlogbeat opcode only", `{"@timestamp":"x","winlog":{"opcode":"Info"}}`, false},
		{"ecs process", `{"@timestamp":"x","process":{"pid":1}}`, false},
		{"laurel", `{"ID":"1.2:3","SYSCALL":{}}`, false},
		{"text", "Nov 22 14:49:19 host sshd[1]: unique_pid", false},
		{"key as value", `{"note":"serial_event_id"}`, false},
		{"empty", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := (JSON{}).Sniff([]byte(tc.head)); got != tc.want {
				t.Errorf("Sniff(%q) = %v, want %v", tc.head, got, tc.want)
			}
		})
	}
}

// A process creation on Windows, as Endgame writes it.
const winProc = `{"command_line": "\"C:\\Program Files\\App\\app.exe\" -x \"a b\" C:\\tmp\\f.txt",
 "event_subtype_full": "creation_event", "event_type": "process", "event_type_full": "process_event",
 "md5": "aa", "opcode": 1, "parent_process_name": "explorer.exe", "parent_process_path": "C:\\Windows\\explorer.exe",
 "pid": 2256, "ppid": 2460, "process_name": "app.exe", "process_path": "C:\\Program Files\\App\\app.exe",
 "serial_event_id": 48, "subtype": "create", "timestamp": 131509374020000000,
 "unique_pid": 48, "unique_ppid": 34, "user_domain": "vagrant", "user_name": "vagrant"}`

func TestNormalise(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want map[string]any // path → value as event.Value.Interface gives it; nil: absent
		time string
	}{
		{
			name: "windows process creation",
			in:   winProc,
			want: map[string]any{
				"event.category":            "process",
				"event.type":                []any{"start"},
				"event.action":              "creation_event",
				"event.sequence":            int64(48),
				"event.module":              "endgame",
				"process.pid":               int64(2256),
				"process.parent.pid":        int64(2460),
				"process.name":              "app.exe",
				"process.executable":        `C:\Program Files\App\app.exe`,
				"process.args":              []any{`C:\Program Files\App\app.exe`, "-x", "a b", `C:\tmp\f.txt`},
				"process.args_count":        int64(4),
				"process.parent.name":       "explorer.exe",
				"process.parent.executable": `C:\Windows\explorer.exe`,
				"process.entity_id":         "48",
				"process.parent.entity_id":  "34",
				"process.hash.md5":          "aa",
				"user.name":                 "vagrant",
				"user.domain":               "vagrant",
				"@timestamp":                "2017-09-26T22:10:02.000Z",
				// Endgame's own fields stay as written.
				"unique_pid": int64(48),
				"timestamp":  int64(131509374020000000),
				"opcode":     int64(1),
			},
			time: "2017-09-26T22:10:02Z",
		},
		{
			name: "linux process: shell splitting, name from process_name",
			in: `{"event_type":"process","event_subtype_full":"creation_event","unique_pid":9,"pid":77,
				"process_path":"/usr/sbin/xtables-nft-multi","process_name":"iptables","command_line":"iptables -F 'INPUT'",
				"timestamp":116444736000000000}`,
			want: map[string]any{
				"process.name":         "iptables",
				"process.executable":   "/usr/sbin/xtables-nft-multi",
				"process.args":         []any{"iptables", "-F", "INPUT"},
				"process.command_line": "iptables -F 'INPUT'",
				"@timestamp":           "1970-01-01T00:00:00.000Z",
			},
			time: "1970-01-01T00:00:00Z",
		},
		{
			name: "file event: name from a windows path, hash to file",
			in: `{"event_type":"file","event_subtype_full":"file_delete_event","opcode":2,"pid":4,
				"file_path":"C:\\work\\svchost.exe","md5":"bb","process_path":"C:\\Windows\\System32\\svchost.exe"}`,
			want: map[string]any{
				"event.category":   "file",
				"event.type":       []any{"deletion"},
				"file.path":        `C:\work\svchost.exe`,
				"file.name":        "svchost.exe",
				"file.hash.md5":    "bb",
				"process.hash.md5": nil,
				"process.name":     "svchost.exe",
				"@timestamp":       nil,
			},
		},
		{
			name: "network",
			in: `{"event_type":"network","event_subtype_full":"ipv4_connection_attempt_event","opcode":12,
				"source_address":"10.6.48.157","source_port":52178,"destination_address":"10.6.48.1","destination_port":8000,"protocol":"tcp"}`,
			want: map[string]any{
				"event.category":    "network",
				"event.type":        []any{"connection", "start"},
				"source.ip":         "10.6.48.157",
				"source.port":       int64(52178),
				"destination.ip":    "10.6.48.1",
				"destination.port":  int64(8000),
				"network.transport": "tcp",
			},
		},
		{
			name: "dns",
			in:   `{"event_type":"dns","event_subtype_full":"request_event","opcode":3008,"query_name":"teredo.ipv6.microsoft.com."}`,
			want: map[string]any{
				"event.category":    "dns",
				"event.type":        []any{"protocol"},
				"network.protocol":  "dns",
				"dns.question.name": "teredo.ipv6.microsoft.com.",
			},
		},
		{
			name: "registry",
			in:   `{"event_type":"registry","event_subtype_full":"registry_modify_event","opcode":1,"registry_path":"\\REGISTRY\\X\\V","registry_key":"\\REGISTRY\\X","registry_value":"V"}`,
			want: map[string]any{
				"registry.path":  `\REGISTRY\X\V`,
				"registry.key":   `\REGISTRY\X`,
				"registry.value": "V",
				"event.type":     []any{"change"},
			},
		},
		{
			name: "fields the document has are never rewritten",
			in: `{"event_type":"process","event":{"category":"mine","sequence":"s"},"process":{"name":"given"},
				"process_name":"other.exe","serial_event_id":3,"@timestamp":"2022-05-04T12:00:00.001Z","timestamp":131509374020000000}`,
			want: map[string]any{
				"event.category": "mine",
				"event.sequence": "s",
				"process.name":   "given",
				"@timestamp":     "2022-05-04T12:00:00.001Z",
				"timestamp":      int64(131509374020000000),
			},
			time: "2022-05-04T12:00:00.001Z",
		},
		{
			name: "@timestamp as epoch milliseconds in a string",
			in:   `{"event_type":"test1","@timestamp":"1234","sequence":1}`,
			want: map[string]any{"@timestamp": "1234", "event.category": "test1", "sequence": int64(1)},
			time: "1970-01-01T00:00:01.234Z",
		},
		{
			name: "@timestamp as a number, date only",
			in:   `{"opcode":1,"@timestamp":1509374020000}` + "\n" + `{"opcode":1,"@timestamp":"2022-12-17"}`,
			want: map[string]any{"@timestamp": int64(1509374020000)},
			time: "2017-10-30T14:33:40Z",
		},
		{
			name: "nested objects and arrays, as Elasticsearch flattens them",
			in: `{"event_type":"network","bytes_written_string_list":["en-US","en"],"empty":[],
				"mysterious_field":{"num":100,"subarray":[{"a":"s0","c":[{"x":{"y":"p"}},{"x":{"y":"q"}}]},{"a":"s1","c":[]}]}}`,
			want: map[string]any{
				"bytes_written_string_list":       []any{"en-US", "en"},
				"empty":                           []any{},
				"mysterious_field.num":            int64(100),
				"mysterious_field.subarray.a":     []any{"s0", "s1"},
				"mysterious_field.subarray.c.x.y": []any{"p", "q"},
				"mysterious_field.subarray":       nil,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, st := read(t, "in.json", tc.in)
			if st.BadCount != 0 || len(evs) == 0 {
				t.Fatalf("%d events, bad records %v", len(evs), badList(st))
			}
			ev := evs[0]
			for path, want := range tc.want {
				v := ev.Get(path)
				if want == nil {
					if v.Exists() {
						t.Errorf("%s = %v, want absent", path, v.Interface())
					}
					continue
				}
				if got := v.Interface(); !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %#v, want %#v", path, got, want)
				}
			}
			if tc.time != "" {
				want, err := time.Parse(time.RFC3339Nano, tc.time)
				if err != nil {
					t.Fatal(err)
				}
				if !ev.Time.Equal(want) {
					t.Errorf("Time = %v, want %v", ev.Time, want)
				}
			} else if !ev.Time.IsZero() {
				t.Errorf("Time = %v, want none", ev.Time)
			}
			if ev.Format != "endgame" || ev.File != "in.json" || ev.Line != 1 {
				t.Errorf("Format, File, Line = %q, %q, %d", ev.Format, ev.File, ev.Line)
			}
		})
	}
}

// TestParentFromTable: a process without parent fields gets them from the
// creation event of its parent, read earlier (source/process).
func TestParentFromTable(t *testing.T) {
	in := `{"event_type":"process","event_subtype_full":"creation_event","pid":10,"process_path":"/bin/bash","command_line":"bash -i","user_name":"root"}
{"event_type":"process","event_subtype_full":"creation_event","pid":11,"ppid":10,"process_path":"/usr/sbin/nft","command_line":"nft flush ruleset"}`
	evs, st := read(t, "in", in)
	if len(evs) != 2 || st.BadCount != 0 {
		t.Fatalf("%d events, bad %v", len(evs), badList(st))
	}
	child := evs[1]
	for path, want := range map[string]string{
		"process.parent.executable":   "/bin/bash",
		"process.parent.name":         "bash",
		"process.parent.command_line": "bash -i",
		"process.parent.user.name":    "root",
		"process.name":                "nft",
	} {
		if got := child.Get(path).String(); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
}

func TestShapes(t *testing.T) {
	type ev struct {
		line  int
		index string
		id    string // serial_event_id
	}
	for _, tc := range []struct {
		name string
		in   string
		want []ev
	}{
		{"ndjson", "{\"serial_event_id\":1}\n\n{\"serial_event_id\":2}\r\n", []ev{{1, DefaultIndex, "1"}, {3, DefaultIndex, "2"}}},
		{"array, pretty", "[\n  {\n    \"serial_event_id\": 1\n  },\n  {\n    \"serial_event_id\": 2\n  }\n]\n",
			[]ev{{2, DefaultIndex, "1"}, {5, DefaultIndex, "2"}}},
		{"array on one line", `[{"serial_event_id":1},{"serial_event_id":2}]`, []ev{{1, DefaultIndex, "1"}, {1, DefaultIndex, "2"}}},
		{"objects back to back", `{"serial_event_id":1}{"serial_event_id":2}`, []ev{{1, DefaultIndex, "1"}, {1, DefaultIndex, "2"}}},
		{"hit", `{"_index":"endgame-7","_id":"x","_source":{"serial_event_id":5}}`, []ev{{1, "endgame-7", "5"}}},
		{"hit without index", `{"_id":"x","_source":{"serial_event_id":5}}`, []ev{{1, DefaultIndex, "5"}}},
		{"search response", `{"took":1,"hits":{"total":{"value":2},"hits":[{"_index":"a","_source":{"serial_event_id":1}},{"_index":"b","_source":{"serial_event_id":2}}]}}`,
			[]ev{{1, "a", "1"}, {1, "b", "2"}}},
		{"eql sequences response", `{"hits":{"sequences":[{"join_keys":[1],"events":[{"_index":"e","_source":{"serial_event_id":1}},{"missing":true},{"_index":"e","_source":{"serial_event_id":3}}]}]}}`,
			[]ev{{1, "e", "1"}, {1, "e", "3"}}},
		{"eql events response", `{"hits":{"events":[{"_index":"e","_source":{"serial_event_id":7}}]}}`, []ev{{1, "e", "7"}}},
		{"bulk", "{\"index\":{\"_index\":\"endgame-x\"}}\n{\"serial_event_id\":1}\n{\"delete\":{\"_id\":\"3\"}}\n{\"serial_event_id\":2}\n",
			[]ev{{2, "endgame-x", "1"}, {4, DefaultIndex, "2"}}},
		{"comments between events", "[\n // first\n {\"serial_event_id\":1},\n /* second\n */ {\"serial_event_id\":2}\n ////test2\n]",
			[]ev{{3, DefaultIndex, "1"}, {5, DefaultIndex, "2"}}},
		{"braces and quotes inside strings", `{"command_line":"a { \" [ } ]","serial_event_id":1}` + "\n" + `{"serial_event_id":2}`,
			[]ev{{1, DefaultIndex, "1"}, {2, DefaultIndex, "2"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, st := read(t, "in", tc.in)
			if st.BadCount != 0 {
				t.Errorf("bad records: %v", badList(st))
			}
			var got []ev
			for _, e := range evs {
				got = append(got, ev{e.Line, e.Index, e.Get("serial_event_id").String()})
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestBadRecords: each bad record is reported with its position, and
// every good event around it is still read.
func TestBadRecords(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		ids  []string // serial_event_id of the events read
		bad  []string
	}{
		{"syntax error inside an event", "[\n {\"serial_event_id\":1},\n {\"serial_event_id\":2,\n  \"x\" 3},\n {\"serial_event_id\":3}\n]",
			[]string{"1", "3"}, []string{"in:4:7: invalid JSON: unexpected '3' after an object key, expected ':'"}},
		{"bad literal", "{\"serial_event_id\":1,\"b\":trux}\n{\"serial_event_id\":2}", []string{"2"},
			[]string{"in:1:29: invalid JSON: unexpected 'x' in literal true, expected 'e'"}},
		{"missing comma", "{\"a\":1 \"b\":2}", nil, []string{"in:1:8: invalid JSON: unexpected '\"' after an object value, expected ',' or '}'"}},
		{"truncated ndjson line", "{\"serial_event_id\":1}\n{\"serial_event_id\":2,\"a\":\"tru\n{\"serial_event_id\":3}\n",
			[]string{"1", "3"}, []string{"in:2:1: object not closed before the next one at line 3, expected '}'"}},
		{"missing closing brace at the end", "[{\"serial_event_id\":1},\n{\"serial_event_id\":2",
			[]string{"1"}, []string{"in:2:1: unexpected end of input inside the object that starts here, expected '}'",
				"in:2:21: unexpected end of input, expected ']'"}},
		{"scalars", `[1, "x", {"serial_event_id":1}, true]`,
			[]string{"1"}, []string{"in:1:2: JSON a number is not an event, expected an object", "in:1:5: JSON a string is not an event, expected an object",
				"in:1:33: JSON a boolean is not an event, expected an object"}},
		{"garbage line", "{\"serial_event_id\":1}\nnot json\n{\"serial_event_id\":2}",
			[]string{"1", "2"}, []string{"in:2:1: unexpected 'n', expected '{' (an event)"}},
		{"bare words", "nul truex 12x", nil, []string{"in:1:1: unexpected 'n', expected '{' (an event)"}},
		{"scalars on lines", "null\n-1.5e3\n\"a\\\"b\"", nil, []string{"in:1:1: JSON null is not an event, expected an object",
			"in:2:1: JSON a number is not an event, expected an object", "in:3:1: JSON a string is not an event, expected an object"}},
		{"unclosed array", "[{\"serial_event_id\":1}", []string{"1"}, []string{"in:1:23: unexpected end of input, expected ']'"}},
		{"stray bracket", "{\"serial_event_id\":1}]", []string{"1"}, []string{"in:1:22: unexpected ']', expected '{' (an event)"}},
		{"unclosed comment", "{\"serial_event_id\":1}\n/* x", []string{"1"}, []string{"in:2:1: comment not closed, expected '*/'"}},
		{"lone slash", "/ {\"serial_event_id\":1}", []string{"1"}, []string{"in:1:1: unexpected '/', expected '{' (an event) or a comment"}},
		{"_source not an object", `{"_source":3}` + "\n" + `{"serial_event_id":1}`, []string{"1"},
			[]string{"in:1: Elasticsearch hit: _source is number, expected an object"}},
		{"hit without _source in a response", `{"hits":{"hits":[{"_id":"1"},{"_source":{"serial_event_id":2}},4]}}`, []string{"2"},
			[]string{"in:1: search response: hits.hits[0] has no _source object, expected a hit with _source",
				"in:1: search response: hits.hits[2] is number, expected an object"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, st := read(t, "in", tc.in)
			var ids []string
			for _, e := range evs {
				ids = append(ids, e.Get("serial_event_id").String())
			}
			if !reflect.DeepEqual(ids, tc.ids) {
				t.Errorf("events %v, want %v", ids, tc.ids)
			}
			if got := badList(st); !reflect.DeepEqual(got, tc.bad) {
				t.Errorf("bad records:\n got %q\nwant %q", got, tc.bad)
			}
			if st.BadCount != int64(len(tc.bad)) {
				t.Errorf("BadCount = %d, want %d", st.BadCount, len(tc.bad))
			}
		})
	}
}

func TestTooLong(t *testing.T) {
	big := `{"serial_event_id":1,"pad":"` + strings.Repeat("x", source.MaxRecord) + `"}`
	evs, st := read(t, "in", big+"\n"+`{"serial_event_id":2}`)
	if len(evs) != 1 || evs[0].Get("serial_event_id").Int != 2 {
		t.Errorf("read %d events, want only the second", len(evs))
	}
	if got := badList(st); len(got) != 1 || got[0] != "in:1:1: object longer than 4194304 bytes, skipped" {
		t.Errorf("bad records %q", got)
	}
}

func TestFileTime(t *testing.T) {
	for _, tc := range []struct {
		ticks int64
		want  string
	}{
		{116444736000000000, "1970-01-01T00:00:00Z"},
		{131509374020000000, "2017-09-26T22:10:02Z"},
		{131509374295457140, "2017-09-26T22:10:29.545Z"}, // 100 ns ticks truncated to the millisecond
		{131762381493039760, "2018-07-16T18:09:09.303Z"},
		{0, "1601-01-01T00:00:00Z"},
	} {
		want, _ := time.Parse(time.RFC3339Nano, tc.want)
		if got := FileTime(tc.ticks); !got.Equal(want) {
			t.Errorf("FileTime(%d) = %v, want %v", tc.ticks, got, want)
		}
		// Elasticsearch's conformance loader: timestamp / 10000 - 11644473600000.
		if got, es := FileTime(tc.ticks).UnixMilli(), tc.ticks/10000-11644473600000; got != es {
			t.Errorf("FileTime(%d) = %d ms, Elasticsearch gives %d", tc.ticks, got, es)
		}
	}
}

func TestWindowsSplit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		// Microsoft's examples ("Parsing C command-line arguments").
		{`p "a b c" d e`, []string{"p", "a b c", "d", "e"}},
		{`p "ab\"c" "\\" d`, []string{"p", `ab"c`, `\`, "d"}},
		{`p a\\\b d"e f"g h`, []string{"p", `a\\\b`, "de fg", "h"}},
		{`p a\\\"b c d`, []string{"p", `a\"b`, "c", "d"}},
		{`p a\\\\"b c" d e`, []string{"p", `a\\b c`, "d", "e"}},
		{`p a"b"" c d`, []string{"p", `ab" c d`}},
		// argv[0] takes no escapes: a path's backslashes survive.
		{`"C:\Program Files\x.exe" -a`, []string{`C:\Program Files\x.exe`, "-a"}},
		{`\SystemRoot\System32\smss.exe`, []string{`\SystemRoot\System32\smss.exe`}},
		{`  cmd.exe  /c  "dir C:\"  `, []string{"cmd.exe", "/c", `dir C:"  `}},
		{"", nil},
		{"   ", nil},
	} {
		if got := WindowsSplit(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("WindowsSplit(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestConformanceData reads Elasticsearch's EQL conformance data: every
// event, no bad record, and the FILETIME conversion of Elasticsearch's
// loader on every test_data.json event.
func TestConformanceData(t *testing.T) {
	dir := testenv.Shared(t, "corpus", "eql")
	for _, tc := range []struct {
		file string
		n    int
	}{
		{"test_data.json", 102},
		{"data/extra.data", 9},
		{"data/missing-events.data", 48}, // has // comments between events
		{"data/sample1.data", 10},
		{"data/sample2.data", 9},
		{"data/sample3.data", 9},
		{"data/sample-multi.data", 10},
		{"data/sampling1.data", 10},
		{"data/sampling2.data", 9},
		{"data/sampling3.data", 9},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			evs, st := read(t, tc.file, string(b))
			if st.BadCount != 0 || len(evs) != tc.n {
				t.Fatalf("%d events (want %d), bad records %v", len(evs), tc.n, badList(st))
			}
			// Cross-check the flattening against encoding/json + SetTree.
			var docs []map[string]any
			clean := stripComments(b)
			dec := json.NewDecoder(strings.NewReader(string(clean)))
			dec.UseNumber()
			if err := dec.Decode(&docs); err != nil {
				t.Fatal(err)
			}
			for i, d := range docs {
				ref := event.New(len(d))
				ref.SetTree("", numbers(d).(map[string]any))
				for _, p := range ref.Paths() {
					if got, want := evs[i].Get(p), ref.Get(p); !got.Equal(want) {
						t.Errorf("event %d: %s = %v, encoding/json gives %v", i, p, got.Interface(), want.Interface())
					}
				}
				if tc.file == "test_data.json" {
					ticks := evs[i].Get("timestamp").Int
					if got, es := evs[i].Time.UnixMilli(), ticks/10000-11644473600000; got != es {
						t.Errorf("event %d: time %d ms, Elasticsearch's loader gives %d", i, got, es)
					}
					if !evs[i].Get("event.category").Equal(evs[i].Get("event_type")) {
						t.Errorf("event %d: event.category %v, event_type %v", i, evs[i].Get("event.category"), evs[i].Get("event_type"))
					}
				}
			}
		})
	}
}

// stripComments blanks // comment lines (the data files' only comments).
func stripComments(b []byte) []byte {
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "//") {
			lines[i] = ""
		}
	}
	return []byte(strings.Join(lines, "\n"))
}

// numbers turns json.Number into the Int/Float event.FromInterface takes.
func numbers(x any) any {
	switch t := x.(type) {
	case map[string]any:
		for k, v := range t {
			t[k] = numbers(v)
		}
	case []any:
		for i, v := range t {
			t[i] = numbers(v)
		}
	case json.Number:
		if n, err := t.Int64(); err == nil {
			return n
		}
		f, _ := t.Float64()
		return f
	}
	return x
}

func TestEmitError(t *testing.T) {
	stop := errors.New("stop")
	st := &source.Stats{}
	n := 0
	err := JSON{}.Read(context.Background(), &source.Input{Name: "in", R: strings.NewReader(`[{"a":1},{"a":2}]`), Stats: st}, func(*event.Event) error {
		n++
		return stop
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("Read = %v after %d events, want stop after 1", err, n)
	}
}
