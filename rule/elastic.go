package rule

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/BurntSushi/toml"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/lang/eql"
	"github.com/firewarden/firewarden/lang/kuery"
	"github.com/firewarden/firewarden/query"
)

// Kibana's defaults for a rule file that leaves its schedule out: the
// rule runs every 5 minutes over the last 6, raising at most 100 alerts
// per run.
const (
	defaultInterval   = 5 * time.Minute
	defaultLookBack   = 6 * time.Minute
	defaultMaxSignals = 100
)

// ParseElastic reads one Elastic detection rule file (TOML, the layout of
// elastic/detection-rules: a [metadata] and a [rule] table) into a Rule.
//
// An eql rule has its query compiled; a rule of another type (query,
// threshold, new_terms, esql, machine_learning…) is returned with its
// metadata, a nil Query and a *query.Unsupported naming the type. Every
// error is positioned (file:line:col) inside the TOML file; when the error
// is about the rule's query or type, the returned Rule still carries the
// metadata read so far.
func ParseElastic(name string, data []byte) (*Rule, error) {
	var doc map[string]any
	if _, err := toml.Decode(string(data), &doc); err != nil {
		return nil, tomlError(name, data, err)
	}
	d := &elasticDoc{file: name, data: data, keys: locateKeys(data)}
	return d.rule(doc)
}

// tomlError positions a decoder error: the decoder gives the line and the
// byte offset, firewarden's errors want the column too.
func tomlError(name string, data []byte, err error) error {
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", name, err)
	}
	p := query.Pos{File: name, Line: max(pe.Position.Line, 1), Col: max(pe.Position.Col, 1)}
	if off := pe.Position.Start; off >= 0 && off <= len(data) {
		// The decoder points at the blank before an unexpected token:
		// point at the token.
		for off < len(data) && (data[off] == ' ' || data[off] == '\t') {
			off++
		}
		p = posAt(name, data, off)
	}
	msg := pe.Message
	if pe.LastKey != "" {
		msg += " (after key " + pe.LastKey + ")"
	}
	return query.Errorf(p, "TOML: %s, expected an Elastic rule file (TOML)", msg)
}

// posAt is the file:line:col of byte offset off. Columns count
// characters, as lang/eql's do, so a query's base position and the
// positions inside it agree.
func posAt(name string, data []byte, off int) query.Pos {
	off = min(max(off, 0), len(data))
	line, start := 1, 0
	for i := 0; i < off; i++ {
		if data[i] == '\n' {
			line++
			start = i + 1
		}
	}
	return query.Pos{File: name, Line: line, Col: utf8.RuneCount(data[start:off]) + 1}
}

// elasticDoc is one rule file being read: its decoded tables and where each
// key sits in the raw text, for positioned errors.
type elasticDoc struct {
	file string
	data []byte
	keys map[string]keyLoc
}

// arrayIndex is the [N] that error messages put after an array table's
// name; the key index has one entry per name.
var arrayIndex = regexp.MustCompile(`\[\d+\]`)

