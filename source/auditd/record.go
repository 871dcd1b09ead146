// Package auditd reads Linux audit logs: raw /var/log/audit/audit.log lines
// (RAW and ENRICHED formats, bare or behind a syslog or node= prefix) and
// laurel JSON. Records are assembled into one event per audit event id and
// normalised to ECS: execve events become process starts with argv from the
// EXECVE record (never PROCTITLE, which is cached per task and can lie);
// NETFILTER_CFG and SERVICE_STOP/START records become events of their own.
// Every record field is also kept as auditd.<field> for Sigma auditd rules.
package auditd

import (
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// record is one audit record: its type and fields in order.
type record struct {
	typ    string
	fields []kv
	// enriched holds the ENRICHED format's interpreted values (AUID="root").
	enriched []kv
}

type kv struct {
	k, v string
	null bool // (null)
}

func (r *record) get(k string) (string, bool) {
	for _, f := range r.fields {
		if f.k == k && !f.null {
			return f.v, true
		}
	}
	return "", false
}

func (r *record) enrichedGet(k string) (string, bool) {
	for _, f := range r.enriched {
		if f.k == k {
			return f.v, true
		}
	}
	return "", false
}

// header is "type=T msg=audit(1795358960.304:22300):".
type header struct {
	typ  string
	sec  int64
	nsec int64
	seq  uint64
	id   string // "1795358960.304:22300"
	node string
}

func (h header) time() time.Time { return time.Unix(h.sec, h.nsec).UTC() }

// parseID parses "1795358960.304:22300".
func parseID(id string) (sec, nsec int64, seq uint64, ok bool) {
	ts, sq, found := strings.Cut(id, ":")
	if !found {
		return 0, 0, 0, false
	}
	s, frac, _ := strings.Cut(ts, ".")
	var err error
	if sec, err = strconv.ParseInt(s, 10, 64); err != nil {
		return 0, 0, 0, false
	}
	if frac != "" {
		if len(frac) > 9 {
			frac = frac[:9]
		}
		n, err := strconv.ParseInt(frac, 10, 64)
		if err != nil {
			return 0, 0, 0, false
		}
		for i := len(frac); i < 9; i++ {
			n *= 10
		}
		nsec = n
	}
	if seq, err = strconv.ParseUint(sq, 10, 64); err != nil {
		return 0, 0, 0, false
	}
	return sec, nsec, seq, true
}

// hexFields may carry hex-encoded values: the kernel hex-encodes strings it
// does not trust (spaces, quotes, control characters) and leaves them
// unquoted; trusted strings are quoted.
var hexFields = map[string]bool{
	"name": true, "cwd": true, "exe": true, "comm": true, "proctitle": true, "path": true,
	"key": true, "cmd": true, "dir": true, "file": true, "ocomm": true, "data": true,
	"unit": true, "old-chardev": true, "new-chardev": true, "acct": true, "hostname": true,
}

func isArgField(k string) bool {
	if len(k) < 2 || k[0] != 'a' {
		return false
	}
	i := 1
	for i < len(k) && k[i] >= '0' && k[i] <= '9' {
		i++
	}
	if i == 1 {
		return false
	}
	return i == len(k) || k[i] == '['
}

// decodeHex decodes an all-hex value of even length.
func decodeHex(v string) (string, bool) {
	if len(v) == 0 || len(v)%2 != 0 {
		return "", false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F' || c >= 'a' && c <= 'f') {
			return "", false
		}
	}
	b, err := hex.DecodeString(v)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// parseFields splits "k=v k2="quoted" k3='x y'" into fields. It returns the
// byte offset of the first malformed pair, or -1.
func parseFields(s string, typ string, out []kv) ([]kv, int) {
	i := 0
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i >= len(s) {
			return out, -1
		}
		eq := strings.IndexByte(s[i:], '=')
		sp := strings.IndexAny(s[i:], " \t")
		if eq < 0 || (sp >= 0 && sp < eq) {
			// A bare word (e.g. "audit(…):" leftovers, or "res=" forms): skip it.
			if sp < 0 {
				return out, -1
			}
			i += sp
			continue
		}
		k := s[i : i+eq]
		i += eq + 1
		var v string
		quoted, null := false, false
		if i < len(s) && (s[i] == '"' || s[i] == '\'') {
			q := s[i]
			end := strings.IndexByte(s[i+1:], q)
			if end < 0 {
				return out, i
			}
			v = s[i+1 : i+1+end]
			i += end + 2
			quoted = true
		} else {
			end := strings.IndexAny(s[i:], " \t")
			if end < 0 {
				end = len(s) - i
			}
			v = s[i : i+end]
			i += end
		}
		if !quoted {
			switch {
			case v == "(null)" || v == "(none)" && k == "key":
				null = true
			case typ == "EXECVE" && isArgField(k) || typ == "PROCTITLE" && k == "proctitle" || hexFields[k]:
				if d, ok := decodeHex(v); ok {
					v = d
				}
			}
		}
		if k == "msg" && quoted && strings.Contains(v, "=") {
			// USER_* records nest their payload: msg='op=… exe="…" res=success'.
			var bad int
			if out, bad = parseFields(v, typ, out); bad >= 0 {
				return out, bad
			}
			continue
		}
		out = append(out, kv{k: k, v: v, null: null})
	}
}
