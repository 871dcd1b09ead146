// Command firewarden catches anyone who disables, flushes or quietly opens a
// Linux host firewall, running the detection rules people already have
// (Sigma, Elastic EQL rule files; SPL and KQL next) over Linux telemetry.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/firewarden/firewarden/alert"
	"github.com/firewarden/firewarden/exception"
	"github.com/firewarden/firewarden/hunt"
	"github.com/firewarden/firewarden/query"
	"github.com/firewarden/firewarden/rule"
	"github.com/firewarden/firewarden/rules"
	"github.com/firewarden/firewarden/source"
	"github.com/firewarden/firewarden/source/auditd"
	"github.com/firewarden/firewarden/source/ecs"
	"github.com/firewarden/firewarden/source/endgame"
	"github.com/firewarden/firewarden/source/syslog"
	"github.com/firewarden/firewarden/source/sysmon"
)

// Exit codes (documented in the README and in --help).
const (
	exitOK          = 0 // success
	exitFailure     = 1 // an error stopped the command
	exitUsage       = 2 // bad flags or arguments
	exitRefused     = 3 // rules check: at least one rule refused
	exitInput       = 4 // hunt: an input could not be read or was not recognised
	exitAlerts      = 5 // hunt --fail-on-alert: at least one alert
	progressMinSize = 8 << 20
)

var version = "dev"

type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRoot()
	err := root.ExecuteContext(ctx)
	if err == nil {
		return
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(os.Stderr, "firewarden:", ee.err)
		}
		os.Exit(ee.code)
	}
	fmt.Fprintln(os.Stderr, "firewarden:", err)
	if isUsage(err) {
		os.Exit(exitUsage)
	}
	os.Exit(exitFailure)
}

func isUsage(err error) bool {
	s := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "requires at least", "accepts ", "invalid argument", "flag needs an argument"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

const exitCodesHelp = `Exit codes:
  0  success (alerts or not)
  1  an error stopped the command (explain: no alert has that id)
  2  bad flags or arguments
  3  rules check: at least one rule was refused
  4  hunt: an input could not be read or its format was not recognised
     (every other input was still read)
  5  hunt --fail-on-alert: at least one alert was raised
  6  rules test: at least one case failed`

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "firewarden",
		Short: "Catch anyone who disables, flushes or opens a Linux host firewall",
		Long: `firewarden runs the detection rules you already have — Sigma (with
correlations), Elastic detection rules (EQL, KQL, Lucene; threshold and
new_terms), Splunk ESCU searches (SPL) and Sentinel KQL — unchanged, over
Linux telemetry (auditd, laurel, Sysmon for Linux, ECS such as Elastic Defend
or Auditbeat exports, Endgame, syslog, journald) with hunt, or live with
watch over its own sensors (eBPF exec, nftables netlink, audit, firewall
configuration files), and tells you who disabled, flushed or opened the
firewall, from which parent, with the rule's metadata in every alert.

` + exitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newHunt(), newWatch(), newRules(), newSelftest(), newExplain(), newVersion())
	return root
}

type ruleFlags struct {
	paths     []string
	noBuiltin bool
}

func (f *ruleFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVarP(&f.paths, "rules", "r", nil, "rule file or folder to load: Sigma .yml/.yaml, Elastic .toml (repeatable)")
	cmd.Flags().BoolVar(&f.noBuiltin, "no-builtin", false, "do not load the built-in rule pack")
}

func (f *ruleFlags) load() (*rule.Set, error) {
	set := &rule.Set{}
	if !f.noBuiltin {
		b, err := rule.LoadFS(rules.FS, ".", "builtin:", true)
		if err != nil {
			return nil, fmt.Errorf("built-in rules: %w", err)
		}
		set.Add(b)
	}
	if len(f.paths) > 0 {
		s, err := rule.LoadPaths(f.paths)
		if err != nil {
			return nil, err
		}
		set.Add(s)
	}
	return set, nil
}

func formats() []source.Format {
	// Order matters: the first format whose sniffer accepts a stream reads it.
	return []source.Format{auditd.Laurel{}, auditd.Raw{}, sysmon.XML{}, endgame.JSON{}, ecs.NDJSON{}, syslog.Journal{}, syslog.Text{}}
}

