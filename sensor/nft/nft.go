// Package nft is firewarden's nftables sensor: it listens to the kernel's
// nftables netlink monitor group (NFNLGRP_NFTABLES) in every network
// namespace of the host — the root one, those under /run/netns, and those
// of running processes, picked up as they appear — and turns every
// committed change (tables, chains, rules, sets added or deleted, chain
// policy changes, flushes) into an ECS event naming the process that
// committed it (pid and comm from the batch's NFT_MSG_NEWGEN) and the
// change as a diff against a snapshot of the namespace's ruleset.
//
// iptables-nft, nft, firewalld, ufw on nft-backed hosts and any netlink
// library all go through this path; iptables-legacy does not (see
// sensor/audit). Fields are documented in docs/fields-sensor.md.
package nft

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/sensor/internal/caps"
	"github.com/firewarden/firewarden/sensor/internal/nlsock"
)

// Options configure a Sensor; the zero value is usable.
type Options struct {
	// ScanInterval is how often namespaces are looked for (/run/netns and
	// /proc/*/ns/net). Default 500ms.
	ScanInterval time.Duration
	// ReadBuffer is the monitor socket's receive buffer (SO_RCVBUFFORCE).
	// Default 8 MiB.
	ReadBuffer int
	// RunNetns is the directory of named namespaces. Default /run/netns.
	RunNetns string
	// NoProcScan skips the namespaces of running processes.
	NoProcScan bool
}

// Stats counts what a sensor did.
type Stats struct {
	Events       int64 // events emitted
	Batches      int64 // committed batches (generations) seen
	Resyncs      int64 // full re-dumps after an overrun or error
	Overruns     int64 // ENOBUFS: the kernel dropped monitor messages
	DecodeErrors int64 // messages that did not decode
	Namespaces   int   // namespaces watched now
	Attached     int64 // namespaces attached in all
	AttachErrors int64 // namespaces that could not be watched
}

// Sensor is the nftables sensor.
type Sensor struct {
	opts   Options
	events chan *event.Event

	mu       sync.Mutex
	watched  map[uint64]*watcher
	canSetns bool

	nEvents, nBatches, nResyncs, nOverruns, nDecode, nAttached, nAttachErr atomic.Int64
}

// ErrNoCapability is wrapped by Open's error when a needed capability is
// missing.
var ErrNoCapability = errors.New("missing capability")

// Open checks the privileges the sensor needs (CAP_NET_ADMIN; without
// CAP_SYS_ADMIN only the sensor's own namespace is watched) and returns
// a sensor ready to Run.
func Open(opts Options) (*Sensor, error) {
	if opts.ScanInterval <= 0 {
		opts.ScanInterval = 500 * time.Millisecond
	}
	if opts.ReadBuffer <= 0 {
		opts.ReadBuffer = 8 << 20
	}
	if opts.RunNetns == "" {
		opts.RunNetns = "/run/netns"
	}
	if !caps.Has(caps.NetAdmin) {
		return nil, fmt.Errorf("sensor/nft: needs CAP_NET_ADMIN to dump and monitor nftables: %w", ErrNoCapability)
	}
	// Probe: a monitor socket in our own namespace.
	c, err := nlsock.Open(unix.NETLINK_NETFILTER, []uint32{unix.NFNLGRP_NFTABLES}, nil)
	if err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
			return nil, fmt.Errorf("sensor/nft: needs CAP_NET_ADMIN to monitor nftables: %v: %w", err, ErrNoCapability)
		}
		return nil, fmt.Errorf("sensor/nft: %w", err)
	}
	c.Close()
	return &Sensor{opts: opts, events: make(chan *event.Event, 1024), watched: map[uint64]*watcher{}, canSetns: caps.Has(caps.SysAdmin)}, nil
}

// Stats returns the sensor's counters.
func (s *Sensor) Stats() Stats {
	s.mu.Lock()
	n := len(s.watched)
	s.mu.Unlock()
	return Stats{Events: s.nEvents.Load(), Batches: s.nBatches.Load(), Resyncs: s.nResyncs.Load(), Overruns: s.nOverruns.Load(),
		DecodeErrors: s.nDecode.Load(), Namespaces: n, Attached: s.nAttached.Load(), AttachErrors: s.nAttachErr.Load()}
}

// Name names the sensor (watch.Sensor).
func (s *Sensor) Name() string { return "nft" }

// Drops counts the monitor messages the kernel dropped (overruns); each
// was followed by a resync event (watch.Sensor).
func (s *Sensor) Drops() int64 { return s.nOverruns.Load() }

// Watching reports whether the namespace with inode ino is being watched
// (its snapshot taken and its monitor socket listening).
func (s *Sensor) Watching(ino uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.watched[ino]
	return w != nil && w.ready.Load()
}

