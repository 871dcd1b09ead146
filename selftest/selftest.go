// Package selftest proves firewarden's detection on the host it runs on:
// with the live sensors on (exec, nft, audit), it runs each technique of a
// catalogue of firewall tampering — and benign look-alikes — inside a
// throwaway network namespace of its own, attributes the alerts and the
// kernel's own firewall events to the technique that caused them, and
// reports, for each technique, which rule set detected it: the seed
// Elastic EQL, Sigma, Splunk SPL and Sentinel KQL rules, the firewarden
// pack, and the ground truth (whether the kernel-side sensors saw a
// firewall change at all).
//
// Every firewall command runs inside a namespace selftest creates
// (fwself-<random>), deleted afterwards whatever happens; ufw's
// configuration is a private copy bind-mounted in a mount namespace of
// the technique's own. The host's ruleset is read before and after, and
// the report says whether it is unchanged.
package selftest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/firewarden/firewarden/alert"
	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/hunt"
	"github.com/firewarden/firewarden/rule"
	"github.com/firewarden/firewarden/rules"
	"github.com/firewarden/firewarden/sensor/audit"
	execsensor "github.com/firewarden/firewarden/sensor/exec"
	"github.com/firewarden/firewarden/sensor/nft"
	"github.com/firewarden/firewarden/watch"
)

// Options configure a run.
type Options struct {
	// Only runs these technique ids (default: all).
	Only []string
	// Timeout is how long a technique's alerts and firewall events are
	// awaited after its command ends (default 3s); selftest moves on
	// sooner once the sensors have been quiet for a while.
	Timeout time.Duration
	// Progress, when set, gets one line per technique as it runs.
	Progress io.Writer
	// Log receives the sensors' and watcher's messages (default: none).
	Log *slog.Logger
}

// Column is one rule set of the matrix, or the ground truth.
type Column struct {
	Key   string `json:"key"`
	Title string `json:"title"`
}

// Columns of the matrix, in order.
var Columns = []Column{
	{"seed-eql", "seed EQL"},
	{"seed-sigma", "seed Sigma"},
	{"seed-spl", "seed SPL"},
	{"seed-kql", "seed KQL"},
	{"pack", "firewarden pack"},
	{"elastic", "Elastic rule today"},
	{"truth", "ground truth"},
}

// column says which column a built-in rule belongs to.
func column(rulePath string) string {
	p, ok := strings.CutPrefix(rulePath, "builtin:")
	if !ok {
		return ""
	}
	base := path.Base(p)
	switch {
	case strings.HasPrefix(p, "sigma/firewarden/"):
		return "pack"
	case p == "sigma/flush_iptables_ufw_chain.yml":
		return "seed-sigma"
	case strings.HasPrefix(p, "elastic/") && strings.Contains(base, "_seed"):
		return "seed-eql"
	case strings.HasPrefix(p, "elastic/"):
		return "elastic"
	case strings.HasPrefix(p, "spl/") && strings.Contains(base, "seed"):
		return "seed-spl"
	case strings.HasPrefix(p, "kql/"):
		return "seed-kql"
	}
	return ""
}

// Cell is one technique × rule set.
type Cell struct {
	Detected bool `json:"detected"`
	// Rules are the names of the rules that fired.
	Rules []string `json:"rules,omitempty"`
}

// Truth is what the kernel-side sensors saw of a technique.
type Truth struct {
	Seen    bool     `json:"seen"`
	Sensors []string `json:"sensors,omitempty"` // nft, audit
	Actions []string `json:"actions,omitempty"` // event.action values
}

// Row is one technique's result.
type Row struct {
	*Technique
	Ran    bool   `json:"ran"`
	NotRun string `json:"not_run,omitempty"`
	// Error is the technique's command failing (it is still scored: a
	// failed attempt may still have changed something).
	Error string           `json:"error,omitempty"`
	Cells map[string]*Cell `json:"cells,omitempty"`
	Truth Truth            `json:"ground_truth"`
	// Namespace is the network namespace it ran in.
	Namespace string `json:"namespace,omitempty"`

	ino                uint64
	root, setup        int
	start, end, settle time.Time
}

// Total is one column's score.
type Total struct {
	Column         string  `json:"column"`
	Detected       int     `json:"detected"`
	Attacks        int     `json:"attacks"`
	Rate           float64 `json:"rate"`
	FalsePositives int     `json:"false_positives"`
	Benign         int     `json:"benign"`
}

