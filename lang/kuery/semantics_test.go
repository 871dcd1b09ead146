package kuery

import (
	"strconv"
	"strings"
	"testing"

	"github.com/firewarden/firewarden/engine"
	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/query"
)

func itoa(n int) string { return strconv.Itoa(n) }

func newEngine(q *query.Query) (*engine.Engine, error) {
	e := engine.New()
	if _, err := e.Add(q); err != nil {
		return nil, err
	}
	return e, nil
}

// matches runs one compiled query over one event.
func matches(t *testing.T, src, lang string, ev *event.Event) bool {
	t.Helper()
	q, err := Compile(src, lang, Options{})
	if err != nil {
		t.Fatal(err)
	}
	e, err := newEngine(q)
	if err != nil {
		t.Fatal(err)
	}
	got := false
	e.Match(ev, func(*engine.Result) { got = true })
	e.Flush(func(*engine.Result) { got = true })
	return got
}

// testEvent is ECS-shaped: event.type and process.args are arrays, as
// Elastic Defend and Auditbeat write them; process.title is missing;
// user.name is an explicit null.
func testEvent() *event.Event {
	ev := event.New(16)
	ev.Set("event.category", event.ListV(event.Str("process")))
	ev.Set("event.type", event.ListV(event.Str("start"), event.Str("info")))
	ev.SetStr("process.name", "iptables")
	ev.Set("process.args", event.ListV(event.Str("iptables"), event.Str("-F"), event.Str("INPUT")))
	ev.Set("process.args_count", event.IntV(3))
	ev.Set("process.pid", event.IntV(7))
	ev.Set("process.interactive", event.BoolV(true))
	ev.Set("user.name", event.NullV())
	ev.SetStr("process.command_line", "iptables -F INPUT")
	ev.SetStr("process.executable", "/usr/sbin/IPTables")
	ev.SetStr("file.path", `C:\Program Files\a*b?.exe`)
	ev.SetStr("message", "Connection refused by peer")
	ev.SetStr("destination.ip", "10.1.2.3")
	ev.SetStr("source.ip", "fe80::1")
	ev.SetStr("host.name", "web 01")
	ev.Set("values", event.ListV(event.IntV(1), event.IntV(100)))
	return ev
}

