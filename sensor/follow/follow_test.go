package follow

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/internal/testenv"
	"github.com/firewarden/firewarden/source"
	"github.com/firewarden/firewarden/source/auditd"
)

// sampleLines reads the bundled laurel capture (one JSON event per line).
func sampleLines(t *testing.T, n int) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(testenv.Root(), "testdata", "samples", "laurel.jsonl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var out []string
	for sc.Scan() && len(out) < n {
		out = append(out, sc.Text())
	}
	return out
}

type got struct {
	mu sync.Mutex
	n  int
}

func (g *got) emit(ev *event.Event) error {
	g.mu.Lock()
	g.n++
	g.mu.Unlock()
	return nil
}

func (g *got) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.n
}

func (g *got) waitFor(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && g.count() < n {
		time.Sleep(20 * time.Millisecond)
	}
	if c := g.count(); c < n {
		t.Fatalf("%d events after 5s, want %d", c, n)
	}
}

func appendLines(t *testing.T, path string, lines []string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		f.WriteString(l + "\n")
	}
	f.Close()
}

// TestFollowRotationTruncation: lines written after start arrive; a
// rotated log (renamed, a new one created) and a truncated one are
// followed from their start; a half-written line waits for its end.
func TestFollowRotationTruncation(t *testing.T) {
	lines := sampleLines(t, 40)
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.jsonl")
	appendLines(t, path, lines[:5]) // already there: skipped (following starts at the end)
	s := &Sensor{Path: path, Formats: []source.Format{auditd.Laurel{}}, Poll: 10 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	g := &got{}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, g.emit) }()
	<-s.Ready()

	appendLines(t, path, lines[5:15])
	g.waitFor(t, 10)

	// A line written in two parts arrives once, whole.
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644)
	f.WriteString(lines[15][:20])
	time.Sleep(50 * time.Millisecond)
	f.WriteString(lines[15][20:] + "\n")
	f.Close()
	g.waitFor(t, 11)

	// Rotation: the old file is renamed, a new one starts.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendLines(t, path, lines[16:26])
	g.waitFor(t, 21)

	// Truncation (copytruncate): the file starts over.
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	appendLines(t, path, lines[26:30])
	g.waitFor(t, 25)

	cancel()
	if err := <-done; err != nil && err != context.Canceled {
		t.Fatalf("Run: %v", err)
	}
	if c := g.count(); c != 25 {
		t.Errorf("%d events, want 25 (none of the 5 written before start, none twice)", c)
	}
	if _, bad, reopens := s.Stats(); bad != 0 || reopens != 2 {
		t.Errorf("bad %d, reopens %d; want 0 and 2", bad, reopens)
	}
}

func TestFollowUnknownFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.log")
	os.WriteFile(path, []byte("hello world\nnot a log format firewarden reads\n"), 0o644)
	s := &Sensor{Path: path, Formats: []source.Format{auditd.Laurel{}}, Poll: 10 * time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.Run(ctx, func(*event.Event) error { return nil }); err == nil || err == context.DeadlineExceeded {
		t.Fatalf("error %v, want format not recognised", err)
	}
}

// FuzzComplete: however a stream is cut into reads, the complete lines
// handed on, followed by what remains, are the stream, in order.
func FuzzComplete(f *testing.F) {
	for _, l := range []string{"type=SYSCALL msg=audit(1.1:2): x\ntype=EOE", "{\"a\":1}\n{\"b\"", "\n\n", ""} {
		f.Add(l, 3)
	}
	f.Fuzz(func(t *testing.T, stream string, cut int) {
		if cut <= 0 {
			cut = 1
		}
		var out, partial []byte
		for i := 0; i < len(stream); i += cut {
			var lines []byte
			lines, partial = complete(partial, []byte(stream[i:min(i+cut, len(stream))]))
			if len(lines) > 0 && lines[len(lines)-1] != '\n' {
				t.Fatalf("lines %q do not end a line", lines)
			}
			out = append(out, lines...)
		}
		if got := string(out) + string(partial); got != stream {
			t.Fatalf("got %q, want %q", got, stream)
		}
		if bytes.IndexByte(partial, '\n') >= 0 {
			t.Fatalf("the remainder %q holds a complete line", partial)
		}
	})
}