func newHunt() *cobra.Command {
	var rf ruleFlags
	var format string
	var pf policyFlags
	var verbose, quiet, noProgress, failOnAlert bool
	var window time.Duration
	var related int
	cmd := &cobra.Command{
		Use:   "hunt [flags] PATH...",
		Short: "Run rules over telemetry files, folders or standard input (-)",
		Long: `Run the built-in rules and any --rules (Sigma .yml, Elastic .toml) over
telemetry: files, folders (read recursively, in name order), gzip-compressed
files, or - for standard input.
Each input's format is sniffed from its first bytes: auditd (raw or ENRICHED),
laurel JSON, Sysmon for Linux XML (bare or syslog-prefixed), Endgame JSON, ECS
JSON (NDJSON, Elasticsearch hits, arrays), syslog files (RFC 3164/5424) and
journalctl -o json.

Alerts go to standard output: an aligned table on a terminal, NDJSON
otherwise (--format to choose). A summary goes to standard error: events and
bad records per input, rules loaded and refused, what each exception removed,
alerts per rule and what was held back.

A rule sees every event of its category whatever the source. With
--strict-index an Elastic rule sees only events whose source maps to one of
its index patterns (Elastic Defend: logs-endpoint.events.*, auditd files:
logs-auditd.log-default, …; see docs/elastic.md), as Kibana would.

Before an alert is written, the rule's policy may hold it back, and the
summary counts each: --exceptions files (firewarden YAML or Kibana exception
list exports), new_terms rules' history (--history keeps it across runs), an
alert already raised (same events), alert suppression (the rule's own, or
--suppress-by/--suppress-for), and max_signals per interval. See
docs/alert-policy.md.

Every alert names its culprit's ancestors (process.ancestors) from the execs
read before it, kept in a bounded process table per host. With -f table -v
each alert is expanded after the table, in the order raised, as firewarden
explain shows it: process tree, ruleset diff, events, the other alerts on the
same host within --window either side (the --related nearest), and the rule's
guide.

` + exitCodesHelp,
		Example: `  firewarden hunt testdata/samples/
  firewarden hunt --rules ~/sigma/rules/linux /var/log/audit/ sysmon.log.gz -
  firewarden hunt --rules ~/detection-rules/rules/linux --strict-index export.ndjson
  firewarden hunt --format ndjson --no-builtin -r my-rules/ audit.log > alerts.ndjson`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			errOut := cmd.ErrOrStderr()
			if format == "" {
				format = "ndjson"
				if isTerminal(out) {
					format = "table"
				}
			}
			var sink alert.Sink
			switch format {
			case "table":
				t := alert.NewTable(out)
				t.Verbose = verbose
				t.View = alert.ViewOptions{Window: window, MaxRelated: related}
				sink = t
			case "ndjson", "json":
				sink = alert.NewNDJSON(out)
			default:
				return &exitError{exitUsage, fmt.Errorf("--format %q: expected table or ndjson", format)}
			}
			set, err := rf.load()
			if err != nil {
				return err
			}
			copts, xerrs, closeHistory, err := pf.options()
			if err != nil {
				return err
			}
			defer closeHistory()
			eng, engRefused := hunt.CompileWith(set.Rules, copts)
			refused := append(append(set.Refused, xerrs...), engRefused...)
			opts := hunt.Options{Formats: formats(), Stdin: cmd.InOrStdin(), Sink: sink}
			if !noProgress && !quiet && isTerminal(errOut) {
				addProgress(&opts, errOut, args)
			}
			sum, runErr := hunt.Run(cmd.Context(), eng, opts, args)
			if err := sink.Close(); err != nil && runErr == nil {
				runErr = err
			}
			if !quiet {
				hunt.WriteSummary(errOut, sum, len(eng.Rules()), refused)
			}
			if runErr != nil {
				return runErr
			}
			if sum.Sources != nil && len(sum.Sources.Skipped) > 0 {
				return &exitError{exitInput, fmt.Errorf("%d input(s) not read", len(sum.Sources.Skipped))}
			}
			if failOnAlert && sum.Alerts > 0 {
				return &exitError{exitAlerts, nil}
			}
			return nil
		},
	}
	rf.register(cmd)
	cmd.Flags().StringVarP(&format, "format", "f", "", "alert output: table or ndjson (default: table on a terminal, ndjson otherwise)")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "table: after the table, expand each alert as firewarden explain does (ATT&CK, matched selections, process tree, ruleset diff, events, related alerts, false positives, guide)")
	cmd.Flags().DurationVar(&window, "window", alert.DefaultWindow, "with -v: related alerts are the other alerts on the same host within this much either side")
	cmd.Flags().IntVar(&related, "related", 10, "with -v: list at most this many related alerts per alert, the nearest in time (0: all)")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no summary on standard error")
	cmd.Flags().BoolVar(&noProgress, "no-progress", false, "no progress bar")
	cmd.Flags().BoolVar(&failOnAlert, "fail-on-alert", false, "exit with code 5 when any alert is raised")
	pf.register(cmd, true, true)
	return cmd
}

// loadExceptions reads exceptions files; a bad exception is a refusal (with
// its position) that stops nothing else.
func loadExceptions(paths []string) ([]*exception.Exception, []rule.Refusal, error) {
	var out []*exception.Exception
	var refused []rule.Refusal
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, nil, err
		}
		var xs []*exception.Exception
		var errs []error
		switch strings.ToLower(filepath.Ext(p)) {
		case ".yml", ".yaml":
			xs, errs = exception.ParseYAML(p, data)
		case ".ndjson", ".json":
			xs, errs = exception.ParseKibana(p, data)
		default:
			return nil, nil, &exitError{exitUsage, fmt.Errorf("--exceptions %s: expected a .yml firewarden exceptions file or a .ndjson Kibana export", p)}
		}
		out = append(out, xs...)
		for _, err := range errs {
			refused = append(refused, rule.Refusal{Path: p, Err: err})
		}
	}
	return out, refused, nil
}