// at is the position of a key's value, or of the key's table when the key
// is absent, or the file's start.
func (d *elasticDoc) at(key string) query.Pos {
	for k := arrayIndex.ReplaceAllString(key, ""); k != ""; {
		if l, ok := d.keys[k]; ok {
			return posAt(d.file, d.data, l.val)
		}
		i := strings.LastIndexByte(k, '.')
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return query.Pos{File: d.file, Line: 1, Col: 1}
}

func (d *elasticDoc) errorf(key, format string, args ...any) error {
	return query.Errorf(d.at(key), format, args...)
}

// str reads an optional string; a value of another type is an error.
func (d *elasticDoc) str(t map[string]any, table, key string) (string, error) {
	v, ok := t[key]
	if !ok {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", d.errorf(table+"."+key, "%s.%s is %s, expected a string", table, key, tomlType(v))
	}
	return s, nil
}

// strs reads an optional list of strings; a single string is accepted as
// a list of one, as Kibana's rule schema does for index and author.
func (d *elasticDoc) strs(t map[string]any, table, key string) ([]string, error) {
	v, ok := t[key]
	if !ok {
		return nil, nil
	}
	switch v := v.(type) {
	case string:
		return []string{v}, nil
	case []any:
		out := make([]string, 0, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, d.errorf(table+"."+key, "%s.%s[%d] is %s, expected a string", table, key, i, tomlType(e))
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, d.errorf(table+"."+key, "%s.%s is %s, expected a list of strings", table, key, tomlType(v))
}

// integer reads an optional integer within [lo, hi].
func (d *elasticDoc) integer(t map[string]any, table, key string, lo, hi int64) (int64, bool, error) {
	v, ok := t[key]
	if !ok {
		return 0, false, nil
	}
	n, ok := v.(int64)
	if !ok {
		return 0, false, d.errorf(table+"."+key, "%s.%s is %s, expected an integer", table, key, tomlType(v))
	}
	if n < lo || n > hi {
		return 0, false, d.errorf(table+"."+key, "%s.%s is %d, expected %d to %d", table, key, n, lo, hi)
	}
	return n, true, nil
}

func tomlType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case []any, []map[string]any:
		return "an array"
	case map[string]any:
		return "a table"
	case time.Time:
		return "a date-time"
	}
	return fmt.Sprintf("a %T", v)
}

func (d *elasticDoc) rule(doc map[string]any) (*Rule, error) {
	rt, ok := doc["rule"].(map[string]any)
	if !ok {
		if v, present := doc["rule"]; present {
			return nil, d.errorf("rule", "rule is %s, expected the [rule] table", tomlType(v))
		}
		return nil, query.Errorf(query.Pos{File: d.file, Line: 1, Col: 1}, "no [rule] table, expected an Elastic detection rule file ([metadata] and [rule] tables)")
	}
	r := &Rule{Path: d.file, Text: string(d.data)}
	var err error
	get := func(dst *string, key string) {
		if err == nil {
			*dst, err = d.str(rt, "rule", key)
		}
	}
	gets := func(dst *[]string, key string) {
		if err == nil {
			*dst, err = d.strs(rt, "rule", key)
		}
	}
	var note, from, interval, lang, text string
	var fps []string
	get(&r.ID, "rule_id")
	get(&r.Name, "name")
	get(&r.Description, "description")
	get(&r.Type, "type")
	get(&lang, "language")
	get(&r.Severity, "severity")
	get(&note, "note")
	get(&r.Setup, "setup")
	get(&from, "from")
	get(&interval, "interval")
	get(&r.TimestampOverride, "timestamp_override")
	get(&r.License, "license")
	get(&text, "query")
	gets(&r.Index, "index")
	gets(&r.References, "references")
	gets(&r.Tags, "tags")
	gets(&r.Author, "author")
	gets(&fps, "false_positives")
	if err != nil {
		return nil, err
	}
	if mt, ok := doc["metadata"].(map[string]any); ok {
		get2 := func(dst *string, key string) {
			if err == nil {
				*dst, err = d.str(mt, "metadata", key)
			}
		}
		get2(&r.Date, "creation_date")
		get2(&r.Modified, "updated_date")
		get2(&r.Status, "maturity")
		if err != nil {
			return nil, err
		}
	}
	for _, req := range []struct{ key, val string }{{"rule_id", r.ID}, {"name", r.Name}, {"type", r.Type}} {
		if strings.TrimSpace(req.val) == "" {
			return nil, d.errorf("rule."+req.key, "rule.%s is missing or empty, expected a %s", req.key, map[string]string{
				"rule_id": "rule id (a UUID)", "name": "rule name", "type": "rule type (eql, query, threshold…)"}[req.key])
		}
	}

	r.Severity = strings.ToLower(r.Severity)
	switch r.Severity {
	case "low", "medium", "high", "critical":
	case "":
		return nil, d.errorf("rule.severity", "rule.severity is missing, expected low, medium, high or critical")
	default:
		return nil, d.errorf("rule.severity", "rule.severity %q, expected low, medium, high or critical", r.Severity)
	}
	risk, ok, err := d.integer(rt, "rule", "risk_score", 0, 100)
	if err != nil {
		return nil, err
	}
	r.RiskScore = int(risk)
	if !ok {
		r.RiskScore = RiskOf(r.Severity)
	}
	if v, ok, err := d.integer(rt, "rule", "version", 1, 1<<31-1); err != nil {
		return nil, err
	} else if ok {
		r.Version = strconv.FormatInt(v, 10)
	}

	r.Schedule = Schedule{Interval: defaultInterval, LookBack: defaultLookBack, MaxSignals: defaultMaxSignals}
	if interval != "" {
		iv, ok := parseDuration(interval)
		if !ok || iv <= 0 {
			return nil, d.errorf("rule.interval", "rule.interval %q, expected a duration such as 5m, 1h or 30s", interval)
		}
		r.Schedule.Interval = iv
	}
	if from != "" {
		lb, ok := parseFrom(from)
		if !ok {
			return nil, d.errorf("rule.from", "rule.from %q, expected date math such as now-9m", from)
		}
		r.Schedule.LookBack = lb
	}
	if n, ok, err := d.integer(rt, "rule", "max_signals", 1, 1<<31-1); err != nil {
		return nil, err
	} else if ok {
		r.Schedule.MaxSignals = int(n)
	}

	if r.Threat, err = d.threats(rt); err != nil {
		return nil, err
	}
	r.Guide = note
	noteFPs, resp := splitNote(note)
	r.FalsePositives = dedupe(append(fps, noteFPs...))
	r.Response = resp
	r.LogSource = strings.Join(r.Index, ",")

	r.Type = strings.ToLower(r.Type)
	r.Language = strings.ToLower(lang)
	if r.ExceptionLists, err = d.exceptionLists(rt); err != nil {
		return r, err
	}
	if r.Suppression, err = d.suppression(rt); err != nil {
		return r, err
	}
	switch r.Type {
	case "eql", "query", "threshold", "new_terms":
	default:
		return r, &query.Unsupported{Pos: d.at("rule.type"), Construct: "rule type " + r.Type, Why: "firewarden runs eql, query, threshold and new_terms rules; this rule is listed but not run"}
	}
	// Kibana applies query DSL filters outside the query; running the rule
	// without them would raise alerts Kibana does not.
	if v, ok := rt["filters"]; ok && !isEmpty(v) {
		return r, &query.Unsupported{Pos: d.at("rule.filters"), Construct: "rule.filters", Why: "query DSL filters applied by Kibana outside the query; firewarden would alert where Kibana does not"}
	}
	if strings.TrimSpace(text) == "" {
		return r, d.errorf("rule.query", "rule.query is missing or empty, expected a query")
	}
	var q *query.Query
	if r.Type == "eql" {
		r.Language = "eql"
		if lang != "" && !strings.EqualFold(lang, "eql") {
			return r, d.errorf("rule.language", "rule.language %q in an eql rule, expected eql", lang)
		}
		q, err = eql.Compile(text, eql.Options{Base: d.queryStart()})
	} else {
		switch r.Language {
		case "":
			r.Language = kuery.KQL
		case kuery.KQL, kuery.Lucene:
		default:
			return r, d.errorf("rule.language", "rule.language %q in a %s rule, expected kuery or lucene", lang, r.Type)
		}
		q, err = kuery.Compile(text, r.Language, kuery.Options{Base: d.queryStart()})
	}
	if err != nil {
		return r, err
	}
	switch r.Type {
	case "threshold":
		if r.Threshold, err = d.threshold(rt); err != nil {
			return r, err
		}
		q.Stages = append(q.Stages, r.Threshold.stage(r.Schedule.LookBack))
	case "new_terms":
		if r.NewTerms, err = d.newTerms(rt); err != nil {
			return r, err
		}
	}
	q.Index = r.Index
	r.Query = q
	return r, nil
}

// stage is the threshold as an aggregation over the rule's look-back:
// count (and distinct counts) per group, alerting when all bounds hold.
func (t *Threshold) stage(window time.Duration) query.Aggregate {
	agg := query.Aggregate{Window: window, Names: t.Fields, Funcs: []query.AggFunc{{Name: "count", As: "_count"}}}
	for _, f := range t.Fields {
		agg.GroupBy = append(agg.GroupBy, query.Field{Path: f})
	}
	having := []query.Expr{query.Compare{Op: query.Ge, L: query.Field{Path: "_count"}, R: query.Lit{V: event.IntV(int64(t.Value))}}}
	for i, c := range t.Cardinality {
		as := fmt.Sprintf("_cardinality_%d", i)
		agg.Funcs = append(agg.Funcs, query.AggFunc{Name: "distinct", Field: query.Field{Path: c.Field}, As: as})
		having = append(having, query.Compare{Op: query.Ge, L: query.Field{Path: as}, R: query.Lit{V: event.IntV(int64(c.Value))}})
	}
	if len(having) == 1 {
		agg.Having = having[0]
	} else {
		agg.Having = query.And{X: having}
	}
	return agg
}

// table reads an optional sub-table.
func (d *elasticDoc) table(t map[string]any, key string) (map[string]any, error) {
	v, ok := t[key]
	if !ok {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, d.errorf("rule."+key, "rule.%s is %s, expected a table", key, tomlType(v))
	}
	return m, nil
}

// tables reads an optional array of tables.
func (d *elasticDoc) tables(t map[string]any, table, key string) ([]map[string]any, error) {
	v, ok := t[key]
	if !ok {
		return nil, nil
	}
	switch v := v.(type) {
	case []map[string]any:
		return v, nil
	case []any:
		out := make([]map[string]any, 0, len(v))
		for i, e := range v {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, d.errorf(table+"."+key, "%s.%s[%d] is %s, expected a table", table, key, i, tomlType(e))
			}
			out = append(out, m)
		}
		return out, nil
	}
	return nil, d.errorf(table+"."+key, "%s.%s is %s, expected an array of tables", table, key, tomlType(v))
}

