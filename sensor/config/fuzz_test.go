package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func seeds(t testing.TB) [][]byte {
	paths, _ := filepath.Glob(filepath.Join("testdata", "records", "*.bin"))
	if len(paths) == 0 {
		t.Fatal("no seeds in testdata/records (go test -run TestLiveConfigFiles -capture as root)")
	}
	var out [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// fuzzSensor is a sensor with no fanotify group whose directory map
// knows the seeds' directory handles, so decoded records reach the event
// building.
func fuzzSensor(t testing.TB) *Sensor {
	s := &Sensor{opts: Options{Paths: DefaultPaths, MaxDepth: 8}, fd: -1, dirs: map[string]string{}, marked: map[string]bool{},
		mounts: map[[2]int32]int{}, pending: map[pendingKey]bool{}}
	dirs := []string{"/etc", "/etc/ufw", "/etc/iptables", "/etc/firewalld", "/etc/sysconfig"}
	n := 0
	for _, b := range seeds(t) {
		recs, _ := Decode(b)
		for _, r := range recs {
			for _, in := range r.Info {
				if in.Type != infoFID {
					s.dirs[in.Key()] = dirs[n%len(dirs)]
					n++
				}
			}
		}
	}
	return s
}

// FuzzDecode feeds the decoder and the event building arbitrary reads,
// seeded from real ones the live test captured (testdata/records).
func FuzzDecode(f *testing.F) {
	for _, b := range seeds(f) {
		f.Add(b)
	}
	s := fuzzSensor(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, _ := Decode(b)
		for i := range recs {
			recs[i].FD = -1 // handle closes a record's fd
			for _, ev := range s.handle(time.Now(), &recs[i]) {
				if !ev.Get("event.action").Exists() {
					t.Fatal("event without an action")
				}
			}
		}
	})
}

// TestSeedsDecode: the captured reads decode whole and cover the events
// the sensor reports.
func TestSeedsDecode(t *testing.T) {
	var mask uint64
	infos := map[uint8]bool{}
	for _, b := range seeds(t) {
		recs, err := Decode(b)
		if err != nil {
			t.Error(err)
		}
		for _, r := range recs {
			mask |= r.Mask
			if r.PID <= 0 {
				t.Errorf("record without a pid: %+v", r)
			}
			for _, in := range r.Info {
				infos[in.Type] = true
			}
		}
	}
	for _, m := range []uint64{unix.FAN_CREATE, unix.FAN_DELETE, unix.FAN_MODIFY, unix.FAN_CLOSE_WRITE, unix.FAN_RENAME, unix.FAN_ONDIR} {
		if mask&m == 0 {
			t.Errorf("no captured event with mask %#x", m)
		}
	}
	for _, k := range []uint8{infoFID, infoDFIDName, infoOldDFIDName, infoNewDFIDName} {
		if !infos[k] {
			t.Errorf("no captured information record of type %d", k)
		}
	}
}
