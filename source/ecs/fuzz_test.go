package ecs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/source"
)

// FuzzNDJSON: any input is read without a panic; every event marshals,
// every event and bad record has a position.
func FuzzNDJSON(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.*json"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if len(b) < 16<<10 {
			f.Add(b)
		}
		for i, line := range bytes.Split(b, []byte("\n")) {
			if i < 8 {
				f.Add(line)
			}
		}
	}
	for _, s := range []string{
		`{"a":1}{"b":2}`, "[\n{\"a\":1},\n{\"a\":", `{"hits":{"hits":[{"_source":{"a":1}},3]}}`,
		"{\n\"hits\": {\"total\": 1, \"hits\": [\n{\"_index\":\"i\",\"_source\":{\"x\":[1,{\"y\":null}]}}\n]}}\n",
		`{"index":{"_index":"i"}}` + "\n" + `{"a":1}`, "\xef\xbb\xbf[]", `{"a":"\ud800"}`, `{"a":1e999}`,
		`{"@timestamp":-1e30}`, `[[[{"a":[[[]]]}]]]`, `{"a":NaN}`, "{\"a\":\"\\u12\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		NDJSON{}.Sniff(data)
		st := &source.Stats{}
		err := NDJSON{}.Read(context.Background(), &source.Input{Name: "fuzz", R: bytes.NewReader(data), Stats: st},
			func(ev *event.Event) error {
				if ev.Line < 1 || ev.Format != "ecs" {
					t.Fatalf("event at line %d, format %q", ev.Line, ev.Format)
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
			if !errors.As(e, &re) || re.Line < 1 || re.Msg == "" {
				t.Fatalf("bad record without a position: %v", e)
			}
		}
	})
}