func (d *elasticDoc) threshold(rt map[string]any) (*Threshold, error) {
	tt, err := d.table(rt, "threshold")
	if err != nil {
		return nil, err
	}
	if tt == nil {
		return nil, d.errorf("rule.type", "a threshold rule without [rule.threshold], expected field and value")
	}
	t := &Threshold{}
	if t.Fields, err = d.strs(tt, "rule.threshold", "field"); err != nil {
		return nil, err
	}
	if len(t.Fields) > 5 {
		return nil, d.errorf("rule.threshold.field", "rule.threshold.field has %d fields, expected at most 5", len(t.Fields))
	}
	v, ok, err := d.integer(tt, "rule.threshold", "value", 1, 1<<31-1)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, d.errorf("rule.threshold", "rule.threshold.value is missing, expected the number of events that raises an alert")
	}
	t.Value = int(v)
	cs, err := d.tables(tt, "rule.threshold", "cardinality")
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		f, err := d.str(c, "rule.threshold.cardinality", "field")
		if err != nil {
			return nil, err
		}
		n, ok, err := d.integer(c, "rule.threshold.cardinality", "value", 1, 1<<31-1)
		if err != nil {
			return nil, err
		}
		if f == "" || !ok {
			return nil, d.errorf("rule.threshold.cardinality", "a threshold cardinality needs field and value")
		}
		t.Cardinality = append(t.Cardinality, Cardinality{Field: f, Value: int(n)})
	}
	return t, nil
}

