package auditd

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/internal/testenv"
	"github.com/firewarden/firewarden/source"
)

var update = flag.Bool("update", false, "rewrite golden files")

func read(t testing.TB, f source.Format, name, data string) ([]*event.Event, *source.Stats) {
	t.Helper()
	st := &source.Stats{Name: name}
	in := &source.Input{Name: name, R: strings.NewReader(data), Stats: st}
	var evs []*event.Event
	if err := f.Read(context.Background(), in, func(ev *event.Event) error { evs = append(evs, ev); return nil }); err != nil {
		t.Fatal(err)
	}
	return evs, st
}

func readFile(t *testing.T, f source.Format, path string) ([]*event.Event, *source.Stats) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return read(t, f, filepath.Base(path), string(data))
}

func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		f    source.Format
		file string
	}{{Raw{}, "excerpt.log"}, {Laurel{}, "excerpt.jsonl"}} {
		t.Run(tc.file, func(t *testing.T) {
			evs, st := readFile(t, tc.f, filepath.Join("testdata", tc.file))
			if st.BadCount != 0 {
				t.Errorf("bad records: %v", st.Examples)
			}
			var b strings.Builder
			for _, ev := range evs {
				j, err := json.Marshal(ev)
				if err != nil {
					t.Fatal(err)
				}
				b.Write(j)
				b.WriteByte('\n')
			}
			p := filepath.Join("testdata", tc.file+".golden")
			if *update {
				os.WriteFile(p, []byte(b.String()), 0o644)
				return
			}
			want, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if string(want) != b.String() {
				t.Errorf("%s differs; run go test ./source/auditd -update and review", p)
			}
		})
	}
}

func byID(evs []*event.Event, id string) []*event.Event {
	var out []*event.Event
	for _, ev := range evs {
		if ev.Get("auditd.id").Str == id {
			out = append(out, ev)
		}
	}
	return out
}

func TestExcerptFields(t *testing.T) {
	raw, _ := readFile(t, Raw{}, filepath.Join("testdata", "excerpt.log"))
	lau, _ := readFile(t, Laurel{}, filepath.Join("testdata", "excerpt.jsonl"))
	for _, evs := range [][]*event.Event{raw, lau} {
		ipt := byID(evs, "1795358960.420:22328")
		if len(ipt) != 1 {
			t.Fatalf("iptables -F event: %d", len(ipt))
		}
		ev := ipt[0]
		checks := map[string]event.Value{
			"process.executable":   event.Str("/usr/sbin/xtables-nft-multi"),
			"process.name":         event.Str("iptables"),
			"process.args":         event.Strs("iptables", "-F"),
			"process.command_line": event.Str("iptables -F"),
			"process.invoked.path": event.Str("/usr/sbin/iptables"),
			"event.type":           event.Strs("start"),
			"user.name":            event.Str("root"),
			"user.audit.id":        event.Str("0"),
		}
		for p, want := range checks {
			if got := ev.Get(p); !got.Equal(want) {
				t.Errorf("%s %s = %v, want %v", ev.Format, p, got, want)
			}
		}
		if fw := byID(evs, "1795358963.764:22917"); len(fw) != 1 || fw[0].Get("process.name").Str != "fwtool" {
			t.Errorf("renamed iptables copy: %v", fw)
		}
		found := false
		for _, ev := range evs {
			if strings.HasSuffix(ev.Get("process.command_line").Str, "/usr/sbin/ufw disable") {
				found = true
				if ev.Get("process.name").Str != "ufw" || ev.Get("process.script.path").Str != "/usr/sbin/ufw" || ev.Get("process.executable").Str != "/usr/bin/python3.11" {
					t.Errorf("ufw disable: name %v script %v exe %v", ev.Get("process.name"), ev.Get("process.script.path"), ev.Get("process.executable"))
				}
			}
		}
		if !found {
			t.Error("ufw disable not in the excerpt")
		}
	}
}

