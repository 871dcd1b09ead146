package watch

import (
	"bufio"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firewarden/firewarden/alert"
	"github.com/firewarden/firewarden/hunt"
	"github.com/firewarden/firewarden/internal/testenv"
	"github.com/firewarden/firewarden/rule"
	"github.com/firewarden/firewarden/rules"
	"github.com/firewarden/firewarden/sensor/follow"
	"github.com/firewarden/firewarden/source"
	"github.com/firewarden/firewarden/source/auditd"
)

type collect struct {
	mu     sync.Mutex
	alerts []*alert.Alert
}

func (c *collect) Write(a *alert.Alert) error {
	c.mu.Lock()
	c.alerts = append(c.alerts, a)
	c.mu.Unlock()
	return nil
}
func (c *collect) Close() error { return nil }
func (c *collect) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.alerts)
}

// TestWatchFollowsAuditLog: the daemon follows a laurel audit log as it
// grows; the built-in pack's alerts for the attacks written to it arrive
// within two seconds; metrics count events and alerts on a loopback port;
// cancelling (SIGTERM) stops it cleanly.
func TestWatchFollowsAuditLog(t *testing.T) {
	set, err := rule.LoadFS(rules.FS, ".", "builtin:", true)
	if err != nil || len(set.Refused) > 0 {
		t.Fatalf("pack: %v %v", err, set.Refused)
	}
	eng, refused := hunt.Compile(set.Rules)
	if len(refused) > 0 {
		t.Fatal(refused)
	}
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	os.WriteFile(path, nil, 0o600)
	sink := &collect{}
	w, err := New(Config{
		Sensors:     []Sensor{&follow.Sensor{Path: path, Formats: []source.Format{auditd.Laurel{}}, FromStart: true, Poll: 10 * time.Millisecond}},
		Engine:      eng,
		Sink:        sink,
		MetricsAddr: "127.0.0.1:0",
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()

	// Write the capture (its first lines are needed to sniff the format).
	f, _ := os.Open(filepath.Join(testenv.Root(), "testdata", "samples", "laurel.jsonl.gz"))
	defer f.Close()
	zr, _ := gzip.NewReader(f)
	out, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o600)
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	lines := 0
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		lines++
	}
	out.Close()
	written := time.Now()
	for sink.count() == 0 && time.Since(written) < 2*time.Second {
		time.Sleep(10 * time.Millisecond)
	}
	if sink.count() == 0 {
		t.Fatal("no alert within 2s of the attacks being logged")
	}
	// Wait for the whole capture, then check the metrics.
	deadline := time.Now().Add(10 * time.Second)
	var metrics string
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + w.MetricsAddr().String() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		metrics = string(b)
		if strings.Contains(metrics, `firewarden_events_total{sensor="follow:`+path+`"} 1870`) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, want := range []string{`firewarden_events_total{sensor="follow:` + path + `"} 1870`, `firewarden_alerts_total{rule="UFW Disabled, Reset, Logging Off or Default Allow"} 3`, "firewarden_alert_latency_seconds_count"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop after cancel")
	}
	t.Logf("%d lines, %d alerts", lines, sink.count())
}

func TestMetricsLoopbackOnly(t *testing.T) {
	eng, _ := hunt.Compile(nil)
	w, err := New(Config{Sensors: []Sensor{&follow.Sensor{Path: "/nonexistent"}}, Engine: eng, Sink: &collect{}, MetricsAddr: "0.0.0.0:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("error %v, want a refusal of a non-loopback metrics address", err)
	}
}