func (d *elasticDoc) newTerms(rt map[string]any) (*NewTerms, error) {
	nt, err := d.table(rt, "new_terms")
	if err != nil {
		return nil, err
	}
	if nt == nil {
		return nil, d.errorf("rule.type", "a new_terms rule without [rule.new_terms], expected new_terms_fields and history_window_start")
	}
	n := &NewTerms{}
	if n.Fields, err = d.strs(nt, "rule.new_terms", "value"); err != nil {
		return nil, err
	}
	if len(n.Fields) < 1 || len(n.Fields) > 3 {
		return nil, d.errorf("rule.new_terms.value", "rule.new_terms has %d fields, expected 1 to 3", len(n.Fields))
	}
	hs, err := d.tables(nt, "rule.new_terms", "history_window_start")
	if err != nil {
		return nil, err
	}
	for _, h := range hs {
		v, err := d.str(h, "rule.new_terms.history_window_start", "value")
		if err != nil {
			return nil, err
		}
		hist, ok := parseFrom(v)
		if !ok || hist <= 0 {
			return nil, d.errorf("rule.new_terms.history_window_start", "history_window_start %q, expected date math such as now-14d", v)
		}
		n.History = hist
	}
	if n.History == 0 {
		return nil, d.errorf("rule.new_terms", "rule.new_terms without history_window_start, expected one such as now-14d")
	}
	return n, nil
}