func TestRealCapture(t *testing.T) {
	dir := testenv.Shared(t, "samples", "audit")
	for _, tc := range []struct {
		f    source.Format
		file string
	}{{Raw{}, "audit.log"}, {Laurel{}, "laurel.jsonl"}} {
		evs, st := readFile(t, tc.f, filepath.Join(dir, tc.file))
		execs, nf := 0, 0
		for _, ev := range evs {
			switch ev.Get("event.action").Str {
			case "exec":
				if ev.Get("event.outcome").Str == "success" {
					execs++
				}
			case "netfilter_cfg":
				nf++
				if ev.Get("firewall.op").Str == "" || ev.Get("process.pid").Kind != event.Int {
					t.Errorf("%s: netfilter event without op or pid", tc.file)
				}
			}
		}
		if execs != 1292 || nf != 298 || st.BadCount != 0 {
			t.Errorf("%s: %d execs (want 1292), %d NETFILTER_CFG (want 298), %d bad %v", tc.file, execs, nf, st.BadCount, st.Examples)
		}
	}
}

func TestBadInput(t *testing.T) {
	good := `type=SYSCALL msg=audit(1795358960.420:1): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=2 auid=0 uid=0 comm="nft" exe="/usr/sbin/nft" key="exec"
type=EXECVE msg=audit(1795358960.420:1): argc=3 a0="nft" a1="flush" a2="ruleset"
type=EOE msg=audit(1795358960.420:1):
`
	tests := []struct {
		name     string
		input    string
		events   int
		bad      int
		badMatch string
	}{
		{"garbage line", "hello world\n" + good, 1, 1, "x:1:1: not an audit record"},
		{"binary", "\x00\x01\x02\xff\xfe\n" + good, 1, 1, "not an audit record"},
		{"bad stamp", "type=SYSCALL msg=audit(abc:1): x=1\n" + good, 1, 1, "bad audit stamp"},
		{"unterminated stamp", "type=SYSCALL msg=audit(1.2:3 x=1\n" + good, 1, 1, "unterminated msg=audit("},
		{"unterminated quote", "type=SYSCALL msg=audit(1.2:3): comm=\"abc\n" + good, 1, 1, "expected a closing quote"},
		{"execve without EXECVE", strings.Split(good, "\n")[0] + "\n", 1, 1, "execve without EXECVE record"},
		{"10 MB line", "type=USER msg=audit(1.2:3): x=" + strings.Repeat("a", 10<<20) + "\n" + good, 1, 1, "line longer than"},
		{"invalid utf-8", "type=USER_CMD msg=audit(1.2:3): cmd=\"\xff\xfe\"\n" + good, 2, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			evs, st := read(t, Raw{}, "x", tc.input)
			if len(evs) != tc.events || int(st.BadCount) != tc.bad {
				t.Fatalf("events %d (want %d), bad %d (want %d): %v", len(evs), tc.events, st.BadCount, tc.bad, st.Examples)
			}
			if tc.bad > 0 && !strings.Contains(st.Examples[0].Error(), tc.badMatch) {
				t.Errorf("error %q lacks %q", st.Examples[0], tc.badMatch)
			}
			kept := false
			for _, ev := range evs {
				kept = kept || ev.Get("process.args").Equal(event.Strs("nft", "flush", "ruleset"))
			}
			if tc.name != "execve without EXECVE" && !kept {
				t.Error("the good record was lost")
			}
		})
	}
	for _, tc := range []struct{ name, input, want string }{
		{"invalid json", "{\"ID\":\"1.2:3\",\n", "invalid JSON"},
		{"not an object", "[1,2]\n", "expected a JSON object"},
		{"no ID", "{\"SYSCALL\":{}}\n", "without \"ID\""},
	} {
		t.Run("laurel "+tc.name, func(t *testing.T) {
			_, st := read(t, Laurel{}, "l", tc.input+`{"ID":"1.2:4","SYSCALL":{"syscall":59,"success":"yes","pid":5,"exe":"/usr/sbin/nft"},"EXECVE":{"argc":2,"ARGV":["nft","-v"]}}`+"\n")
			if st.BadCount != 1 || !strings.Contains(st.Examples[0].Error(), tc.want) || st.Events != 0 {
				t.Errorf("bad %d %v", st.BadCount, st.Examples)
			}
		})
	}
}

