package syslog

import (
	"net/netip"
	"strings"

	"github.com/firewarden/firewarden/event"
)

// hints adds ECS fields for well-known firewall-relevant messages. They
// only fill what is missing (Event.Fill): a field the source gave stays.
// docs/fields-syslog.md lists what each one sets.
func hints(ev *event.Event, prog, msg string) {
	switch prog {
	case "kernel":
		netfilterHint(ev, msg)
	case "sudo":
		sudoHint(ev, msg)
	case "firewalld":
		ev.Fill("event.category", catConfig)
		ev.Fill("event.type", typeInfo)
	}
}

// ufwActions are event.action for ufw's log prefixes ([UFW BLOCK] …).
var ufwActions = map[string]struct {
	action string
	typ    event.Value
}{
	"BLOCK":         {"ufw-block", typeDenied},
	"LIMIT BLOCK":   {"ufw-limit-block", typeDenied},
	"ALLOW":         {"ufw-allow", typeAllowed},
	"AUDIT":         {"ufw-audit", typeInfo},
	"AUDIT INVALID": {"ufw-audit-invalid", typeInfo},
}

// netfilterHint reads a netfilter LOG target's kernel line
// ("[UFW BLOCK] IN=eth0 OUT= MAC=… SRC=203.0.113.7 DST=192.0.2.10 …
// PROTO=TCP SPT=51234 DPT=22 …"): ufw's, firewalld's LogDenied, or any
// iptables/nft "log prefix".
func netfilterHint(ev *event.Event, msg string) {
	in := tokenIndex(msg, "IN=")
	if in < 0 {
		return
	}
	var inIf, outIf, src, dst, proto, spt, dpt string
	var seen uint8
	rest := msg[in:]
	for rest != "" {
		var tok string
		tok, rest, _ = strings.Cut(rest, " ")
		if tok == "" {
			continue
		}
		if tok[0] == '[' {
			break // the packet quoted inside an ICMP error: not this one
		}
		k, v, ok := strings.Cut(tok, "=")
		if !ok {
			continue
		}
		var bit uint8
		var dstp *string
		switch k {
		case "IN":
			bit, dstp = 1, &inIf
		case "OUT":
			bit, dstp = 2, &outIf
		case "SRC":
			bit, dstp = 4, &src
		case "DST":
			bit, dstp = 8, &dst
		case "PROTO":
			bit, dstp = 16, &proto
		case "SPT":
			bit, dstp = 32, &spt
		case "DPT":
			bit, dstp = 64, &dpt
		default:
			continue
		}
		if seen&bit == 0 {
			seen |= bit
			*dstp = v
		}
	}
	srcIP, err1 := netip.ParseAddr(src)
	dstIP, err2 := netip.ParseAddr(dst)
	if err1 != nil || err2 != nil || proto == "" {
		return
	}
	action, typ := "netfilter-log", typeInfo
	prefix := msg[:in]
	if j := strings.Index(prefix, "[UFW "); j >= 0 {
		if k := strings.IndexByte(prefix[j:], ']'); k > 0 {
			kind := prefix[j+len("[UFW ") : j+k]
			if a, ok := ufwActions[kind]; ok {
				action, typ = a.action, a.typ
			} else {
				action = "ufw-" + strings.ToLower(strings.ReplaceAll(kind, " ", "-"))
			}
		}
	} else {
		p := strings.ToUpper(prefix)
		switch {
		case strings.Contains(p, "DROP") || strings.Contains(p, "REJECT") || strings.Contains(p, "BLOCK") || strings.Contains(p, "DENY"):
			typ = typeDenied
		case strings.Contains(p, "ACCEPT") || strings.Contains(p, "ALLOW"):
			typ = typeAllowed
		}
	}
	ev.Fill("event.category", catNetwork)
	ev.Fill("event.type", typ)
	ev.Fill("event.action", event.Str(action))
	ev.Fill("source.ip", event.Str(ipString(src, srcIP)))
	ev.Fill("destination.ip", event.Str(ipString(dst, dstIP)))
	if p, ok := portValue(spt); ok {
		ev.Fill("source.port", p)
	}
	if p, ok := portValue(dpt); ok {
		ev.Fill("destination.port", p)
	}
	if srcIP.Is4() && dstIP.Is4() {
		ev.Fill("network.type", strIPv4)
	} else if srcIP.Is6() && dstIP.Is6() {
		ev.Fill("network.type", strIPv6)
	}
	if _, ok := pidValue(proto); ok {
		ev.Fill("network.iana_number", event.Str(proto))
	} else {
		ev.Fill("network.transport", event.Str(transport(proto)))
	}
	if inIf != "" {
		ev.Fill("observer.ingress.interface.name", event.Str(inIf))
	}
	if outIf != "" {
		ev.Fill("observer.egress.interface.name", event.Str(outIf))
	}
}

