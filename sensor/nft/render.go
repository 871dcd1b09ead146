package nft

import (
	"fmt"
	"strconv"
	"strings"
)

// renderExprs renders a rule's expression list in the style of
// `nft --debug=netlink` ("[ meta load l4proto => reg 1 ] [ cmp eq reg 1
// 0x06 ] [ immediate reg 0 accept ]"): exact, if not as terse as nft's
// own syntax. Expressions it does not know are named with their
// attributes in hex.
func renderExprs(b []byte) (string, error) {
	elems, err := attrs(b)
	if err != nil {
		return "", err
	}
	var sb strings.Builder
	for _, el := range elems {
		as, err := attrs(el.data)
		if err != nil {
			return sb.String(), err
		}
		var name string
		var data []attr
		for _, a := range as {
			switch a.typ {
			case 1:
				name = cstr(a.data)
			case 2:
				if data, err = attrs(a.data); err != nil {
					return sb.String(), err
				}
			}
		}
		if sb.Len() > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString("[ ")
		sb.WriteString(renderExpr(name, data))
		sb.WriteString(" ]")
	}
	return sb.String(), nil
}

func get(as []attr, t uint16) []byte {
	for _, a := range as {
		if a.typ == t {
			return a.data
		}
	}
	return nil
}

func getU32(as []attr, t uint16) (uint32, bool) {
	b := get(as, t)
	if len(b) < 4 {
		return 0, false
	}
	return be.Uint32(b), true
}

func reg(as []attr, t uint16) string {
	v, _ := getU32(as, t)
	return regName(v)
}

// regName names a register: 0-4 are the 16-byte registers (0 is the
// verdict), 8 and above the 4-byte ones nft shows as reg 1.. too.
func regName(v uint32) string {
	if v >= 8 {
		return "reg " + strconv.Itoa(int((v-8)/4+1))
	}
	return "reg " + strconv.Itoa(int(v))
}

var (
	cmpOps      = []string{"eq", "neq", "lt", "lte", "gt", "gte"}
	payloadBase = []string{"link", "network", "transport", "inner"}
	metaKeys    = []string{"len", "protocol", "priority", "mark", "iif", "oif", "iifname", "oifname",
		"iiftype", "oiftype", "skuid", "skgid", "nftrace", "rtclassid", "secmark", "nfproto", "l4proto",
		"bri_iifname", "bri_oifname", "pkttype", "cpu", "iifgroup", "oifgroup", "cgroup", "prandom",
		"secpath", "iifkind", "oifkind", "bri_iifpvid", "bri_iifvproto", "time_ns", "time_day", "time_hour",
		"sdif", "sdifname", "bri_broute"}
	ctKeys = []string{"state", "direction", "status", "mark", "secmark", "expiration", "helper",
		"l3protocol", "src", "dst", "protocol", "proto-src", "proto-dst", "labels", "pkts", "bytes",
		"avgpkt", "zone", "eventmask", "src_ip", "dst_ip", "src_ip6", "dst_ip6", "id"}
)

func nameOf(names []string, v uint32) string {
	if int(v) < len(names) {
		return names[v]
	}
	return strconv.Itoa(int(v))
}

// data renders an NFTA_DATA_* nest: a value in hex or a verdict.
func data(b []byte) string {
	as, err := attrs(b)
	if err != nil {
		return hexs(b)
	}
	if v := get(as, 1); v != nil { // NFTA_DATA_VALUE
		return hexs(v)
	}
	if v := get(as, 2); v != nil { // NFTA_DATA_VERDICT
		vs, err := attrs(v)
		if err != nil {
			return hexs(v)
		}
		code, _ := getU32(vs, 1)
		chain := cstr(get(vs, 2))
		switch int32(code) {
		case 0:
			return "drop"
		case 1:
			return "accept"
		case 2:
			return "stolen"
		case 3:
			return "queue"
		case 4:
			return "repeat"
		case -1:
			return "continue"
		case -2:
			return "break"
		case -3:
			return "jump " + chain
		case -4:
			return "goto " + chain
		case -5:
			return "return"
		}
		return "verdict " + strconv.Itoa(int(int32(code)))
	}
	return hexs(b)
}

func renderExpr(name string, as []attr) string {
	switch name {
	case "immediate":
		return fmt.Sprintf("immediate %s %s", reg(as, 1), data(get(as, 2)))
	case "cmp":
		op, _ := getU32(as, 2)
		return fmt.Sprintf("cmp %s %s %s", nameOf(cmpOps, op), reg(as, 1), data(get(as, 3)))
	case "payload":
		base, _ := getU32(as, 2)
		off, _ := getU32(as, 3)
		l, _ := getU32(as, 4)
		if get(as, 5) != nil { // NFTA_PAYLOAD_SREG: a write
			return fmt.Sprintf("payload write %s => %db @ %s header + %d", reg(as, 5), l, nameOf(payloadBase, base), off)
		}
		return fmt.Sprintf("payload load %db @ %s header + %d => %s", l, nameOf(payloadBase, base), off, reg(as, 1))
	case "meta":
		key, _ := getU32(as, 2)
		if get(as, 3) != nil {
			return fmt.Sprintf("meta set %s with %s", nameOf(metaKeys, key), reg(as, 3))
		}
		return fmt.Sprintf("meta load %s => %s", nameOf(metaKeys, key), reg(as, 1))
	case "ct":
		key, _ := getU32(as, 2)
		if get(as, 4) != nil {
			return fmt.Sprintf("ct set %s with %s", nameOf(ctKeys, key), reg(as, 4))
		}
		return fmt.Sprintf("ct load %s => %s", nameOf(ctKeys, key), reg(as, 1))
	case "bitwise":
		return fmt.Sprintf("bitwise %s = ( %s & %s ) ^ %s", reg(as, 2), reg(as, 1), data(get(as, 4)), data(get(as, 5)))
	case "lookup":
		s := fmt.Sprintf("lookup %s set %s", reg(as, 2), cstr(get(as, 1)))
		if get(as, 3) != nil {
			s += " dreg " + reg(as, 3)
		}
		if f, ok := getU32(as, 5); ok && f&1 != 0 {
			s += " 0x1"
		}
		return s
	case "match", "target":
		rev, _ := getU32(as, 2)
		return fmt.Sprintf("%s name %s rev %d", name, cstr(get(as, 1)), rev)
	case "counter":
		return "counter"
	case "log":
		if p := get(as, 2); p != nil { // NFTA_LOG_PREFIX
			return "log prefix " + strconv.Quote(cstr(p))
		}
		return "log"
	case "reject":
		t, _ := getU32(as, 1)
		code := get(as, 2)
		if len(code) > 0 {
			return fmt.Sprintf("reject type %d code %d", t, code[0])
		}
		return fmt.Sprintf("reject type %d", t)
	}
	var sb strings.Builder
	sb.WriteString(name)
	for _, a := range as {
		fmt.Fprintf(&sb, " %d=%s", a.typ, hexs(a.data))
	}
	return sb.String()
}
