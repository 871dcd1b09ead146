package auditd

import (
	"bytes"
	"context"
	"strconv"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/source"
)

// Laurel reads laurel's JSON lines: one audit event per line, records as
// keys (SYSCALL, EXECVE with decoded ARGV, PATH as a list…).
type Laurel struct{}

// Name implements source.Format.
func (Laurel) Name() string { return "laurel" }

// Sniff accepts lines starting {"ID":".
func (Laurel) Sniff(head []byte) bool {
	head = bytes.TrimLeft(head, " \t\r\n")
	return bytes.HasPrefix(head, []byte(`{"ID":"`))
}

// Read implements source.Format.
func (Laurel) Read(ctx context.Context, in *source.Input, emit func(*event.Event) error) error {
	n := newNormaliser(in)
	var p fastjson.Parser
	return source.EachLine(ctx, in, func(line []byte, ln int) error {
		if len(bytes.TrimSpace(line)) == 0 {
			return nil
		}
		v, err := p.ParseBytes(line)
		if err != nil {
			in.Badf(ln, jsonErrCol(err), "invalid JSON: %v, expected one laurel event object per line", err)
			return nil
		}
		obj, err := v.Object()
		if err != nil {
			in.Badf(ln, 1, "laurel line is %s, expected a JSON object", v.Type())
			return nil
		}
		idv := obj.Get("ID")
		if idv == nil || idv.Type() != fastjson.TypeString {
			in.Badf(ln, 1, "laurel event without \"ID\", expected {\"ID\":\"SECONDS.MILLIS:SERIAL\",…}")
			return nil
		}
		id := string(idv.GetStringBytes())
		sec, nsec, seq, ok := parseID(id)
		if !ok {
			in.Badf(ln, 1, "bad laurel ID %q, expected SECONDS.MILLIS:SERIAL", id)
			return nil
		}
		h := header{sec: sec, nsec: nsec, seq: seq, id: id}
		if node := obj.Get("NODE"); node != nil {
			h.node = string(node.GetStringBytes())
		}
		var recs []record
		obj.Visit(func(k []byte, v *fastjson.Value) {
			key := string(k)
			if key == "ID" || key == "NODE" {
				return
			}
			switch v.Type() {
			case fastjson.TypeObject:
				recs = append(recs, laurelRecord(key, v))
			case fastjson.TypeArray:
				for _, e := range v.GetArray() {
					if e.Type() == fastjson.TypeObject {
						recs = append(recs, laurelRecord(key, e))
					}
				}
			}
		})
		for _, ev := range n.events(h, ln, recs) {
			ev.Format = "laurel"
			ev.Index = LaurelIndex
			if err := emit(ev); err != nil {
				return err
			}
		}
		return nil
	})
}

func laurelRecord(typ string, v *fastjson.Value) record {
	r := record{typ: typ}
	o, _ := v.Object()
	o.Visit(func(k []byte, x *fastjson.Value) {
		key := string(k)
		if key == "ARGV" && x.Type() == fastjson.TypeArray {
			argv := x.GetArray()
			if typ == "PROCTITLE" {
				parts := make([]string, len(argv))
				for i, a := range argv {
					parts[i] = scalar(a)
				}
				r.fields = append(r.fields, kv{k: "proctitle", v: strings.Join(parts, " ")})
				return
			}
			for i, a := range argv {
				s := scalar(a)
				if typ == "SYSCALL" {
					s = strings.TrimPrefix(s, "0x")
				}
				r.fields = append(r.fields, kv{k: "a" + strconv.Itoa(i), v: s})
			}
			return
		}
		switch x.Type() {
		case fastjson.TypeObject, fastjson.TypeArray:
			return // laurel's own enrichments (PPID, PID, ENV…)
		case fastjson.TypeNull:
			r.fields = append(r.fields, kv{k: key, null: true})
			return
		}
		s := scalar(x)
		if typ == "SYSCALL" && key == "arch" {
			s = strings.TrimPrefix(s, "0x")
		}
		if isUpper(key) {
			r.enriched = append(r.enriched, kv{k: key, v: s})
		} else {
			r.fields = append(r.fields, kv{k: key, v: s})
		}
	})
	return r
}

func scalar(x *fastjson.Value) string {
	switch x.Type() {
	case fastjson.TypeString:
		return unescape(x.GetStringBytes())
	case fastjson.TypeNumber:
		return string(x.MarshalTo(nil))
	case fastjson.TypeTrue:
		return "true"
	case fastjson.TypeFalse:
		return "false"
	}
	return ""
}

func isUpper(s string) bool {
	has := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			has = true
		case c >= '0' && c <= '9' || c == '_':
		default:
			return false
		}
	}
	return has
}

// jsonErrCol pulls the offset fastjson reports into a 1-based column.
func jsonErrCol(err error) int {
	s := err.Error()
	if i := strings.Index(s, "offset "); i >= 0 {
		j := i + len("offset ")
		k := j
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		if n, e := strconv.Atoi(s[j:k]); e == nil {
			return n + 1
		}
	}
	return 1
}

// unescape undoes laurel's escaping of string values: bytes that are not
// printable, and '%' and '+' themselves, are written as %XX.
func unescape(b []byte) string {
	if bytes.IndexByte(b, '%') < 0 {
		return string(b)
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '%' && i+2 < len(b) {
			if hi, ok1 := unhex(b[i+1]); ok1 {
				if lo, ok2 := unhex(b[i+2]); ok2 {
					out = append(out, hi<<4|lo)
					i += 2
					continue
				}
			}
		}
		out = append(out, b[i])
	}
	return string(out)
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