// Run watches until ctx ends or emit fails, calling emit from one
// goroutine. It returns nil when ctx ends.
func (s *Sensor) Run(ctx context.Context, emit func(*event.Event) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer func() {
		cancel()
		s.mu.Lock()
		for _, w := range s.watched {
			w.cancel()
		}
		s.mu.Unlock()
		wg.Wait()
	}()
	s.scan(ctx, &wg)
	tick := time.NewTicker(s.opts.ScanInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			s.scan(ctx, &wg)
		case ev := <-s.events:
			s.nEvents.Add(1)
			if err := emit(ev); err != nil {
				return err
			}
		}
	}
}

// nsRef is one namespace found by a scan.
type nsRef struct {
	ino  uint64
	path string // to open
	name string // "root", a /run/netns name, or ""
	pid  int    // a process in it, when found through /proc
}

// namespaces lists the host's network namespaces, deduplicated by inode.
func (s *Sensor) namespaces() map[uint64]nsRef {
	out := map[uint64]nsRef{}
	add := func(path, name string, pid int) {
		var st unix.Stat_t
		if unix.Stat(path, &st) != nil {
			return
		}
		if r, ok := out[st.Ino]; ok {
			if r.name == "" && name != "" {
				r.name = name
				out[st.Ino] = r
			}
			return
		}
		out[st.Ino] = nsRef{ino: st.Ino, path: path, name: name, pid: pid}
	}
	add("/proc/self/ns/net", "", 0)
	if !s.canSetns {
		return out
	}
	add("/proc/1/ns/net", "root", 1)
	if ents, err := os.ReadDir(s.opts.RunNetns); err == nil {
		for _, e := range ents {
			add(filepath.Join(s.opts.RunNetns, e.Name()), e.Name(), 0)
		}
	}
	if !s.opts.NoProcScan {
		if ents, err := os.ReadDir("/proc"); err == nil {
			for _, e := range ents {
				pid, err := strconv.Atoi(e.Name())
				if err != nil {
					continue
				}
				add("/proc/"+e.Name()+"/ns/net", "", pid)
			}
		}
	}
	return out
}

// scan attaches to new namespaces and lets go of those that are gone.
func (s *Sensor) scan(ctx context.Context, wg *sync.WaitGroup) {
	found := s.namespaces()
	s.mu.Lock()
	defer s.mu.Unlock()
	for ino, w := range s.watched {
		if _, ok := found[ino]; !ok {
			w.cancel()
			delete(s.watched, ino)
		}
	}
	for ino, ref := range found {
		if w := s.watched[ino]; w != nil {
			if w.name == "" && ref.name != "" {
				w.setName(ref.name)
			}
			continue
		}
		f, err := os.Open(ref.path)
		if err != nil {
			continue // the process is gone
		}
		var st unix.Stat_t
		if unix.Fstat(int(f.Fd()), &st) != nil || st.Ino != ino {
			f.Close()
			continue
		}
		wctx, cancel := context.WithCancel(ctx)
		w := &watcher{s: s, ino: ino, ns: f, cancel: cancel}
		w.setName(ref.name)
		if ino == selfIno() {
			w.ns.Close()
			w.ns = nil // our own: no setns needed
		}
		s.watched[ino] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if w.ns != nil {
					w.ns.Close()
				}
			}()
			w.run(wctx)
		}()
	}
}

func selfIno() uint64 {
	var st unix.Stat_t
	if unix.Stat("/proc/self/ns/net", &st) != nil {
		return 0
	}
	return st.Ino
}

// watcher follows one namespace.
type watcher struct {
	s      *Sensor
	ino    uint64
	ns     *os.File // nil: the sensor's own namespace
	cancel context.CancelFunc
	ready  atomic.Bool

	nameMu sync.Mutex
	name   string
}

func (w *watcher) setName(n string) {
	w.nameMu.Lock()
	w.name = n
	w.nameMu.Unlock()
}

func (w *watcher) getName() string {
	w.nameMu.Lock()
	defer w.nameMu.Unlock()
	return w.name
}

// captureHook, when set (by tests), sees every nftables message received.
var captureHook func(typ uint16, data []byte)

