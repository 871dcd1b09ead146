package rule

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/firewarden/firewarden/lang/spl"
	"github.com/firewarden/firewarden/rules"
)

// seedFrom adds the built-in pack's files under dir as seeds.
func seedFrom(f *testing.F, dir string) {
	fs.WalkDir(rules.FS, dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !IsTestFile(p) {
			if b, err := fs.ReadFile(rules.FS, p); err == nil {
				f.Add(b)
			}
		}
		return nil
	})
}

// FuzzParseSentinel: no file panics the Sentinel analytic-rule and .kql
// readers; a refusal names the file, an accepted rule has a query.
func FuzzParseSentinel(f *testing.F) {
	seedFrom(f, "kql")
	f.Add([]byte("DeviceProcessEvents | where FileName == 'iptables'\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, parse := range []func(string, []byte) (*Rule, error){ParseSentinel, ParseKQL} {
			r, err := parse("f.yaml", data)
			if err != nil {
				if !strings.HasPrefix(err.Error(), "f.yaml") {
					t.Errorf("error without the file's name: %v", err)
				}
				continue
			}
			if r == nil || r.Query == nil {
				t.Fatalf("accepted without a query: %+v", r)
			}
		}
	})
}

// FuzzParseESCU: the same for Splunk ESCU detection files.
func FuzzParseESCU(f *testing.F) {
	seedFrom(f, "spl")
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseESCU("f.yml", data, &spl.Macros{})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.yml") {
				t.Errorf("error without the file's name: %v", err)
			}
			return
		}
		if r == nil || r.Query == nil {
			t.Fatalf("accepted without a query: %+v", r)
		}
	})
}
