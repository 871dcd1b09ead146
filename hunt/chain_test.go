package hunt

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firewarden/firewarden/lang/sigma"
	"github.com/firewarden/firewarden/rule"
)

// chainRules is the Sigma correlation specification's chaining example
// ("Failed Logins Followed by Successful Login") over Linux sshd
// authentication events in ECS: an event_count of failed logins per user
// (10 in 10m), chained into a temporal_ordered with a successful login of
// the same user within 10m. %s is the outer correlation's group-by and
// whatever follows it.
const chainRules = `title: Correlation - Multiple Failed Logins Followed by Successful Login
id: b180ead8-d58f-40b2-ae54-c8940995b9b6
level: high
correlation:
  type: temporal_ordered
  rules:
    - multiple_failed_login
    - successful_login
  %s
  timespan: 10m
---
title: Multiple failed logons
id: a8418a5a-5fc4-46b5-b23b-6c73beb19d41
name: multiple_failed_login
correlation:
  type: event_count
  rules:
    - failed_login
  group-by:
    - user.name
    - host.name
  timespan: 10m
  condition:
    gte: 10
---
title: Single failed login
id: 53ba33fd-3a50-4468-a5ef-c583635cfa92
name: failed_login
logsource: {product: linux}
detection:
  selection:
    event.category: authentication
    event.outcome: failure
    process.name: sshd
  condition: selection
---
title: Successful login
id: 4d0a2c83-c62c-4ed4-b475-c7e23a9269b8
name: successful_login
logsource: {product: linux}
detection:
  selection:
    event.category: authentication
    event.outcome: success
    process.name: sshd
  condition: selection
`

// logins writes sshd authentication events, "seconds|user|outcome" from
// 10:00, one a line.
func logins(t *testing.T, rows ...string) string {
	t.Helper()
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	var b strings.Builder
	for i, r := range rows {
		f := strings.Split(r, "|")
		var sec int
		fmt.Sscan(f[0], &sec)
		fmt.Fprintf(&b, `{"@timestamp":%q,"event":{"id":"a%d","category":["authentication"],"type":["start"],"outcome":%q,"module":"system","dataset":"system.auth"},"host":{"name":"web1","os":{"type":"linux"}},"user":{"name":%q},"process":{"name":"sshd","pid":%d},"source":{"ip":"203.0.113.7"}}`+"\n",
			t0.Add(time.Duration(sec)*time.Second).Format(time.RFC3339), i, f[2], f[1], 4000+i)
	}
	p := filepath.Join(t.TempDir(), "auth.ndjson")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// failures are n failed logins of user, a minute apart from minute 0.
func failures(user string, n int) []string {
	var rows []string
	for i := range n {
		rows = append(rows, fmt.Sprintf("%d|%s|failure", 60*i, user))
	}
	return rows
}

func loadChain(t *testing.T, outer string) []*rule.Rule {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "mr_failed_then_success.yml"), []byte(fmt.Sprintf(chainRules, outer)), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := rule.LoadPaths([]string{dir})
	if err != nil || len(set.Refused) > 0 {
		t.Fatalf("load: %v %v", err, set.Refused)
	}
	return set.Rules
}

