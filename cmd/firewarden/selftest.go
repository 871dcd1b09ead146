package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/firewarden/firewarden/selftest"
)

func newSelftest() *cobra.Command {
	var only []string
	var timeout time.Duration
	var format string
	var list, verbose bool
	cmd := &cobra.Command{
		Use:   "selftest",
		Short: "Run firewall tampering techniques in a throwaway namespace and show which rules catch them",
		Long: `With the live sensors on (exec, nft, audit — auditing is turned on for the
run when it is off and no auditd runs), run each technique of a catalogue of
firewall tampering (iptables/ip6tables/iptables-legacy flushes, ACCEPT policies
and rules, iptables-restore from stdin, a renamed iptables binary, nft flush /
delete / policy accept, the CyclopsBlink pattern, ufw, netlink programs in Go
and Python) and benign look-alikes (listing, adding a deny rule, saving), each
in a network namespace of its own (fwself-<random>, deleted afterwards), and
print a matrix: technique × (seed EQL, seed Sigma, seed SPL, seed KQL,
firewarden pack, Elastic's rule today, ground truth — whether the kernel-side
sensors saw a firewall change) of detected / missed, with false positives on
the benign set and each column's detection rate.

No firewall command runs in the host's namespace; ufw's configuration is a
private copy bind-mounted in a mount namespace of the technique's own; no
service is started or stopped (techniques that would need it are listed as not
run, with the reason). The host's ruleset is read before and after, and the
report says whether it is unchanged. Needs root.`,
		Example: `  sudo firewarden selftest
  sudo firewarden selftest --only iptables-F,nft-flush-ruleset,iptables-L --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if list {
				for _, t := range selftest.Catalogue() {
					kind := "attack"
					if t.Benign {
						kind = "benign"
					}
					fmt.Fprintf(cmd.OutOrStdout(), "%-28s %-7s %s\n", t.ID, kind, t.Title)
				}
				return nil
			}
			if format != "table" && format != "json" {
				return &exitError{exitUsage, fmt.Errorf("--format %q: expected table or json", format)}
			}
			if _, err := selftest.Select(only); err != nil {
				return &exitError{exitUsage, fmt.Errorf("--only: %w", err)}
			}
			opts := selftest.Options{Only: only, Timeout: timeout, Progress: cmd.ErrOrStderr()}
			if verbose {
				opts.Log = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			}
			rep, err := selftest.Run(cmd.Context(), opts)
			if rep != nil {
				var werr error
				if format == "json" {
					werr = selftest.WriteJSON(cmd.OutOrStdout(), rep)
				} else {
					werr = selftest.WriteTable(cmd.OutOrStdout(), rep)
				}
				if err == nil {
					err = werr
				}
			}
			return err
		},
	}
	cmd.Flags().StringSliceVar(&only, "only", nil, "run only these techniques (ids from --list, comma-separated)")
	cmd.Flags().DurationVar(&timeout, "timeout", 3*time.Second, "how long each technique's alerts and events are awaited after its command ends")
	cmd.Flags().StringVarP(&format, "format", "f", "table", "output: table or json")
	cmd.Flags().BoolVar(&list, "list", false, "list the techniques and exit")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "log the sensors' and rules' messages on standard error")
	return cmd
}
