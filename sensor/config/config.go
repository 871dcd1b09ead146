// Package config is firewarden's firewall-configuration sensor: fanotify
// reports every file created, deleted, renamed or written in the places
// that decide the firewall at its next start or reload — /etc/ufw,
// /etc/default/ufw, /etc/firewalld, /etc/nftables.conf, /etc/iptables,
// /etc/sysconfig/iptables*, /etc/sysconfig/ip6tables* and
// /etc/sysconfig/nftables.conf — with the pid of the process that did it,
// which the kernel puts in every event. Each becomes an ECS file event
// (fields in docs/fields-sensor.md).
//
// The group reports file identifiers (FAN_REPORT_FID, FAN_REPORT_DIR_FID,
// FAN_REPORT_NAME: kernel 5.9 or later; renames as one event from 5.17).
// Directories are marked, never single files: a configuration directory
// and every directory under it, and the parent of each single file, so a
// file created, or replaced by a rename as editors and package managers
// do, is seen. Paths that do not exist yet are fine: the nearest existing
// ancestor is marked, and the directories are marked when they appear.
//
// fanotify needs CAP_SYS_ADMIN.
package config

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/sensor/internal/caps"
)

// Index is the index the sensor's events would live in.
const Index = "logs-firewarden.config-default"

// Kind is how a watched path is matched.
type Kind int

const (
	// Dir is a directory: itself and everything under it.
	Dir Kind = iota
	// File is one file.
	File
	// Prefix is every name in the path's directory that begins with its
	// base name (/etc/sysconfig/iptables matches iptables-config).
	Prefix
)

// Path is one watched configuration path.
type Path struct {
	Path    string // absolute, as on the host (/etc/ufw)
	Kind    Kind
	Product string // ufw, firewalld, nftables, iptables
}

// DefaultPaths are the firewall configuration paths watched by default.
var DefaultPaths = []Path{
	{"/etc/ufw", Dir, "ufw"},
	{"/etc/default/ufw", File, "ufw"},
	{"/etc/firewalld", Dir, "firewalld"},
	{"/etc/nftables.conf", File, "nftables"},
	{"/etc/sysconfig/nftables.conf", File, "nftables"},
	{"/etc/iptables", Dir, "iptables"},
	{"/etc/sysconfig/iptables", Prefix, "iptables"},
	{"/etc/sysconfig/ip6tables", Prefix, "iptables"},
}

// Options configure a Sensor; the zero value watches DefaultPaths on the
// host.
type Options struct {
	// Root is where the watched paths are looked for (default "/"): a
	// container's root file system, or a test's temporary tree.
	Root string
	// Paths replace DefaultPaths.
	Paths []Path
	// MaxDepth bounds how deep directories are marked below a Dir path
	// (default 8).
	MaxDepth int
}

// Stats count what a sensor did.
type Stats struct {
	Events    int64 // events emitted
	Records   int64 // fanotify events read
	Ignored   int64 // events on other files in a marked directory
	Overflows int64 // the kernel's queue overflowed: events lost
	Malformed int64 // reads that did not decode
	Marked    int   // directories marked now
}

// ErrNoCapability is wrapped by Open's error when CAP_SYS_ADMIN is
// missing.
var ErrNoCapability = errors.New("missing capability")

// Sensor is the configuration-file sensor.
type Sensor struct {
	opts   Options
	root   string // cleaned, no trailing slash ("" for /)
	fd     int
	file   *os.File
	rename bool   // FAN_RENAME is supported
	mask   uint64 // marked on directories

	dirs    map[string]string // handle key -> directory path (as marked)
	marked  map[string]bool   // directory path -> marked
	mounts  map[[2]int32]int  // fsid -> an O_PATH fd there, for open_by_handle_at
	pending map[pendingKey]bool
	newly   []string // directories marked by the last refresh

	nEvents, nRecords, nIgnored, nOverflows, nMalformed atomic.Int64
	nMarked                                             atomic.Int64

	capture func([]byte) // tests: raw reads
}

type pendingKey struct {
	path string
	pid  int32
}

