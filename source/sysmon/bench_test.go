package sysmon

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/internal/gen"
	"github.com/firewarden/firewarden/source"
)

const benchEvents = 20_000

var benchOnce struct {
	sync.Once
	data []byte
}

// benchData renders the generated ECS process events of internal/gen
// (realistic Linux execs, about 1% firewall commands) as Sysmon for Linux
// EventID 1 lines in rsyslog's traditional file format.
func benchData(b *testing.B) []byte {
	benchOnce.Do(func() {
		var src bytes.Buffer
		if err := gen.Write(&src, gen.Options{Events: benchEvents, Seed: 1}); err != nil {
			panic(err)
		}
		var out bytes.Buffer
		esc := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
		sc := bufio.NewScanner(&src)
		sc.Buffer(nil, 1<<20)
		for n := 0; sc.Scan(); n++ {
			var d struct {
				Timestamp string `json:"@timestamp"`
				Host      struct{ Name string }
				User      struct{ Name string }
				Process   struct {
					Pid              int
					Executable       string
					CommandLine      string `json:"command_line"`
					WorkingDirectory string `json:"working_directory"`
					Parent           struct {
						Pid         int
						Executable  string
						CommandLine string `json:"command_line"`
					}
				}
			}
			if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
				panic(err)
			}
			ts, _ := time.Parse(time.RFC3339Nano, d.Timestamp)
			p := d.Process
			fmt.Fprintf(&out, "%s %s sysmon: <Event><System><Provider Name=\"Linux-Sysmon\" Guid=\"{ff032593-a8d3-4f13-b0d6-01fc615a0f97}\"/>"+
				"<EventID>1</EventID><Version>5</Version><Level>4</Level><Task>1</Task><Opcode>0</Opcode><Keywords>0x8000000000000000</Keywords>"+
				"<TimeCreated SystemTime=\"%s\"/><EventRecordID>%d</EventRecordID><Correlation/><Execution ProcessID=\"731\" ThreadID=\"731\"/>"+
				"<Channel>Linux-Sysmon/Operational</Channel><Computer>%s</Computer><Security UserId=\"0\"/></System><EventData>"+
				"<Data Name=\"RuleName\">-</Data><Data Name=\"UtcTime\">%s</Data><Data Name=\"ProcessGuid\">{3d1219c7-00ef-6b03-%04x-%012x}</Data>"+
				"<Data Name=\"ProcessId\">%d</Data><Data Name=\"Image\">%s</Data><Data Name=\"FileVersion\">-</Data><Data Name=\"Description\">-</Data>"+
				"<Data Name=\"Product\">-</Data><Data Name=\"Company\">-</Data><Data Name=\"OriginalFileName\">-</Data><Data Name=\"CommandLine\">%s</Data>"+
				"<Data Name=\"CurrentDirectory\">%s</Data><Data Name=\"User\">%s</Data><Data Name=\"LogonGuid\">{3d1219c7-f52c-6b02-0000-000000000000}</Data>"+
				"<Data Name=\"LogonId\">0</Data><Data Name=\"TerminalSessionId\">2</Data><Data Name=\"IntegrityLevel\">no level</Data><Data Name=\"Hashes\">-</Data>"+
				"<Data Name=\"ParentProcessGuid\">{3d1219c7-00ef-6b03-%04x-%012x}</Data><Data Name=\"ParentProcessId\">%d</Data><Data Name=\"ParentImage\">%s</Data>"+
				"<Data Name=\"ParentCommandLine\">%s</Data><Data Name=\"ParentUser\">root</Data></EventData></Event>\n",
				ts.Format(time.Stamp), d.Host.Name, ts.Format("2006-01-02T15:04:05.000000000Z"), 1000+n, d.Host.Name, ts.Format("2006-01-02 15:04:05.000"),
				n&0xffff, p.Pid, p.Pid, esc.Replace(p.Executable), esc.Replace(p.CommandLine), esc.Replace(p.WorkingDirectory), esc.Replace(d.User.Name),
				n&0xffff, p.Parent.Pid, p.Parent.Pid, esc.Replace(p.Parent.Executable), esc.Replace(p.Parent.CommandLine))
		}
		benchOnce.data = out.Bytes()
	})
	return benchOnce.data
}

func report(b *testing.B, events int, m0 *runtime.MemStats) {
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(events), "allocs/event")
}

// BenchmarkSysmon reads generated Sysmon for Linux syslog lines into
// events (scanner, ECS mapping, raw sysmon.* fields and process
// derivation included). One op is a stream of 20,000 events.
func BenchmarkSysmon(b *testing.B) {
	data := benchData(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	b.ResetTimer()
	events := 0
	for i := 0; i < b.N; i++ {
		st := &source.Stats{}
		err := XML{}.Read(context.Background(), &source.Input{Name: "bench", R: bytes.NewReader(data), Stats: st},
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

// stdEvent is what encoding/xml decodes each line into for the comparison.
type stdEvent struct {
	System struct {
		EventID     string
		Computer    string
		TimeCreated struct {
			SystemTime string `xml:",attr"`
		}
	}
	EventData struct {
		Data []struct {
			Name  string `xml:",attr"`
			Value string `xml:",chardata"`
		}
	}
}

// BenchmarkSysmonStdlib decodes the same bytes with encoding/xml into a
// struct holding the System fields and the Data name/value pairs.
func BenchmarkSysmonStdlib(b *testing.B) {
	data := benchData(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	b.ResetTimer()
	events := 0
	for i := 0; i < b.N; i++ {
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 64<<10), source.MaxRecord)
		for sc.Scan() {
			line := sc.Bytes()
			var ev stdEvent
			if err := xml.Unmarshal(line[bytes.Index(line, []byte("<Event")):], &ev); err != nil {
				b.Fatal(err)
			}
			events++
		}
	}
	b.StopTimer()
	report(b, events, &m0)
}
