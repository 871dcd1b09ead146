// Package exec is firewarden's live exec sensor: an eBPF program on the
// kernel's sched_process_exec tracepoint reports every successful execve and
// execveat — pid, parent, credentials, the executable as the kernel resolved
// it, the exact argv read from the new program's memory, working directory,
// network and mount namespaces, cgroup — and Run turns each into an ECS
// process-start event.
//
// The program attaches at the first of three points the kernel accepts
// (Attach names the one in use): tp_btf/sched_process_exec, then
// raw_tracepoint/sched_process_exec, then tracepoint/sched/sched_process_exec.
// Records travel through a BPF ring buffer (16 MiB by default); one that does
// not fit is counted by the kernel side and reported by Stats and Drops,
// never lost silently. An argv longer than the limit is cut and the event
// says so (firewarden.args_truncated, with the limit and the full size).
//
// The BPF C source is bpf/exec.c; its compiled object and Go loader
// (exec_bpfel.o, exec_bpfel.go, made by bpf2go) are committed, so building
// needs no clang. See README.md for regenerating them.
//
// Loading needs root, or CAP_BPF with CAP_PERFMON (or CAP_SYS_ADMIN), and a
// kernel with BTF (/sys/kernel/btf/vmlinux) or a BTF file for it
// (Options.KernelBTF).
package exec

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/sensor/internal/caps"
	"github.com/firewarden/firewarden/source/process"
)

// AttachPoint names where the program is attached.
type AttachPoint string

// The attach points, in the order Open tries them.
const (
	TPBTF      AttachPoint = "tp_btf/sched_process_exec"
	RawTP      AttachPoint = "raw_tracepoint/sched_process_exec"
	Tracepoint AttachPoint = "tracepoint/sched/sched_process_exec"
)

// AttachOrder is the fallback order: the BTF-typed tracepoint is the
// cheapest, the classic tracepoint the most widely available.
var AttachOrder = []AttachPoint{TPBTF, RawTP, Tracepoint}

// progFor names each attach point's program in the BPF object.
var progFor = map[AttachPoint]string{
	TPBTF:      execProgTpBtfExec,
	RawTP:      execProgRawTpExec,
	Tracepoint: execProgTpExec,
}

// Compiled limits of the BPF program (bpf/exec.c).
const (
	// MaxArgs is the most argv bytes one event can carry.
	MaxArgs = 65536
	maxStrs = 8192
	// DefaultRingBufferSize is the ring buffer's default size.
	DefaultRingBufferSize = 16 << 20
)

// Record flags (bpf/exec.c).
const (
	fArgsTrunc = 1 << iota
	fArgsFault
	fExeTrunc
	fCwdTrunc
	fExeDeleted
	fExeMissing
	fCwdMissing
	fFileTrunc
	fExeDetached
	fCwdDetached
)

// Counter indices (bpf/exec.c).
const (
	cExecs = iota
	cDropped
	cArgsTrunc
	cErrors
	cMax
)

// Index is the index name sensor events carry (event.Event.Index).
const Index = "logs-firewarden.exec-default"

// Options configure a sensor. The zero value is ready to use.
type Options struct {
	// RingBufferSize is the ring buffer's size in bytes: a power of two
	// and a multiple of the page size (default 16 MiB). A burst of execs
	// larger than it holds, while Run's consumer is slow, is dropped —
	// and counted.
	RingBufferSize int
	// ArgsLimit is how many bytes of argv an event carries, at most
	// MaxArgs (the default); a longer argv is cut and flagged.
	ArgsLimit int
	// Attach forces one attach point instead of trying AttachOrder.
	Attach AttachPoint
	// KernelBTF is a BTF file for the running kernel, for kernels that
	// do not expose /sys/kernel/btf/vmlinux.
	KernelBTF string
	// HostName is host.name on every event (default: os.Hostname).
	HostName string
}

// Stats are the sensor's counters since Open.
type Stats struct {
	// Execs is how many execs the kernel program saw.
	Execs uint64
	// Dropped is how many records did not fit in the ring buffer: lost.
	Dropped uint64
	// ArgsTruncated is how many argvs were longer than the limit.
	ArgsTruncated uint64
	// ReadErrors is how many records lack a part the kernel program could
	// not read (argv; the event is flagged).
	ReadErrors uint64
	// Received is how many records userspace read, Malformed how many of
	// them it could not decode (and dropped, counted).
	Received, Malformed uint64
}