// Report is a run's result.
type Report struct {
	Kernel    string   `json:"kernel"`
	Sensors   []string `json:"sensors"`
	NoSensors []string `json:"sensors_not_running,omitempty"`
	// AuditEnabled: auditing was off and selftest turned it on for the run.
	AuditEnabled bool     `json:"audit_enabled_for_the_run,omitempty"`
	Rules        int      `json:"rules"`
	Columns      []Column `json:"columns"`
	Rows         []*Row   `json:"rows"`
	Totals       []Total  `json:"totals"`
	// Unattributed counts alerts raised meanwhile on the host by
	// processes outside the techniques.
	Unattributed int `json:"unattributed_alerts"`
	// UnattributedRules counts them by rule.
	UnattributedRules map[string]int `json:"unattributed_by_rule,omitempty"`
	// HostUntouched: the host namespace's ruleset (nft list ruleset,
	// iptables-save, ip6tables-save, legacy tables) was the same before
	// and after.
	HostUntouched bool   `json:"host_untouched"`
	HostDiff      string `json:"host_diff,omitempty"`
	Interrupted   bool   `json:"interrupted,omitempty"`
}

// record is what attribution needs of a sensor event.
type record struct {
	t         time.Time
	sensor    string
	pid, ppid int64
	netns     int64
	action    string
}

// raised is what attribution needs of an alert.
type raised struct {
	t      time.Time
	column string
	rule   string
	pids   []int64
	netns  []int64
}

type recorder struct {
	mu      sync.Mutex
	records []record
	alerts  []raised
}

func intOf(v event.Value) int64 {
	switch v.Kind {
	case event.Int:
		return v.Int
	case event.String:
		n, _ := strconv.ParseInt(v.Str, 10, 64)
		return n
	case event.List:
		if len(v.List) > 0 {
			return intOf(v.List[0])
		}
	}
	return 0
}

func (r *recorder) event(sensor string, ev *event.Event) {
	rec := record{t: time.Now(), sensor: sensor, pid: intOf(ev.Get("process.pid")), ppid: intOf(ev.Get("process.parent.pid")),
		action: ev.Get("event.action").Str}
	if n := intOf(ev.Get("firewall.netns.inode")); n != 0 {
		rec.netns = n
	} else {
		rec.netns = intOf(ev.Get("firewarden.netns"))
	}
	r.mu.Lock()
	r.records = append(r.records, rec)
	r.mu.Unlock()
}

// Write takes an alert (alert.Sink).
func (r *recorder) Write(a *alert.Alert) error {
	x := raised{t: time.Now(), column: column(a.Rule.Path), rule: a.Rule.Name}
	add := func(s []int64, v int64) []int64 {
		if v != 0 && !slices.Contains(s, v) {
			s = append(s, v)
		}
		return s
	}
	for _, ev := range a.Events {
		x.pids = add(x.pids, intOf(ev.Get("process.pid")))
		x.pids = add(x.pids, intOf(ev.Get("process.parent.pid")))
		x.netns = add(x.netns, intOf(ev.Get("firewarden.netns")))
		x.netns = add(x.netns, intOf(ev.Get("firewall.netns.inode")))
	}
	if p := a.Process; p != nil {
		x.pids = add(x.pids, p.PID)
		if p.Parent != nil {
			x.pids = add(x.pids, p.Parent.PID)
		}
	}
	r.mu.Lock()
	r.alerts = append(r.alerts, x)
	r.mu.Unlock()
	return nil
}

// Close is alert.Sink's.
func (r *recorder) Close() error { return nil }

// lastActivity is when the sensors last saw a firewall event anywhere or
// an exec in namespace ino.
func (r *recorder) lastActivity(ino uint64) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.records) - 1; i >= 0; i-- {
		rec := r.records[i]
		if rec.sensor != "exec" || rec.netns == int64(ino) {
			return rec.t
		}
	}
	return time.Time{}
}

// tagged records every event of a sensor before the watcher gets it.
type tagged struct {
	watch.Sensor
	rec *recorder
}

func (s tagged) Run(ctx context.Context, emit func(*event.Event) error) error {
	return s.Sensor.Run(ctx, func(ev *event.Event) error {
		s.rec.event(s.Name(), ev)
		return emit(ev)
	})
}