func suppressionFlag(by []string, d time.Duration) (*rule.Suppression, error) {
	if len(by) == 0 {
		if d != 0 {
			return nil, fmt.Errorf("--suppress-for needs --suppress-by")
		}
		return nil, nil
	}
	if len(by) > 3 {
		return nil, fmt.Errorf("--suppress-by: %d fields, expected at most 3", len(by))
	}
	if d < 0 {
		return nil, fmt.Errorf("--suppress-for %v: expected a positive duration", d)
	}
	return &rule.Suppression{GroupBy: by, Duration: d, SuppressMissing: true}, nil
}

// addProgress shows a byte progress bar when the inputs are large.
func addProgress(opts *hunt.Options, w io.Writer, args []string) {
	var total int64
	for _, a := range args {
		if a == "-" {
			return
		}
		total += sizeOf(a)
	}
	if total < progressMinSize {
		return
	}
	bar := progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetDescription("reading"),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionThrottle(100e6),
	)
	opts.Counter = func(r io.Reader) io.Reader {
		pr := progressbar.NewReader(r, bar)
		return &pr
	}
}

func sizeOf(p string) int64 {
	var n int64
	_ = walkSize(p, &n)
	return n
}

func newRules() *cobra.Command {
	cmd := &cobra.Command{Use: "rules", Short: "Check and list rules"}
	var listFlags ruleFlags
	list := &cobra.Command{
		Use:   "list",
		Short: "List the built-in rules and any --rules with severity and ATT&CK ids",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			set, err := listFlags.load()
			if err != nil {
				return err
			}
			eng, refused := hunt.Compile(set.Rules)
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSEVERITY\tRISK\tLANG\tLOGSOURCE\tATT&CK\tNAME\tPATH")
			for _, r := range eng.Rules() {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Severity, r.RiskScore, r.Language, r.LogSource, attackIDs(r), r.Name, r.Path)
			}
			tw.Flush()
			refused = append(set.Refused, refused...)
			if len(refused) > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "%d rule(s) refused%s; run `firewarden rules check` for the reasons\n", len(refused), byType(refused))
			}
			return nil
		},
	}
	listFlags.register(list)
	check := &cobra.Command{
		Use:   "check PATH...",
		Short: "Compile rule files and folders; print each refused rule and why",
		Long: `Compile every rule file under the given paths. Prints one line per refused
rule (its path and the reason, with line and column where there is one) and a
summary. Exits 3 when any rule is refused.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			set, err := rule.LoadPaths(args)
			if err != nil {
				return err
			}
			eng, engRefused := hunt.Compile(set.Rules)
			refused := append(set.Refused, engRefused...)
			out := cmd.OutOrStdout()
			for _, r := range refused {
				fmt.Fprintf(out, "refused %s: %v\n", r.Path, r.Err)
			}
			fmt.Fprintf(out, "%d file(s): %d rule(s) compiled, %d refused%s\n", set.Files, len(eng.Rules()), len(refused), byType(refused))
			if len(refused) > 0 {
				return &exitError{exitRefused, nil}
			}
			return nil
		},
	}
	cmd.AddCommand(list, check, newRulesTest())
	return cmd
}

// byType counts the refused rules whose type firewarden does not run yet
// (Elastic's query, new_terms, esql…): " (not yet supported: 49 new_terms,
// 16 query)", or "" when there are none.
func byType(refused []rule.Refusal) string {
	n := map[string]int{}
	for _, r := range refused {
		var u *query.Unsupported
		if errors.As(r.Err, &u) {
			if t, ok := strings.CutPrefix(u.Construct, "rule type "); ok {
				n[t]++
			}
		}
	}
	if len(n) == 0 {
		return ""
	}
	types := make([]string, 0, len(n))
	for t := range n {
		types = append(types, t)
	}
	sort.Slice(types, func(i, j int) bool {
		if n[types[i]] != n[types[j]] {
			return n[types[i]] > n[types[j]]
		}
		return types[i] < types[j]
	})
	parts := make([]string, len(types))
	for i, t := range types {
		parts[i] = fmt.Sprintf("%d %s", n[t], t)
	}
	return " (rule types not yet supported: " + strings.Join(parts, ", ") + ")"
}

func attackIDs(r *rule.Rule) string {
	seen := map[string]bool{}
	var ids []string
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			ids = append(ids, s)
		}
	}
	for _, t := range r.Threat {
		add(t.Tactic.ID)
		if t.Tactic.Legacy != nil {
			add(t.Tactic.Legacy.ID)
		}
		for _, te := range t.Techniques {
			add(te.ID)
			add(te.LegacyID)
		}
	}
	if len(ids) == 0 {
		return "-"
	}
	return strings.Join(ids, ",")
}

func newVersion() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print firewarden's version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			v := version
			if bi, ok := debug.ReadBuildInfo(); ok && v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
				v = bi.Main.Version
			}
			fmt.Fprintf(cmd.OutOrStdout(), "firewarden %s\n", v)
		},
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