// Open checks CAP_SYS_ADMIN, creates the fanotify group and marks the
// directories that exist. Close releases them.
func Open(opts Options) (*Sensor, error) {
	if opts.Root == "" {
		opts.Root = "/"
	}
	if opts.Paths == nil {
		opts.Paths = DefaultPaths
	}
	if opts.MaxDepth <= 0 {
		opts.MaxDepth = 8
	}
	if !caps.Has(caps.SysAdmin) {
		return nil, fmt.Errorf("sensor/config: needs CAP_SYS_ADMIN for fanotify (watching firewall configuration files): %w", ErrNoCapability)
	}
	fd, err := unix.FanotifyInit(unix.FAN_CLASS_NOTIF|unix.FAN_CLOEXEC|unix.FAN_NONBLOCK|unix.FAN_REPORT_FID|unix.FAN_REPORT_DFID_NAME,
		unix.O_RDONLY|unix.O_LARGEFILE|unix.O_CLOEXEC)
	if err != nil {
		switch {
		case errors.Is(err, unix.EPERM):
			return nil, fmt.Errorf("sensor/config: fanotify_init: %v: needs CAP_SYS_ADMIN: %w", err, ErrNoCapability)
		case errors.Is(err, unix.EINVAL):
			return nil, fmt.Errorf("sensor/config: fanotify_init: %v: this kernel lacks FAN_REPORT_DFID_NAME (Linux 5.9 or later is needed)", err)
		}
		return nil, fmt.Errorf("sensor/config: fanotify_init: %w", err)
	}
	root := filepath.Clean(opts.Root)
	if root == "/" {
		root = ""
	}
	s := &Sensor{opts: opts, root: root, fd: fd, dirs: map[string]string{}, marked: map[string]bool{},
		mounts: map[[2]int32]int{}, pending: map[pendingKey]bool{}}
	s.mask = unix.FAN_CREATE | unix.FAN_DELETE | unix.FAN_MODIFY | unix.FAN_CLOSE_WRITE | unix.FAN_ONDIR | unix.FAN_EVENT_ON_CHILD
	// FAN_RENAME (5.17) reports both names in one event; before it, the
	// two halves of a move.
	probe := s.mask | unix.FAN_RENAME
	if s.root != "" {
		if _, err := os.Stat(opts.Root); err != nil {
			s.Close()
			return nil, fmt.Errorf("sensor/config: root: %w", err)
		}
	}
	if err := unix.FanotifyMark(fd, unix.FAN_MARK_ADD, probe, unix.AT_FDCWD, s.abs("/")); err == nil {
		s.rename = true
		s.mask = probe
		unix.FanotifyMark(fd, unix.FAN_MARK_REMOVE, probe, unix.AT_FDCWD, s.abs("/"))
	} else {
		s.mask |= unix.FAN_MOVED_FROM | unix.FAN_MOVED_TO
	}
	if err := s.refresh(); err != nil {
		s.Close()
		return nil, err
	}
	s.newly = nil
	s.file = os.NewFile(uintptr(fd), "fanotify")
	return s, nil
}

// Name is the sensor's name in watch's logs and metrics.
func (s *Sensor) Name() string { return "config" }

// Drops is how many times the kernel's event queue overflowed.
func (s *Sensor) Drops() int64 { return s.nOverflows.Load() }

// Stats returns the sensor's counters.
func (s *Sensor) Stats() Stats {
	return Stats{Events: s.nEvents.Load(), Records: s.nRecords.Load(), Ignored: s.nIgnored.Load(),
		Overflows: s.nOverflows.Load(), Malformed: s.nMalformed.Load(), Marked: int(s.nMarked.Load())}
}

// Close releases the fanotify group.
func (s *Sensor) Close() error {
	for _, fd := range s.mounts {
		unix.Close(fd)
	}
	s.mounts = map[[2]int32]int{}
	if s.file != nil {
		return s.file.Close()
	}
	if s.fd >= 0 {
		err := unix.Close(s.fd)
		s.fd = -1
		return err
	}
	return nil
}

// abs is the path on disk of a host path under Root.
func (s *Sensor) abs(p string) string {
	if s.root == "" {
		return p
	}
	if p == "/" {
		return s.root
	}
	return s.root + p
}

// rel is the host path of a path on disk ("" when outside Root).
func (s *Sensor) rel(p string) (string, bool) {
	if s.root == "" {
		return p, true
	}
	if p == s.root {
		return "/", true
	}
	if r, ok := strings.CutPrefix(p, s.root+"/"); ok {
		return "/" + r, true
	}
	return "", false
}

