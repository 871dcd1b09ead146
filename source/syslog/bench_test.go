package syslog

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/source"
)

const benchEvents = 20_000

// benchLine is one generated message: program, pid (0: none), message.
type benchLine struct {
	prog string
	pid  int
	msg  string
}

// benchMessages renders a realistic mix of auth.log, syslog and kern.log
// content: sshd, cron, sudo, systemd, firewalld, and ufw kernel lines
// (about one in ten firewall-related).
func benchMessages(r *rand.Rand) benchLine {
	ip := func() string { return fmt.Sprintf("203.0.113.%d", r.IntN(254)+1) }
	pid := 1000 + r.IntN(60000)
	switch n := r.IntN(100); {
	case n < 25:
		return benchLine{"sshd", pid, fmt.Sprintf("Failed password for invalid user admin%d from %s port %d ssh2", r.IntN(100), ip(), 1024+r.IntN(60000))}
	case n < 35:
		return benchLine{"sshd", pid, fmt.Sprintf("Accepted publickey for deploy from %s port %d ssh2: ED25519 SHA256:3mFzPq6k0c1VYQk2r1Zk3o0aH3sZ9cXo8b0cQm7cJ3E", ip(), 1024+r.IntN(60000))}
	case n < 45:
		return benchLine{"sshd", pid, "pam_unix(sshd:session): session opened for user deploy(uid=1001) by (uid=0)"}
	case n < 60:
		return benchLine{"CRON", pid, "(root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)"}
	case n < 65:
		return benchLine{"CRON", pid, "pam_unix(cron:session): session closed for user root"}
	case n < 75:
		return benchLine{"systemd", 1, "Started session-" + fmt.Sprint(r.IntN(999)) + ".scope - Session of User deploy."}
	case n < 80:
		return benchLine{"sudo", 0, "   admin : TTY=pts/0 ; PWD=/home/admin ; USER=root ; COMMAND=/usr/sbin/iptables -L -n"}
	case n < 82:
		return benchLine{"sudo", 0, "   admin : TTY=pts/0 ; PWD=/home/admin ; USER=root ; COMMAND=/usr/sbin/ufw disable"}
	case n < 85:
		return benchLine{"firewalld", 901, "WARNING: AllowZoneDrifting is enabled. This is considered an insecure configuration option."}
	case n < 95:
		return benchLine{"kernel", 0, fmt.Sprintf("[UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=%s DST=192.0.2.10 LEN=60 TOS=0x00 PREC=0x00 TTL=51 ID=%d DF PROTO=TCP SPT=%d DPT=%d WINDOW=64240 RES=0x00 SYN URGP=0", ip(), r.IntN(65535), 1024+r.IntN(60000), []int{22, 23, 3389, 445}[r.IntN(4)])}
	default:
		return benchLine{"dbus-daemon", pid, "[system] Successfully activated service 'org.freedesktop.hostname1'"}
	}
}

var benchOnce struct {
	sync.Once
	text, journal []byte
}

// benchData renders benchEvents generated messages twice: as rsyslog's
// traditional file format (half) and high-precision format (half), and as
// journalctl -o json.
func benchData() ([]byte, []byte) {
	benchOnce.Do(func() {
		r := rand.New(rand.NewPCG(1, 2))
		t := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
		var txt, js bytes.Buffer
		for i := 0; i < benchEvents; i++ {
			t = t.Add(time.Duration(r.IntN(2000)) * time.Millisecond)
			l := benchMessages(r)
			tag := l.prog
			if l.pid > 0 {
				tag = fmt.Sprintf("%s[%d]", l.prog, l.pid)
			}
			if i%2 == 0 {
				fmt.Fprintf(&txt, "%s fw1 %s: %s\n", t.Format(time.Stamp), tag, l.msg)
			} else {
				fmt.Fprintf(&txt, "%s fw1 %s: %s\n", t.Format("2006-01-02T15:04:05.000000-07:00"), tag, l.msg)
			}
			rec := map[string]string{
				"__CURSOR":             fmt.Sprintf("s=3f1b2c4d5e6f47a8b9c0d1e2f3a4b5c6;i=%x;b=9e8d7c6b5a4f43e2a1b0c9d8e7f6a5b4;m=%x;t=%x;x=1d2c3b4a5968", i, i*1000, t.UnixMicro()),
				"__REALTIME_TIMESTAMP": fmt.Sprint(t.UnixMicro()), "__MONOTONIC_TIMESTAMP": fmt.Sprint(8000000000 + i),
				"_BOOT_ID": "9e8d7c6b5a4f43e2a1b0c9d8e7f6a5b4", "_MACHINE_ID": "0123456789abcdef0123456789abcdef", "_HOSTNAME": "fw1",
				"PRIORITY": "6", "SYSLOG_FACILITY": "4", "SYSLOG_IDENTIFIER": l.prog, "MESSAGE": l.msg, "_TRANSPORT": "syslog",
			}
			if l.pid > 0 {
				rec["_PID"], rec["SYSLOG_PID"], rec["_UID"], rec["_GID"] = fmt.Sprint(l.pid), fmt.Sprint(l.pid), "0", "0"
				rec["_COMM"], rec["_EXE"], rec["_CMDLINE"] = l.prog, "/usr/sbin/"+l.prog, "/usr/sbin/"+l.prog+" -D"
				rec["_SYSTEMD_UNIT"], rec["_SYSTEMD_CGROUP"], rec["_SYSTEMD_SLICE"] = l.prog+".service", "/system.slice/"+l.prog+".service", "system.slice"
			}
			b, _ := json.Marshal(rec)
			js.Write(b)
			js.WriteByte('\n')
		}
		benchOnce.text, benchOnce.journal = txt.Bytes(), js.Bytes()
	})
	return benchOnce.text, benchOnce.journal
}

func benchRead(b *testing.B, f source.Format, data []byte) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	b.ResetTimer()
	events := 0
	for i := 0; i < b.N; i++ {
		st := &source.Stats{}
		err := f.Read(context.Background(), &source.Input{Name: "bench", R: bytes.NewReader(data), Stats: st},
			func(*event.Event) error { events++; return nil })
		if err != nil || st.BadCount != 0 {
			b.Fatal(err, st.Examples)
		}
	}
	b.StopTimer()
	if events != b.N*benchEvents {
		b.Fatalf("%d events, want %d", events, b.N*benchEvents)
	}
	runtime.ReadMemStats(&m1)
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(events), "allocs/event")
}

// BenchmarkText reads 20,000 generated syslog lines (rsyslog traditional
// and high-precision formats, sshd/cron/sudo/systemd/firewalld/ufw) into
// events, hints included. One op is the whole stream.
func BenchmarkText(b *testing.B) {
	txt, _ := benchData()
	benchRead(b, Text{Reference: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), Location: time.UTC}, txt)
}

// BenchmarkJournal reads the same messages as journalctl -o json records
// (about 20 fields each, all kept under journald.*).
func BenchmarkJournal(b *testing.B) {
	_, js := benchData()
	benchRead(b, Journal{}, js)
}

// BenchmarkTextScanOnly is the floor: splitting the same bytes into lines
// with bufio.Scanner and copying each to a string.
func BenchmarkTextScanOnly(b *testing.B) {
	txt, _ := benchData()
	b.SetBytes(int64(len(txt)))
	b.ReportAllocs()
	events := 0
	for i := 0; i < b.N; i++ {
		sc := bufio.NewScanner(bytes.NewReader(txt))
		for sc.Scan() {
			_ = string(sc.Bytes())
			events++
		}
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}