// Sensor is a loaded, attached exec sensor.
type Sensor struct {
	coll     *ebpf.Collection
	link     link.Link
	rd       *ringbuf.Reader
	attach   AttachPoint
	skipped  []error
	host     string
	limit    int
	table    *process.Table
	received atomic.Uint64
	bad      atomic.Uint64
	closing  sync.Once
	closed   atomic.Bool

	// wake is the ring buffer's map fd (a duplicate) in Go's network
	// poller: Run parks on it instead of blocking a thread in the
	// reader's epoll_wait. Nil if the runtime could not poll it (Run then
	// waits in the reader).
	wake   *os.File
	wakeRC syscall.RawConn

	// offset is wall clock minus CLOCK_MONOTONIC, in ns, refreshed now
	// and then by Run.
	offset  int64
	offsetT time.Time
	users   map[uint32]string
	groups  map[uint32]string
}

// MissingCapabilityError says which capabilities Open lacked.
type MissingCapabilityError struct {
	Missing []string
}

func (e *MissingCapabilityError) Error() string {
	return "sensor/exec: missing capability " + strings.Join(e.Missing, " and ") +
		" (or CAP_SYS_ADMIN; run as root): loading and attaching the eBPF exec program needs them"
}

// missingCaps names what an effective capability set lacks for loading a
// tracing program and reading its ring buffer: CAP_BPF and CAP_PERFMON, or
// CAP_SYS_ADMIN, which covers both.
func missingCaps(eff uint64) []string {
	if eff&(1<<caps.SysAdmin) != 0 {
		return nil
	}
	var m []string
	if eff&(1<<caps.BPF) == 0 {
		m = append(m, "CAP_BPF")
	}
	if eff&(1<<caps.Perfmon) == 0 {
		m = append(m, "CAP_PERFMON")
	}
	return m
}

// ErrNoBTF is returned when the kernel exposes no BTF and Options.KernelBTF
// names none: the program's CO-RE relocations need it.
var ErrNoBTF = errors.New("sensor/exec: the kernel has no BTF (/sys/kernel/btf/vmlinux); set Options.KernelBTF to a BTF file for this kernel")

// Open checks privileges, loads the BPF program, attaches it at the first
// attach point that works and opens the ring buffer. Close releases them.
func Open(opts Options) (*Sensor, error) {
	if eff, err := caps.Effective(); err == nil {
		if m := missingCaps(eff); len(m) > 0 {
			return nil, &MissingCapabilityError{Missing: m}
		}
	}
	size := opts.RingBufferSize
	if size == 0 {
		size = DefaultRingBufferSize
	}
	if size < os.Getpagesize() || size&(size-1) != 0 {
		return nil, fmt.Errorf("sensor/exec: ring buffer size %d is not a power of two of at least a page", size)
	}
	limit := opts.ArgsLimit
	if limit == 0 {
		limit = MaxArgs
	}
	if limit < 1 || limit > MaxArgs {
		return nil, fmt.Errorf("sensor/exec: argv limit %d is not within 1..%d", limit, MaxArgs)
	}
	var copts ebpf.CollectionOptions
	if opts.KernelBTF != "" {
		kt, err := btf.LoadSpec(opts.KernelBTF)
		if err != nil {
			return nil, fmt.Errorf("sensor/exec: kernel BTF: %w", err)
		}
		copts.Programs.KernelTypes = kt
	} else if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		return nil, ErrNoBTF
	}
	// Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK.
	if err := rlimit.RemoveMemlock(); err != nil {
		return nil, fmt.Errorf("sensor/exec: %w", err)
	}
	spec, err := loadExec()
	if err != nil {
		return nil, fmt.Errorf("sensor/exec: %w", err)
	}
	spec.Maps[execMapEvents].MaxEntries = uint32(size)
	ncpu, err := ebpf.PossibleCPU()
	if err != nil {
		return nil, fmt.Errorf("sensor/exec: %w", err)
	}
	spec.Maps[execMapScratch].MaxEntries = uint32(ncpu)
	if err := spec.Variables[execVarArgsLimit].Set(uint32(limit)); err != nil {
		return nil, fmt.Errorf("sensor/exec: %w", err)
	}

	order := AttachOrder
	if opts.Attach != "" {
		if _, ok := progFor[opts.Attach]; !ok {
			return nil, fmt.Errorf("sensor/exec: unknown attach point %q", opts.Attach)
		}
		order = []AttachPoint{opts.Attach}
	}
	s := &Sensor{host: opts.HostName, limit: limit, table: process.NewTable(0),
		users: map[uint32]string{}, groups: map[uint32]string{}}
	if s.host == "" {
		s.host, _ = os.Hostname()
	}
	var got *attached
	s.attach, got, s.skipped, err = chooseAttach(order, func(ap AttachPoint) (*attached, error) {
		return load(spec, ap, &copts)
	})
	if err != nil {
		return nil, err
	}
	s.coll, s.link = got.coll, got.link
	s.rd, err = ringbuf.NewReader(s.coll.Maps[execMapEvents])
	if err != nil {
		s.link.Close()
		s.coll.Close()
		return nil, fmt.Errorf("sensor/exec: ring buffer: %w", err)
	}
	s.wake, s.wakeRC = pollable(s.coll.Maps[execMapEvents].FD())
	s.refreshClock()
	return s, nil
}

