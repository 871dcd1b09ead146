package process

import (
	"strings"
	"time"

	"github.com/firewarden/firewarden/event"
)

// MaxAncestors bounds an ancestor chain (and breaks pid cycles a table
// built from several captures could hold).
const MaxAncestors = 32

// Proc is one exec remembered by a Lineage.
type Proc struct {
	PID, PPID   int64 // PPID 0: unknown
	Executable  string
	Name        string
	CommandLine string
	User        string
	// Time is when the exec happened (zero: unknown).
	Time time.Time
}

// Lineage remembers the latest exec of each (host, pid) with its parent pid,
// so an alert can name its culprit's ancestors. Unlike Table it never
// changes an event: it only reads process starts. It is bounded: when full,
// the oldest entry is evicted (and its Proc reused: copy what Lookup and
// Ancestors return before the next Record). Strings are copied, so a
// recorded event may be reused by its source.
type Lineage struct {
	procs bounded[*Proc]
	spare *Proc // the last evicted, reused by the next new process
}

// NewLineage returns a lineage holding at most capacity processes
// (DefaultCapacity when capacity <= 0).
func NewLineage(capacity int) *Lineage {
	return &Lineage{procs: newBounded[*Proc](capacity)}
}

// Len is the number of processes remembered.
func (l *Lineage) Len() int { return l.procs.len() }

// Record remembers ev if it is a process start with a pid.
func (l *Lineage) Record(ev *event.Event) {
	if !isStart(ev) {
		return
	}
	pid, ok := intOf(ev.Get("process.pid"))
	if !ok || pid <= 0 {
		return
	}
	// One copy of the strings (a source's may point into its buffers),
	// sliced into the fields.
	f := [5]string{ev.Get("host.name").String(), ev.Get("process.executable").String(), ev.Get("process.name").String(),
		ev.Get("process.command_line").String(), ev.Get("user.name").String()}
	n := 0
	for _, x := range f {
		n += len(x)
	}
	var b strings.Builder
	b.Grow(n)
	for _, x := range f {
		b.WriteString(x)
	}
	all, off := b.String(), 0
	for i, x := range f {
		f[i] = all[off : off+len(x)]
		off += len(x)
	}
	k := key{f[0], pid}
	p := l.procs.get(k)
	if p == nil {
		// Reused: Ancestors' results are read before the next Record.
		if p, l.spare = l.spare, nil; p == nil {
			p = new(Proc)
		}
		if old, ok := l.procs.put(k, p); ok {
			l.spare = old
		}
	}
	*p = Proc{PID: pid, Executable: f[1], Name: f[2], CommandLine: f[3], User: f[4], Time: ev.Time}
	if ppid, ok := intOf(ev.Get("process.parent.pid")); ok && ppid > 0 {
		p.PPID = ppid
	}
}

// Lookup returns the exec remembered for pid on host, if it happened no
// later than at (a zero at, or an unknown exec time, accepts any).
func (l *Lineage) Lookup(host string, pid int64, at time.Time) *Proc {
	p := l.procs.get(key{host, pid})
	if p == nil || !notAfter(p.Time, at) {
		return nil
	}
	return p
}

// Ancestors walks up from process pid on host, as of time at: its parent
// (ppid, or when ppid is 0 the one its remembered exec names), the
// parent's parent, and so on while the table knows them, nearest first, at
// most MaxAncestors. Each ancestor's exec must precede its child's, so a
// pid reused later does not pose as an ancestor. A parent the table does
// not know ends the chain: its pid is returned as unknown (0 when the
// chain ended otherwise).
func (l *Lineage) Ancestors(host string, pid, ppid int64, at time.Time) (chain []*Proc, unknown int64) {
	if ppid <= 0 {
		self := l.Lookup(host, pid, at)
		if self == nil {
			return nil, 0
		}
		ppid = self.PPID
		if !self.Time.IsZero() {
			at = self.Time
		}
	}
	var out []*Proc
	seen := map[int64]bool{pid: true}
	for ppid > 0 && !seen[ppid] && len(out) < MaxAncestors {
		seen[ppid] = true
		p := l.Lookup(host, ppid, at)
		if p == nil {
			return out, ppid
		}
		out = append(out, p)
		if !p.Time.IsZero() {
			at = p.Time
		}
		ppid = p.PPID
	}
	return out, 0
}

func notAfter(t, at time.Time) bool {
	return t.IsZero() || at.IsZero() || !t.After(at)
}
