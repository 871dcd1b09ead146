package ruletest

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/firewarden/firewarden/rule"
	"github.com/firewarden/firewarden/rules"
)

// FuzzParse: no tests file panics the reader, and every error names the
// file. Seeded from the built-in pack's tests files.
func FuzzParse(f *testing.F) {
	fs.WalkDir(rules.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && rule.IsTestFile(p) {
			if b, err := fs.ReadFile(rules.FS, p); err == nil {
				f.Add(b)
			}
		}
		return nil
	})
	f.Add([]byte("tests:\n  - name: x\n    expect: match\n    event: {process: {name: nft}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := Parse("f.tests.yml", data); err != nil && !strings.HasPrefix(err.Error(), "f.tests.yml") {
			t.Errorf("error without the file's name: %v", err)
		}
	})
}