// pollable registers a duplicate of the ring buffer's fd with Go's
// network poller (a ring buffer map is pollable: readable when it holds
// a record), or returns nil if it cannot.
func pollable(fd int) (*os.File, syscall.RawConn) {
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, nil
	}
	if err := unix.SetNonblock(dup, true); err != nil {
		unix.Close(dup)
		return nil, nil
	}
	f := os.NewFile(uintptr(dup), "exec-ringbuf")
	// Only a file in the poller takes deadlines.
	if err := f.SetReadDeadline(time.Time{}); err != nil {
		f.Close()
		return nil, nil
	}
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, nil
	}
	return f, rc
}

// attached is a loaded program and its link.
type attached struct {
	coll *ebpf.Collection
	link link.Link
}

// chooseAttach tries each attach point in order and returns the first that
// works, with why the ones before it failed; if none works, the error names
// every failure.
func chooseAttach[T any](order []AttachPoint, try func(AttachPoint) (T, error)) (AttachPoint, T, []error, error) {
	var errs []error
	for _, ap := range order {
		got, err := try(ap)
		if err == nil {
			return ap, got, errs, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", ap, err))
	}
	var zero T
	return "", zero, errs, fmt.Errorf("sensor/exec: no attach point works: %w", errors.Join(errs...))
}

// load loads only ap's program (so a kernel that rejects another attach
// type's program does not fail this one) and attaches it.
func load(spec *ebpf.CollectionSpec, ap AttachPoint, copts *ebpf.CollectionOptions) (*attached, error) {
	sp := spec.Copy()
	name := progFor[ap]
	for n := range sp.Programs {
		if n != name {
			delete(sp.Programs, n)
		}
	}
	coll, err := ebpf.NewCollectionWithOptions(sp, *copts)
	if err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			return nil, fmt.Errorf("loading: %+v", ve)
		}
		return nil, fmt.Errorf("loading: %w", err)
	}
	l, err := attachProg(ap, coll.Programs[name])
	if err != nil {
		coll.Close()
		return nil, fmt.Errorf("attaching: %w", err)
	}
	return &attached{coll, l}, nil
}

func attachProg(ap AttachPoint, prog *ebpf.Program) (link.Link, error) {
	switch ap {
	case TPBTF:
		return link.AttachTracing(link.TracingOptions{Program: prog, AttachType: ebpf.AttachTraceRawTp})
	case RawTP:
		return link.AttachRawTracepoint(link.RawTracepointOptions{Name: "sched_process_exec", Program: prog})
	case Tracepoint:
		return link.Tracepoint("sched", "sched_process_exec", prog, nil)
	}
	return nil, fmt.Errorf("unknown attach point %q", ap)
}

// reattach attaches the loaded program again after its link was closed
// (the benchmark's sensor-off phases).
func (s *Sensor) reattach() error {
	l, err := attachProg(s.attach, s.coll.Programs[progFor[s.attach]])
	if err != nil {
		return err
	}
	s.link = l
	return nil
}

// Name is the sensor's name for metrics and logs.
func (s *Sensor) Name() string { return "exec" }

// Attach names the attach point in use.
func (s *Sensor) Attach() string { return string(s.attach) }

// Skipped says why the attach points tried before the one in use failed
// (empty when the first one worked).
func (s *Sensor) Skipped() []error { return s.skipped }

// ArgsLimit is the argv limit in force, in bytes.
func (s *Sensor) ArgsLimit() int { return s.limit }

