package auditd

import (
	"path/filepath"
	"testing"

	"github.com/firewarden/firewarden/source"
)

// TestIndex: raw audit events live where Elastic's Auditd Logs integration
// puts audit.log; laurel's in firewarden's laurel dataset of that family.
func TestIndex(t *testing.T) {
	for _, tc := range []struct {
		name       string
		f          source.Format
		file, want string
	}{
		{"raw", Raw{}, "excerpt.log", "logs-auditd.log-default"},
		{"laurel", Laurel{}, "excerpt.jsonl", "logs-auditd.laurel-default"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, _ := readFile(t, tc.f, filepath.Join("testdata", tc.file))
			if len(evs) == 0 {
				t.Fatal("no events")
			}
			for _, ev := range evs {
				if ev.Index != tc.want {
					t.Fatalf("%s:%d: index %q, want %q", ev.File, ev.Line, ev.Index, tc.want)
				}
			}
		})
	}
}