// classify says which product's configuration a host path is.
func (s *Sensor) classify(p string) (Path, bool) {
	for _, w := range s.opts.Paths {
		switch w.Kind {
		case Dir:
			if p == w.Path || strings.HasPrefix(p, w.Path+"/") {
				return w, true
			}
		case File:
			if p == w.Path {
				return w, true
			}
		case Prefix:
			if path.Dir(p) == path.Dir(w.Path) && strings.HasPrefix(path.Base(p), path.Base(w.Path)) {
				return w, true
			}
		}
	}
	return Path{}, false
}

// refresh marks every directory that should be and exists: Dir paths
// and the directories below them, the parent of every path, and, for a
// parent that does not exist, its nearest existing ancestor.
func (s *Sensor) refresh() error {
	s.newly = s.newly[:0]
	for _, w := range s.opts.Paths {
		parent := path.Dir(w.Path)
		for {
			if fi, err := os.Stat(s.abs(parent)); err == nil && fi.IsDir() {
				if err := s.markDir(s.abs(parent)); err != nil {
					return err
				}
				break
			}
			if parent == "/" {
				break
			}
			parent = path.Dir(parent)
		}
		if w.Kind != Dir {
			continue
		}
		top := s.abs(w.Path)
		if fi, err := os.Stat(top); err != nil || !fi.IsDir() {
			continue
		}
		depth0 := strings.Count(top, "/")
		err := filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return nil
			}
			if strings.Count(p, "/")-depth0 > s.opts.MaxDepth {
				return filepath.SkipDir
			}
			return s.markDir(p)
		})
		if err != nil {
			return err
		}
	}
	s.nMarked.Store(int64(len(s.marked)))
	return nil
}

func (s *Sensor) markDir(p string) error {
	if s.marked[p] {
		return nil
	}
	if err := unix.FanotifyMark(s.fd, unix.FAN_MARK_ADD|unix.FAN_MARK_ONLYDIR|unix.FAN_MARK_DONT_FOLLOW, s.mask, unix.AT_FDCWD, p); err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
			return nil // gone meanwhile
		}
		if errors.Is(err, unix.EXDEV) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENODEV) {
			return fmt.Errorf("sensor/config: %s: this file system cannot report file identifiers to fanotify: %w", p, err)
		}
		return fmt.Errorf("sensor/config: fanotify_mark %s: %w", p, err)
	}
	s.marked[p] = true
	s.newly = append(s.newly, p)
	h, _, err := unix.NameToHandleAt(unix.AT_FDCWD, p, 0)
	if err != nil {
		return nil // events from it will be resolved by handle
	}
	var st unix.Statfs_t
	if unix.Statfs(p, &st) != nil {
		return nil
	}
	fsid := [2]int32{st.Fsid.Val[0], st.Fsid.Val[1]}
	s.dirs[handleKey(fsid, h.Type(), h.Bytes())] = p
	if _, ok := s.mounts[fsid]; !ok {
		if fd, err := unix.Open(p, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err == nil {
			s.mounts[fsid] = fd
		}
	}
	return nil
}

// forget drops what is known of a directory and those below it (deleted
// or moved away): their marks go with the inodes, or stay on a directory
// now elsewhere, whose events are then resolved by handle.
func (s *Sensor) forget(p string) {
	for q := range s.marked {
		if q == p || strings.HasPrefix(q, p+"/") {
			delete(s.marked, q)
		}
	}
	for k, q := range s.dirs {
		if q == p || strings.HasPrefix(q, p+"/") {
			delete(s.dirs, k)
		}
	}
}

// dirPath resolves a directory's handle to its path.
func (s *Sensor) dirPath(in Info) (string, bool) {
	if p, ok := s.dirs[in.Key()]; ok {
		return p, true
	}
	mfd, ok := s.mounts[in.Fsid]
	if !ok {
		return "", false
	}
	h := unix.NewFileHandle(in.HandleType, in.Handle)
	fd, err := unix.OpenByHandleAt(mfd, h, unix.O_PATH|unix.O_CLOEXEC)
	if err != nil {
		return "", false
	}
	defer unix.Close(fd)
	p, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
	if err != nil || strings.HasSuffix(p, " (deleted)") {
		return "", false
	}
	return p, true
}