// Stats reads the sensor's counters.
func (s *Sensor) Stats() Stats {
	st := Stats{Received: s.received.Load(), Malformed: s.bad.Load()}
	m := s.coll.Maps["counters"]
	for i, dst := range [cMax]*uint64{cExecs: &st.Execs, cDropped: &st.Dropped, cArgsTrunc: &st.ArgsTruncated, cErrors: &st.ReadErrors} {
		var per []uint64
		if err := m.Lookup(uint32(i), &per); err != nil {
			continue
		}
		for _, v := range per {
			*dst += v
		}
	}
	return st
}

// Drops is how many execs the sensor lost: records the ring buffer had no
// room for, and records userspace could not decode.
func (s *Sensor) Drops() int64 {
	st := s.Stats()
	return int64(st.Dropped + st.Malformed)
}

// Close detaches the program and frees its maps. Run returns once Close
// is called.
func (s *Sensor) Close() error {
	var err error
	s.closing.Do(func() {
		s.closed.Store(true)
		if s.wake != nil {
			s.wake.Close()
		}
		err = errors.Join(s.rd.Close(), s.link.Close())
		s.coll.Close()
	})
	return err
}

// readPoll bounds how long Run waits for a record before it looks at its
// context again (and so how long it takes to stop), when it waits in the
// ring buffer reader.
const readPoll = 200 * time.Millisecond

// Run's wake-up budget. Every wake-up of the reader costs far more than
// decoding a record and building its event (system calls, context
// switches, the Go scheduler's hand-offs): waking for every exec, as the
// ring buffer does when its reader keeps up, cost ~300 µs of CPU per exec
// on a 2-vCPU VM. Run wakes at once for a record while it has budget —
// wakeBurst wake-ups, refilled at one per batchWait — and past it lets
// records gather until the next wake-up is earned. Occasional execs are
// read as they come (an nft or audit event that follows its command's
// exec still finds it); an exec storm costs 1/batchWait wake-ups a second
// and its events at most batchWait of latency.
var batchWait = 40 * time.Millisecond

const wakeBurst = 8

// Run reads records until ctx ends (returning ctx.Err()), the sensor is
// closed (returning nil) or emit fails (returning its error), calling emit
// with one event per exec. Each event is fresh: emit may keep it. Run must
// not be called concurrently with itself.
func (s *Sensor) Run(ctx context.Context, emit func(*event.Event) error) error {
	if s.wake == nil {
		return s.runBlocking(ctx, emit)
	}
	if err := s.wake.SetReadDeadline(time.Time{}); err != nil {
		return s.stopped(fmt.Errorf("sensor/exec: %w", err))
	}
	// A deadline in the past unparks the wait below once ctx ends.
	stop := context.AfterFunc(ctx, func() { s.wake.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	timer := time.NewTimer(batchWait)
	defer timer.Stop()
	tokens, last := float64(wakeBurst), time.Now()
	ready := func(uintptr) bool { return s.rd.AvailableBytes() > 0 }
	var rec ringbuf.Record
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// Drain what is there; a deadline in the past makes the reader
		// poll without blocking and return os.ErrDeadlineExceeded once
		// the ring is empty.
		s.rd.SetDeadline(time.Unix(1, 0))
		n := 0
		for {
			err := s.rd.ReadInto(&rec)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				break
			}
			if err != nil {
				return s.stopped(fmt.Errorf("sensor/exec: reading the ring buffer: %w", err))
			}
			n++
			if err := s.handle(rec.RawSample, emit); err != nil {
				return err
			}
		}
		if n > 0 {
			now := time.Now()
			tokens = min(wakeBurst, tokens+float64(now.Sub(last))/float64(batchWait)) - 1
			last = now
			if tokens < 0 {
				// Over budget: let the next records gather.
				timer.Reset(time.Duration(-tokens * float64(batchWait)))
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-timer.C:
				}
				if s.rd.AvailableBytes() > 0 {
					continue
				}
			}
		}
		// Park until the ring buffer has a record (it wakes its pollers
		// when a record lands in an empty ring).
		if err := s.wakeRC.Read(ready); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			return s.stopped(fmt.Errorf("sensor/exec: waiting for the ring buffer: %w", err))
		}
	}
}

// stopped is nil if the sensor was closed (Run's error otherwise).
func (s *Sensor) stopped(err error) error {
	if s.closed.Load() || errors.Is(err, ringbuf.ErrClosed) {
		return nil
	}
	return err
}

// handle decodes one record and emits its event.
func (s *Sensor) handle(raw []byte, emit func(*event.Event) error) error {
	s.received.Add(1)
	r, ok := decode(raw)
	if !ok {
		s.bad.Add(1)
		return nil
	}
	return emit(s.event(&r))
}

