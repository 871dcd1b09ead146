package watch

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/firewarden/firewarden/alert"
	"github.com/firewarden/firewarden/hunt"
	"github.com/firewarden/firewarden/lang/eql"
	"github.com/firewarden/firewarden/rule"
	execsensor "github.com/firewarden/firewarden/sensor/exec"
	"github.com/firewarden/firewarden/sensor/nft"
)

// timedSink hands each alert's arrival time to the benchmark.
type timedSink struct{ at chan time.Time }

func (s *timedSink) Write(*alert.Alert) error {
	select {
	case s.at <- time.Now():
	default:
	}
	return nil
}
func (s *timedSink) Close() error { return nil }

func benchEnv(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// benchNetns makes a throwaway network namespace (deleted afterwards):
// every firewall command of the benchmark runs in it.
func benchNetns(b *testing.B) string {
	b.Helper()
	if os.Geteuid() != 0 {
		b.Skip("needs root (eBPF, netlink, network namespaces)")
	}
	for _, c := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(c); err != nil {
			b.Skipf("%s not installed", c)
		}
	}
	var r [4]byte
	rand.Read(r[:])
	name := "fwb-" + hex.EncodeToString(r[:])
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		b.Fatalf("ip netns add: %v: %s", err, out)
	}
	b.Cleanup(func() { exec.Command("ip", "netns", "delete", name).Run() })
	return name
}

// execLoop runs n short processes (/bin/true) from two shells and
// returns how long it took.
func execLoop(b *testing.B, n int) time.Duration {
	script := fmt.Sprintf(`i=0; while [ $i -lt %d ]; do /bin/true; i=$((i+1)); done`, n/2)
	start := time.Now()
	cmds := []*exec.Cmd{exec.Command("/bin/sh", "-c", script), exec.Command("/bin/sh", "-c", script)}
	for _, c := range cmds {
		if err := c.Start(); err != nil {
			b.Fatal(err)
		}
	}
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start)
}

// pipeline is a running watcher with the exec and nft sensors.
type pipeline struct {
	ex     *execsensor.Sensor
	nf     *nft.Sensor
	sink   *timedSink
	cancel context.CancelFunc
	done   chan error
}

func startPipeline(b *testing.B, r *rule.Rule) *pipeline {
	eng, refused := hunt.Compile([]*rule.Rule{r})
	if len(refused) > 0 {
		b.Fatal(refused)
	}
	ex, err := execsensor.Open(execsensor.Options{})
	if err != nil {
		b.Skipf("exec sensor: %v", err)
	}
	nf, err := nft.Open(nft.Options{})
	if err != nil {
		ex.Close()
		b.Skipf("nft sensor: %v", err)
	}
	p := &pipeline{ex: ex, nf: nf, sink: &timedSink{at: make(chan time.Time, 16)}, done: make(chan error, 1)}
	w, err := New(Config{Sensors: []Sensor{ex, nf}, Engine: eng, Sink: p.sink})
	if err != nil {
		b.Fatal(err)
	}
	var ctx context.Context
	ctx, p.cancel = context.WithCancel(context.Background())
	go func() { p.done <- w.Run(ctx) }()
	return p
}

// stop stops the watcher and closes the sensors; it returns their drops.
func (p *pipeline) stop(b *testing.B) int64 {
	p.cancel()
	if err := <-p.done; err != nil {
		b.Error(err)
	}
	drops := p.ex.Drops() + p.nf.Stats().Overruns
	p.ex.Close()
	return drops
}

