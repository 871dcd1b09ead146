package caps

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestEffectiveMatchesProc: capget agrees with /proc/self/status's CapEff.
func TestEffectiveMatchesProc(t *testing.T) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip(err)
	}
	var want uint64
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "CapEff:"); ok {
			if want, err = strconv.ParseUint(strings.TrimSpace(v), 16, 64); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, err := Effective()
	if err != nil || got != want {
		t.Fatalf("Effective() = %#x, %v; /proc says %#x", got, err, want)
	}
	if Has(SysAdmin) != (want&(1<<SysAdmin) != 0) {
		t.Error("Has(SysAdmin) disagrees with the set")
	}
}
