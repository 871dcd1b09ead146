package rule

import (
	"path"
	"strings"

	"go.yaml.in/yaml/v3"
)

// TestSuffix ends the name of a rule-test file: the cases of rule file
// x.yml (or x.toml, x.kql…) are in x.tests.yml beside it (package
// ruletest). Loaders skip these files.
const TestSuffix = ".tests.yml"

// IsTestFile reports whether p names a rule-test file.
func IsTestFile(p string) bool {
	return strings.HasSuffix(strings.ToLower(path.Base(strings.ReplaceAll(p, "\\", "/"))), TestSuffix)
}

// Custom is the metadata Sigma has no key for, which a Sigma rule may
// carry in a firewarden: custom attribute (Sigma 2.x allows custom
// top-level attributes; other tools ignore it):
//
//	firewarden:
//	  risk_score: 73          # 0-100; default: from level
//	  investigation_guide: |  # Markdown
//	    ...
//	  response: |
//	    ...
//
// Unknown keys inside the block are ignored, so newer rules load in older
// firewardens.
type Custom struct {
	RiskScore int    `yaml:"risk_score"`
	Guide     string `yaml:"investigation_guide"`
	Response  string `yaml:"response"`
}

// applyCustom reads the firewarden: block of a Sigma document, if any.
// A block that does not decode is ignored: it is metadata, and the rule's
// detection is unaffected.
func applyCustom(r *Rule, raw []byte) {
	if !strings.Contains(string(raw), "firewarden:") {
		return
	}
	var doc struct {
		F *Custom `yaml:"firewarden"`
	}
	// A file of several documents (Sigma collections) keeps only what
	// belongs to this rule in raw; decode its last document.
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	for {
		var d struct {
			F *Custom `yaml:"firewarden"`
		}
		if err := dec.Decode(&d); err != nil {
			break
		}
		if d.F != nil {
			doc.F = d.F
		}
	}
	if doc.F == nil {
		return
	}
	if doc.F.RiskScore > 0 && doc.F.RiskScore <= 100 {
		r.RiskScore = doc.F.RiskScore
	}
	r.Guide = strings.TrimSpace(doc.F.Guide)
	r.Response = strings.TrimSpace(doc.F.Response)
}
