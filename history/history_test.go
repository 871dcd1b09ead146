package history

import (
	"path/filepath"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

func TestObserveWindow(t *testing.T) {
	s, err := Open("", 0)
	if err != nil {
		t.Fatal(err)
	}
	day := 24 * time.Hour
	steps := []struct {
		ns, term string
		at       time.Duration
		window   time.Duration
		want     bool
	}{
		{"r1", "alice|/usr/sbin/iptables", 0, 14 * day, true},
		{"r1", "alice|/usr/sbin/iptables", day, 14 * day, false},
		{"r2", "alice|/usr/sbin/iptables", day, 14 * day, true}, // namespaces are apart
		{"r1", "bob|/usr/sbin/iptables", 2 * day, 14 * day, true},
		{"r1", "alice|/usr/sbin/iptables", 15*day - time.Second, 14 * day, false}, // last seen at day 1: just inside 14d
		{"r1", "bob|/usr/sbin/iptables", 16*day + time.Second, 14 * day, true},    // last seen at day 2: outside
		{"r1", "bob|/usr/sbin/iptables", 16 * day, 0, false},                      // window 0: ever seen
		{"r1", "carol|x", 3 * day, 0, true},
	}
	for i, st := range steps {
		if got := s.Observe(st.ns, st.term, t0.Add(st.at), st.window); got != st.want {
			t.Errorf("step %d (%s %s at %v): new=%v, want %v", i, st.ns, st.term, st.at, got, st.want)
		}
	}
}

func TestOutOfOrderKeepsLatest(t *testing.T) {
	s, _ := Open("", 0)
	s.Observe("r", "x", t0.Add(10*time.Hour), time.Hour)
	s.Observe("r", "x", t0, time.Hour) // older: does not move last-seen back
	if s.Observe("r", "x", t0.Add(10*time.Hour+30*time.Minute), time.Hour) {
		t.Error("seen 30m before within a 1h window, reported new")
	}
}

func TestBoundEvictsLeastRecent(t *testing.T) {
	s, _ := Open("", 100)
	for i := range 150 {
		s.Observe("r", string(rune('A'+i)), t0.Add(time.Duration(i)*time.Minute), 0)
	}
	st := s.Stats()
	if st.Terms > 100 || st.Evicted == 0 {
		t.Fatalf("stats %+v, want at most 100 terms and evictions counted", st)
	}
	// The newest is remembered; the oldest was forgotten, so it is new again.
	if s.Observe("r", string(rune('A'+149)), t0.Add(200*time.Minute), 0) {
		t.Error("the newest term was forgotten")
	}
	if !s.Observe("r", "A", t0.Add(201*time.Minute), 0) {
		t.Error("the oldest term was kept past the bound")
	}
}

func TestPersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	s, err := Open(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	s.Observe("rule-a", "root|/tmp/x", t0, 0)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Observe("rule-a", "root|/tmp/x", t0.Add(time.Hour), 0) {
		t.Error("a term seen before the restart is new after it")
	}
	if !s.Observe("rule-b", "root|/tmp/x", t0.Add(time.Hour), 0) {
		t.Error("namespaces mixed up after a restart")
	}
}