// Select returns the catalogue's techniques with the given ids (all for
// none), or an error naming an unknown id.
func Select(only []string) ([]*Technique, error) {
	all := Catalogue()
	if len(only) == 0 {
		return all, nil
	}
	var out []*Technique
	for _, id := range only {
		i := slices.IndexFunc(all, func(t *Technique) bool { return t.ID == id })
		if i < 0 {
			var ids []string
			for _, t := range all {
				ids = append(ids, t.ID)
			}
			return nil, fmt.Errorf("unknown technique %q (known: %s)", id, strings.Join(ids, ", "))
		}
		out = append(out, all[i])
	}
	return out, nil
}

// Run runs the techniques and scores them. The report is returned even
// with an error (interrupted, or the host's ruleset changed), as far as
// it got.
func Run(ctx context.Context, opts Options) (*Report, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("selftest needs root (eBPF, netlink, network and mount namespaces)")
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("selftest needs %s (apt-get install iproute2 nftables)", tool)
		}
	}
	techniques, err := Select(opts.Only)
	if err != nil {
		return nil, err
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 3 * time.Second
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	before, err := hostFirewall()
	if err != nil {
		return nil, fmt.Errorf("reading the host's ruleset: %w", err)
	}
	rep := &Report{Columns: Columns}
	var uts syscall.Utsname
	if syscall.Uname(&uts) == nil {
		rep.Kernel = cstr(uts.Release[:])
	}
	err = run(ctx, opts, log, techniques, rep)
	after, herr := hostFirewall()
	if herr != nil {
		return rep, errors.Join(err, fmt.Errorf("reading the host's ruleset afterwards: %w", herr))
	}
	rep.HostDiff = diffLines(before, after)
	rep.HostUntouched = rep.HostDiff == ""
	if !rep.HostUntouched {
		err = errors.Join(err, errors.New("the host's ruleset changed during the selftest (see the diff): something outside the test namespaces changed it"))
	}
	return rep, err
}

func cstr(b []int8) string {
	var s []byte
	for _, c := range b {
		if c == 0 {
			break
		}
		s = append(s, byte(c))
	}
	return string(s)
}

func run(ctx context.Context, opts Options, log *slog.Logger, techniques []*Technique, rep *Report) error {
	set, err := rule.LoadFS(rules.FS, ".", "builtin:", true)
	if err != nil {
		return fmt.Errorf("built-in rules: %w", err)
	}
	for _, r := range set.Refused {
		log.Warn("rule refused", "path", r.Path, "err", r.Err)
	}
	eng, refused := hunt.Compile(set.Rules)
	for _, r := range refused {
		log.Warn("rule refused by the engine", "path", r.Path, "err", r.Err)
	}
	rep.Rules = len(eng.Rules())

	rec := &recorder{}
	var sensors []watch.Sensor
	var nf *nft.Sensor
	if ex, err := execsensor.Open(execsensor.Options{}); err != nil {
		rep.NoSensors = append(rep.NoSensors, "exec: "+err.Error())
	} else {
		defer ex.Close()
		sensors = append(sensors, tagged{ex, rec})
	}
	if nf, err = nft.Open(nft.Options{ScanInterval: 50 * time.Millisecond}); err != nil {
		return fmt.Errorf("the nft sensor cannot run: %w", err)
	}
	sensors = append(sensors, tagged{nf, rec})
	au, err := audit.Open(audit.Options{EnableAudit: true})
	if err != nil {
		rep.NoSensors = append(rep.NoSensors, "audit: "+err.Error())
	} else {
		rep.AuditEnabled = au.Stats().Enabled
		sensors = append(sensors, tagged{au, rec})
	}
	for _, s := range sensors {
		rep.Sensors = append(rep.Sensors, s.Name())
	}
	w, err := watch.New(watch.Config{Sensors: sensors, Engine: eng, Sink: rec, Log: log})
	if err != nil {
		return err
	}
	wctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	// Give the sensors a moment to attach (the exec sensor's first events,
	// the nft sensor's first scan).
	time.Sleep(200 * time.Millisecond)

	var runErr error
	for _, t := range techniques {
		row := &Row{Technique: t}
		rep.Rows = append(rep.Rows, row)
		if why := t.notRun(); why != "" {
			row.NotRun = why
			progress(opts.Progress, "%-28s not run: %s\n", t.ID, why)
			continue
		}
		if ctx.Err() != nil {
			row.NotRun = "interrupted"
			continue
		}
		if err := runTechnique(ctx, nf, rec, row, opts.Timeout); err != nil {
			row.Error = err.Error()
		}
		progress(opts.Progress, "%-28s ran in %s %s\n", t.ID, row.Namespace, row.Error)
	}
	stop()
	if err := <-done; err != nil {
		log.Warn("sensors", "err", err)
	}
	if ctx.Err() != nil {
		rep.Interrupted = true
		runErr = fmt.Errorf("interrupted (%w): the namespaces made so far are deleted", ctx.Err())
	}
	score(rep, rec)
	return runErr
}

