// Package rules is firewarden's built-in rule pack, embedded in the binary.
package rules

import "embed"

// FS holds the pack: one folder per rule language.
//
//go:embed sigma elastic spl kql
var FS embed.FS
