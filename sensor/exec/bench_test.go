package exec

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/firewarden/firewarden/event"
)

// stormExecs is the size of an exec storm: short processes (/bin/true)
// from stormSpawners shells.
const (
	stormExecs    = 20000
	stormSpawners = 2
)

// storm runs the exec storm and returns how long it took and the
// spawners' pids.
func storm(b *testing.B) (time.Duration, []int) {
	per := stormExecs / stormSpawners
	script := fmt.Sprintf(`i=0; while [ $i -lt %d ]; do /bin/true; i=$((i+1)); done`, per)
	cmds := make([]*exec.Cmd, stormSpawners)
	start := time.Now()
	for i := range cmds {
		cmds[i] = exec.Command("/bin/sh", "-c", script)
		if err := cmds[i].Start(); err != nil {
			b.Fatal(err)
		}
	}
	pids := make([]int, len(cmds))
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			b.Fatal(err)
		}
		pids[i] = c.Process.Pid
	}
	return time.Since(start), pids
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkExecStorm: 20,000 short processes from two spawners, with the
// sensor off, on, and off again. Reports ring-buffer drops, events/s,
// the sensor's user-space CPU per 1,000 execs (rusage of this process:
// the ring-buffer reader and event building), the BPF program's own
// kernel time per exec (bpf_stats), and the storm's slowdown with the
// sensor on.
//
//	go test ./sensor/exec -run '^$' -bench ExecStorm -benchtime 1x
func BenchmarkExecStorm(b *testing.B) {
	if testing.Short() {
		b.Skip("exec storm")
	}
	s := openSensor(b, Options{})
	stats, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	if err != nil {
		b.Logf("bpf_stats unavailable: %v", err)
	} else {
		defer stats.Close()
	}
	prog := s.coll.Programs[progFor[s.attach]]
	b.Logf("attach point %s", s.Attach())

	for range b.N {
		s.link.Close() // off: the program detached
		off1, _ := storm(b)
		if err := s.reattach(); err != nil {
			b.Fatal(err)
		}

		var mu sync.Mutex
		byParent := map[int64]int{}
		var total atomic.Int64
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- s.Run(ctx, func(ev *event.Event) error {
				total.Add(1)
				mu.Lock()
				byParent[ev.Get("process.parent.pid").Int]++
				mu.Unlock()
				return nil
			})
		}()
		st0 := s.Stats()
		var runs0, rt0 uint64
		if ps, err := prog.Stats(); err == nil {
			runs0, rt0 = ps.RunCount, uint64(ps.Runtime)
		}
		cpu0 := cpuTime()
		on, pids := storm(b)
		// Wait for the reader to catch up (or give up after 10 s).
		got := func() int {
			mu.Lock()
			defer mu.Unlock()
			n := 0
			for _, p := range pids {
				n += byParent[int64(p)]
			}
			return n
		}
		deadline := time.Now().Add(10 * time.Second)
		for got() < stormExecs && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		cpu := cpuTime() - cpu0
		st := s.Stats()
		cancel()
		<-done
		var bpfNs float64
		if ps, err := prog.Stats(); err == nil && ps.RunCount > runs0 {
			bpfNs = float64(uint64(ps.Runtime)-rt0) / float64(ps.RunCount-runs0)
		}

		s.link.Close()
		off2, _ := storm(b)
		if err := s.reattach(); err != nil {
			b.Fatal(err)
		}

		seen := got()
		drops := st.Dropped - st0.Dropped
		offMean := (off1 + off2) / 2
		b.ReportMetric(float64(drops), "drops")
		b.ReportMetric(float64(seen), "events")
		b.ReportMetric(float64(seen)/on.Seconds(), "events/s")
		b.ReportMetric(float64(cpu.Microseconds())/1000/(float64(seen)/1000), "cpu-ms/1k-execs")
		b.ReportMetric(bpfNs, "bpf-ns/exec")
		b.ReportMetric(100*(on.Seconds()-offMean.Seconds())/offMean.Seconds(), "slowdown-%")
		b.Logf("storm off %v / on %v / off %v; %d of %d spawned execs seen, %d drops, user-space CPU %v, BPF %.0f ns/exec",
			off1.Round(time.Millisecond), on.Round(time.Millisecond), off2.Round(time.Millisecond), seen, stormExecs, drops, cpu.Round(time.Millisecond), bpfNs)
		if seen != stormExecs || drops != 0 {
			b.Errorf("saw %d of %d execs, %d drops", seen, stormExecs, drops)
		}
	}
}