func progress(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format, args...)
	}
}

// runTechnique runs one technique in a namespace of its own, deleted
// before it returns.
func runTechnique(ctx context.Context, nf *nft.Sensor, rec *recorder, row *Row, timeout time.Duration) error {
	t := row.Technique
	var b [4]byte
	rand.Read(b[:])
	ns := "fwself-" + hex.EncodeToString(b[:])
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		return fmt.Errorf("ip netns add %s: %v: %s", ns, err, out)
	}
	defer exec.Command("ip", "netns", "delete", ns).Run()
	row.Namespace = ns
	fi, err := os.Stat("/run/netns/" + ns)
	if err != nil {
		return err
	}
	row.ino = fi.Sys().(*syscall.Stat_t).Ino
	dir, err := os.MkdirTemp("/tmp", "fwself-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if t.prepare != nil {
		if err := t.prepare(dir); err != nil {
			return fmt.Errorf("preparing: %w", err)
		}
	}
	for deadline := time.Now().Add(5 * time.Second); !nf.Watching(row.ino); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			return fmt.Errorf("the nft sensor never watched namespace %s", ns)
		}
	}
	setup := t.Setup
	if setup == "" {
		setup = commonSetup
	}
	if setup != "-" {
		cmd, err := command(ctx, ns, dir, "setup", setup, t.Isolate)
		if err != nil {
			return err
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("setup: %v: %s", err, strings.TrimSpace(string(out)))
		}
		row.setup = cmd.Process.Pid
	}
	cmd, err := command(ctx, ns, dir, "technique", t.Script, t.Isolate)
	if err != nil {
		return err
	}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	row.start = time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	row.root = cmd.Process.Pid
	row.Ran = true
	werr := cmd.Wait()
	row.end = time.Now()
	// Wait for the sensors to go quiet (at least 700ms, at most timeout).
	for {
		now := time.Now()
		if now.Sub(row.end) >= timeout || ctx.Err() != nil {
			break
		}
		if now.Sub(row.end) >= 700*time.Millisecond && now.Sub(rec.lastActivity(row.ino)) >= 400*time.Millisecond {
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	row.settle = time.Now()
	if werr != nil {
		return fmt.Errorf("%v: %s", werr, strings.TrimSpace(out.String()))
	}
	return nil
}

// command is `ip netns exec NS /bin/sh DIR/NAME.sh`: the script runs in
// the namespace, and, when paths are isolated, in a private mount
// namespace where a copy of each is bind-mounted over it.
func command(ctx context.Context, ns, dir, name, script string, isolate []string) (*exec.Cmd, error) {
	if !strings.HasPrefix(ns, "fwself-") {
		return nil, fmt.Errorf("refusing to run outside a selftest namespace (%q)", ns)
	}
	var pre strings.Builder
	pre.WriteString("set -e\n")
	for i, p := range isolate {
		cp := fmt.Sprintf("%s/isolated/%d", dir, i)
		if _, err := os.Stat(cp); err != nil {
			if err := os.MkdirAll(dir+"/isolated", 0o700); err != nil {
				return nil, err
			}
			if out, err := exec.Command("cp", "-a", p, cp).CombinedOutput(); err != nil {
				return nil, fmt.Errorf("copying %s: %v: %s", p, err, out)
			}
		}
		fmt.Fprintf(&pre, "mount --bind %s %s\n", cp, p)
	}
	if len(isolate) == 0 {
		pre.Reset()
	} else {
		pre.WriteString("set +e\n")
	}
	file := dir + "/" + name + ".sh"
	if err := os.WriteFile(file, []byte(pre.String()+script+"\n"), 0o644); err != nil {
		return nil, err
	}
	argv := []string{"netns", "exec", ns}
	if len(isolate) > 0 {
		argv = append(argv, "unshare", "--mount", "--propagation", "private")
	}
	argv = append(argv, "/bin/sh", file)
	cmd := exec.CommandContext(ctx, "ip", argv...)
	cmd.Env = append(os.Environ(), "DIR="+dir)
	cmd.Dir = dir
	return cmd, nil
}

// score attributes the recorded events and alerts to the techniques and
// fills the cells and totals.
func score(rep *Report, rec *recorder) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	children := map[int64][]int64{}
	for _, r := range rec.records {
		if r.sensor == "exec" && r.pid != 0 && r.ppid != 0 && r.pid != r.ppid {
			children[r.ppid] = append(children[r.ppid], r.pid)
		}
	}
	tree := func(root int) map[int64]bool {
		set := map[int64]bool{}
		if root == 0 {
			return set
		}
		queue := []int64{int64(root)}
		for len(queue) > 0 {
			p := queue[0]
			queue = queue[1:]
			if set[p] {
				continue
			}
			set[p] = true
			queue = append(queue, children[p]...)
		}
		return set
	}
	type attrib struct {
		row         *Row
		tech, setup map[int64]bool
	}
	var rows []attrib
	for _, row := range rep.Rows {
		if row.Ran {
			rows = append(rows, attrib{row, tree(row.root), tree(row.setup)})
		}
	}
	// belongs finds the technique that caused something with these pids
	// and namespaces at time t: its process tree, else its namespace
	// while it ran (not its setup's processes).
	belongs := func(pids, netns []int64, t time.Time) *Row {
		for _, a := range rows {
			for _, p := range pids {
				if a.tech[p] {
					return a.row
				}
			}
		}
		for _, a := range rows {
			setup := false
			for _, p := range pids {
				setup = setup || a.setup[p]
			}
			if setup {
				return nil
			}
		}
		for _, a := range rows {
			if slices.Contains(netns, int64(a.row.ino)) && !t.Before(a.row.start) && !t.After(a.row.settle) {
				return a.row
			}
		}
		return nil
	}
	for _, r := range rec.records {
		if r.sensor == "exec" {
			continue
		}
		row := belongs([]int64{r.pid}, []int64{r.netns}, r.t)
		if row == nil {
			continue
		}
		row.Truth.Seen = true
		if !slices.Contains(row.Truth.Sensors, r.sensor) {
			row.Truth.Sensors = append(row.Truth.Sensors, r.sensor)
		}
		if r.action != "" && !slices.Contains(row.Truth.Actions, r.action) {
			row.Truth.Actions = append(row.Truth.Actions, r.action)
		}
	}
	for _, row := range rep.Rows {
		slices.Sort(row.Truth.Sensors)
		if row.Ran {
			row.Cells = map[string]*Cell{}
			for _, c := range Columns {
				if c.Key != "truth" {
					row.Cells[c.Key] = &Cell{}
				}
			}
			row.Cells["truth"] = &Cell{Detected: row.Truth.Seen}
		}
	}
	for _, a := range rec.alerts {
		row := belongs(a.pids, a.netns, a.t)
		if row == nil || a.column == "" {
			if row == nil {
				rep.Unattributed++
				if rep.UnattributedRules == nil {
					rep.UnattributedRules = map[string]int{}
				}
				rep.UnattributedRules[a.rule]++
			}
			continue
		}
		c := row.Cells[a.column]
		c.Detected = true
		if !slices.Contains(c.Rules, a.rule) {
			c.Rules = append(c.Rules, a.rule)
		}
	}
	for _, c := range Columns {
		tot := Total{Column: c.Key}
		for _, row := range rep.Rows {
			if !row.Ran {
				continue
			}
			if row.Benign {
				tot.Benign++
				if row.Cells[c.Key].Detected && c.Key != "truth" {
					tot.FalsePositives++
				}
				continue
			}
			tot.Attacks++
			if row.Cells[c.Key].Detected {
				tot.Detected++
			}
		}
		if tot.Attacks > 0 {
			tot.Rate = float64(tot.Detected) / float64(tot.Attacks)
		}
		rep.Totals = append(rep.Totals, tot)
	}
}
