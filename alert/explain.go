package alert

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/firewarden/firewarden/event"
)

// DefaultWindow is how far either side of an alert its related alerts are
// looked for.
const DefaultWindow = 5 * time.Minute

// Index finds an alert's neighbours: the other alerts on the same host
// within a window. It holds only the alerts it is given (already written),
// sorted by time per host.
type Index struct {
	byHost map[string][]*Alert
}

// NewIndex indexes alerts.
func NewIndex(alerts []*Alert) *Index {
	x := &Index{byHost: map[string][]*Alert{}}
	for _, a := range alerts {
		x.byHost[a.Host.Name] = append(x.byHost[a.Host.Name], a)
	}
	for _, as := range x.byHost {
		sort.SliceStable(as, func(i, j int) bool { return as[i].Timestamp.Before(as[j].Timestamp) })
	}
	return x
}

// Near returns the alerts on a's host within window of a's time (both
// ends included), a itself (the same pointer or id) left out, in time
// order.
func (x *Index) Near(a *Alert, window time.Duration) []*Alert {
	as := x.byHost[a.Host.Name]
	lo, hi := a.Timestamp.Add(-window), a.Timestamp.Add(window)
	i := sort.Search(len(as), func(i int) bool { return !as[i].Timestamp.Before(lo) })
	var out []*Alert
	for ; i < len(as) && !as[i].Timestamp.After(hi); i++ {
		if as[i] != a && as[i].ID != a.ID {
			out = append(out, as[i])
		}
	}
	return out
}

// ViewOptions tune the expanded view of an alert.
type ViewOptions struct {
	// Window is the related alerts' window either side (0: DefaultWindow).
	Window time.Duration
	// MaxRelated lists at most this many related alerts, the nearest in
	// time, and counts the rest (0: all).
	MaxRelated int
	// Width truncates command lines in the related alerts (0: no limit).
	Width int
}

// WriteView writes the expanded view of a: the rule (ATT&CK, matched
// parts, schedule, tags, false positives), the culprit's process tree,
// the ruleset diff of any matched live-sensor event, the evidence events,
// the related alerts (the other alerts on its host within the window,
// from related, which may hold a itself), and the rule's investigation
// guide, response and setup notes.
func WriteView(w io.Writer, a *Alert, related []*Alert, o ViewOptions) {
	explain(w, a, func() {
		writeTree(w, a)
		writeDiffs(w, a)
		writeEvidence(w, a)
		writeRelated(w, a, related, o)
	})
}

// writeTree draws the culprit's ancestors, oldest first, then the culprit.
func writeTree(w io.Writer, a *Alert) {
	p := a.Process
	if p == nil || len(p.Ancestors) == 0 {
		return
	}
	fmt.Fprintln(w, "   process tree")
	depth := 0
	for i := len(p.Ancestors) - 1; i >= 0; i-- {
		writeNode(w, depth, p.Ancestors[i], "")
		depth++
	}
	user := ""
	if a.User.Name != "" {
		user = a.User.Name
	}
	c := *p
	if c.User == nil && user != "" {
		c.User = &Named{Name: user}
	}
	writeNode(w, depth, &c, "   ← this alert")
}

func writeNode(w io.Writer, depth int, p *Process, mark string) {
	pfx := "      "
	if depth > 0 {
		pfx += strings.Repeat("  ", depth-1) + "└─ "
	}
	var parts []string
	parts = append(parts, fmt.Sprint(p.PID))
	if p.Executable != "" {
		parts = append(parts, p.Executable)
	} else if p.Name != "" {
		parts = append(parts, p.Name)
	}
	if p.CommandLine != "" {
		parts = append(parts, "“"+oneLine(p.CommandLine)+"”")
	}
	if p.User != nil && p.User.Name != "" {
		parts = append(parts, "user "+p.User.Name)
	}
	if len(parts) == 1 {
		parts = append(parts, "(its exec is not in the events read)")
	}
	fmt.Fprintf(w, "%s%s%s\n", pfx, strings.Join(parts, "  "), mark)
}