// TestChainedCorrelation runs the chain end to end through hunt. The 10th
// failure (minute 9, line 10) fires the inner correlation; its result is a
// synthetic event at minute 9 that the outer one reads, so a successful
// login up to 10m later (inclusive) completes the chain.
func TestChainedCorrelation(t *testing.T) {
	const outer = "b180ead8-d58f-40b2-ae54-c8940995b9b6"
	byUser := "group-by: [user.name]"
	tests := []struct {
		name, outer string
		rows        []string
		want        string // alerts, "rule@line" of the first evidence event
	}{
		{"fires", byUser, append(failures("alice", 10), "720|alice|success"), outer + "@10"},
		{"exactly the timespan after the 10th failure", byUser, append(failures("alice", 10), "1140|alice|success"), outer + "@10"},
		{"a second beyond the timespan", byUser, append(failures("alice", 10), "1141|alice|success"), ""},
		{"nine failures are not many", byUser, append(failures("alice", 9), "600|alice|success"), ""},
		{"success before the 10th failure", byUser, append(append(failures("alice", 9), "530|alice|success"), "540|alice|failure"), ""},
		{"another user's success", byUser, append(failures("alice", 10), "720|bob|success"), ""},
		{"by an alias", "group-by: [account]\n  aliases:\n    account:\n      multiple_failed_login: user.name\n      successful_login: user.name",
			append(failures("alice", 10), "720|alice|success"), outer + "@10"},
		{"without group-by: any user", "", append(failures("alice", 10), "720|bob|success"), outer + "@10"},
		{"generate: true keeps the inner correlation's and the success's alerts", byUser + "\n  generate: true",
			append(failures("alice", 10), "720|alice|success"),
			"a8418a5a-5fc4-46b5-b23b-6c73beb19d41@1 4d0a2c83-c62c-4ed4-b475-c7e23a9269b8@11 " + outer + "@10"},
		// The inner fires at minutes 9 and 19; the first success (minute
		// 20) completes the chain with the second (the first is out of the
		// window) and the group starts afresh: the second success alone
		// does not.
		{"twenty failures, two successes: one alert", byUser,
			append(failures("alice", 20), "1200|alice|success", "1260|alice|success"), outer + "@20"},
		{"a later success after too few new failures", byUser,
			append(append(append(failures("alice", 10), "600|alice|success"), "3600|alice|failure", "3660|alice|failure"), "3720|alice|success"), outer + "@10"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := runWith(t, loadChain(t, tc.outer), CompileOptions{}, logins(t, tc.rows...))
			if strings.Join(got, " ") != tc.want {
				t.Errorf("alerts %v, want %q", got, tc.want)
			}
		})
	}
}

// TestChainedCorrelationEvidence: the outer alert's evidence is the
// inner correlation's result (a synthetic event naming it, with its group
// values and count) and the successful login.
func TestChainedCorrelationEvidence(t *testing.T) {
	eng, refused := Compile(loadChain(t, "group-by: [user.name]"))
	if len(refused) > 0 {
		t.Fatal(refused)
	}
	c := &collect{}
	if _, err := Run(t.Context(), eng, Options{Formats: formats(), Sink: c}, []string{logins(t, append(failures("alice", 10), "720|alice|success")...)}); err != nil {
		t.Fatal(err)
	}
	if len(c.alerts) != 1 || len(c.alerts[0].Events) != 2 {
		t.Fatalf("alerts %v", c.alerts)
	}
	a := c.alerts[0]
	syn, ok := a.Events[0], a.Events[1]
	if syn.Format != sigma.ChainFormat || syn.Time != time.Date(2026, 12, 1, 10, 9, 0, 0, time.UTC) {
		t.Errorf("synthetic event: format %q time %v", syn.Format, syn.Time)
	}
	for path, want := range map[string]string{
		sigma.ChainIDField: "a8418a5a-5fc4-46b5-b23b-6c73beb19d41", sigma.ChainNameField: "multiple_failed_login",
		sigma.ChainTitleField: "Multiple failed logons", "user.name": "alice", "host.name": "web1", "sigma.correlation.event_count": "10",
	} {
		if v := syn.Get(path); fmt.Sprint(v.Interface()) != want {
			t.Errorf("synthetic %s = %v, want %s", path, v.Interface(), want)
		}
	}
	if !strings.HasSuffix(syn.Get(sigma.ChainKeyField).Interface().(string), "mr_failed_then_success.yml:12:1") {
		t.Errorf("chain key %v", syn.Get(sigma.ChainKeyField).Interface())
	}
	if ok.Get("event.outcome").Interface() != "success" || ok.Line != 11 {
		t.Errorf("second evidence event %v", ok)
	}
}

// TestChainedCorrelationSpoof: a source's event that carries the
// synthetic events' key field does not pass for an inner result.
func TestChainedCorrelationSpoof(t *testing.T) {
	rs := loadChain(t, "group-by: [user.name]")
	var key string
	for _, r := range rs {
		if r.Chain != nil && r.Chain.Key != "" {
			key = r.Chain.Key
		}
	}
	p := filepath.Join(t.TempDir(), "spoof.ndjson")
	text := fmt.Sprintf(`{"@timestamp":"2026-12-01T10:00:00Z","sigma":{"correlation":{"key":%q}},"user":{"name":"alice"}}`+"\n", key)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	path := logins(t, "60|alice|success")
	data, _ := os.ReadFile(path)
	if err := os.WriteFile(p, append([]byte(text), data...), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _ := runWith(t, rs, CompileOptions{}, p); len(got) != 0 {
		t.Errorf("alerts %v, want none", got)
	}
}
