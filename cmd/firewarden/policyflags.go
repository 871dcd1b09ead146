package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/firewarden/firewarden/history"
	"github.com/firewarden/firewarden/hunt"
	"github.com/firewarden/firewarden/rule"
)

// policyFlags are the flags hunt, watch and explain share that decide how
// rules run and what happens to their alerts: strict index patterns,
// exceptions and presets, alert suppression, the new_terms history.
type policyFlags struct {
	strictIndex         bool
	exceptions, presets []string
	suppressBy          []string
	suppressFor         time.Duration
	history             string
}

// register adds the flags; suppress and store say whether the command
// takes --suppress-by/--suppress-for and --history.
func (f *policyFlags) register(cmd *cobra.Command, suppress, store bool) {
	cmd.Flags().BoolVar(&f.strictIndex, "strict-index", false, "a rule sees only events whose source maps to its index patterns, as Kibana would")
	cmd.Flags().StringArrayVarP(&f.exceptions, "exceptions", "x", nil, "exceptions file: firewarden YAML (.yml) or a Kibana exception list export (.ndjson) (repeatable)")
	registerPresets(cmd, &f.presets)
	if store {
		cmd.Flags().StringVar(&f.history, "history", "", "file that keeps new_terms rules' seen terms across runs and restarts (bbolt; default: memory only)")
	}
	if suppress {
		cmd.Flags().StringSliceVar(&f.suppressBy, "suppress-by", nil, "suppress alerts of a rule that share these fields (up to 3), for rules without their own alert_suppression")
		cmd.Flags().DurationVar(&f.suppressFor, "suppress-for", 0, "with --suppress-by: how long a group's later alerts are suppressed (default: the rule's interval, else 5m)")
	}
}

// options builds the compile options: the exceptions that could not be
// read are returned as refusals (they stop nothing else), and close
// releases the history store.
func (f *policyFlags) options() (opts hunt.CompileOptions, refused []rule.Refusal, close func() error, err error) {
	close = func() error { return nil }
	opts.StrictIndex = f.strictIndex
	if opts.Exceptions, refused, err = loadExceptions(f.exceptions); err != nil {
		return
	}
	if opts.Exceptions, err = addPresets(opts.Exceptions, f.presets); err != nil {
		return
	}
	if opts.Suppression, err = suppressionFlag(f.suppressBy, f.suppressFor); err != nil {
		err = &exitError{exitUsage, err}
		return
	}
	if f.history != "" {
		h, herr := history.Open(f.history, 0)
		if herr != nil {
			err = herr
			return
		}
		opts.History, close = h, h.Close
	}
	return
}