// Run reads events until ctx ends or emit fails, calling emit from this
// goroutine. It returns nil when ctx ends.
func (s *Sensor) Run(ctx context.Context, emit func(*event.Event) error) error {
	stop := context.AfterFunc(ctx, func() { s.file.SetReadDeadline(time.Now()) })
	defer stop()
	buf := make([]byte, 64<<10)
	for {
		n, err := s.file.Read(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, unix.EINTR) || errors.Is(err, unix.EAGAIN) {
				continue
			}
			return fmt.Errorf("sensor/config: reading fanotify: %w", err)
		}
		if s.capture != nil {
			s.capture(buf[:n])
		}
		recs, err := Decode(buf[:n])
		if err != nil {
			s.nMalformed.Add(1)
		}
		now := time.Now()
		for i := range recs {
			s.nRecords.Add(1)
			for _, ev := range s.handle(now, &recs[i]) {
				s.nEvents.Add(1)
				if err := emit(ev); err != nil {
					return err
				}
			}
		}
	}
}

// handle turns one fanotify event into zero or more ECS events.
func (s *Sensor) handle(now time.Time, r *Record) (out []*event.Event) {
	if r.FD >= 0 {
		unix.Close(int(r.FD)) // not asked for; never expected in FID mode
	}
	if r.Mask&unix.FAN_Q_OVERFLOW != 0 {
		s.nOverflows.Add(1)
		ev := s.base(now)
		ev.SetStr("event.action", "config_events_lost")
		ev.Set("event.type", event.Strs("info"))
		ev.SetStr("event.reason", "overflow")
		ev.SetStr("event.outcome", "unknown")
		return []*event.Event{ev}
	}
	isDir := r.Mask&unix.FAN_ONDIR != 0
	if old, ok := r.info(infoOldDFIDName); ok {
		// FAN_RENAME: both names in one event.
		nw, _ := r.info(infoNewDFIDName)
		od, ok1 := s.dirPath(old)
		nd, ok2 := s.dirPath(nw)
		if !ok1 && !ok2 {
			s.nIgnored.Add(1)
			return nil
		}
		from, to := "", ""
		if ok1 {
			from = filepath.Join(od, old.Name)
		}
		if ok2 {
			to = filepath.Join(nd, nw.Name)
		}
		out = s.renamed(now, r, from, to, isDir)
		if isDir {
			if from != "" {
				s.forget(from)
			}
			s.refresh()
			out = append(out, s.discovered(now, to)...)
		}
		return out
	}
	in, ok := r.info(infoDFIDName)
	if !ok {
		s.nIgnored.Add(1)
		return nil
	}
	dir, ok := s.dirPath(in)
	if !ok {
		s.nIgnored.Add(1)
		return nil
	}
	p := filepath.Join(dir, in.Name)
	if isDir && r.Mask&(unix.FAN_CREATE|unix.FAN_MOVED_TO) != 0 {
		s.refresh()
		defer func() { out = append(out, s.discovered(now, p)...) }()
	}
	if isDir && r.Mask&(unix.FAN_DELETE|unix.FAN_MOVED_FROM) != 0 {
		s.forget(p)
	}
	switch {
	case r.Mask&unix.FAN_MOVED_FROM != 0:
		out = s.renamed(now, r, p, "", isDir)
		return out
	case r.Mask&unix.FAN_MOVED_TO != 0:
		out = s.renamed(now, r, "", p, isDir)
		return out
	}
	add := func(action, typ string) {
		if ev := s.fileEvent(now, r, p, isDir, action, typ); ev != nil {
			out = append(out, ev)
		}
	}
	if r.Mask&unix.FAN_CREATE != 0 {
		add("config_created", "creation")
	}
	if r.Mask&unix.FAN_MODIFY != 0 {
		// One event per writer and file until it closes the file.
		k := pendingKey{p, r.PID}
		if !s.pending[k] {
			s.pending[k] = true
			add("config_modified", "change")
		}
	}
	if r.Mask&unix.FAN_CLOSE_WRITE != 0 {
		// A close after writing clears the writer's pending modification
		// (the close may come from another process sharing the file).
		for k := range s.pending {
			if k.path == p {
				delete(s.pending, k)
			}
		}
	}
	if r.Mask&unix.FAN_DELETE != 0 {
		add("config_deleted", "deletion")
	}
	return out
}