// BenchmarkExecLive is a short live run for profiling the user-space path:
// stormExecsLive short processes from stormSpawners shells, once with the
// program detached (the floor: this process's CPU while it only waits for
// the spawners) and once attached, reporting this process's CPU per 1,000
// execs (rusage, as BenchmarkExecStorm) for both.
//
//	go test ./sensor/exec -run '^$' -bench ExecLive -benchtime 1x -cpuprofile cpu.out
func BenchmarkExecLive(b *testing.B) {
	if testing.Short() {
		b.Skip("live benchmark")
	}
	s := openSensor(b, Options{})
	for range b.N {
		s.link.Close()
		off, _ := liveStorm(b, s, false)
		if err := s.reattach(); err != nil {
			b.Fatal(err)
		}
		on, seen := liveStorm(b, s, true)
		b.ReportMetric(float64(off.Microseconds())/1000/(stormExecsLive/1000), "off-cpu-ms/1k-execs")
		b.ReportMetric(float64(on.Microseconds())/1000/(stormExecsLive/1000), "cpu-ms/1k-execs")
		if seen != stormExecsLive {
			b.Errorf("saw %d of %d execs", seen, stormExecsLive)
		}
	}
}

const stormExecsLive = 2000

// liveStorm runs stormExecsLive execs from stormSpawners shells, started
// together once Run is reading, and returns this process's CPU time from
// the start until Run has seen them all (or 10 s after the spawners end),
// and how many it saw.
func liveStorm(b *testing.B, s *Sensor, attached bool) (time.Duration, int) {
	var mine atomic.Int64
	var mu sync.Mutex
	spawners := map[int64]bool{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- s.Run(ctx, func(ev *event.Event) error {
			mu.Lock()
			if spawners[ev.Get("process.parent.pid").Int] {
				mine.Add(1)
			}
			mu.Unlock()
			return nil
		})
	}()
	per := stormExecsLive / stormSpawners
	script := fmt.Sprintf(`read x; i=0; while [ $i -lt %d ]; do /bin/true; i=$((i+1)); done`, per)
	var cmds []*exec.Cmd
	var starts []io.WriteCloser
	for range stormSpawners {
		c := exec.Command("/bin/sh", "-c", script)
		w, err := c.StdinPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Start(); err != nil {
			b.Fatal(err)
		}
		mu.Lock()
		spawners[int64(c.Process.Pid)] = true
		mu.Unlock()
		cmds = append(cmds, c)
		starts = append(starts, w)
	}
	time.Sleep(100 * time.Millisecond) // the shells' own exec events
	var ru0, ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	cpu0 := cpuTime()
	for _, w := range starts {
		w.Write([]byte("go\n"))
		w.Close()
	}
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			b.Fatal(err)
		}
	}
	if attached {
		deadline := time.Now().Add(10 * time.Second)
		for mine.Load() < stormExecsLive && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
	cpu := cpuTime() - cpu0
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	b.Logf("attached %v: user %v sys %v, minor faults %d, context switches %d voluntary %d involuntary",
		attached, time.Duration(ru1.Utime.Nano()-ru0.Utime.Nano()), time.Duration(ru1.Stime.Nano()-ru0.Stime.Nano()),
		ru1.Minflt-ru0.Minflt, ru1.Nvcsw-ru0.Nvcsw, ru1.Nivcsw-ru0.Nivcsw)
	cancel()
	<-done
	return cpu, int(mine.Load())
}
