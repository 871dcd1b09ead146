package ecs

import (
	"path/filepath"
	"testing"

	"github.com/firewarden/firewarden/internal/testenv"
)

// TestIndex: each document gets the index its shipper would have written
// it to (docs/elastic.md has the table).
func TestIndex(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"hit: backing index named by its data stream",
			`{"_index":".ds-logs-endpoint.events.process-default-2022.02.15-000001","_id":"1","_source":{"process":{"pid":1}}}`,
			"logs-endpoint.events.process-default"},
		{"hit: plain index", `{"_index":"auditbeat-7.17.0","_id":"1","_source":{"a":1}}`, "auditbeat-7.17.0"},
		{"hit: .ds- without a date is a plain name", `{"_index":".ds-odd","_id":"1","_source":{"a":1}}`, ".ds-odd"},
		{"hit: _index wins over data_stream", `{"_index":"x-1","_source":{"data_stream":{"dataset":"y"}}}`, "x-1"},
		{"bulk action", `{"create":{"_index":"logs-sentinel_one_cloud_funnel.event-prod"}}` + "\n" + `{"a":1}`, "logs-sentinel_one_cloud_funnel.event-prod"},
		{"data_stream", `{"data_stream":{"type":"logs","dataset":"endpoint.events.process","namespace":"default"},"agent":{"type":"endpoint"}}`,
			"logs-endpoint.events.process-default"},
		{"data_stream: type and namespace default", `{"data_stream":{"dataset":"auditd_manager.auditd"}}`, "logs-auditd_manager.auditd-default"},
		{"data_stream: other namespace", `{"data_stream":{"type":"logs","dataset":"system.auth","namespace":"prod"}}`, "logs-system.auth-prod"},
		{"Defend: event.dataset", `{"agent":{"type":"endpoint"},"event":{"dataset":"endpoint.events.file"}}`, "logs-endpoint.events.file-default"},
		{"Defend: event.category", `{"agent":{"type":"endpoint"},"event":{"category":["process"],"type":["start"]}}`, "logs-endpoint.events.process-default"},
		{"Defend: unknown category", `{"agent":{"type":"endpoint"},"event":{"category":["web"]}}`, DefaultIndex},
		{"Auditbeat", `{"agent":{"type":"auditbeat","version":"8.11.0"},"event":{"module":"auditd","dataset":"auditd"}}`, "auditbeat-8.11.0"},
		{"Auditbeat without a version", `{"agent":{"type":"auditbeat"}}`, "auditbeat"},
		{"Filebeat", `{"agent":{"type":"filebeat","version":"7.17.3"},"event":{"module":"system","dataset":"system.auth"}}`, "filebeat-7.17.3"},
		{"Winlogbeat", `{"agent":{"type":"winlogbeat","version":"8.1.0"}}`, "winlogbeat-8.1.0"},
		{"SentinelOne Cloud Funnel by module", `{"event":{"module":"sentinel_one_cloud_funnel","category":["process"]}}`, "logs-sentinel_one_cloud_funnel.event-default"},
		{"SentinelOne Cloud Funnel by its fields", `{"sentinel_one_cloud_funnel":{"event":{"id":"01GG"}},"process":{"pid":5}}`, "logs-sentinel_one_cloud_funnel.event-default"},
		{"integration by event.dataset", `{"event":{"module":"crowdstrike","dataset":"crowdstrike.fdr"}}`, "logs-crowdstrike.fdr-default"},
		{"dataset not of its module", `{"event":{"module":"x","dataset":"y.z"}}`, DefaultIndex},
		{"nothing known", `{"process":{"name":"iptables"}}`, DefaultIndex},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			evs, st := readString(t, tc.doc)
			if len(evs) != 1 {
				t.Fatalf("%d events, %d bad: %v", len(evs), st.BadCount, st.Examples)
			}
			if evs[0].Index != tc.want {
				t.Errorf("index %q, want %q", evs[0].Index, tc.want)
			}
		})
	}
}

// TestIndexReuse: a stream of alike documents shares one index string.
func TestIndexReuse(t *testing.T) {
	doc := `{"data_stream":{"type":"logs","dataset":"endpoint.events.process","namespace":"default"}}` + "\n"
	evs, _ := readString(t, doc+doc+`{"data_stream":{"dataset":"other"}}`+"\n"+doc)
	if len(evs) != 4 || evs[0].Index != evs[1].Index || evs[2].Index != "logs-other-default" || evs[3].Index != "logs-endpoint.events.process-default" {
		t.Fatalf("indexes: %q %q %q %q", evs[0].Index, evs[1].Index, evs[2].Index, evs[3].Index)
	}
	if avg := testing.AllocsPerRun(100, func() {
		var x indexer
		evs[0].Index = x.index(evs[0], "")
		for range 10 {
			x.index(evs[1], "")
		}
	}); avg > 1 {
		t.Errorf("%.1f allocations for 11 alike documents, want at most 1", avg)
	}
}

// TestIndexDefendSample: the Elastic Defend sample from the workspace (an
// Elasticsearch hit) lands in Defend's process data stream, which the seed
// rule's logs-endpoint.events.* pattern selects.
func TestIndexDefendSample(t *testing.T) {
	p := testenv.Shared(t, "samples", "elastic_defend_linux_exec_rfc0030.json")
	evs, _ := readFile(t, p)
	if len(evs) == 0 {
		t.Fatal("no events")
	}
	for _, ev := range evs {
		if ev.Index != "logs-endpoint.events.process-default" {
			t.Errorf("%s:%d: index %q", filepath.Base(p), ev.Line, ev.Index)
		}
	}
}

func TestDataStreamOf(t *testing.T) {
	for in, want := range map[string]string{
		".ds-logs-endpoint.events.process-default-2022.02.15-000001": "logs-endpoint.events.process-default",
		".ds-auditbeat-8.11.0-2024.01.31-000012":                     "auditbeat-8.11.0",
		".ds-x-2024.1.31-000012":                                     ".ds-x-2024.1.31-000012",
		".ds-x-2024.01.31-":                                          ".ds-x-2024.01.31-",
		".ds--2024.01.31-000001":                                     ".ds--2024.01.31-000001",
		"endgame-1.4.0":                                              "endgame-1.4.0",
		"":                                                           "",
	} {
		if got := DataStreamOf(in); got != want {
			t.Errorf("DataStreamOf(%q) = %q, want %q", in, got, want)
		}
	}
}