// runBlocking is Run waiting in the ring buffer reader (a thread blocked
// in epoll_wait), when the ring buffer is not in Go's poller.
func (s *Sensor) runBlocking(ctx context.Context, emit func(*event.Event) error) error {
	// The reader holds its lock while it waits, so a deadline set from
	// another goroutine would only land after the next record: Run sets a
	// short one itself before each wait and checks ctx when it passes.
	var rec ringbuf.Record
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.rd.SetDeadline(time.Now().Add(readPoll))
		if err := s.rd.ReadInto(&rec); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				continue
			}
			if errors.Is(err, ringbuf.ErrClosed) {
				return nil
			}
			return fmt.Errorf("sensor/exec: reading the ring buffer: %w", err)
		}
		if err := s.handle(rec.RawSample, emit); err != nil {
			return err
		}
	}
}

// record is one decoded kernel record.
type record struct {
	ktime, cgroup                                uint64
	pid, tid, ppid, oldPid, uid, gid, euid, egid uint32
	netns, mntns                                 uint32
	argsSize, argsLimit                          uint32
	flags                                        uint16
	attach                                       uint8
	comm                                         string
	exe, cwd                                     []string // leaf first
	filename                                     string
	args                                         []byte
}

var hdrSize = int(unsafe.Offsetof(execEvent{}.Data))

// decode parses a record (bpf/exec.c struct event; little-endian, as the
// object is built for bpfel targets only).
func decode(b []byte) (record, bool) {
	var r record
	if len(b) < hdrSize {
		return r, false
	}
	le := binary.LittleEndian
	r.ktime, r.cgroup = le.Uint64(b[0:]), le.Uint64(b[8:])
	u32s := []*uint32{&r.pid, &r.tid, &r.ppid, &r.oldPid, &r.uid, &r.gid, &r.euid, &r.egid, &r.netns, &r.mntns, &r.argsSize}
	for i, p := range u32s {
		*p = le.Uint32(b[16+4*i:])
	}
	argsLen := int(le.Uint32(b[60:]))
	r.argsLimit = le.Uint32(b[64:])
	exeLen, cwdLen, fileLen := int(le.Uint16(b[68:])), int(le.Uint16(b[70:])), int(le.Uint16(b[72:]))
	r.flags = le.Uint16(b[74:])
	r.attach = b[76]
	r.comm = cstring(b[84:100])
	data := b[hdrSize:]
	if exeLen+cwdLen+fileLen+argsLen != len(data) {
		return r, false
	}
	r.exe = components(data[:exeLen])
	r.cwd = components(data[exeLen : exeLen+cwdLen])
	r.filename = cstring(data[exeLen+cwdLen : exeLen+cwdLen+fileLen])
	r.args = data[exeLen+cwdLen+fileLen:]
	return r, true
}

func cstring(b []byte) string {
	if i := indexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// components splits NUL-terminated path components.
func components(b []byte) []string {
	var out []string
	for len(b) > 0 {
		i := indexByte(b, 0)
		if i < 0 {
			out = append(out, string(b))
			break
		}
		out = append(out, string(b[:i]))
		b = b[i+1:]
	}
	return out
}

// joinPath builds a path from components listed leaf first; a path cut
// short (deeper than the program walks) starts with "…/" instead of "/".
func joinPath(comps []string, truncated bool) string {
	var b strings.Builder
	if truncated {
		b.WriteString("…")
	}
	for i := len(comps) - 1; i >= 0; i-- {
		b.WriteByte('/')
		b.WriteString(comps[i])
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
}

// splitArgs splits argv as the kernel laid it out: NUL-terminated strings.
// A cut argv's last string has no NUL; it is kept as far as it goes.
func splitArgs(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	if b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return strings.Split(string(b), "\x00")
}

// refreshClock measures wall clock minus CLOCK_MONOTONIC (what
// bpf_ktime_get_ns reads).
func (s *Sensor) refreshClock() {
	var mono unix.Timespec
	before := time.Now()
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &mono)
	s.offset = before.UnixNano() - mono.Nano()
	s.offsetT = before
}

func (s *Sensor) wallTime(ktime uint64) time.Time {
	if time.Since(s.offsetT) > 10*time.Second {
		s.refreshClock()
	}
	return time.Unix(0, int64(ktime)+s.offset)
}

func (s *Sensor) userName(uid uint32) string {
	if n, ok := s.users[uid]; ok {
		return n
	}
	n := ""
	if u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10)); err == nil {
		n = u.Username
	}
	if len(s.users) < 4096 {
		s.users[uid] = n
	}
	return n
}

