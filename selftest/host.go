package selftest

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
)

// counters are the parts of a listing that traffic changes by itself.
var counters = regexp.MustCompile(`\[\d+:\d+\]|counter packets \d+ bytes \d+|packets \d+ bytes \d+`)

// hostFirewall reads the host namespace's ruleset — nft list ruleset,
// iptables-save, ip6tables-save and the legacy tables instantiated
// (/proc/net/ip*_tables_names, read without instantiating any) — with
// counters and timestamps left out. It only reads.
func hostFirewall() (string, error) {
	var b strings.Builder
	read := func(name string, argv ...string) error {
		if _, err := exec.LookPath(argv[0]); err != nil {
			return nil
		}
		out, err := exec.Command(argv[0], argv[1:]...).Output()
		if err != nil {
			return fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
		}
		fmt.Fprintf(&b, "== %s\n", name)
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(l, "#") || strings.TrimSpace(l) == "" {
				continue
			}
			b.WriteString(counters.ReplaceAllString(l, "") + "\n")
		}
		return nil
	}
	if err := read("nft list ruleset", "nft", "list", "ruleset"); err != nil {
		return "", err
	}
	if err := read("iptables-save", "iptables-save"); err != nil {
		return "", err
	}
	if err := read("ip6tables-save", "ip6tables-save"); err != nil {
		return "", err
	}
	for _, p := range []string{"/proc/net/ip_tables_names", "/proc/net/ip6_tables_names"} {
		if data, err := os.ReadFile(p); err == nil {
			fmt.Fprintf(&b, "== %s\n%s", p, data)
		}
	}
	return b.String(), nil
}

// diffLines is "" when a and b are equal, else the lines only in a (-)
// and only in b (+).
func diffLines(a, b string) string {
	if a == b {
		return ""
	}
	count := func(s string) map[string]int {
		m := map[string]int{}
		for _, l := range strings.Split(s, "\n") {
			m[l]++
		}
		return m
	}
	ca, cb := count(a), count(b)
	var out strings.Builder
	for _, l := range strings.Split(a, "\n") {
		if cb[l] < ca[l] {
			out.WriteString("- " + l + "\n")
			ca[l]--
		}
	}
	ca = count(a)
	for _, l := range strings.Split(b, "\n") {
		if ca[l] < cb[l] {
			out.WriteString("+ " + l + "\n")
			cb[l]--
		}
	}
	if out.Len() == 0 {
		return "(the same lines in another order)\n"
	}
	return out.String()
}
