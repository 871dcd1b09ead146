package sink

import (
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firewarden/firewarden/alert"
)

func testAlert(id string) *alert.Alert {
	return &alert.Alert{ID: id, Rule: alert.RuleInfo{ID: "r1", Name: "Iptables Flush", Severity: "high", RiskScore: 73}}
}

func TestFileAppends(t *testing.T) {
	p := filepath.Join(t.TempDir(), "alerts.ndjson")
	for _, id := range []string{"a", "b"} {
		f, err := OpenFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Write(testAlert(id)); err != nil {
			t.Fatal(err)
		}
		if f.Stats().Written != 1 {
			t.Errorf("stats %+v", f.Stats())
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := os.ReadFile(p)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines: %s", len(lines), b)
	}
	var a alert.Alert
	if err := json.Unmarshal([]byte(lines[1]), &a); err != nil || a.ID != "b" {
		t.Errorf("second line %s: %v", lines[1], err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestSyslogUDP(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	s, err := OpenSyslog("udp", pc.LocalAddr().String(), "firewarden")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Write(testAlert("x1")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65536)
	pc.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, _, err := pc.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	msg := string(buf[:n])
	// <PRI>: facility auth (4), severity err (3) for a high alert = 35.
	if !strings.HasPrefix(msg, "<35>") || !strings.Contains(msg, "firewarden alert x1: Iptables Flush [high, risk 73]") {
		t.Errorf("message %q", msg)
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestWebhookRetries(t *testing.T) {
	var calls atomic.Int32
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		if n <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		b, _ := io.ReadAll(r.Body)
		got.Store(string(b))
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	w := NewWebhook(srv.URL, 10)
	w.Backoff, w.Log = 10*time.Millisecond, quiet()
	if err := w.Write(testAlert("w1")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	st := w.Stats()
	if st.Written != 1 || st.Retries != 2 || st.Failed != 0 || calls.Load() != 3 {
		t.Errorf("stats %+v after %d calls", st, calls.Load())
	}
	if s, _ := got.Load().(string); !strings.Contains(s, `"id":"w1"`) {
		t.Errorf("body %q", s)
	}
}

func TestWebhookPermanentAndExhausted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "bad") {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	bad := NewWebhook(srv.URL+"/bad", 10)
	bad.Backoff, bad.Log = time.Millisecond, quiet()
	bad.Write(testAlert("b1"))
	if err := bad.Close(); err == nil || bad.Stats().Retries != 0 || bad.Stats().Failed != 1 {
		t.Errorf("400: %v %+v, want no retry and one failure", err, bad.Stats())
	}
	down := NewWebhook(srv.URL+"/down", 10)
	down.Backoff, down.MaxAttempts, down.Log = time.Millisecond, 3, quiet()
	down.Write(testAlert("d1"))
	if err := down.Close(); err == nil || down.Stats().Retries != 2 || down.Stats().Failed != 1 {
		t.Errorf("500: %v %+v, want 2 retries then one failure", err, down.Stats())
	}
}

func TestWebhookQueueFullIsCounted(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	defer srv.Close()
	w := NewWebhook(srv.URL, 1)
	w.Log = quiet()
	var refused int
	for i := range 5 {
		if err := w.Write(testAlert(string(rune('a' + i)))); err != nil {
			refused++
		}
	}
	close(release)
	w.Close()
	st := w.Stats()
	if refused == 0 || st.Failed != int64(refused) || st.Written+st.Failed != 5 {
		t.Errorf("refused %d, stats %+v: every alert must be delivered or counted", refused, st)
	}
}