// suppression reads [rule.alert_suppression]: group_by (1 to 3 fields),
// duration {value, unit} (default: the rule's interval, as Kibana's "per
// rule execution"), missing_fields_strategy (suppress, the default, or
// doNotSuppress).
func (d *elasticDoc) suppression(rt map[string]any) (*Suppression, error) {
	st, err := d.table(rt, "alert_suppression")
	if err != nil || st == nil {
		return nil, err
	}
	s := &Suppression{SuppressMissing: true}
	if s.GroupBy, err = d.strs(st, "rule.alert_suppression", "group_by"); err != nil {
		return nil, err
	}
	if len(s.GroupBy) > 3 {
		return nil, d.errorf("rule.alert_suppression.group_by", "alert_suppression.group_by has %d fields, expected at most 3", len(s.GroupBy))
	}
	if dt, ok := st["duration"].(map[string]any); ok {
		v, _, err := d.integer(dt, "rule.alert_suppression.duration", "value", 1, 1<<31-1)
		if err != nil {
			return nil, err
		}
		u, err := d.str(dt, "rule.alert_suppression.duration", "unit")
		if err != nil {
			return nil, err
		}
		dur, ok := parseDuration(strconv.FormatInt(v, 10) + u)
		if !ok || dur <= 0 {
			return nil, d.errorf("rule.alert_suppression.duration", "alert_suppression.duration %d%s, expected a value and a unit s, m or h", v, u)
		}
		s.Duration = dur
	}
	switch m, err := d.str(st, "rule.alert_suppression", "missing_fields_strategy"); {
	case err != nil:
		return nil, err
	case m == "" || m == "suppress":
	case m == "doNotSuppress":
		s.SuppressMissing = false
	default:
		return nil, d.errorf("rule.alert_suppression.missing_fields_strategy", "missing_fields_strategy %q, expected suppress or doNotSuppress", m)
	}
	return s, nil
}

