package auditd

import (
	"strconv"
	"strings"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/source"
	"github.com/firewarden/firewarden/source/process"
)

// normaliser turns assembled records into ECS events; one per input, so
// its process table follows that input's execs.
type normaliser struct {
	in    *source.Input
	table *process.Table
	// reused per event by base
	rawIdx  map[string]int
	rawKeys []string
	rawVals [][]event.Value
	paths   map[string]string // field name → "auditd." + name
}

// rawPath interns "auditd.<k>": field names repeat across events, so the
// concatenation is made once per name (bounded, for hostile input).
func (n *normaliser) rawPath(k string) string {
	if p, ok := n.paths[k]; ok {
		return p
	}
	p := "auditd." + k
	if len(n.paths) < 4096 {
		n.paths[strings.Clone(k)] = p
	}
	return p
}

func newNormaliser(in *source.Input) *normaliser {
	return &normaliser{in: in, table: process.NewTable(0), rawIdx: map[string]int{}, paths: map[string]string{}}
}

const unsetID = "4294967295"

var families = map[string]string{"0": "unspec", "1": "inet", "2": "ipv4", "3": "arp", "5": "netdev", "7": "bridge", "10": "ipv6"}

// events builds the events of one audit event id.
func (n *normaliser) events(h header, line int, recs []record) []*event.Event {
	if len(recs) == 0 {
		return nil
	}
	var sys, execve, cwd *record
	var paths, netfilter, services []*record
	for i := range recs {
		r := &recs[i]
		switch r.typ {
		case "SYSCALL":
			sys = r
		case "EXECVE":
			execve = r
		case "CWD":
			cwd = r
		case "PATH":
			paths = append(paths, r)
		case "NETFILTER_CFG":
			netfilter = append(netfilter, r)
		case "SERVICE_STOP", "SERVICE_START":
			services = append(services, r)
		}
	}
	base := n.base(h, line, recs)
	var out []*event.Event
	switch {
	case len(netfilter) > 0:
		for _, nf := range netfilter {
			ev := base.Clone()
			n.netfilter(ev, nf, sys)
			out = append(out, ev)
		}
		return out
	case len(services) > 0:
		for _, sv := range services {
			ev := base.Clone()
			action := strings.ToLower(sv.typ)
			ev.Set("event.category", event.Strs("configuration"))
			ev.Set("event.type", event.Strs("change"))
			ev.SetStr("event.action", action)
			if u, ok := sv.get("unit"); ok {
				ev.SetStr("service.name", u)
			}
			n.subject(ev, sv, sys)
			if res, ok := sv.get("res"); ok {
				ev.SetStr("event.outcome", outcome(res))
			}
			n.table.Derive(ev, nil)
			out = append(out, ev)
		}
		return out
	}
	ev := base
	isExec := false
	if sys != nil {
		nr, _ := sys.get("syscall")
		name, _ := sys.enrichedGet("SYSCALL")
		isExec = nr == "59" || nr == "322" || name == "execve" || name == "execveat" || nr == "execve" || nr == "execveat"
	}
	if !isExec {
		ev.SetStr("event.action", strings.ToLower(recs[0].typ))
		ev.Set("event.category", event.Strs("host"))
		ev.Set("event.type", event.Strs("info"))
		if sys != nil {
			n.subject(ev, sys, sys)
			n.table.Derive(ev, nil)
		} else {
			n.subject(ev, &recs[0], nil)
		}
		return []*event.Event{ev}
	}
	success, _ := sys.get("success")
	ev.Set("event.category", event.Strs("process"))
	ev.SetStr("event.action", "exec")
	if success == "yes" {
		ev.Set("event.type", event.Strs("start"))
		ev.SetStr("event.outcome", "success")
	} else {
		ev.Set("event.type", event.Strs("info"))
		ev.SetStr("event.outcome", "failure")
	}
	n.subject(ev, sys, sys)
	if execve != nil {
		if argv := argvOf(execve); len(argv) > 0 {
			ev.Set("process.args", event.Strs(argv...))
		}
	} else if success == "yes" {
		n.in.Badf(line, 0, "audit event %s: execve without EXECVE record, expected SYSCALL+EXECVE", h.id)
	}
	if cwd != nil {
		if d, ok := cwd.get("cwd"); ok {
			ev.SetStr("process.working_directory", d)
		}
	}
	for _, p := range paths {
		if item, _ := p.get("item"); item == "0" {
			if name, ok := p.get("name"); ok {
				ev.SetStr("process.invoked.path", name)
			}
		}
	}
	n.table.Derive(ev, nil)
	return []*event.Event{ev}
}

