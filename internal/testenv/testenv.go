// Package testenv finds the shared corpora and samples that live beside
// the repository in the development workspace (../shared), for tests.
package testenv

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Shared returns the path of ../shared/<elem...> relative to the repository
// root. When it is missing the test is skipped with a message saying so —
// unless CI=true, where a missing ../shared is a failure.
func Shared(tb testing.TB, elem ...string) string {
	tb.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("testenv: cannot locate the repository")
	}
	root := filepath.Join(filepath.Dir(file), "..", "..")
	p := filepath.Join(append([]string{root, "..", "shared"}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%s not found: CI runs with ../shared beside the repository", p)
		}
		tb.Skipf("%s not found: ../shared (rule corpora and samples) exists only in the development workspace", p)
	}
	return p
}

// Root is the repository's root folder.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}