// BenchmarkExecToAlert runs the watch pipeline live — exec sensor, nft
// sensor, one rule over nft_ruleset_flushed — and measures, over 200
// `nft flush ruleset` commands in a throwaway namespace, the time from
// just before the command is started (`ip netns exec NS nft flush
// ruleset`) to its alert reaching the sink: p50, p99 and max.
//
// Then the slowdown of an exec-heavy loop (1,000 /bin/true from two
// shells) with the pipeline running against the same loop with every
// sensor closed, in the same run: 10 rounds, each an off and an on loop
// in alternating order (off-on, on-off, …) so drift cancels; the figure is
// the total time on against the total time off.
//
//	go test ./watch -run '^$' -bench ExecToAlert -benchtime 1x
//
// FIREWARDEN_BENCH_FLUSHES, FIREWARDEN_BENCH_EXECS and
// FIREWARDEN_BENCH_ROUNDS change the sizes.
func BenchmarkExecToAlert(b *testing.B) {
	if testing.Short() {
		b.Skip("live benchmark")
	}
	flushes := benchEnv("FIREWARDEN_BENCH_FLUSHES", 200)
	execs := benchEnv("FIREWARDEN_BENCH_EXECS", 1000)
	rounds := benchEnv("FIREWARDEN_BENCH_ROUNDS", 10)
	ns := benchNetns(b)
	q, err := eql.Compile(`configuration where event.action == "nft_ruleset_flushed"`, eql.Options{})
	if err != nil {
		b.Fatal(err)
	}
	r := &rule.Rule{ID: "bench-flush", Name: "Ruleset flushed (bench)", Language: "eql", Severity: "high", RiskScore: 73, Query: q}
	nsExec := func(argv ...string) *exec.Cmd {
		return exec.Command("ip", append([]string{"netns", "exec", ns}, argv...)...)
	}
	fi, err := os.Stat("/run/netns/" + ns)
	if err != nil {
		b.Fatal(err)
	}
	ino := nsInodeOf(fi)

	for range b.N {
		// Latency.
		p := startPipeline(b, r)
		for deadline := time.Now().Add(5 * time.Second); !p.nf.Watching(ino); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				b.Fatal("the namespace was never watched")
			}
		}
		lat := make([]time.Duration, 0, flushes)
		missed := 0
		for range flushes {
			if out, err := nsExec("nft", "add", "table", "inet", "fwbench").CombinedOutput(); err != nil {
				b.Fatalf("nft add table: %v: %s", err, out)
			}
			for len(p.sink.at) > 0 {
				<-p.sink.at
			}
			cmd := nsExec("nft", "flush", "ruleset")
			start := time.Now()
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("nft flush ruleset: %v: %s", err, out)
			}
			select {
			case at := <-p.sink.at:
				lat = append(lat, at.Sub(start))
			case <-time.After(2 * time.Second):
				missed++
			}
		}
		drops := p.stop(b)

		// Slowdown: off and on loops, alternating.
		var ratios []float64
		var offSum, onSum time.Duration
		for i := range rounds {
			var off, on time.Duration
			onLoop := func() {
				p := startPipeline(b, r)
				// Past the start-up (BPF load, first namespace dumps).
				for deadline := time.Now().Add(5 * time.Second); !p.nf.Watching(ino) && time.Now().Before(deadline); {
					time.Sleep(20 * time.Millisecond)
				}
				time.Sleep(300 * time.Millisecond)
				on = execLoop(b, execs)
				drops += p.stop(b)
			}
			if i%2 == 0 {
				off = execLoop(b, execs)
				onLoop()
			} else {
				onLoop()
				off = execLoop(b, execs)
			}
			offSum += off
			onSum += on
			ratios = append(ratios, on.Seconds()/off.Seconds())
		}
		slices.Sort(ratios)
		slowdown := 100 * (onSum.Seconds() - offSum.Seconds()) / offSum.Seconds()

		slices.Sort(lat)
		pct := func(q float64) time.Duration {
			if len(lat) == 0 {
				return 0
			}
			return lat[min(len(lat)-1, int(q*float64(len(lat))))]
		}
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		b.ReportMetric(ms(pct(0.50)), "p50-ms")
		b.ReportMetric(ms(pct(0.99)), "p99-ms")
		b.ReportMetric(ms(pct(1)), "max-ms")
		b.ReportMetric(float64(missed), "missed")
		b.ReportMetric(slowdown, "slowdown-%")
		b.Logf("%d flushes: %d alerts, %d missed (none within 2 s); latency p50 %v p99 %v max %v",
			flushes, len(lat), missed, pct(0.50).Round(time.Microsecond), pct(0.99).Round(time.Microsecond), pct(1).Round(time.Microsecond))
		b.Logf("exec loop of %d execs, %d rounds: off %v / on %v in all; slowdown %.1f %%; per-round on/off (sorted) %.3f; drops %d",
			execs, rounds, offSum.Round(time.Millisecond), onSum.Round(time.Millisecond), slowdown, ratios, drops)
		if missed > 0 || drops > 0 {
			b.Errorf("%d flushes without an alert within 2 s, %d drops", missed, drops)
		}
	}
}

func nsInodeOf(fi os.FileInfo) uint64 { return fi.Sys().(*syscall.Stat_t).Ino }