// base holds what every event of the id shares: time, origin, raw fields.
func (n *normaliser) base(h header, line int, recs []record) *event.Event {
	nf := 24
	for _, r := range recs {
		nf += len(r.fields) + len(r.enriched)
	}
	ev := event.New(nf)
	ev.Time = h.time()
	ev.Format = "auditd"
	ev.Index = Index
	ev.File, ev.Line = n.in.Name, line
	ev.SetStr("@timestamp", ev.Time.Format("2006-01-02T15:04:05.000Z07:00"))
	ev.SetStr("event.module", "auditd")
	ev.SetStr("event.dataset", "auditd.log")
	ev.SetStr("event.kind", "event")
	ev.SetStr("auditd.id", h.id)
	ev.Set("auditd.sequence", event.IntV(int64(h.seq)))
	ev.SetStr("log.file.path", n.in.Name)
	ev.Set("log.file.line", event.IntV(int64(line)))
	if h.node != "" {
		ev.SetStr("host.name", h.node)
	}
	// Every record's fields as auditd.<field>; a name that repeats across
	// records (a0 of SYSCALL and of EXECVE, PATH's name) becomes a list.
	// The index is reused from event to event.
	clear(n.rawIdx)
	n.rawKeys = n.rawKeys[:0]
	n.rawVals = n.rawVals[:0]
	add := func(k, v string, null bool) {
		val := event.Str(v)
		if null {
			val = event.NullV()
		}
		if i, ok := n.rawIdx[k]; ok {
			n.rawVals[i] = append(n.rawVals[i], val)
			return
		}
		n.rawIdx[k] = len(n.rawKeys)
		n.rawKeys = append(n.rawKeys, k)
		n.rawVals = append(n.rawVals, []event.Value{val})
	}
	types := make([]event.Value, 0, len(recs))
	for _, r := range recs {
		types = append(types, event.Str(r.typ))
		for _, f := range r.fields {
			if f.k == "type" {
				continue
			}
			add(f.k, f.v, f.null)
		}
		for _, f := range r.enriched {
			add(f.k, f.v, false)
		}
	}
	ev.Set("auditd.type", event.ListV(types...))
	for i, k := range n.rawKeys {
		vs := n.rawVals[i]
		if len(vs) == 1 {
			ev.Set(n.rawPath(k), vs[0])
		} else {
			ev.Set(n.rawPath(k), event.ListV(vs...))
		}
	}
	return ev
}