func (w *watcher) run(ctx context.Context) {
	mon, err := nlsock.Open(unix.NETLINK_NETFILTER, []uint32{unix.NFNLGRP_NFTABLES}, w.ns)
	if err != nil {
		w.s.nAttachErr.Add(1)
		return
	}
	defer mon.Close()
	if _, err := mon.SetReadBuffer(w.s.opts.ReadBuffer); err != nil {
		w.s.nAttachErr.Add(1)
	}
	snap, err := w.dump(ctx)
	if err != nil {
		if ctx.Err() == nil {
			w.s.nAttachErr.Add(1)
		}
		return
	}
	w.s.nAttached.Add(1)
	w.ready.Store(true)
	var batch []Msg
	for {
		data, err := mon.Recv(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			reason := err.Error()
			if errors.Is(err, nlsock.ErrOverrun) {
				w.s.nOverruns.Add(1)
				reason = "overrun"
			}
			batch = nil
			for {
				if ctx.Err() != nil {
					return
				}
				fresh, derr := w.dump(ctx)
				if derr == nil {
					w.s.nResyncs.Add(1)
					w.resyncEvent(ctx, reason, err, snap, fresh)
					snap = fresh
					break
				}
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Second):
				}
			}
			continue
		}
		msgs, err := nlsock.Split(data)
		if err != nil {
			w.s.nDecode.Add(1)
		}
		for _, nm := range msgs {
			if nm.Type>>8 != subsysNftables {
				continue
			}
			if captureHook != nil {
				captureHook(nm.Type, nm.Data)
			}
			m, err := Decode(nm.Type, nm.Data)
			if err != nil {
				w.s.nDecode.Add(1)
			}
			if m.Type != msgNewGen {
				batch = append(batch, m)
				continue
			}
			w.s.nBatches.Add(1)
			if snap.gen != 0 && int32(m.GenID-snap.gen) <= 0 {
				batch = nil // already in the snapshot
				continue
			}
			snap.gen = m.GenID
			when := time.Now()
			for _, c := range snap.apply(batch) {
				w.send(ctx, w.changeEvent(when, &m, c, len(batch)))
			}
			batch = nil
		}
	}
}

func (w *watcher) send(ctx context.Context, ev *event.Event) {
	select {
	case w.s.events <- ev:
	case <-ctx.Done():
	}
}

// dump takes a consistent snapshot: the generation before and after the
// dump agree.
func (w *watcher) dump(ctx context.Context) (*ruleset, error) {
	c, err := nlsock.Open(unix.NETLINK_NETFILTER, nil, w.ns)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_, _ = c.SetReadBuffer(4 << 20)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var lastErr error
	for try := 0; try < 5; try++ {
		rs, err := dumpOnce(ctx, c)
		if err == nil {
			return rs, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

var errChanged = errors.New("ruleset changed during the dump")

func dumpOnce(ctx context.Context, c *nlsock.Conn) (*ruleset, error) {
	gen0, err := getGen(ctx, c)
	if err != nil {
		return nil, err
	}
	rs := newRuleset()
	for _, t := range []uint16{msgGetTable, msgGetChain, msgGetRule, msgGetSet} {
		err := request(ctx, c, t, unix.NLM_F_REQUEST|unix.NLM_F_DUMP, func(m *Msg) { rs.load(m) })
		if err != nil {
			return nil, err
		}
	}
	gen1, err := getGen(ctx, c)
	if err != nil {
		return nil, err
	}
	if gen0 != gen1 {
		return nil, errChanged
	}
	rs.gen = gen1
	return rs, nil
}

func getGen(ctx context.Context, c *nlsock.Conn) (uint32, error) {
	var gen uint32
	var got bool
	err := request(ctx, c, msgGetGen, unix.NLM_F_REQUEST|unix.NLM_F_ACK, func(m *Msg) {
		if m.Type == msgNewGen {
			gen, got = m.GenID, true
		}
	})
	if err == nil && !got {
		err = errors.New("no NFT_MSG_NEWGEN in reply to NFT_MSG_GETGEN")
	}
	return gen, err
}

// request sends one nftables request and decodes its replies until the
// dump ends (NLMSG_DONE) or the acknowledgement arrives.
func request(ctx context.Context, c *nlsock.Conn, typ uint16, flags uint16, fn func(*Msg)) error {
	seq, err := c.Send(subsysNftables<<8|typ, flags, []byte{unix.AF_UNSPEC, unix.NFNETLINK_V0, 0, 0})
	if err != nil {
		return err
	}
	for {
		data, err := c.Recv(ctx)
		if err != nil {
			return err
		}
		msgs, err := nlsock.Split(data)
		if err != nil {
			return err
		}
		for _, nm := range msgs {
			if nm.Seq != seq {
				continue
			}
			switch nm.Type {
			case unix.NLMSG_DONE:
				if nm.Flags&unix.NLM_F_DUMP_INTR != 0 {
					return errChanged
				}
				return nil
			case unix.NLMSG_ERROR:
				return nlsock.Errno(nm.Data)
			}
			if nm.Flags&unix.NLM_F_DUMP_INTR != 0 {
				return errChanged
			}
			if captureHook != nil {
				captureHook(nm.Type, nm.Data)
			}
			m, err := Decode(nm.Type, nm.Data)
			if err != nil {
				return err
			}
			fn(&m)
		}
	}
}
