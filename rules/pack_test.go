package rules

import (
	"strings"
	"testing"

	"github.com/firewarden/firewarden/rule"
)

// TestPackMetadata: every firewarden rule of the pack that raises alerts
// carries severity, a risk score, both ATT&CK ids of the firewall
// technique, a description, false-positive notes, an investigation guide
// and response steps (the firewarden: custom attribute, rule/custom.go).
func TestPackMetadata(t *testing.T) {
	set, err := rule.LoadFS(FS, ".", "builtin:", true)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range set.Rules {
		if !strings.Contains(r.Path, "/firewarden/") || r.CorrelationOnly {
			continue
		}
		n++
		ids := map[string]bool{}
		for _, th := range r.Threat {
			for _, te := range th.Techniques {
				ids[te.ID], ids[te.LegacyID] = true, true
			}
		}
		switch {
		case r.Severity == "" || r.RiskScore == 0:
			t.Errorf("%s: severity %q, risk %d", r.Path, r.Severity, r.RiskScore)
		case !ids["T1686"] || !ids["T1562.004"]:
			t.Errorf("%s: ATT&CK %v, want T1686 and T1562.004", r.Path, ids)
		case r.Description == "" || len(r.FalsePositives) == 0:
			t.Errorf("%s: no description or false positives", r.Path)
		case r.Guide == "" || r.Response == "":
			t.Errorf("%s: no investigation guide or response (firewarden: block)", r.Path)
		}
	}
	if n < 14 {
		t.Errorf("%d firewarden rules raise alerts, want at least 14", n)
	}
}
