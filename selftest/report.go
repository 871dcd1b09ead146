package selftest

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes the report as one indented JSON document.
func WriteJSON(w io.Writer, rep *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(rep)
}

// WriteTable writes the matrix: one line per technique, one column per
// rule set and the ground truth, then the totals, the escapes, what was
// not run, and whether the host was left untouched.
func WriteTable(w io.Writer, rep *Report) error {
	fmt.Fprintf(w, "firewarden selftest — kernel %s, sensors %s, %d rules\n", rep.Kernel, strings.Join(rep.Sensors, ", "), rep.Rules)
	for _, s := range rep.NoSensors {
		fmt.Fprintf(w, "sensor not running: %s\n", s)
	}
	if rep.AuditEnabled {
		fmt.Fprintln(w, "kernel auditing was off: turned on for the run (no rules), off again after")
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := []string{"TECHNIQUE"}
	for _, c := range rep.Columns {
		head = append(head, strings.ToUpper(c.Title))
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	section := func(benign bool) {
		for _, row := range rep.Rows {
			if row.Benign != benign || !row.Ran {
				continue
			}
			cells := []string{row.Title}
			for _, c := range rep.Columns {
				cell := row.Cells[c.Key]
				switch {
				case c.Key == "truth" && cell.Detected:
					cells = append(cells, "seen ("+strings.Join(row.Truth.Sensors, "+")+")")
				case c.Key == "truth":
					cells = append(cells, "no change")
				case benign && cell.Detected:
					cells = append(cells, "FALSE POSITIVE")
				case benign:
					cells = append(cells, "quiet")
				case cell.Detected:
					cells = append(cells, "detected")
				default:
					cells = append(cells, "missed")
				}
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		}
	}
	section(false)
	fmt.Fprintln(tw, "benign look-alikes:"+strings.Repeat("\t", len(rep.Columns)))
	section(true)
	cells := []string{"detection rate"}
	for _, t := range rep.Totals {
		cells = append(cells, fmt.Sprintf("%d/%d (%.0f%%)", t.Detected, t.Attacks, 100*t.Rate))
	}
	fmt.Fprintln(tw, strings.Join(cells, "\t"))
	cells = []string{"false positives"}
	for _, t := range rep.Totals {
		if t.Column == "truth" {
			cells = append(cells, "-")
			continue
		}
		cells = append(cells, fmt.Sprintf("%d/%d", t.FalsePositives, t.Benign))
	}
	fmt.Fprintln(tw, strings.Join(cells, "\t"))
	if err := tw.Flush(); err != nil {
		return err
	}

	var escapes, notRun, errs []string
	for _, row := range rep.Rows {
		switch {
		case !row.Ran:
			notRun = append(notRun, fmt.Sprintf("  %s: %s", row.Title, row.NotRun))
		case !row.Benign && !row.Cells["pack"].Detected:
			why := "the kernel saw no firewall change either"
			if row.Truth.Seen {
				why = "the kernel-side sensors saw " + strings.Join(row.Truth.Actions, ", ") + " but no pack rule fired"
			}
			escapes = append(escapes, fmt.Sprintf("  %s: %s", row.Title, why))
		}
		if row.Ran && row.Error != "" {
			errs = append(errs, fmt.Sprintf("  %s: %s", row.Title, row.Error))
		}
	}
	if len(escapes) > 0 {
		fmt.Fprintln(w, "\nescaping the firewarden pack:")
		fmt.Fprintln(w, strings.Join(escapes, "\n"))
	}
	if len(errs) > 0 {
		fmt.Fprintln(w, "\ncommands that failed (still scored):")
		fmt.Fprintln(w, strings.Join(errs, "\n"))
	}
	if len(notRun) > 0 {
		fmt.Fprintln(w, "\nnot run:")
		fmt.Fprintln(w, strings.Join(notRun, "\n"))
	}
	if rep.Unattributed > 0 {
		fmt.Fprintf(w, "\n%d alert(s) raised meanwhile by processes outside the techniques (not counted):", rep.Unattributed)
		names := make([]string, 0, len(rep.UnattributedRules))
		for n := range rep.UnattributedRules {
			names = append(names, n)
		}
		sort.Slice(names, func(i, j int) bool {
			if a, b := rep.UnattributedRules[names[i]], rep.UnattributedRules[names[j]]; a != b {
				return a > b
			}
			return names[i] < names[j]
		})
		for _, n := range names {
			fmt.Fprintf(w, " %s ×%d;", n, rep.UnattributedRules[n])
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
	if rep.HostUntouched {
		fmt.Fprintln(w, "host firewall untouched: the host namespace's nft ruleset, iptables-save and ip6tables-save are the same as before the run")
	} else {
		fmt.Fprintf(w, "HOST FIREWALL CHANGED during the run (not by selftest's commands, which ran only in fwself-* namespaces):\n%s", rep.HostDiff)
	}
	return nil
}
