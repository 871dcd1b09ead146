// Package alert holds the alert record — what a rule match tells the user —
// and its renderers.
package alert

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
	"time"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/rule"
)

// Alert is one detection.
type Alert struct {
	Timestamp time.Time `json:"@timestamp"`
	// ID is stable: a hash of the rule and the events it covers, so reading
	// the same log twice gives the same ids.
	ID      string        `json:"id"`
	Rule    RuleInfo      `json:"rule"`
	Threat  []rule.Threat `json:"threat,omitempty"`
	Host    Named         `json:"host"`
	User    Named         `json:"user"`
	Process *Process      `json:"process,omitempty"`
	// Matched names the parts of the query that were true (Sigma
	// selections, say).
	Matched []string `json:"matched,omitempty"`
	// Aggregate holds an aggregating rule's group values and aggregates
	// (a correlation's distinct ports, a threshold's count), in order.
	Aggregate []Value        `json:"aggregate,omitempty"`
	Events    []*event.Event `json:"events"`
}

// Value is one named value of an aggregate.
type Value struct {
	Name  string `json:"name"`
	Value any    `json:"value"`
}

// Named is an object with just a name.
type Named struct {
	Name string `json:"name,omitempty"`
}

// RuleInfo is the rule's metadata as it reaches the user. Type, Index,
// TimestampOverride (the time field Kibana orders events by), Interval,
// LookBack and MaxSignals come from Elastic rule files.
type RuleInfo struct {
	ID                string   `json:"id"`
	Name              string   `json:"name"`
	Language          string   `json:"language"`
	Type              string   `json:"type,omitempty"`
	Version           string   `json:"version,omitempty"`
	Status            string   `json:"status,omitempty"`
	Severity          string   `json:"severity"`
	RiskScore         int      `json:"risk_score"`
	Description       string   `json:"description,omitempty"`
	Author            []string `json:"author,omitempty"`
	References        []string `json:"references,omitempty"`
	Tags              []string `json:"tags,omitempty"`
	LogSource         string   `json:"logsource,omitempty"`
	Index             []string `json:"index,omitempty"`
	TimestampOverride string   `json:"timestamp_override,omitempty"`
	License           string   `json:"license,omitempty"`
	FalsePositives    []string `json:"false_positives,omitempty"`
	Guide             string   `json:"investigation_guide,omitempty"`
	Response          string   `json:"response,omitempty"`
	Setup             string   `json:"setup,omitempty"`
	Interval          string   `json:"interval,omitempty"`
	LookBack          string   `json:"from,omitempty"`
	MaxSignals        int      `json:"max_signals,omitempty"`
	Path              string   `json:"path"`
	Builtin           bool     `json:"builtin,omitempty"`
}

// Process is the culprit: the process of the first matched event, its
// parent, and its ancestors as far as the events read knew them.
type Process struct {
	PID         int64    `json:"pid,omitempty"`
	Executable  string   `json:"executable,omitempty"`
	Name        string   `json:"name,omitempty"`
	CommandLine string   `json:"command_line,omitempty"`
	User        *Named   `json:"user,omitempty"`
	Parent      *Process `json:"parent,omitempty"`
	// Ancestors is the process tree above the culprit, nearest first (the
	// parent, its parent, …), from the execs the hunt or watch read before
	// the alert (hunt.Engine's bounded process table). Set on the culprit
	// only.
	Ancestors []*Process `json:"ancestors,omitempty"`
}

// New builds the alert of rule r over events (in order); matched names the
// parts of the query that were true.
func New(r *rule.Rule, events []*event.Event, matched []string) *Alert {
	a := &Alert{
		Rule:    Info(r),
		Threat:  r.Threat,
		Matched: matched,
		Events:  events,
	}
	if len(events) > 0 {
		first := events[0]
		a.Timestamp = first.Time
		a.Host.Name = first.Get("host.name").String()
		a.User.Name = first.Get("user.name").String()
		a.Process = processOf(first, "process.")
		if a.Process != nil {
			a.Process.Parent = processOf(first, "process.parent.")
		}
	}
	a.ID = idOf(r, events)
	return a
}

// Info copies a rule's metadata.
func Info(r *rule.Rule) RuleInfo {
	ri := RuleInfo{
		ID: r.ID, Name: r.Name, Language: r.Language, Version: r.Version, Status: r.Status,
		Severity: r.Severity, RiskScore: r.RiskScore, Description: r.Description,
		Author: r.Author, References: r.References, Tags: r.Tags, LogSource: r.LogSource,
		Type: r.Type, Index: r.Index, TimestampOverride: r.TimestampOverride, License: r.License,
		FalsePositives: r.FalsePositives, Guide: r.Guide, Response: r.Response, Setup: r.Setup,
		MaxSignals: r.Schedule.MaxSignals, Path: r.Path, Builtin: r.Builtin,
	}
	if r.Schedule.Interval > 0 {
		ri.Interval = r.Schedule.Interval.String()
	}
	if r.Schedule.LookBack > 0 {
		ri.LookBack = r.Schedule.LookBack.String()
	}
	return ri
}

func processOf(ev *event.Event, prefix string) *Process {
	p := &Process{
		Executable:  ev.Get(prefix + "executable").String(),
		Name:        ev.Get(prefix + "name").String(),
		CommandLine: ev.Get(prefix + "command_line").String(),
	}
	if pid := ev.Get(prefix + "pid"); pid.Kind == event.Int {
		p.PID = pid.Int
	}
	if p.PID == 0 && p.Executable == "" && p.CommandLine == "" && p.Name == "" {
		return nil
	}
	return p
}

// idOf hashes the rule id and, for each event, its time and its content
// (every field, in path order), so the same events always give the same
// alert id — also when a rotated log is read again under another name —
// while distinct records that share an audit serial (three NETFILTER_CFG
// records of one nft command) stay distinct.
func idOf(r *rule.Rule, events []*event.Event) string {
	h := sha256.New()
	h.Write([]byte(r.ID))
	h.Write([]byte{0})
	h.Write([]byte(r.Path))
	var paths []string
	for _, ev := range events {
		h.Write([]byte{0})
		h.Write([]byte(ev.Time.UTC().Format(time.RFC3339Nano)))
		paths = paths[:0]
		ev.Range(func(p string, _ event.Value) bool {
			// Where the event was read is not what it is: a rotated or
			// copied log gives the same ids.
			if !strings.HasPrefix(p, "log.file.") {
				paths = append(paths, p)
			}
			return true
		})
		sort.Strings(paths)
		for _, p := range paths {
			h.Write([]byte{1})
			h.Write([]byte(p))
			h.Write([]byte{2})
			h.Write([]byte(ev.Get(p).String()))
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}
