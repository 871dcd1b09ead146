package hunt

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/firewarden/firewarden/engine"
	"github.com/firewarden/firewarden/rule"
)

// WriteSummary prints what a hunt read and found, for a person (stderr).
func WriteSummary(w io.Writer, sum *Summary, loaded int, refused []rule.Refusal) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tFORMAT\tEVENTS\tBAD RECORDS")
	if sum.Sources != nil {
		for _, s := range sum.Sources.Inputs {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\n", s.Name, s.Format, s.Events, s.BadCount)
		}
	}
	tw.Flush()
	if sum.Sources != nil {
		for _, s := range sum.Sources.Inputs {
			for _, e := range s.Examples {
				fmt.Fprintf(w, "  bad record: %v\n", e)
			}
			if s.BadCount > int64(len(s.Examples)) {
				fmt.Fprintf(w, "  … and %d more bad records in %s\n", s.BadCount-int64(len(s.Examples)), s.Name)
			}
		}
		for _, e := range sum.Sources.Skipped {
			fmt.Fprintf(w, "  not read: %v\n", e)
		}
	}
	rate := 0.0
	if s := sum.Duration.Seconds(); s > 0 {
		rate = float64(sum.Events) / s
	}
	fmt.Fprintf(w, "rules: %d loaded, %d refused\n", loaded, len(refused))
	for _, r := range refused {
		fmt.Fprintf(w, "  refused: %v\n", r.Err)
	}
	fmt.Fprintf(w, "events: %d in %s (%.0f events/s); alerts: %d\n", sum.Events, sum.Duration.Round(1e6), rate, sum.Alerts)
	for _, st := range sum.Shed {
		fmt.Fprintf(w, "  state bound hit: %s: %d join keys evicted (cap %d keys, least recently used first), %d missing-event matches forgotten (cap %d per key); matches spanning them may be missed\n",
			st.Rule.Name, st.Stats.Evicted, engine.DefaultMaxKeys, st.Stats.Forgotten, engine.MissHistory)
	}
	for _, x := range sum.Exceptions {
		fmt.Fprintf(w, "exception %q (%s): removed %d alert(s)", x.Exception.Name, x.Exception.Pos, x.Removed)
		if x.Prefilters > 0 {
			fmt.Fprintf(w, "; filters the events of %d sequence, sample or aggregate rule(s)", x.Prefilters)
		}
		fmt.Fprintln(w)
	}
	if sum.Terms.Evicted > 0 {
		fmt.Fprintf(w, "  new terms history: %d terms held, %d forgotten because its bound bit (a forgotten term alerts again)\n", sum.Terms.Terms, sum.Terms.Evicted)
	}
	if len(sum.PerRule) > 0 {
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ALERTS\tSEVERITY\tRULE\tLANG\tHELD BACK")
		for _, rc := range sum.PerRule {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", rc.Count, rc.Rule.Severity, rc.Rule.Name, rc.Rule.Language, heldBack(rc.Held))
		}
		tw.Flush()
	}
}

// heldBack lists what a rule's policy kept from the output.
func heldBack(c PolicyCounts) string {
	var parts []string
	for _, x := range []struct {
		n    int
		what string
	}{
		{c.Excepted, "by exceptions"}, {c.KnownTerms, "known terms"}, {c.Duplicates, "duplicates"},
		{c.Suppressed, "suppressed"}, {c.RateLimited, "over max_signals"},
	} {
		if x.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", x.n, x.what))
		}
	}
	return strings.Join(parts, ", ")
}