// TestSemantics covers Elasticsearch's semantics over keyword fields:
// multi-valued fields (any value), missing and null fields under not
// (must_not: true), wildcards, ranges, exists and case.
func TestSemantics(t *testing.T) {
	ev := testEvent()
	tests := []struct {
		lang, query string
		want        bool
	}{
		// Multi-valued fields: a test holds if any value passes it.
		{KQL, `event.type:start`, true},
		{KQL, `event.type:info and event.category:process`, true},
		{KQL, `event.type:end`, false},
		{KQL, `process.args:-F`, true},
		{KQL, `process.args:(-X or INPUT)`, true},
		{KQL, `process.args:(iptables and INPUT)`, true}, // and over values: both present
		{KQL, `process.args:(iptables and -X)`, false},
		{KQL, `not process.args:-F`, false}, // must_not: one equal value excludes
		{KQL, `not process.args:-X`, true},
		{KQL, `process.args:(* and not (-X or --flush))`, true},
		{KQL, `process.args:(* and not -F)`, false},
		{Lucene, `process.args:\-F`, true},
		{Lucene, `process.args:"-F" AND NOT process.args:INPUT`, false},
		// Missing and null fields: false, and true under not.
		{KQL, `process.title:x`, false},
		{KQL, `not process.title:x`, true},
		{KQL, `not process.title:x*`, true},
		{KQL, `not user.name:root`, true},
		{KQL, `not process.title >= 5`, true},
		{KQL, `process.title < 5`, false},
		{Lucene, `-process.title:x`, true},
		{Lucene, `NOT user.name:root`, true},
		{Lucene, `process.name:iptables -process.title:*`, true},
		// Exists.
		{KQL, `process.name:*`, true},
		{KQL, `process.title:*`, false},
		{KQL, `user.name:*`, false}, // null is no value
		{KQL, `not process.title:*`, true},
		{Lucene, `_exists_:process.name`, true},
		{Lucene, `_exists_:process.title`, false},
		{Lucene, `process.pid:*`, true},
		{Lucene, `process.title:[* TO *]`, false},
		// Wildcards: * in unquoted KQL values; * and ? in Lucene terms.
		{KQL, `process.name:ipt*`, true},
		{KQL, `process.name:*tables`, true},
		{KQL, `process.name:ipt*x`, false},
		{KQL, `process.name:"ipt*"`, false},   // quoted: no wildcard
		{KQL, `process.name:iptable?`, false}, // ? is not a KQL wildcard
		{KQL, `process.name:ipt\*`, false},    // escaped: a literal *
		{KQL, `file.path:*\\a\*b?.exe`, true}, // \\ a backslash, \* a star, ? itself
		{KQL, `file.path:"C:\\Program Files\\a*b?.exe"`, true},
		{Lucene, `process.name:iptable?`, true},
		{Lucene, `process.name:ipt*`, true},
		{Lucene, `process.name:ipt\*`, false},
		{Lucene, `file.path:*a\*b\?.exe`, true},
		{Lucene, `process.name:/ipt[a-z]+/`, true},
		{Lucene, `process.name:/tables/`, false}, // anchored
		{Lucene, `process.name:/.*tab.*/`, true},
		// Case: keyword fields are case-sensitive, message included (see
		// docs/kuery.md).
		{KQL, `process.executable:/usr/sbin/iptables`, false},
		{KQL, `process.executable:/usr/sbin/IPTables`, true},
		{KQL, `process.executable:*iptables`, false},
		{Lucene, `process.executable:*IPTables`, true},
		{KQL, `message:"connection refused by peer"`, false},
		{KQL, `message:"Connection refused by peer"`, true},
		{KQL, `message:"Connection refused"`, false}, // a phrase is an exact value
		// Ranges: numbers compare numerically.
		{KQL, `process.args_count >= 3`, true},
		{KQL, `process.args_count > 3`, false},
		{KQL, `process.pid < 10`, true},
		{KQL, `process.pid <= "7"`, true},
		{Lucene, `process.args_count:[3 TO 5]`, true},
		{Lucene, `process.args_count:{3 TO 5]`, false},
		{Lucene, `process.args_count:[1 TO 3}`, false},
		{Lucene, `process.args_count:[* TO 3]`, true},
		{Lucene, `process.pid:>=7`, true},
		{Lucene, `process.pid:>7`, false},
		{Lucene, `process.pid:<8`, true},
		{Lucene, `values:[50 TO 200]`, true},
		// Numbers and booleans match as their text.
		{KQL, `process.pid:7`, true},
		{KQL, `process.pid:"7"`, true},
		{KQL, `process.interactive:true`, true},
		{KQL, `process.interactive:false`, false},
		{Lucene, `process.interactive:true`, true},
		// IP fields: a CIDR block or an address matches the addresses in it.
		{KQL, `destination.ip:10.0.0.0/8`, true},
		{KQL, `destination.ip:(127.0.0.0/8 or 192.168.0.0/16)`, false},
		{KQL, `not destination.ip:10.0.0.0/8`, false},
		{KQL, `source.ip:"FE80::/10"`, true},
		{KQL, `source.ip:"fe80:0::1"`, true},
		{Lucene, `destination.ip:"10.0.0.0/8"`, true},
		// KQL quirks: outside parentheses, or starts a new clause; an
		// unquoted value runs over spaces.
		{KQL, `process.name:bash or iptables`, true}, // iptables: a value on every field
		{KQL, `host.name:web 01`, true},
		{KQL, `host.name:(web 01 or db)`, true},
		{KQL, `host.name:web`, false},
		{KQL, `host.name:web* 02`, true}, // query_string splits it: web* or 02
		{KQL, `host.name:db* 02`, false},
		{KQL, `process.args:(* curl*)`, true},
		{KQL, `process.title:(* curl*)`, false},
		{KQL, `HOST.NAME:"web 01"`, false}, // field names are case-sensitive
		{KQL, `process.name:IPTABLES OR process.pid:7`, true},
		{KQL, `NOT process.pid:7`, false},
		// Values without a field search every field.
		{KQL, `iptables`, true},
		{KQL, `"refused by"`, true},
		{KQL, `nothere`, false},
		{KQL, `ipt*`, true},
		{Lucene, `iptables`, true},
		{Lucene, `"-F INPUT"`, true},
		{Lucene, `nothere`, false},
		{KQL, ``, true},
		{Lucene, `*:*`, true},
		// Lucene's boolean logic: default OR, + required, - prohibited,
		// AND binds the clauses on either side.
		{Lucene, `process.name:bash process.pid:7`, true},
		{Lucene, `+process.name:bash process.pid:7`, false},
		{Lucene, `process.name:iptables AND process.pid:8 OR process.pid:7`, false}, // +a +b c
		{Lucene, `process.pid:7 OR process.name:bash AND process.pid:8`, false},     // a +b +c
		{Lucene, `process.pid:7 OR NOT process.name:iptables`, false},               // a -b
		{Lucene, `NOT process.name:bash`, true},
		{Lucene, `(NOT process.name:bash) AND process.pid:7`, true},
		{Lucene, `process.name:(bash OR iptables) && !process.pid:8`, true},
		{Lucene, `process.args:(-X || INPUT)`, true},
	}
	for _, tc := range tests {
		t.Run(tc.lang+" "+tc.query, func(t *testing.T) {
			if got := matches(t, tc.query, tc.lang, ev); got != tc.want {
				q, _ := Compile(tc.query, tc.lang, Options{})
				t.Errorf("matched %v, want %v (IR %+v)", got, tc.want, q.Stages)
			}
		})
	}
}