// subject sets the acting process and user from a SYSCALL-like record.
func (n *normaliser) subject(ev *event.Event, r, sys *record) {
	if sys == nil {
		sys = r
	}
	setInt(ev, "process.pid", sys, "pid")
	setInt(ev, "process.parent.pid", sys, "ppid")
	if exe, ok := sys.get("exe"); ok {
		ev.SetStr("process.executable", exe)
	}
	if v, ok := sys.get("uid"); ok {
		ev.SetStr("user.id", v)
		if name, ok := sys.enrichedGet("UID"); ok {
			ev.SetStr("user.name", name)
		}
	}
	if v, ok := sys.get("gid"); ok {
		ev.SetStr("group.id", v)
		if name, ok := sys.enrichedGet("GID"); ok {
			ev.SetStr("group.name", name)
		}
	}
	if v, ok := sys.get("euid"); ok {
		ev.SetStr("user.effective.id", v)
		if name, ok := sys.enrichedGet("EUID"); ok {
			ev.SetStr("user.effective.name", name)
		}
	}
	if v, ok := sys.get("auid"); ok && v != unsetID {
		ev.SetStr("user.audit.id", v)
		if name, ok := sys.enrichedGet("AUID"); ok && name != "unset" {
			ev.SetStr("user.audit.name", name)
		}
	}
	if v, ok := sys.get("ses"); ok && v != unsetID {
		ev.SetStr("auditd.session", v)
	}
}

func (n *normaliser) netfilter(ev *event.Event, nf, sys *record) {
	ev.Set("event.category", event.Strs("configuration"))
	ev.Set("event.type", event.Strs("change"))
	ev.SetStr("event.action", "netfilter_cfg")
	op, _ := nf.get("op")
	ev.SetStr("firewall.op", op)
	switch {
	case strings.HasPrefix(op, "nft_"):
		ev.SetStr("firewall.backend", "nftables")
	case strings.HasPrefix(op, "xt_"):
		ev.SetStr("firewall.backend", "iptables-legacy")
	}
	if t, ok := nf.get("table"); ok {
		name, gen, hasGen := strings.Cut(t, ":")
		ev.SetStr("firewall.table", name)
		if g, err := strconv.ParseInt(gen, 10, 64); hasGen && err == nil {
			ev.Set("firewall.generation", event.IntV(g))
		}
	}
	if f, ok := nf.get("family"); ok {
		if id, err := strconv.ParseInt(f, 10, 64); err == nil {
			ev.Set("firewall.family_id", event.IntV(id))
		}
		if name, ok := families[f]; ok {
			ev.SetStr("firewall.family", name)
		}
	}
	setInt(ev, "firewall.entries", nf, "entries")
	// The acting process: the SYSCALL record of the same event, or the
	// NETFILTER_CFG record's own pid/comm.
	if sys != nil {
		n.subject(ev, sys, sys)
	} else {
		setInt(ev, "process.pid", nf, "pid")
	}
	// Fill the process's argv, name and parent from the exec that started it.
	n.table.Derive(ev, nil)
}

func argvOf(r *record) []string {
	argc := -1
	if v, ok := r.get("argc"); ok {
		argc, _ = strconv.Atoi(v)
	}
	args := map[int]*strings.Builder{}
	max := -1
	for _, f := range r.fields {
		if !isArgField(f.k) {
			continue
		}
		numEnd := 1
		for numEnd < len(f.k) && f.k[numEnd] >= '0' && f.k[numEnd] <= '9' {
			numEnd++
		}
		i, err := strconv.Atoi(f.k[1:numEnd])
		if err != nil {
			continue
		}
		if strings.HasSuffix(f.k, "_len") {
			continue
		}
		b := args[i]
		if b == nil {
			b = &strings.Builder{}
			args[i] = b
		}
		// aN or a chunk aN[k]: chunks arrive in order.
		b.WriteString(f.v)
		if i > max {
			max = i
		}
	}
	if argc < 0 {
		argc = max + 1
	}
	out := make([]string, 0, argc)
	for i := 0; i < argc; i++ {
		if b := args[i]; b != nil {
			out = append(out, b.String())
		} else {
			out = append(out, "")
		}
	}
	return out
}

func setInt(ev *event.Event, path string, r *record, k string) {
	if v, ok := r.get(k); ok {
		if i, err := strconv.ParseInt(v, 10, 64); err == nil {
			ev.Set(path, event.IntV(i))
		}
	}
}

func outcome(res string) string {
	switch res {
	case "success", "1", "yes":
		return "success"
	}
	return "failure"
}
