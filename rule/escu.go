package rule

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/firewarden/firewarden/lang/spl"
	"github.com/firewarden/firewarden/query"
)

// SPLMacroDirs are folders of ESCU macro files (macros/*.yml) that every
// ESCU detection loaded may use, besides the built-in CIM macros, the macro
// files among the paths loaded, and a "macros" folder beside any folder
// above a detection (ESCU's own layout: detections/…, macros/).
var SPLMacroDirs []string

// escuDoc is a Splunk ESCU detection (security_content's detections/*.yml).
type escuDoc struct {
	Name                string   `yaml:"name"`
	ID                  string   `yaml:"id"`
	Version             any      `yaml:"version"`
	Date                string   `yaml:"date"`
	Author              string   `yaml:"author"`
	Status              string   `yaml:"status"`
	Type                string   `yaml:"type"`
	Description         string   `yaml:"description"`
	DataSource          []string `yaml:"data_source"`
	Search              string   `yaml:"search"`
	HowToImplement      string   `yaml:"how_to_implement"`
	KnownFalsePositives string   `yaml:"known_false_positives"`
	References          []string `yaml:"references"`
	Tags                struct {
		AnalyticStory  []string `yaml:"analytic_story"`
		AssetType      string   `yaml:"asset_type"`
		Confidence     *int     `yaml:"confidence"`
		Impact         *int     `yaml:"impact"`
		Message        string   `yaml:"message"`
		MitreAttackID  []string `yaml:"mitre_attack_id"`
		RiskScore      *int     `yaml:"risk_score"`
		SecurityDomain string   `yaml:"security_domain"`
	} `yaml:"tags"`
}

// IsESCU reports whether YAML data is a Splunk ESCU detection: a top-level
// search: together with one of ESCU's own keys. Sigma rules have neither;
// Sentinel analytic rules have query:, not search:.
func IsESCU(data []byte) bool {
	if !topKey(data, "search") {
		return false
	}
	for _, k := range []string{"how_to_implement", "known_false_positives", "datamodel", "analytic_story", "data_source"} {
		if topKey(data, k) {
			return true
		}
	}
	for _, t := range []string{"TTP", "Anomaly", "Hunting", "Correlation", "Baseline"} {
		if strings.Contains(string(data), "\ntype: "+t) {
			return true
		}
	}
	return false
}

// topKey: a line of data starts with key:.
func topKey(data []byte, key string) bool {
	s := string(data)
	return strings.HasPrefix(s, key+":") || strings.Contains(s, "\n"+key+":")
}

// ParseESCU reads an ESCU detection and compiles its search with macros.
// A search that does not compile still returns the rule's metadata.
func ParseESCU(name string, data []byte, macros *spl.Macros) (*Rule, error) {
	var d escuDoc
	if err := yaml.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if strings.TrimSpace(d.Search) == "" {
		return nil, fmt.Errorf("%s: ESCU detection without a search", name)
	}
	r := &Rule{
		ID:          d.ID,
		Name:        d.Name,
		Description: strings.TrimSpace(d.Description),
		Language:    "spl",
		Type:        d.Type,
		Status:      d.Status,
		Date:        d.Date,
		References:  d.References,
		Setup:       strings.TrimSpace(d.HowToImplement),
		Path:        name,
		Text:        string(data),
		LogSource:   strings.Join(d.DataSource, ", "),
	}
	if d.Version != nil {
		r.Version = fmt.Sprint(d.Version)
	}
	if d.Author != "" {
		r.Author = []string{d.Author}
	}
	if fp := strings.TrimSpace(d.KnownFalsePositives); fp != "" {
		r.FalsePositives = []string{fp}
	}
	t := d.Tags
	for _, s := range t.AnalyticStory {
		r.Tags = append(r.Tags, "analytic_story:"+s)
	}
	if t.Confidence != nil {
		r.Tags = append(r.Tags, "confidence:"+strconv.Itoa(*t.Confidence))
	}
	if t.Impact != nil {
		r.Tags = append(r.Tags, "impact:"+strconv.Itoa(*t.Impact))
	}
	if t.AssetType != "" {
		r.Tags = append(r.Tags, "asset_type:"+t.AssetType)
	}
	if t.SecurityDomain != "" {
		r.Tags = append(r.Tags, "security_domain:"+t.SecurityDomain)
	}
	if t.Message != "" {
		r.Guide = t.Message
	}
	var attack []string
	for _, id := range t.MitreAttackID {
		attack = append(attack, "attack."+strings.ToLower(id))
	}
	r.Threat = ThreatFromTags(attack)
	switch {
	case t.RiskScore != nil:
		r.RiskScore = *t.RiskScore
	case t.Confidence != nil && t.Impact != nil:
		r.RiskScore = *t.Confidence * *t.Impact / 100
	}
	r.Severity = severityOfRisk(r.RiskScore)
	line := searchLine(data)
	q, err := spl.Compile(d.Search, spl.Options{Macros: macros, Base: query.Pos{File: name, Line: line}})
	if err != nil {
		return r, err
	}
	r.Query = q
	return r, nil
}