// exceptionLists reads [[rule.exceptions_list]]: the list ids the rule
// applies (package exception reads the lists themselves).
func (d *elasticDoc) exceptionLists(rt map[string]any) ([]string, error) {
	ls, err := d.tables(rt, "rule", "exceptions_list")
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, l := range ls {
		id, err := d.str(l, "rule.exceptions_list", "list_id")
		if err != nil {
			return nil, err
		}
		if id == "" {
			return nil, d.errorf("rule.exceptions_list", "an exceptions_list entry without list_id")
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func isEmpty(v any) bool {
	switch v := v.(type) {
	case []any:
		return len(v) == 0
	case []map[string]any:
		return len(v) == 0
	case map[string]any:
		return len(v) == 0
	case string:
		return v == ""
	}
	return false
}

// queryStart is where the text of rule.query begins in the file: just past
// the opening delimiter, or on the next line when a triple-quoted string
// opens with a newline (TOML trims that newline from the value).
//
// Positions inside the query are exact for literal strings (single quotes,
// one or three), the form Elastic's rules use. In a basic string (double
// quotes) an escape sequence is shorter in the value than in the file, so
// columns after one on the same line (and lines after a line-ending
// backslash) drift.
func (d *elasticDoc) queryStart() query.Pos {
	l, ok := d.keys["rule.query"]
	if !ok {
		return query.Pos{File: d.file}
	}
	off := l.val
	rest := d.data[off:]
	switch {
	case hasPrefix(rest, `'''`), hasPrefix(rest, `"""`):
		off += 3
		switch {
		case hasPrefix(d.data[off:], "\n"):
			off++
		case hasPrefix(d.data[off:], "\r\n"):
			off += 2
		}
	case hasPrefix(rest, `'`), hasPrefix(rest, `"`):
		off++
	}
	return posAt(d.file, d.data, off)
}

func hasPrefix(b []byte, s string) bool { return len(b) >= len(s) && string(b[:len(s)]) == s }

// threats reads rule.threat: one entry per tactic, each with techniques
// and their sub-techniques (flattened after their parent). Each technique
// also gets its id in the other ATT&CK release where firewarden knows it
// (T1562.004 ↔ T1686), and a tactic ATT&CK v19 split out of Defense
// Evasion keeps TA0005 as its legacy tactic, as Sigma tags do.
func (d *elasticDoc) threats(rt map[string]any) ([]Threat, error) {
	v, ok := rt["threat"]
	if !ok {
		return nil, nil
	}
	list, ok := tables(v)
	if !ok {
		return nil, d.errorf("rule.threat", "rule.threat is %s, expected [[rule.threat]] tables", tomlType(v))
	}
	var out []Threat
	for i, t := range list {
		key := fmt.Sprintf("rule.threat[%d]", i)
		th := Threat{Framework: "MITRE ATT&CK"}
		if f, err := d.str(t, key, "framework"); err != nil {
			return nil, err
		} else if f != "" {
			th.Framework = f
		}
		if tv, ok := t["tactic"]; ok {
			tt, ok := tv.(map[string]any)
			if !ok {
				return nil, d.errorf("rule.threat.tactic", "%s.tactic is %s, expected a table with id, name and reference", key, tomlType(tv))
			}
			var err error
			tac := &th.Tactic
			for _, f := range []struct {
				dst *string
				k   string
			}{{&tac.ID, "id"}, {&tac.Name, "name"}, {&tac.Reference, "reference"}} {
				if *f.dst, err = d.str(tt, key+".tactic", f.k); err != nil {
					return nil, err
				}
			}
			if known, ok := tactics[strings.ReplaceAll(strings.ToLower(strings.TrimSpace(tac.Name)), " ", "-")]; ok {
				if tac.ID == "" {
					tac.ID = known.ID
				}
				tac.Legacy = known.Legacy
			}
			if tac.Reference == "" {
				tac.Reference = tacticRef(tac.ID)
			}
		}
		techs, err := d.techniques(t, key, "technique", 0)
		if err != nil {
			return nil, err
		}
		th.Techniques = techs
		out = append(out, th)
	}
	return out, nil
}

func (d *elasticDoc) techniques(t map[string]any, key, field string, depth int) ([]Technique, error) {
	v, ok := t[field]
	if !ok {
		return nil, nil
	}
	list, ok := tables(v)
	if !ok {
		return nil, d.errorf("rule.threat.technique", "%s.%s is %s, expected [[…%s]] tables", key, field, tomlType(v), field)
	}
	var out []Technique
	for i, tt := range list {
		k := fmt.Sprintf("%s.%s[%d]", key, field, i)
		id, err := d.str(tt, k, "id")
		if err != nil {
			return nil, err
		}
		if strings.TrimSpace(id) == "" {
			return nil, d.errorf("rule.threat.technique", "%s.id is missing, expected an ATT&CK technique id such as T1562", k)
		}
		te := TechniqueOf(strings.TrimSpace(id))
		name, err := d.str(tt, k, "name")
		if err != nil {
			return nil, err
		}
		ref, err := d.str(tt, k, "reference")
		if err != nil {
			return nil, err
		}
		if name != "" {
			te.Name = name
		}
		if ref != "" {
			te.Reference = ref
		}
		out = append(out, te)
		if depth == 0 {
			subs, err := d.techniques(tt, k, "subtechnique", 1)
			if err != nil {
				return nil, err
			}
			out = append(out, subs...)
		}
	}
	return out, nil
}

// tables accepts an array of tables as the decoder gives it.
func tables(v any) ([]map[string]any, bool) {
	switch v := v.(type) {
	case []map[string]any:
		return v, true
	case []any:
		out := make([]map[string]any, 0, len(v))
		for _, e := range v {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, false
			}
			out = append(out, m)
		}
		return out, true
	case map[string]any:
		return []map[string]any{v}, true
	}
	return nil, false
}

// parseDuration reads Kibana's schedule durations: an integer and one of
// s, m, h, d.
func parseDuration(s string) (time.Duration, bool) {
	s = strings.TrimSpace(s)
	if len(s) < 2 {
		return 0, false
	}
	unit := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'H': time.Hour, 'd': 24 * time.Hour}[s[len(s)-1]]
	if unit == 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(s[:len(s)-1], 10, 64)
	if err != nil || n < 0 || n > int64(1<<62)/int64(unit) {
		return 0, false
	}
	return time.Duration(n) * unit, true
}

// parseFrom reads the start of the rule's look-back window: Elasticsearch
// date math relative to now ("now-9m"), the only form rule files use.
func parseFrom(s string) (time.Duration, bool) {
	s = strings.TrimSpace(s)
	if s == "now" {
		return 0, true
	}
	rest, ok := strings.CutPrefix(s, "now-")
	if !ok {
		return 0, false
	}
	return parseDuration(rest)
}

// splitNote finds the false-positive and response sections of an
// investigation guide (Markdown): a "False positive analysis" (or
// "…considerations") heading gives one false positive per list item, a
// "Response and remediation" heading gives the response text. A section
// runs to the next heading of the same or a higher level.
func splitNote(note string) (fps []string, response string) {
	lines := strings.Split(strings.ReplaceAll(note, "\r\n", "\n"), "\n")
	type section struct {
		kind  string // "fp", "response"
		level int
		body  []string
	}
	var cur *section
	var done []*section
	for _, l := range lines {
		if level, title, ok := heading(l); ok {
			if cur != nil && level <= cur.level {
				done = append(done, cur)
				cur = nil
			}
			if cur == nil {
				t := strings.ToLower(title)
				switch {
				case strings.HasPrefix(t, "false positive"):
					cur = &section{kind: "fp", level: level}
				case strings.HasPrefix(t, "response and remediation"):
					cur = &section{kind: "response", level: level}
				}
				continue
			}
		}
		if cur != nil {
			cur.body = append(cur.body, l)
		}
	}
	if cur != nil {
		done = append(done, cur)
	}
	var resp []string
	for _, s := range done {
		switch s.kind {
		case "fp":
			fps = append(fps, listItems(s.body)...)
		case "response":
			if t := strings.TrimSpace(strings.Join(s.body, "\n")); t != "" {
				resp = append(resp, t)
			}
		}
	}
	return fps, strings.Join(resp, "\n\n")
}

// heading recognises a Markdown ATX heading ("### Title") and, as the
// rendered seed documents write them, a line that is all bold
// ("**Title**"), which ranks below every ATX level.
func heading(l string) (level int, title string, ok bool) {
	t := strings.TrimSpace(l)
	if n := len(t) - len(strings.TrimLeft(t, "#")); n >= 1 && n <= 6 && (len(t) == n || t[n] == ' ' || t[n] == '\t') {
		return n, strings.TrimSpace(strings.TrimRight(t[n:], "#")), true
	}
	if len(t) > 4 && strings.HasPrefix(t, "**") && strings.HasSuffix(t, "**") && !strings.Contains(t[2:len(t)-2], "**") {
		return 7, strings.TrimSpace(t[2 : len(t)-2]), true
	}
	return 0, "", false
}

// listItems splits a section into its list items ("- ", "* ", "+ ", "1. "),
// joining continuation lines; text outside a list becomes one item per
// paragraph.
func listItems(body []string) []string {
	var out []string
	var cur []string
	flush := func() {
		if s := strings.TrimSpace(strings.Join(cur, " ")); s != "" {
			out = append(out, s)
		}
		cur = nil
	}
	for _, l := range body {
		t := strings.TrimSpace(l)
		switch {
		case t == "":
			flush()
		case isBullet(t):
			flush()
			cur = append(cur, strings.TrimSpace(bulletText(t)))
		default:
			cur = append(cur, t)
		}
	}
	flush()
	return out
}

func isBullet(t string) bool { return bulletText(t) != t }

func bulletText(t string) string {
	for _, b := range []string{"- ", "* ", "+ "} {
		if strings.HasPrefix(t, b) {
			return t[len(b):]
		}
	}
	i := 0
	for i < len(t) && i < 4 && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i > 0 && i+1 < len(t) && (t[i] == '.' || t[i] == ')') && t[i+1] == ' ' {
		return t[i+2:]
	}
	return t
}

func dedupe(ss []string) []string {
	seen := make(map[string]bool, len(ss))
	out := ss[:0]
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// keyLoc is where a key and its value start in the raw TOML text (byte
// offsets).
type keyLoc struct {
	key, val int
}

// locateKeys finds where each key of the file is, by dotted path
// ("rule.query", "rule.threat.technique.id"; array tables contribute their
// name, and the first occurrence wins). The TOML decoder keeps positions to
// itself, and errors and the query's base position need them. It is a
// small scanner that knows just enough TOML to step over strings, arrays
// and comments; on text the decoder rejected it still returns, never
// panics.
func locateKeys(b []byte) map[string]keyLoc {
	out := map[string]keyLoc{}
	table := ""
	i, n := 0, len(b)
	for i < n {
		// start of a line (or of what follows a value)
		for i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
			i++
		}
		if i >= n {
			break
		}
		switch b[i] {
		case '#':
			i = lineEnd(b, i)
			continue
		case '[':
			j := i + 1
			double := j < n && b[j] == '['
			if double {
				j++
			}
			end := scanKey(b, j, ']')
			if end < n && b[end] == ']' {
				table = normaliseKey(b[j:end])
				if _, ok := out[table]; !ok && table != "" {
					out[table] = keyLoc{key: i, val: i}
				}
			}
			i = lineEnd(b, end)
			continue
		}
		eq := scanKey(b, i, '=')
		if eq >= n || b[eq] != '=' {
			i = lineEnd(b, eq)
			continue
		}
		key := normaliseKey(b[i:eq])
		if table != "" {
			key = table + "." + key
		}
		v := eq + 1
		for v < n && (b[v] == ' ' || b[v] == '\t') {
			v++
		}
		if _, ok := out[key]; !ok && key != "" {
			out[key] = keyLoc{key: i, val: v}
		}
		i = skipValue(b, v)
	}
	return out
}

// scanKey returns the index of stop at or after i, stepping over quoted
// key parts; it stops at a newline too.
func scanKey(b []byte, i int, stop byte) int {
	for i < len(b) {
		switch c := b[i]; c {
		case stop, '\n':
			return i
		case '"', '\'':
			i = skipQuoted(b, i)
			continue
		}
		i++
	}
	return i
}

// skipQuoted steps over a one-line string starting at b[i] (a quote).
func skipQuoted(b []byte, i int) int {
	q := b[i]
	i++
	for i < len(b) && b[i] != '\n' {
		switch {
		case q == '"' && b[i] == '\\':
			i += 2
			continue
		case b[i] == q:
			return i + 1
		}
		i++
	}
	return min(i, len(b))
}

// skipValue steps over one value (strings of every form, arrays over
// several lines with comments, inline tables) and returns the index of the
// line end that follows it.
func skipValue(b []byte, i int) int {
	depth := 0
	for i < len(b) {
		c := b[i]
		switch {
		case c == '\n':
			if depth <= 0 {
				return i
			}
			i++
		case c == '#':
			i = lineEnd(b, i)
		case hasPrefix(b[i:], `"""`), hasPrefix(b[i:], `'''`):
			i = skipMultiline(b, i)
		case c == '"' || c == '\'':
			i = skipQuoted(b, i)
		case c == '[' || c == '{':
			depth++
			i++
		case c == ']' || c == '}':
			depth--
			i++
		default:
			i++
		}
	}
	return i
}

// skipMultiline steps over a multi-line string starting at its opening
// delimiter; up to two quotes right before the closing delimiter belong
// to the value.
func skipMultiline(b []byte, i int) int {
	q := b[i]
	i += 3
	for i < len(b) {
		if q == '"' && b[i] == '\\' {
			i += 2
			continue
		}
		if b[i] == q && i+2 < len(b) && b[i+1] == q && b[i+2] == q {
			j := i + 3
			for k := 0; k < 2 && j < len(b) && b[j] == q; k++ {
				j++
			}
			return j
		}
		i++
	}
	return len(b)
}

func lineEnd(b []byte, i int) int {
	for i < len(b) && b[i] != '\n' {
		i++
	}
	return i
}

// normaliseKey turns a raw TOML key (`rule . "query"`) into a dotted path.
func normaliseKey(raw []byte) string {
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; c {
		case '"', '\'':
			j := skipQuoted(raw, i)
			end := j - 1
			if end <= i || raw[end] != c {
				end = j
			}
			cur.Write(raw[i+1 : end])
			i = j - 1
		case '.':
			parts = append(parts, strings.TrimSpace(cur.String()))
			cur.Reset()
		case ' ', '\t', '\r':
		default:
			cur.WriteByte(c)
		}
	}
	parts = append(parts, strings.TrimSpace(cur.String()))
	return strings.Join(parts, ".")
}