// maxDiscovered bounds the events one new directory tree yields.
const maxDiscovered = 256

// discovered reports what a directory that just appeared (created or
// moved in: top) already held when it was marked — subdirectories and
// files created before their directory could be marked (mkdir -p, tar,
// a tree moved into place). Who made them is unknown: these events
// carry no process and say firewall.config.discovered.
func (s *Sensor) discovered(now time.Time, top string) []*event.Event {
	var out []*event.Event
	none := &Record{}
	for _, d := range s.newly {
		if len(out) >= maxDiscovered {
			break
		}
		if d != top {
			if ev := s.fileEvent(now, none, d, true, "config_created", "creation"); ev != nil {
				ev.Set("firewall.config.discovered", event.BoolV(true))
				out = append(out, ev)
			}
		}
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			if e.IsDir() || len(out) >= maxDiscovered {
				continue
			}
			if ev := s.fileEvent(now, none, filepath.Join(d, e.Name()), false, "config_created", "creation"); ev != nil {
				ev.Set("firewall.config.discovered", event.BoolV(true))
				out = append(out, ev)
			}
		}
	}
	s.newly = s.newly[:0]
	return out
}

func (s *Sensor) base(now time.Time) *event.Event {
	ev := event.New(20)
	ev.Time = now.UTC()
	ev.Format = "config"
	ev.Index = Index
	ev.SetStr("@timestamp", ev.Time.Format("2006-01-02T15:04:05.000000Z07:00"))
	ev.SetStr("event.kind", "event")
	ev.SetStr("event.module", "firewarden")
	ev.SetStr("event.dataset", "firewarden.config")
	ev.SetStr("event.provider", "fanotify")
	ev.Set("event.category", event.Strs("file"))
	return ev
}

// fileEvent is the event for a path on disk, nil when the path is no
// firewall configuration.
func (s *Sensor) fileEvent(now time.Time, r *Record, p string, isDir bool, action string, types ...string) *event.Event {
	host, ok := s.rel(p)
	if !ok {
		s.nIgnored.Add(1)
		return nil
	}
	w, ok := s.classify(host)
	if !ok {
		s.nIgnored.Add(1)
		return nil
	}
	ev := s.base(now)
	ev.SetStr("event.action", action)
	ev.Set("event.type", event.Strs(types...))
	ev.SetStr("event.outcome", "success")
	ev.SetStr("file.path", p)
	ev.SetStr("file.name", filepath.Base(p))
	ev.SetStr("file.directory", filepath.Dir(p))
	if isDir {
		ev.SetStr("file.type", "dir")
	} else {
		ev.SetStr("file.type", "file")
	}
	ev.SetStr("firewall.config.product", w.Product)
	ev.SetStr("firewall.config.path", host)
	ev.SetStr("firewall.config.watched", w.Path)
	if r.PID > 0 {
		ev.Set("process.pid", event.IntV(int64(r.PID)))
		if b, err := os.ReadFile("/proc/" + strconv.Itoa(int(r.PID)) + "/comm"); err == nil {
			if c := strings.TrimSuffix(string(b), "\n"); c != "" {
				ev.SetStr("process.name", c)
			}
		}
	}
	return ev
}

// renamed is the event for a rename (either side may be unknown: a move
// into or out of the marked directories). It is about the new path when
// that is configuration, else about the old one.
func (s *Sensor) renamed(now time.Time, r *Record, from, to string, isDir bool) []*event.Event {
	cfg := func(p string) bool {
		if p == "" {
			return false
		}
		h, ok := s.rel(p)
		if !ok {
			return false
		}
		_, ok = s.classify(h)
		return ok
	}
	fromCfg, toCfg := cfg(from), cfg(to)
	var ev *event.Event
	switch {
	case toCfg:
		types := []string{"change", "creation"}
		if fromCfg {
			types = types[:1]
		}
		ev = s.fileEvent(now, r, to, isDir, "config_renamed", types...)
	case fromCfg:
		ev = s.fileEvent(now, r, from, isDir, "config_renamed", "change", "deletion")
	default:
		s.nIgnored.Add(1)
		return nil
	}
	if toCfg && from != "" {
		ev.SetStr("firewall.config.old_path", from)
	} else if !toCfg && to != "" {
		ev.SetStr("firewall.config.new_path", to)
	}
	return []*event.Event{ev}
}