// ipString is an address as the kernel wrote it when that is canonical
// (dotted IPv4), else in its canonical form: netfilter writes IPv6
// addresses in full (0000:…:0001), rules compare with ::1.
func ipString(s string, ip netip.Addr) string {
	if ip.Is4() || ip.String() == s {
		return s
	}
	return ip.String()
}

// transport is ECS network.transport for a netfilter PROTO= name.
func transport(proto string) string {
	switch proto {
	case "TCP":
		return "tcp"
	case "UDP":
		return "udp"
	case "ICMP":
		return "icmp"
	case "ICMPv6":
		return "ipv6-icmp"
	}
	return strings.ToLower(proto)
}

func portValue(s string) (event.Value, bool) {
	v, ok := pidValue(s)
	if !ok || v.Int > 65535 {
		return event.Value{}, false
	}
	return v, true
}

// tokenIndex returns the offset of key in s where it starts a
// space-separated token, or -1.
func tokenIndex(s, key string) int {
	from := 0
	for {
		i := strings.Index(s[from:], key)
		if i < 0 {
			return -1
		}
		i += from
		if i == 0 || s[i-1] == ' ' {
			return i
		}
		from = i + 1
	}
}

// sudoHint reads sudo's command log line:
// "admin : TTY=pts/0 ; PWD=/home/admin ; USER=root ; COMMAND=/usr/sbin/iptables -F",
// also with a refusal reason ("admin : 3 incorrect password attempts ;
// TTY=…", "user NOT in sudoers ; …") and optional GROUP=, ENV=, TSID=.
func sudoHint(ev *event.Event, msg string) {
	msg = strings.TrimLeft(msg, " ")
	user, rest, ok := strings.Cut(msg, " : ")
	if !ok || user == "" || strings.ContainsAny(user, " ;=") {
		return
	}
	c := strings.Index(rest, "COMMAND=")
	if c < 0 || c > 0 && rest[c-1] != ' ' {
		return
	}
	command := rest[c+len("COMMAND="):]
	var reason, pwd, runAs string
	for item := range strings.SplitSeq(rest[:c], " ; ") {
		item = strings.TrimSpace(item)
		k, v, ok := strings.Cut(item, "=")
		switch {
		case !ok || !isUpperWord(k):
			if item != "" && reason == "" {
				reason = item
			}
		case k == "PWD":
			pwd = v
		case k == "USER":
			runAs = v
		}
	}
	ev.Fill("event.category", catProcess)
	ev.Fill("event.type", typeInfo)
	ev.Fill("event.action", event.Str("sudo-command"))
	if reason != "" {
		ev.Fill("event.outcome", strFailure)
		ev.Fill("event.reason", event.Str(reason))
	} else {
		ev.Fill("event.outcome", strSuccess)
	}
	if command != "" {
		ev.Fill("process.command_line", event.Str(command))
	}
	ev.Fill("user.name", event.Str(user))
	if runAs != "" {
		ev.Fill("user.effective.name", event.Str(runAs))
	}
	if pwd != "" {
		ev.Fill("process.working_directory", event.Str(pwd))
	}
}

func isUpperWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if (s[i] < 'A' || s[i] > 'Z') && s[i] != '_' {
			return false
		}
	}
	return true
}
