package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/firewarden/firewarden/exception"
)

// registerPresets adds --preset to hunt and watch: shipped exceptions
// (package exception, exception/presets/) turned on by name.
func registerPresets(cmd *cobra.Command, names *[]string) {
	cmd.Flags().StringSliceVar(names, "preset", nil, "turn on shipped exceptions by name (comma-separated, repeatable): "+strings.Join(exception.Presets(), ", ")+"; see docs/alert-policy.md")
}

// addPresets appends the named presets to the exceptions; an unknown name
// is a usage error.
func addPresets(xs []*exception.Exception, names []string) ([]*exception.Exception, error) {
	if len(names) == 0 {
		return xs, nil
	}
	ps, err := exception.LoadPresets(names)
	if err != nil {
		return nil, &exitError{exitUsage, fmt.Errorf("--preset: %w", err)}
	}
	return append(xs, ps...), nil
}
