// Package rule holds a detection rule as firewarden runs it, whatever
// language it was written in: its metadata (what reaches every alert) and
// its compiled query. It also loads rule files and folders of every
// supported ecosystem.
package rule

import (
	"time"

	"github.com/firewarden/firewarden/query"
)

// Rule is one loaded detection rule.
type Rule struct {
	ID          string
	Name        string
	Description string
	Language    string // sigma, eql, spl, kql
	// Type is the rule's type where its ecosystem has several (Elastic:
	// eql, query, threshold, new_terms, esql, machine_learning…).
	Type    string
	Version string
	Status  string
	// Severity is one of informational, low, medium, high, critical.
	Severity       string
	RiskScore      int
	Author         []string
	Date, Modified string
	References     []string
	Tags           []string
	Threat         []Threat
	FalsePositives []string
	// Guide is the investigation guide (Markdown), Response the response
	// steps, Setup what the rule needs to run.
	Guide, Response, Setup string
	Schedule               Schedule
	// LogSource says which events the rule reads, as its language names them.
	LogSource string
	// Index lists the index patterns an Elastic rule reads
	// ("logs-endpoint.events.process*"); see Query.Index.
	Index []string
	// TimestampOverride is the field Kibana orders and windows events by
	// instead of @timestamp (Elastic's timestamp_override, usually
	// event.ingested).
	TimestampOverride string
	License           string
	// Path is the file the rule came from ("builtin:<name>" for the pack).
	Path    string
	Builtin bool
	Query   *query.Query
	// CorrelationOnly marks a rule referenced by a Sigma correlation with
	// generate: false (the default): it feeds the correlation and raises
	// no alerts of its own.
	CorrelationOnly bool
	// Chain places a Sigma correlation in a chain of correlations (one
	// that references another, or is referenced by one); nil otherwise.
	Chain *Chain
	// Filters names the Sigma filter rules ANDed onto the rule's query.
	Filters []string
	// Text is the rule as written.
	Text string
	// Threshold, NewTerms: an Elastic threshold or new_terms rule's own
	// parameters (the query then selects the events they count).
	Threshold *Threshold
	NewTerms  *NewTerms
	// Suppression groups the rule's alerts (Elastic's alert_suppression).
	Suppression *Suppression
	// ExceptionLists are the ids of the Elastic exception lists the rule
	// applies (its exceptions_list); see package exception.
	ExceptionLists []string
}

// Chain is where a Sigma correlation sits in a chain of correlations. A
// correlation at Level n > 0 reads events and the results of the
// correlations it references (lower levels) as synthetic events; package
// hunt runs each level in an engine of its own and feeds it the results
// of the correlations with a Key.
type Chain struct {
	// Level is 0 for a correlation over detection rules only, and 1 + the
	// highest Level of the correlations it references otherwise.
	Level int
	// Key, set when a compiled correlation references this one: its
	// results become synthetic events carrying it (sigma.ChainKeyField).
	Key string
	// Reads are the Keys of the correlations a chained one references.
	Reads []string
	// ID, Name and Title are the Sigma rule's, for the synthetic events.
	ID, Name, Title string
}

// Threshold is an Elastic threshold rule: an alert when the events of one
// group (Fields' values; no fields: all events) within the look-back reach
// Value, and each Cardinality field has at least its Value distinct values.
type Threshold struct {
	Fields      []string
	Value       int
	Cardinality []Cardinality
}

// Cardinality is a distinct-count bound of a threshold rule.
type Cardinality struct {
	Field string
	Value int
}

// NewTerms is an Elastic new_terms rule: an alert when the combination of
// Fields' values of a matching event was not seen within History before it.
type NewTerms struct {
	Fields  []string
	History time.Duration
}

// Suppression groups alerts by up to three fields for Duration: after the
// first alert of a group, the group's others are counted, not raised.
// With SuppressMissing false an alert missing a group field is never
// suppressed (Elastic's doNotSuppress).
type Suppression struct {
	GroupBy         []string
	Duration        time.Duration
	SuppressMissing bool
}

// Schedule is the rule's own run schedule where its ecosystem has one.
type Schedule struct {
	Interval   time.Duration
	LookBack   time.Duration
	MaxSignals int
}

// Threat is one ATT&CK mapping: a tactic and its techniques.
type Threat struct {
	Framework  string      `json:"framework"`
	Tactic     Tactic      `json:"tactic"`
	Techniques []Technique `json:"technique,omitempty"`
}

// Tactic is an ATT&CK tactic. Legacy names the tactic an older ATT&CK
// release filed the same behaviour under (v19 split Defense Evasion).
type Tactic struct {
	ID        string  `json:"id,omitempty"`
	Name      string  `json:"name"`
	Reference string  `json:"reference,omitempty"`
	Legacy    *Tactic `json:"legacy,omitempty"`
}

// Technique is an ATT&CK technique or sub-technique, with the id it had
// before ATT&CK v19 where it changed (T1686 was T1562.004).
type Technique struct {
	ID        string `json:"id"`
	Name      string `json:"name,omitempty"`
	Reference string `json:"reference,omitempty"`
	LegacyID  string `json:"legacy_id,omitempty"`
}

// Refusal is a rule that could not be loaded, and why.
type Refusal struct {
	Path string
	Err  error
	// Rule is the rule's metadata when the file was read but the rule
	// cannot run (an Elastic rule of a type firewarden does not run, a
	// query that does not compile); nil when the file itself is bad.
	Rule *Rule
}

func (r Refusal) Error() string { return r.Err.Error() }

// Unwrap gives the underlying error.
func (r Refusal) Unwrap() error { return r.Err }
