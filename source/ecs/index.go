package ecs

import (
	"strings"

	"github.com/firewarden/firewarden/event"
)

// DefaultIndex is the index of an ECS document that says nothing about
// where it came from: no hit _index, no data_stream, no known agent or
// integration. It matches none of Elastic's index patterns, so in
// strict-index mode only rules that name it see such documents.
const DefaultIndex = "firewarden-ecs"

// indexer names the index an ECS document would live in (event.Event.Index;
// the mapping is documented in docs/elastic.md). Documents of one stream are
// alike, so the last name built is kept and reused when its inputs repeat:
// no allocation per event.
type indexer struct {
	typ, dataset, ns string
	last             string
}

// index picks, in order: the hit's own _index (a data stream's backing
// index named by its data stream), the document's data_stream.*, the
// agent that shipped it (Elastic Defend, a Beat), the integration named
// by event.module/event.dataset, else DefaultIndex.
func (x *indexer) index(ev *event.Event, hit string) string {
	if hit != "" {
		return DataStreamOf(hit)
	}
	if ds := str1(ev, "data_stream.dataset"); ds != "" {
		return x.name(or(str1(ev, "data_stream.type"), "logs"), ds, or(str1(ev, "data_stream.namespace"), "default"))
	}
	dataset := str1(ev, "event.dataset")
	switch agent := str1(ev, "agent.type"); agent {
	case "endpoint":
		// Elastic Defend routes each event category to its own data
		// stream: logs-endpoint.events.process-default and so on.
		if strings.HasPrefix(dataset, "endpoint.") {
			return x.name("logs", dataset, "default")
		}
		if cat := str1(ev, "event.category"); defendCategories[cat] {
			return x.name("logs", "endpoint.events."+cat, "default")
		}
	case "auditbeat", "filebeat", "winlogbeat", "packetbeat", "metricbeat", "heartbeat", "functionbeat":
		// Beats write to <beat>-<version> (an alias or data stream).
		if v := str1(ev, "agent.version"); v != "" {
			return x.name(agent, v, "")
		}
		return agent
	}
	module := str1(ev, "event.module")
	if module == "sentinel_one_cloud_funnel" || strings.HasPrefix(dataset, "sentinel_one_cloud_funnel.") || ev.Has("sentinel_one_cloud_funnel.event.id") {
		return "logs-sentinel_one_cloud_funnel.event-default"
	}
	// An integration's documents carry event.dataset = <package>.<stream>,
	// the dataset of the data stream Fleet writes them to.
	if module != "" && strings.HasPrefix(dataset, module+".") {
		return x.name("logs", dataset, "default")
	}
	return DefaultIndex
}

// name joins type-dataset-namespace (or beat-version), reusing the last
// name when the parts repeat.
func (x *indexer) name(typ, dataset, ns string) string {
	if x.last != "" && typ == x.typ && dataset == x.dataset && ns == x.ns {
		return x.last
	}
	x.typ, x.dataset, x.ns = typ, dataset, ns
	if ns == "" {
		x.last = typ + "-" + dataset
	} else {
		x.last = typ + "-" + dataset + "-" + ns
	}
	return x.last
}

// defendCategories are the event categories Elastic Defend gives their own
// data stream (logs-endpoint.events.<category>-*).
var defendCategories = map[string]bool{
	"process": true, "file": true, "network": true, "library": true, "registry": true,
	"security": true, "api": true, "session": true,
}

// DataStreamOf turns a backing index (.ds-<data stream>-<yyyy.MM.dd>-<generation>)
// into its data stream's name, which is what index patterns in rules
// select; any other index name is returned as it is.
func DataStreamOf(index string) string {
	rest, ok := strings.CutPrefix(index, ".ds-")
	if !ok {
		return index
	}
	// …-2022.02.15-000001
	i := strings.LastIndexByte(rest, '-')
	if i < 0 || !allDigits(rest[i+1:]) {
		return index
	}
	j := strings.LastIndexByte(rest[:i], '-')
	if j <= 0 || !isDate(rest[j+1:i]) {
		return index
	}
	return rest[:j]
}

func isDate(s string) bool {
	return len(s) == 10 && s[4] == '.' && s[7] == '.' && allDigits(s[:4]) && allDigits(s[5:7]) && allDigits(s[8:])
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// str1 is a field's string value, or its first element for a list.
func str1(ev *event.Event, path string) string {
	v := ev.Get(path)
	switch v.Kind {
	case event.String:
		return v.Str
	case event.List:
		if len(v.List) > 0 && v.List[0].Kind == event.String {
			return v.List[0].Str
		}
	}
	return ""
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