// searchLine is the line of data where the search: key is (errors in a
// single-line search point at its line; in a block scalar at the key).
func searchLine(data []byte) int {
	for i, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "search:") {
			if strings.TrimSpace(strings.TrimPrefix(l, "search:")) == "|-" || strings.TrimSpace(strings.TrimPrefix(l, "search:")) == "|" {
				return i + 2
			}
			return i + 1
		}
	}
	return 0
}

// severityOfRisk maps an ESCU risk score (0-100) onto firewarden's
// severities at the Elastic risk bands: below 21 informational, below 47
// low, below 73 medium, below 99 high, critical above.
func severityOfRisk(r int) string {
	switch {
	case r < 21:
		return "informational"
	case r < 47:
		return "low"
	case r < 73:
		return "medium"
	case r < 99:
		return "high"
	}
	return "critical"
}

// escuMacros is the macro set for an ESCU detection at path: the built-in
// macros, then SPLMacroDirs, then the macros folder of the nearest
// ancestor folder that has one, then the macro files loaded with it.
func escuMacros(path string, loaded *spl.Macros, cache map[string]*spl.Macros) *spl.Macros {
	ms := spl.Builtin()
	for _, d := range SPLMacroDirs {
		ms = ms.Merge(loadMacroDir(d, cache))
	}
	if path != "" && !strings.HasPrefix(path, "builtin:") {
		dir := filepath.Dir(path)
		for i := 0; i < 6; i++ {
			cand := filepath.Join(dir, "macros")
			if fi, err := os.Stat(cand); err == nil && fi.IsDir() {
				ms = ms.Merge(loadMacroDir(cand, cache))
				break
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return ms.Merge(loaded)
}

func loadMacroDir(dir string, cache map[string]*spl.Macros) *spl.Macros {
	if m, ok := cache[dir]; ok {
		return m
	}
	m, err := spl.LoadMacroDir(dir)
	if err != nil {
		m = nil
	}
	cache[dir] = m
	return m
}

type pendingFile struct {
	name    string
	data    []byte
	builtin bool
}

// addSPLMacro records an ESCU macro file read with the rules.
func (s *Set) addSPLMacro(name string, data []byte) {
	d, ok, _ := spl.ParseMacroFile(name, data)
	if !ok {
		return
	}
	if s.splMacros == nil {
		s.splMacros = &spl.Macros{}
	}
	s.splMacros.Add(d)
}

// finishSPL compiles the ESCU detections read, now that every macro file
// loaded with them is known.
func (s *Set) finishSPL() {
	cache := map[string]*spl.Macros{}
	for _, p := range s.pendingSPL {
		r, err := ParseESCU(p.name, p.data, escuMacros(p.name, s.splMacros, cache))
		if err != nil && r == nil {
			s.loadRefused = append(s.loadRefused, Refusal{Path: p.name, Err: err})
			continue
		}
		s.addRule(r, err, p.name, p.builtin)
	}
	s.pendingSPL = nil
}