// TestRefusedByName: constructs firewarden does not run are refused with
// their name and position, never approximated.
func TestRefusedByName(t *testing.T) {
	tests := []struct{ lang, query, want string }{
		{KQL, `user:{ first: "Alice" and last: "White" }`, "1:1: unsupported: nested query user:{…}"},
		{KQL, `process.*:bash`, "1:1: unsupported: wildcard field name process.*"},
		{KQL, `a:b and c:null`, "1:11: unsupported: unquoted null value"},
		{KQL, `process.name:(Claude Helper Tool*)`, "1:15: unsupported: unquoted wildcard value with adjacent plain words"},
		{KQL, `process.name:(a* NOT)`, `1:15: unsupported: unquoted wildcard value with the word "NOT"`},
		{KQL, `@timestamp > now-1d`, `1:14: unsupported: date math "now-1d"`},
		{KQL, `a >= x*`, "unsupported: wildcard in a range"},
		{Lucene, `process.name:bash^2`, "1:18: unsupported: boost ^"},
		{Lucene, `(a:b OR c:d)^2`, "1:13: unsupported: boost ^"},
		{Lucene, `process.name:bsah~`, "1:18: unsupported: fuzzy query ~"},
		{Lucene, `process.name:bsah~2`, "unsupported: fuzzy query ~"},
		{Lucene, `message:"quick fox"~5`, "1:20: unsupported: proximity search ~"},
		{Lucene, `process.name:foo bar baz`, "1:18: unsupported: adjacent terms without an operator (bar baz)"},
		{Lucene, `a and b`, "unsupported: adjacent terms without an operator (a and)"},
		{Lucene, `a - b`, `1:3: unsupported: bare operator "-"`},
		{Lucene, `/ipt.*/`, "unsupported: regular expression without a field"},
		{Lucene, `a:/x~y/`, "unsupported: regular expression /x~y/"},
		{Lucene, `process.\*:x`, "1:1: unsupported: wildcard field name process.*"},
		{Lucene, `process.*:x`, `1:10: expected a term, a phrase, a range or "(", found ":"`},
		{Lucene, `@timestamp:[now-1d TO now]`, `unsupported: date math "now-1d"`},
		{Lucene, `[1 TO 5]`, "unsupported: range without a field"},
	}
	for _, tc := range tests {
		t.Run(tc.lang+" "+tc.query, func(t *testing.T) {
			_, err := Compile(tc.query, tc.lang, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
