package exec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/firewarden/firewarden/source/process"
)

// testdata/records.bin holds raw ring-buffer records captured from a live
// run (TestCaptureRecords), each as a little-endian uint32 length and the
// record: the input of the user-space path without a kernel.
const recordsFile = "testdata/records.bin"

func loadRecords(tb testing.TB) [][]byte {
	tb.Helper()
	data, err := os.ReadFile(recordsFile)
	if err != nil {
		tb.Fatal(err)
	}
	var out [][]byte
	for len(data) >= 4 {
		n := int(binary.LittleEndian.Uint32(data))
		if len(data) < 4+n {
			tb.Fatalf("%s: record cut short", recordsFile)
		}
		out = append(out, data[4:4+n])
		data = data[4+n:]
	}
	if len(out) == 0 {
		tb.Fatalf("%s: no records", recordsFile)
	}
	return out
}

// offlineSensor is a Sensor with what event building uses and no kernel
// side.
func offlineSensor() *Sensor {
	s := &Sensor{host: "bench-host", table: process.NewTable(0),
		users: map[uint32]string{}, groups: map[uint32]string{}}
	s.refreshClock()
	return s
}

// TestCaptureRecords (FIREWARDEN_EXEC_CAPTURE=1, root) rewrites
// testdata/records.bin from a live run of a few different commands.
func TestCaptureRecords(t *testing.T) {
	if os.Getenv("FIREWARDEN_EXEC_CAPTURE") == "" {
		t.Skip("set FIREWARDEN_EXEC_CAPTURE=1 to capture records")
	}
	s := openSensor(t, Options{})
	dir := t.TempDir()
	script := `cd "$1"; /bin/true; /bin/true a b c; env -i /bin/echo "two words" ünïcode >/dev/null
ls -la /usr/bin >/dev/null; sh -c 'uname -a' >/dev/null; cat /etc/hostname >/dev/null
cp /bin/true ./renamed; ./renamed --flag=x; rm ./renamed
/usr/bin/env sh -c 'id -u' >/dev/null; printf '#!/bin/sh\nexit 0\n' >s.sh; chmod +x s.sh; ./s.sh arg
sleep 0.01; date >/dev/null; head -c 10 /dev/null; /bin/true "$(head -c 3000 /dev/zero | tr '\0' x)"`
	cmd := osexec.Command("/bin/sh", "-c", script, "sh", dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sh := uint32(cmd.Process.Pid)
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	// The script's own exec and its descendants' (their parents are the
	// shell or one of its children).
	mine := map[uint32]bool{sh: true}
	var out bytes.Buffer
	n := 0
	for {
		s.rd.SetDeadline(time.Now().Add(500 * time.Millisecond))
		rec, err := s.rd.Read()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		r, ok := decode(rec.RawSample)
		if !ok || !(mine[r.pid] || mine[r.ppid]) {
			continue
		}
		mine[r.pid] = true
		out.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(rec.RawSample))))
		out.Write(rec.RawSample)
		n++
	}
	if n < 10 {
		t.Fatalf("captured only %d records", n)
	}
	if err := os.MkdirAll(filepath.Dir(recordsFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(recordsFile, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("captured %d records", n)
}

// BenchmarkDecodeEvent is the user-space path per record without the
// ring buffer: decode and event building (with the parent table) over
// records captured from a live run.
//
//	go test ./sensor/exec -run '^$' -bench DecodeEvent -benchmem
func BenchmarkDecodeEvent(b *testing.B) {
	recs := loadRecords(b)
	s := offlineSensor()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r, ok := decode(recs[i%len(recs)])
		if !ok {
			b.Fatal("malformed record")
		}
		_ = s.event(&r)
		i++
	}
}

// TestCapturedRecordsDecode: every captured record decodes and makes an
// event.
func TestCapturedRecordsDecode(t *testing.T) {
	recs := loadRecords(t)
	s := offlineSensor()
	for i, raw := range recs {
		r, ok := decode(raw)
		if !ok {
			t.Fatalf("record %d malformed", i)
		}
		ev := s.event(&r)
		if ev.Get("process.pid").Int == 0 || ev.Get("@timestamp").String() == "" {
			t.Errorf("record %d: %v", i, fmt.Sprint(ev.Tree()))
		}
	}
}
