package sysmon

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

// FuzzSysmon: any input is read without a panic; every event marshals and
// every event and bad record has a position.
func FuzzSysmon(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.log"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		for i, line := range bytes.Split(b, []byte("\n")) {
			if i < 20 {
				f.Add(line)
			}
		}
	}
	for _, s := range []string{
		sample, "<Event/>", "<Event><System><EventID>1</EventID></System></Event>",
		"x <Event><System><EventID>3</EventID></System><EventData><Data Name='SourcePort'>-1</Data><Data Name='UtcTime'>2026-02-31 00:00:00</Data></EventData></Event>",
		"<Event><![CDATA[x]]><?pi?><!-- c --></Event> <Event></Event>", "a#011 <Event>&#x10FFFF;&#1;</Event>",
		`{"__CURSOR":"c","MESSAGE":[60,69,118,101,110,116,62]}`, "<Event><System><EventID>1</EventID><Computer>&amp;</Computer></System><EventData><Data Name=\"Hashes\">A=,=B,SHA256=x,,</Data><Data Name=\"TargetFilename\">/</Data></EventData></Event>",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		XML{}.Sniff(data)
		st := &source.Stats{}
		err := XML{}.Read(context.Background(), &source.Input{Name: "fuzz", R: bytes.NewReader(data), Stats: st},
			func(ev *event.Event) error {
				if ev.Line < 1 || ev.Format != "sysmon" || !ev.Has("event.code") {
					t.Fatalf("event at line %d, format %q, code %v", ev.Line, ev.Format, ev.Get("event.code"))
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
