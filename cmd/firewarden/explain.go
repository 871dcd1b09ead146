package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/firewarden/firewarden/alert"
	"github.com/firewarden/firewarden/hunt"
)

// minIDPrefix is the shortest id prefix explain accepts for an alert id.
const minIDPrefix = 6

func newExplain() *cobra.Command {
	var rf ruleFlags
	var pf policyFlags
	var window time.Duration
	var related, width int
	cmd := &cobra.Command{
		Use:   "explain [flags] ALERT_ID PATH...",
		Short: "Expand one alert: guide, process tree, ruleset diff, related alerts",
		Long: `Expand one alert of a hunt into an investigation view: the rule (ATT&CK,
matched selections, false positives), the culprit's process tree (its
ancestors as far as the execs read name them: pid, executable, command line,
user), the ruleset diff of a live nft sensor event (firewall.diff), the events
and where they came from, the other alerts on the same host within --window
either side, and the rule's investigation guide, response and setup notes.

explain re-runs the hunt over PATH... with the same rules and alert policy
flags as hunt and picks the alert whose id is ALERT_ID (or starts with it, at
least 6 characters): alert ids are a hash of the rule and the events, so the
same inputs and the same flags give the same ids as hunt (and as watch, whose
--events capture hunt replays). Ids hash the events' content and time, not
the file they were read from: a renamed or rotated copy of a log gives the same
ids. Give explain the same inputs and the --rules, --no-builtin,
--strict-index, --exceptions, --preset and --suppress-by/--suppress-for the
hunt used. An id no alert has is an error
(exit 1). The same view follows the table with hunt -f table -v.

` + exitCodesHelp,
		Example: `  firewarden hunt -f ndjson testdata/samples/ | jq -r '.id + " " + .process.command_line'
  firewarden explain 3f2a9c1d0b7e testdata/samples/
  firewarden explain --window 30s -r my-rules/ 3f2a9c1d0b7e8a61f0c2d4e5 /var/log/audit/`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, paths := strings.ToLower(strings.TrimSpace(args[0])), args[1:]
			if len(id) < minIDPrefix {
				return &exitError{exitUsage, fmt.Errorf("alert id %q: give the id (or at least its first %d characters) from a hunt's alerts", args[0], minIDPrefix)}
			}
			if window <= 0 {
				return &exitError{exitUsage, fmt.Errorf("--window %v: expected a positive duration", window)}
			}
			set, err := rf.load()
			if err != nil {
				return err
			}
			copts, _, closeHistory, err := pf.options()
			if err != nil {
				return err
			}
			defer closeHistory()
			eng, _ := hunt.CompileWith(set.Rules, copts)
			c := &finder{id: id}
			sum, err := hunt.Run(cmd.Context(), eng, hunt.Options{Formats: formats(), Stdin: cmd.InOrStdin(), Sink: c}, paths)
			if err != nil {
				return err
			}
			if sum.Sources != nil {
				for _, s := range sum.Sources.Skipped {
					fmt.Fprintf(cmd.ErrOrStderr(), "firewarden: not read: %v\n", s)
				}
			}
			switch len(c.found) {
			case 0:
				return fmt.Errorf("no alert with id %q in %s: the hunt raised %d alert(s), none with that id (ids are hunt's .id; give explain the same inputs and the --rules, --no-builtin, --strict-index, --exceptions and --preset the hunt used)",
					args[0], strings.Join(paths, " "), len(c.all))
			case 1:
			default:
				var ids []string
				for _, a := range c.found {
					ids = append(ids, a.ID+" ("+a.Rule.Name+")")
				}
				return &exitError{exitUsage, fmt.Errorf("alert id %q is the start of %d alerts' ids; give more of it: %s", args[0], len(c.found), strings.Join(ids, ", "))}
			}
			a := c.found[0]
			near := alert.NewIndex(c.all).Near(a, window)
			alert.WriteView(cmd.OutOrStdout(), a, near, alert.ViewOptions{Window: window, MaxRelated: related, Width: width})
			return nil
		},
	}
	rf.register(cmd)
	pf.register(cmd, true, false)
	cmd.Flags().DurationVar(&window, "window", alert.DefaultWindow, "related alerts: the other alerts on the same host within this much either side")
	cmd.Flags().IntVar(&related, "related", 0, "list at most this many related alerts, the nearest in time (0: all)")
	cmd.Flags().IntVar(&width, "width", 0, "truncate related alerts' command lines to this many characters (0: no limit)")
	return cmd
}

// finder is explain's sink: it keeps the alerts whose id starts with id
// whole, and every alert with only its first event (what a related-alert
// line shows), so memory grows with the alerts, not their events.
type finder struct {
	id    string
	found []*alert.Alert
	all   []*alert.Alert
}

func (f *finder) Write(a *alert.Alert) error {
	if strings.HasPrefix(a.ID, f.id) {
		f.found = append(f.found, a)
		f.all = append(f.all, a)
		return nil
	}
	light := *a
	if len(light.Events) > 1 {
		light.Events = light.Events[:1:1]
	}
	light.Aggregate = nil
	f.all = append(f.all, &light)
	return nil
}

func (f *finder) Close() error { return nil }
