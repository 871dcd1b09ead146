package spl

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/firewarden/firewarden/internal/testenv"
)

// FuzzCompile: no input makes the parser or compiler panic or hang. Seeds
// are inline (so it runs without ../shared) plus the corpus searches when
// ../shared is there.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		`| tstats count min(_time) as firstTime from datamodel=Endpoint.Processes where Processes.process="*iptables *" NOT Processes.parent_process_path IN("/bin/*", "/lib/*") by Processes.dest Processes.process _time span=10s | rex field=Processes.process "--dport (?<port>3269|636)" | stats dc(port) as port_count count by Processes.dest | where port_count >=3 | ` + "`drop_dm_object_name(Processes)`",
		"sourcetype=linux:audit type=SYSCALL comm IN (\"at\", \"atd\") OR exe IN (\"/usr/bin/at\") AND NOT (UID IN(\"daemon\")) | rename host as dest | stats count by comm dest",
		`sourcetype=linux:audit | eval x = if(match(a, "^[0-9A-F]+$"), urldecode(replace(a, "([0-9A-F]{2})", "%\1")), a) . "y" | where like(x, "%a_b%") AND len(x) > 3 OR isnull(y) | bucket _time span=15m | table x`,
		`sourcetype=linux:audit type=EXECVE | foreach a* [eval r=mvappend(r, '<<FIELD>>')] | convert ctime(firstTime)`,
		"| tstats count from datamodel=Endpoint.Filesystem where Filesystem.file_path IN (\"*/etc/cron*\") by Filesystem.dest | `x_filter`",
		`search "unterminated`, `| where (((`, "`", "| tstats", `a=b | stats`,
	} {
		f.Add(s)
	}
	if sharedOrEmpty(f) != "" || os.Getenv("CI") == "true" {
		searches, _ := corpusSearches(f)
		for _, s := range searches {
			f.Add(s)
		}
	}
	ms := Builtin()
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 4096 {
			return
		}
		_, _ = Compile(src, Options{Macros: ms})
	})
}

// sharedOrEmpty is the corpus folder, or "" when ../shared is missing
// (without skipping: the inline seeds still run).
func sharedOrEmpty(tb testing.TB) string {
	p := filepath.Join(testenv.Root(), "..", "shared", "corpus", "splunk")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}