func (s *Sensor) groupName(gid uint32) string {
	if n, ok := s.groups[gid]; ok {
		return n
	}
	n := ""
	if g, err := user.LookupGroupId(strconv.FormatUint(uint64(gid), 10)); err == nil {
		n = g.Name
	}
	if len(s.groups) < 4096 {
		s.groups[gid] = n
	}
	return n
}

func id(v uint32) event.Value { return event.Str(strconv.FormatUint(uint64(v), 10)) }

// event builds the ECS event of a record.
func (s *Sensor) event(r *record) *event.Event {
	ev := event.New(40)
	ev.Time = s.wallTime(r.ktime)
	ev.Format = "exec"
	ev.Index = Index
	ts := ev.Time.UTC().Format("2006-01-02T15:04:05.000000000Z")
	ev.SetStr("@timestamp", ts)
	ev.SetStr("event.kind", "event")
	ev.Set("event.category", event.Strs("process"))
	ev.Set("event.type", event.Strs("start"))
	ev.SetStr("event.action", "exec")
	ev.SetStr("event.module", "firewarden")
	ev.SetStr("event.dataset", "firewarden.exec")
	ev.SetStr("event.outcome", "success")
	if s.host != "" {
		ev.SetStr("host.name", s.host)
	}
	// As Elastic Defend says of its process events: Elastic's Linux
	// rules require it (host.os.type == "linux").
	ev.SetStr("host.os.type", "linux")
	ev.Set("process.pid", event.IntV(int64(r.pid)))
	ev.Set("process.parent.pid", event.IntV(int64(r.ppid)))
	ev.SetStr("process.start", ts)

	argv := splitArgs(r.args)
	if len(argv) > 0 {
		ev.Set("process.args", event.Strs(argv...))
	}
	if r.flags&fExeMissing == 0 {
		exe := joinPath(r.exe, r.flags&fExeTrunc != 0)
		name, script := process.Name(exe, argv)
		if r.flags&fExeDeleted != 0 {
			exe += " (deleted)"
			ev.Set("firewarden.executable_deleted", event.BoolV(true))
		}
		ev.SetStr("process.executable", exe)
		if name != "" {
			ev.SetStr("process.name", name)
		}
		if script != "" {
			ev.SetStr("process.script.path", script)
		}
		if r.flags&fExeTrunc != 0 {
			ev.Set("firewarden.executable_truncated", event.BoolV(true))
		}
	}
	if r.flags&fCwdMissing == 0 {
		ev.SetStr("process.working_directory", joinPath(r.cwd, r.flags&fCwdTrunc != 0))
		if r.flags&fCwdTrunc != 0 {
			ev.Set("firewarden.working_directory_truncated", event.BoolV(true))
		}
	}
	if r.filename != "" {
		ev.SetStr("process.invoked.path", r.filename)
	}
	ev.Set("user.id", id(r.uid))
	ev.Set("group.id", id(r.gid))
	if n := s.userName(r.uid); n != "" {
		ev.SetStr("user.name", n)
	}
	if n := s.groupName(r.gid); n != "" {
		ev.SetStr("group.name", n)
	}
	if r.euid != r.uid {
		ev.Set("user.effective.id", id(r.euid))
		if n := s.userName(r.euid); n != "" {
			ev.SetStr("user.effective.name", n)
		}
	}
	if r.egid != r.gid {
		ev.Set("group.effective.id", id(r.egid))
	}
	ev.SetStr("firewarden.comm", r.comm)
	ev.Set("firewarden.netns", event.IntV(int64(r.netns)))
	ev.Set("firewarden.mntns", event.IntV(int64(r.mntns)))
	ev.Set("firewarden.cgroup_id", event.IntV(int64(r.cgroup)))
	ev.Set("firewarden.args_truncated", event.BoolV(r.flags&fArgsTrunc != 0))
	if r.flags&fArgsTrunc != 0 {
		ev.Set("firewarden.args_size", event.IntV(int64(r.argsSize)))
		ev.Set("firewarden.args_limit", event.IntV(int64(r.argsLimit)))
	}
	if r.flags&fArgsFault != 0 {
		ev.Set("firewarden.args_unreadable", event.BoolV(true))
	}
	if r.tid != r.pid {
		ev.Set("process.thread.id", event.IntV(int64(r.tid)))
	}
	// command_line, args_count and the parent's fields from earlier execs.
	s.table.Derive(ev, nil)
	return ev
}

var _ io.Closer = (*Sensor)(nil)
