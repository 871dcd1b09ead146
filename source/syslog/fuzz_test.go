package syslog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/source"
)

// seed adds each line of the testdata files matching pattern, and the
// first few lines together.
func seed(f *testing.F, pattern string) {
	files, _ := filepath.Glob(filepath.Join("testdata", pattern))
	if len(files) == 0 {
		f.Fatalf("no testdata matches %s", pattern)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		lines := bytes.Split(b, []byte("\n"))
		for _, line := range lines {
			f.Add(line)
		}
		f.Add(bytes.Join(lines[:min(len(lines), 4)], []byte("\n")))
	}
}

// checkRead reads data with format and checks what any input must give:
// no panic, no error, events that are whole (position, time, module,
// valid UTF-8, marshal), bad records with a position and an expectation.
func checkRead(t *testing.T, f source.Format, data []byte) {
	f.Sniff(data)
	st := &source.Stats{}
	lines := bytes.Count(data, []byte("\n")) + 1
	err := f.Read(context.Background(), &source.Input{Name: "fuzz", R: bytes.NewReader(data), Stats: st},
		func(ev *event.Event) error {
			if ev.Line < 1 || ev.Line > lines || ev.Format != f.Name() || ev.Time.IsZero() || ev.Get("event.module").Str != "syslog" {
				t.Fatalf("event at line %d of %d, format %q, time %v, module %v", ev.Line, lines, ev.Format, ev.Time, ev.Get("event.module"))
			}
			ev.Range(func(p string, v event.Value) bool {
				v.Each(func(x event.Value) bool {
					if x.Kind == event.String && !utf8.ValidString(x.Str) {
						t.Fatalf("%s is not valid UTF-8: %q", p, x.Str)
					}
					return true
				})
				return true
			})
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
		if !errors.As(e, &re) || re.Line < 1 || re.Line > lines || re.Msg == "" || !strings.Contains(re.Msg, "expected") {
			t.Fatalf("bad record without a position or an expectation: %v", e)
		}
	}
}

func FuzzText(f *testing.F) {
	seed(f, "*.log")
	seed(f, "syslog")
	for _, s := range []string{
		"<13>1 2026-11-22T14:50:08Z fw1 app - - [a@1 b=\"c\\\"d\\\\\" e=\"\"][f] m",
		"<0>Feb 29 00:00:60.999999999 h p[]:",
		"Nov 22 14:49:19 fw1 sudo: u : COMMAND=",
		"Nov 22 14:49:19 fw1 kernel: [UFW X] IN= OUT= SRC=::1 DST=1.2.3.4 PROTO=99999 SPT=-1 DPT=70000",
		"2026-11-22T14:49:19.1234567890123+23:59 h a: #000#177#",
		"1 2026-11-22T14:49:19Z - - - - [",
		"-- Boot x --",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkRead(t, text, data)
	})
}

func FuzzJournal(f *testing.F) {
	seed(f, "*.json")
	for _, s := range []string{
		`{"__REALTIME_TIMESTAMP":"1","MESSAGE":[255,0,10],"X":[["a"]],"Y":[[1],"b"],"Z":null}`,
		`{"__REALTIME_TIMESTAMP":"9223372036854775807","SYSLOG_IDENTIFIER":"kernel","MESSAGE":"IN= SRC=1.1.1.1 DST=2.2.2.2 PROTO=TCP"}`,
		"\x1e{\"__CURSOR\":\"\",\"__REALTIME_TIMESTAMP\":\"-1\"}",
		`{"\u00ff\ud800":"\udc00","__REALTIME_TIMESTAMP":"0","PRIORITY":"99","SYSLOG_FACILITY":"-1","_PID":"0"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkRead(t, Journal{}, data)
	})
}
