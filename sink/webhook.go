package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/firewarden/firewarden/alert"
)

// Webhook POSTs each alert as JSON to a URL. Delivery is asynchronous so
// that a slow receiver never stalls detection: alerts wait in a bounded
// queue; each is retried with exponential backoff (on connection errors,
// 5xx and 429) up to MaxAttempts. An alert that cannot be queued or
// delivered is counted as failed and logged, never dropped silently; Close
// waits for the queue to drain (up to its context's deadline).
type Webhook struct {
	URL         string
	Client      *http.Client
	MaxAttempts int           // default 6
	Backoff     time.Duration // first retry delay, doubled each time; default 500ms
	MaxBackoff  time.Duration // default 30s
	Log         *slog.Logger

	queue  chan []byte
	done   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	stats  Stats
}

// NewWebhook starts a webhook sink with a queue of size alerts.
func NewWebhook(url string, size int) *Webhook {
	if size <= 0 {
		size = 10_000
	}
	w := &Webhook{URL: url, Client: &http.Client{Timeout: 10 * time.Second}, MaxAttempts: 6,
		Backoff: 500 * time.Millisecond, MaxBackoff: 30 * time.Second, Log: slog.Default(),
		queue: make(chan []byte, size), done: make(chan struct{})}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	go w.run()
	return w
}

func (w *Webhook) Write(a *alert.Alert) error {
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	select {
	case w.queue <- b:
		return nil
	default:
		w.count(func(s *Stats) { s.Failed++ })
		w.Log.Error("webhook queue full: alert not delivered", "url", w.URL, "alert", a.ID, "rule", a.Rule.Name)
		return fmt.Errorf("webhook %s: queue full, alert %s not delivered", w.URL, a.ID)
	}
}

func (w *Webhook) count(f func(*Stats)) {
	w.mu.Lock()
	f(&w.stats)
	w.mu.Unlock()
}

// Stats reports the counts.
func (w *Webhook) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}

func (w *Webhook) run() {
	defer close(w.done)
	for b := range w.queue {
		w.deliver(b)
	}
}

func (w *Webhook) deliver(body []byte) {
	delay := w.Backoff
	for attempt := 1; ; attempt++ {
		err := w.post(body)
		if err == nil {
			w.count(func(s *Stats) { s.Written++ })
			return
		}
		var perm permanent
		if errors.As(err, &perm) || attempt >= w.MaxAttempts || w.ctx.Err() != nil {
			w.count(func(s *Stats) { s.Failed++ })
			w.Log.Error("webhook: alert not delivered", "url", w.URL, "attempts", attempt, "err", err)
			return
		}
		w.count(func(s *Stats) { s.Retries++ })
		select {
		case <-time.After(delay):
		case <-w.ctx.Done():
		}
		delay = min(2*delay, w.MaxBackoff)
	}
}

// permanent is a response the receiver will not change its mind about.
type permanent struct{ status int }

func (p permanent) Error() string { return fmt.Sprintf("HTTP %d", p.status) }

func (w *Webhook) post(body []byte) error {
	req, err := http.NewRequestWithContext(w.ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.Client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	switch {
	case resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return permanent{resp.StatusCode}
}

// Close stops accepting alerts and waits up to 30 seconds for those queued
// to be delivered; the rest are counted as failed.
func (w *Webhook) Close() error {
	return w.CloseContext(context.Background())
}

// CloseContext is Close with a caller's deadline for draining the queue.
func (w *Webhook) CloseContext(ctx context.Context) error {
	close(w.queue)
	timer := time.NewTimer(30 * time.Second)
	defer timer.Stop()
	select {
	case <-w.done:
	case <-ctx.Done():
		w.cancel()
		<-w.done
	case <-timer.C:
		w.cancel()
		<-w.done
	}
	w.cancel()
	if st := w.Stats(); st.Failed > 0 {
		return fmt.Errorf("webhook %s: %d alert(s) not delivered", w.URL, st.Failed)
	}
	return nil
}