func TestRecords(t *testing.T) {
	in := `node=fw1 type=SYSCALL msg=audit(1795358960.420:7): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=9 auid=4294967295 uid=0 comm="x" exe="/usr/bin/printf"` + "\x1d" + `ARCH=x86_64 SYSCALL=execve AUID="unset" UID="root"
Nov 22 14:49:20 fw1 audispd: node=fw1 type=EXECVE msg=audit(1795358960.420:7): argc=3 a0="printf" a1=2A66696C7465720A a2_len=8 a2[0]=6162 a2[1]=63642065
type=PROCTITLE msg=audit(1795358960.420:7): proctitle=7072696E746600782079
type=SERVICE_STOP msg=audit(1795358961.000:8): pid=1 uid=0 auid=4294967295 ses=4294967295 msg='unit=firewalld comm="systemd" exe="/usr/lib/systemd/systemd" hostname=? addr=? terminal=? res=success'
`
	evs, st := read(t, Raw{}, "r", in)
	if st.BadCount != 0 || len(evs) != 2 {
		t.Fatalf("%d events, bad %v", len(evs), st.Examples)
	}
	ex := evs[0]
	if got := ex.Get("process.args"); !got.Equal(event.Strs("printf", "*filter\n", "abcd e")) {
		t.Errorf("argv = %q", got.String())
	}
	if ex.Get("host.name").Str != "fw1" || ex.Get("user.name").Str != "root" || ex.Has("user.audit.id") {
		t.Errorf("host %v user %v audit %v", ex.Get("host.name"), ex.Get("user.name"), ex.Get("user.audit.id"))
	}
	if ex.Get("auditd.proctitle").Str != "printf\x00x y" && ex.Get("auditd.proctitle").Str != "printf x y" {
		t.Errorf("proctitle %q", ex.Get("auditd.proctitle").Str)
	}
	if ex.Get("auditd.SYSCALL").Str != "execve" || !ex.Get("auditd.type").Equal(event.Strs("SYSCALL", "EXECVE", "PROCTITLE")) {
		t.Errorf("raw fields: %v %v", ex.Get("auditd.SYSCALL"), ex.Get("auditd.type"))
	}
	sv := evs[1]
	if sv.Get("event.action").Str != "service_stop" || sv.Get("service.name").Str != "firewalld" || sv.Get("auditd.unit").Str != "firewalld" {
		t.Errorf("service stop: %v %v", sv.Get("event.action"), sv.Get("service.name"))
	}
}

func FuzzRaw(f *testing.F) {
	data, _ := os.ReadFile(filepath.Join("testdata", "excerpt.log"))
	for _, l := range strings.Split(string(data), "\n") {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, s string) {
		read(t, Raw{}, "f", s+"\n"+s)
	})
}

func FuzzLaurel(f *testing.F) {
	data, _ := os.ReadFile(filepath.Join("testdata", "excerpt.jsonl"))
	for _, l := range strings.Split(string(data), "\n") {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, s string) {
		read(t, Laurel{}, "f", s)
	})
}

func BenchmarkRaw(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "excerpt.log"))
	if err != nil {
		b.Fatal(err)
	}
	// Copies of the excerpt with fresh serials, so events stay distinct.
	var sb strings.Builder
	for k := 0; k < 200; k++ {
		sb.WriteString(strings.ReplaceAll(string(data), "msg=audit(17953589", "msg=audit("+strconv.Itoa(1000+k)+"3589"))
	}
	big := sb.String()
	b.SetBytes(int64(len(big)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		evs, _ := read(b, Raw{}, "b", big)
		n += len(evs)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}