// writeDiffs prints firewall.diff of each matched event that has one (the
// live nft sensor's), with what changed where.
func writeDiffs(w io.Writer, a *Alert) {
	for _, ev := range a.Events {
		d := ev.Get("firewall.diff")
		if d.Kind != event.String || strings.TrimSpace(d.Str) == "" {
			continue
		}
		var where []string
		for _, f := range []string{"event.action", "firewall.family", "firewall.table", "firewall.chain"} {
			if v := ev.Get(f).String(); v != "" {
				where = append(where, v)
			}
		}
		if ns := ev.Get("firewall.netns.name").String(); ns != "" {
			where = append(where, "netns "+ns)
		} else if v := ev.Get("firewall.netns.inode"); v.Exists() {
			where = append(where, "netns "+v.String())
		}
		if g := ev.Get("firewall.generation"); g.Exists() {
			where = append(where, "generation "+g.String())
		}
		fmt.Fprintf(w, "   ruleset diff  %s\n%s\n", strings.Join(where, ", "), indent(d.Str, "      "))
	}
}

// writeEvidence lists where each matched event came from.
func writeEvidence(w io.Writer, a *Alert) {
	if len(a.Events) == 0 {
		return
	}
	fmt.Fprintln(w, "   events")
	for _, ev := range a.Events {
		var parts []string
		parts = append(parts, ev.Time.UTC().Format("2006-01-02T15:04:05.000Z"))
		if src := source(ev); src != "" {
			parts = append(parts, src)
		}
		if act := ev.Get("event.action").String(); act != "" {
			parts = append(parts, act)
		}
		if pid := ev.Get("process.pid"); pid.Exists() {
			parts = append(parts, "pid "+pid.String())
		}
		fmt.Fprintf(w, "      %s\n", strings.Join(parts, "  "))
	}
}

// writeRelated lists the other alerts on a's host within the window,
// nearest first when capped, then printed in time order.
func writeRelated(w io.Writer, a *Alert, related []*Alert, o ViewOptions) {
	win := o.Window
	if win <= 0 {
		win = DefaultWindow
	}
	var near []*Alert
	for _, r := range related {
		if r != a && r.ID != a.ID && r.Host.Name == a.Host.Name && absDur(r.Timestamp.Sub(a.Timestamp)) <= win {
			near = append(near, r)
		}
	}
	host := a.Host.Name
	if host == "" {
		host = "(no host name)"
	}
	shown := near
	if o.MaxRelated > 0 && len(near) > o.MaxRelated {
		shown = append([]*Alert(nil), near...)
		sort.SliceStable(shown, func(i, j int) bool {
			return absDur(shown[i].Timestamp.Sub(a.Timestamp)) < absDur(shown[j].Timestamp.Sub(a.Timestamp))
		})
		shown = shown[:o.MaxRelated]
	}
	sort.SliceStable(shown, func(i, j int) bool { return shown[i].Timestamp.Before(shown[j].Timestamp) })
	head := fmt.Sprintf("   related    %d other alert(s) on %s within ±%s", len(near), host, shortDuration(win.String()))
	if len(shown) < len(near) {
		head += fmt.Sprintf("; the %d nearest", len(shown))
	}
	fmt.Fprintln(w, head)
	for _, r := range shown {
		var pid, cmd string
		if p := r.Process; p != nil {
			if p.PID != 0 {
				pid = fmt.Sprint(p.PID)
			}
			cmd = p.CommandLine
			if cmd == "" {
				cmd = p.Executable
			}
		}
		src := ""
		if len(r.Events) > 0 {
			src = source(r.Events[0])
		}
		fmt.Fprintf(w, "      %8s  %-8s %s  %s  pid %s  %s  %s\n", offset(r.Timestamp.Sub(a.Timestamp)), r.Rule.Severity,
			r.ID, r.Rule.Name, dash(pid), dash(clip(oneLine(cmd), o.Width)), src)
	}
}

// source is an event's file (base name) and line.
func source(ev *event.Event) string {
	if ev.File == "" {
		return ""
	}
	return fmt.Sprintf("%s:%d", filepath.Base(ev.File), ev.Line)
}

// offset prints a signed duration to the millisecond: +0s, -120ms, +2m3s.
func offset(d time.Duration) string {
	d = d.Round(time.Millisecond)
	if d < 0 {
		return "-" + (-d).String()
	}
	return "+" + d.String()
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
