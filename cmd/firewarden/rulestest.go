package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/firewarden/firewarden/rules"
	"github.com/firewarden/firewarden/ruletest"
)

// exitTestFailed: rules test found a failing case (or one that could not
// run).
const exitTestFailed = 6

func newRulesTest() *cobra.Command {
	var verbose bool
	cmd := &cobra.Command{
		Use:   "test [PATH...]",
		Short: "Run the test cases beside rule files (x.yml → x.tests.yml); no PATH: the built-in pack",
		Long: `Run the test cases that ship beside rule files, for rules of any language:
the cases of x.yml (x.toml, x.kql) are in x.tests.yml in the same folder —
events the rule must match and events it must not, as ECS documents or raw
telemetry in any format hunt reads. Without PATH the built-in pack is tested.

Each failed case is printed with where it is written, the rule, what was
expected and what happened, each event, and for each event whether the rule's
log source took it and which of its selections were true and false.
Rule files without tests are listed. Exits 6 when any case fails.
The format of tests files: rules/README.md, "Rule tests".`,
		Example: `  firewarden rules test
  firewarden rules test my-rules/ rules/sigma/firewarden/nft_flush.yml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			rn := &ruletest.Runner{Formats: formats()}
			rep := &ruletest.Report{}
			if len(args) == 0 {
				if err := rn.RunFS(cmd.Context(), rules.FS, ".", "builtin:", rep); err != nil {
					return err
				}
			}
			for _, p := range args {
				fi, err := os.Stat(p)
				if err != nil {
					return err
				}
				if fi.IsDir() {
					err = rn.RunFS(cmd.Context(), os.DirFS(p), ".", p+string(os.PathSeparator), rep)
				} else {
					err = rn.RunFile(cmd.Context(), p, rep)
				}
				if err != nil {
					return err
				}
			}
			ruletest.Write(cmd.OutOrStdout(), rep, verbose)
			if rep.Failed() > 0 {
				return &exitError{exitTestFailed, fmt.Errorf("%d case(s) failed", rep.Failed())}
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "also list the cases that passed")
	return cmd
}
