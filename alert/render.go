package alert

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Sink takes alerts.
type Sink interface {
	Write(*Alert) error
	Close() error
}

// NDJSON writes one JSON alert per line.
type NDJSON struct {
	enc *json.Encoder
}

// NewNDJSON returns an NDJSON sink on w.
func NewNDJSON(w io.Writer) *NDJSON {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &NDJSON{enc: enc}
}

func (s *NDJSON) Write(a *Alert) error { return s.enc.Encode(a) }
func (s *NDJSON) Close() error         { return nil }

// Table writes an aligned table for a terminal. Columns are aligned over
// the whole output, so rows are buffered until Close.
type Table struct {
	w       io.Writer
	rows    []*Alert
	Verbose bool
	// Width truncates the command-line column (0: no limit).
	Width int
	// View tunes the expanded view of each alert under Verbose: its
	// related alerts (the others on its host within View.Window) are
	// looked up among the alerts written, so they are listed after the
	// table, each alert's view in the order the alerts were raised.
	View ViewOptions
}

// NewTable returns a table sink on w.
func NewTable(w io.Writer) *Table { return &Table{w: w} }

func (t *Table) Write(a *Alert) error {
	t.rows = append(t.rows, a)
	return nil
}

func (t *Table) Close() error {
	if len(t.rows) == 0 {
		_, err := fmt.Fprintln(t.w, "no alerts")
		return err
	}
	tw := tabwriter.NewWriter(t.w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tSEVERITY\tRULE\tLANG\tHOST\tUSER\tPID\tPARENT\tCOMMAND LINE\tSOURCE")
	for _, a := range t.rows {
		var pid, parent, cmd string
		if p := a.Process; p != nil {
			if p.PID != 0 {
				pid = fmt.Sprint(p.PID)
			}
			cmd = p.CommandLine
			if cmd == "" {
				cmd = p.Executable
			}
			if pp := p.Parent; pp != nil {
				parent = pp.Name
				if parent == "" {
					parent = pp.Executable
				}
			}
		}
		src := ""
		if len(a.Events) > 0 && a.Events[0].File != "" {
			src = fmt.Sprintf("%s:%d", a.Events[0].File, a.Events[0].Line)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			a.Timestamp.UTC().Format(time.RFC3339), a.Rule.Severity, a.Rule.Name, a.Rule.Language,
			dash(a.Host.Name), dash(a.User.Name), dash(pid), dash(parent), dash(clip(oneLine(cmd), t.Width)), src)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if t.Verbose {
		idx := NewIndex(t.rows)
		win := t.View.Window
		if win <= 0 {
			win = DefaultWindow
		}
		for _, a := range t.rows {
			WriteView(t.w, a, idx.Near(a, win), t.View)
		}
	}
	return nil
}

// explain writes the expanded view of a; extra (WriteView's process tree,
// diff, events, related alerts) goes after the rule's metadata and before
// its guide.
func explain(w io.Writer, a *Alert, extra func()) {
	fmt.Fprintf(w, "\n── %s  [%s, risk %d]  alert %s\n", a.Rule.Name, a.Rule.Severity, a.Rule.RiskScore, a.ID)
	fmt.Fprintf(w, "   rule       %s (%s) %s\n", a.Rule.ID, a.Rule.Language, a.Rule.Path)
	for _, th := range a.Threat {
		var techs []string
		for _, te := range th.Techniques {
			s := te.ID
			if te.LegacyID != "" {
				s += " (" + te.LegacyID + ")"
			}
			techs = append(techs, s)
		}
		tac := th.Tactic.Name
		if th.Tactic.ID != "" {
			tac += " " + th.Tactic.ID
		}
		if th.Tactic.Legacy != nil {
			tac += " (formerly " + th.Tactic.Legacy.Name + " " + th.Tactic.Legacy.ID + ")"
		}
		fmt.Fprintf(w, "   att&ck     %s: %s\n", tac, strings.Join(techs, ", "))
	}
	if len(a.Aggregate) > 0 {
		var parts []string
		for _, v := range a.Aggregate {
			parts = append(parts, fmt.Sprintf("%s=%v", v.Name, v.Value))
		}
		fmt.Fprintf(w, "   aggregate  %s\n", strings.Join(parts, ", "))
	}
	if len(a.Matched) > 0 {
		fmt.Fprintf(w, "   matched    %s\n", strings.Join(a.Matched, ", "))
	}
	if p := a.Process; p != nil {
		fmt.Fprintf(w, "   process    %d %s\n", p.PID, oneLine(p.CommandLine))
		if pp := p.Parent; pp != nil {
			fmt.Fprintf(w, "   parent     %d %s\n", pp.PID, oneLine(pp.CommandLine))
		}
	}
	ri := &a.Rule
	if ri.Interval != "" || ri.LookBack != "" || ri.MaxSignals > 0 {
		var parts []string
		if ri.Interval != "" {
			parts = append(parts, "every "+shortDuration(ri.Interval))
		}
		if ri.LookBack != "" {
			parts = append(parts, "look-back "+shortDuration(ri.LookBack))
		}
		if ri.MaxSignals > 0 {
			parts = append(parts, fmt.Sprintf("at most %d alerts per run", ri.MaxSignals))
		}
		fmt.Fprintf(w, "   schedule   %s\n", strings.Join(parts, ", "))
	}
	if len(ri.Index) > 0 {
		fmt.Fprintf(w, "   index      %s\n", strings.Join(ri.Index, ", "))
	}
	if ri.TimestampOverride != "" {
		fmt.Fprintf(w, "   time field %s\n", ri.TimestampOverride)
	}
	if len(ri.Tags) > 0 {
		fmt.Fprintf(w, "   tags       %s\n", strings.Join(ri.Tags, ", "))
	}
	for _, ref := range ri.References {
		fmt.Fprintf(w, "   reference  %s\n", ref)
	}
	for _, fp := range ri.FalsePositives {
		fmt.Fprintf(w, "   false pos. %s\n", fp)
	}
	if extra != nil {
		extra()
	}
	if ri.Guide != "" {
		fmt.Fprintf(w, "   guide\n%s\n", indent(ri.Guide, "      "))
	}
	// An Elastic guide already holds its response section.
	if ri.Response != "" && !strings.Contains(ri.Guide, ri.Response) {
		fmt.Fprintf(w, "   response\n%s\n", indent(ri.Response, "      "))
	}
	if ri.Setup != "" {
		fmt.Fprintf(w, "   setup\n%s\n", indent(ri.Setup, "      "))
	}
}

// shortDuration drops the zero units Go prints ("5m0s" → "5m").
func shortDuration(s string) string {
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func indent(s, pfx string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		lines[i] = pfx + l
	}
	return strings.Join(lines, "\n")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		return r
	}, s)
}

func clip(s string, n int) string {
	if n <= 0 || len([]rune(s)) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
