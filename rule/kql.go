package rule

import (
	"bytes"
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"go.yaml.in/yaml/v3"

	"github.com/firewarden/firewarden/lang/kql"
	"github.com/firewarden/firewarden/query"
)

// ParseKQL reads a .kql file: the whole file is one KQL query. The rule
// is named after the file (its id is "kql:" and the file's base name);
// severity, ATT&CK and schedule come only with a Sentinel YAML rule.
func ParseKQL(name string, data []byte) (*Rule, error) {
	base := strings.TrimSuffix(path.Base(filepath.ToSlash(name)), path.Ext(name))
	r := &Rule{
		ID:       "kql:" + base,
		Name:     base,
		Language: "kql",
		Path:     name,
		Text:     string(data),
	}
	res, err := kql.Compile(string(data), kql.Options{Base: query.Pos{File: name, Line: 1, Col: 1}})
	if err != nil {
		return r, err
	}
	r.Query = res.Query
	r.LogSource = res.Table
	r.Schedule.LookBack = res.LookBack
	return r, nil
}

// sentinelRule is a Microsoft Sentinel analytic rule in its YAML layout
// (Azure/Azure-Sentinel's Detections/*.yaml).
type sentinelRule struct {
	ID                 string   `yaml:"id"`
	Name               string   `yaml:"name"`
	Description        string   `yaml:"description"`
	Severity           string   `yaml:"severity"`
	Status             string   `yaml:"status"`
	Kind               string   `yaml:"kind"`
	Version            string   `yaml:"version"`
	QueryFrequency     string   `yaml:"queryFrequency"`
	QueryPeriod        string   `yaml:"queryPeriod"`
	TriggerOperator    string   `yaml:"triggerOperator"`
	TriggerThreshold   *int     `yaml:"triggerThreshold"`
	Tactics            []string `yaml:"tactics"`
	RelevantTechniques []string `yaml:"relevantTechniques"`
	Tags               []any    `yaml:"tags"`
	References         []string `yaml:"references"` // firewarden's addition`
	Query              string   `yaml:"query"`
	Metadata           struct {
		Author struct {
			Name string `yaml:"name"`
		} `yaml:"author"`
	} `yaml:"metadata"`
	EventGroupingSettings struct {
		AggregationKind string `yaml:"aggregationKind"`
	} `yaml:"eventGroupingSettings"`
}

// IsSentinelYAML reports whether a YAML document is a Sentinel analytic
// rule: a top-level `query:` and at least one of `queryFrequency:`,
// `relevantTechniques:` or `tactics:` — keys no Sigma rule has at the top
// level (a Sigma rule's query is its detection block).
func IsSentinelYAML(data []byte) bool {
	keys := topLevelKeys(data)
	return keys["query"] && (keys["queryFrequency"] || keys["relevantTechniques"] || keys["tactics"])
}

// topLevelKeys lists the keys written at column 1 of a YAML text, without
// decoding it (a sniff must not fail on a document the real reader will
// reject with a proper message).
func topLevelKeys(data []byte) map[string]bool {
	keys := map[string]bool{}
	for _, line := range bytes.Split(data, []byte("\n")) {
		if len(line) == 0 || line[0] == ' ' || line[0] == '\t' || line[0] == '#' || line[0] == '-' {
			continue
		}
		if i := bytes.IndexByte(line, ':'); i > 0 {
			keys[strings.TrimSpace(strings.Trim(string(line[:i]), `"'`))] = true
		}
	}
	return keys
}

var (
	sentinelDuration = regexp.MustCompile(`^(\d+)([smhd])$`)
	isoDuration      = regexp.MustCompile(`^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$`)
)

// parseSentinelDuration reads Sentinel's 5m / 1h / 14d, or ISO 8601
// (PT1H, P1D).
func parseSentinelDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if m := sentinelDuration.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		unit := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}[m[2]]
		return time.Duration(n) * unit, nil
	}
	if m := isoDuration.FindStringSubmatch(s); m != nil && s != "P" && s != "PT" {
		var d time.Duration
		for i, unit := range []time.Duration{24 * time.Hour, time.Hour, time.Minute, time.Second} {
			if m[i+1] != "" {
				n, _ := strconv.Atoi(m[i+1])
				d += time.Duration(n) * unit
			}
		}
		return d, nil
	}
	return 0, fmt.Errorf("duration %q (want 5m, 1h, 1d or ISO 8601 such as PT1H)", s)
}

// kebab turns Sentinel's tactic names (DefenseEvasion) into ATT&CK's
// short names (defense-evasion).
func kebab(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) && i > 0 {
			b.WriteByte('-')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// ParseSentinel reads a Sentinel analytic rule (YAML). A rule that was
// read but cannot run is returned with the error, so its metadata can be
// listed.
func ParseSentinel(name string, data []byte) (*Rule, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var sr sentinelRule
	if err := doc.Decode(&sr); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	at := func(key string) query.Pos {
		if n := mapValue(&doc, key); n != nil {
			return query.Pos{File: name, Line: n.Line, Col: n.Column}
		}
		return query.Pos{File: name}
	}
	sev := strings.ToLower(sr.Severity)
	r := &Rule{
		ID:          sr.ID,
		Name:        sr.Name,
		Description: strings.TrimSpace(sr.Description),
		Language:    "kql",
		Type:        strings.ToLower(sr.Kind),
		Version:     sr.Version,
		Status:      sr.Status,
		Severity:    sev,
		RiskScore:   RiskOf(sev),
		References:  sr.References,
		Path:        name,
		Text:        string(data),
	}
	if r.Type == "" {
		r.Type = "scheduled"
	}
	if sr.Metadata.Author.Name != "" {
		r.Author = []string{sr.Metadata.Author.Name}
	}
	for _, t := range sr.Tags {
		if s, ok := t.(string); ok {
			r.Tags = append(r.Tags, s)
		}
	}
	var attack []string
	for _, t := range sr.Tactics {
		attack = append(attack, "attack."+kebab(t))
	}
	for _, t := range sr.RelevantTechniques {
		attack = append(attack, "attack."+strings.ToLower(t))
	}
	r.Threat = ThreatFromTags(attack)
	switch sev {
	case "informational", "low", "medium", "high":
	default:
		return r, query.Errorf(at("severity"), "severity %q (want Informational, Low, Medium or High)", sr.Severity)
	}
	if sr.ID == "" || sr.Name == "" || strings.TrimSpace(sr.Query) == "" {
		return r, query.Errorf(query.Pos{File: name, Line: 1}, "a Sentinel rule needs id, name and query")
	}
	switch r.Type {
	case "scheduled", "nrt":
	default:
		return r, &query.Unsupported{Pos: at("kind"), Construct: "rule kind " + sr.Kind, Why: "firewarden runs Scheduled and NRT rules"}
	}
	if sr.QueryFrequency != "" {
		d, err := parseSentinelDuration(sr.QueryFrequency)
		if err != nil {
			return r, query.Errorf(at("queryFrequency"), "queryFrequency: %v", err)
		}
		r.Schedule.Interval = d
	}
	if sr.QueryPeriod != "" {
		d, err := parseSentinelDuration(sr.QueryPeriod)
		if err != nil {
			return r, query.Errorf(at("queryPeriod"), "queryPeriod: %v", err)
		}
		r.Schedule.LookBack = d
	}
	// An alert per result row is firewarden's own model; Sentinel's
	// default trigger (more than 0 results) is the only one it matches.
	op := strings.ToLower(sr.TriggerOperator)
	thr := 0
	if sr.TriggerThreshold != nil {
		thr = *sr.TriggerThreshold
	}
	if !(op == "" || op == "gt" || op == "greaterthan") || thr != 0 {
		return r, &query.Unsupported{Pos: at("triggerOperator"), Construct: fmt.Sprintf("triggerOperator %s triggerThreshold %d", sr.TriggerOperator, thr),
			Why: "firewarden raises an alert per result row (Sentinel's gt 0)"}
	}
	if k := sr.EventGroupingSettings.AggregationKind; k != "" && k != "AlertPerResult" {
		return r, &query.Unsupported{Pos: at("eventGroupingSettings"), Construct: "eventGroupingSettings aggregationKind " + k,
			Why: "firewarden raises an alert per result row (AlertPerResult)"}
	}
	base := at("query")
	if n := mapValue(&doc, "query"); n != nil && (n.Style&(yaml.LiteralStyle|yaml.FoldedStyle)) != 0 {
		// A block scalar: the text starts on the next line, indented.
		base.Line++
		lines := strings.Split(string(data), "\n")
		base.Col = 1
		if base.Line-1 < len(lines) {
			l := lines[base.Line-1]
			base.Col = len(l) - len(strings.TrimLeft(l, " ")) + 1
		}
	} else if n != nil && (n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle)) != 0 {
		base.Col++
	}
	indent := 0
	if base.Col > 1 && (mapValue(&doc, "query").Style&(yaml.LiteralStyle|yaml.FoldedStyle)) != 0 {
		indent = base.Col - 1
	}
	res, err := kql.Compile(sr.Query, kql.Options{Base: base, Indent: indent})
	if err != nil {
		return r, err
	}
	r.Query = res.Query
	r.LogSource = res.Table
	if r.Schedule.LookBack == 0 {
		r.Schedule.LookBack = res.LookBack
	}
	return r, nil
}

// mapValue finds a top-level key's value node.
func mapValue(doc *yaml.Node, key string) *yaml.Node {
	n := doc
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
