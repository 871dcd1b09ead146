package nft

import (
	"fmt"
	"sort"
	"strings"
)

// The ruleset snapshot of one namespace, kept to tell a policy change from
// a new chain and to show every change as a diff.

type tkey struct {
	fam  uint8
	name string
}

type table struct {
	fam    uint8
	name   string
	flags  uint32
	chains map[string]*chain
	sets   map[string]*set
}

type chain struct {
	name      string
	hook      bool
	hookNum   uint32
	prio      int32
	dev       string
	typ       string
	hasPolicy bool
	policy    uint32
	flags     uint32
	rules     map[uint64]*rule
}

type rule struct {
	handle  uint64
	expr    string
	comment string
}

type set struct {
	name  string
	flags uint32
}

type ruleset struct {
	gen    uint32
	tables map[tkey]*table
}

func newRuleset() *ruleset { return &ruleset{tables: map[tkey]*table{}} }

func (t *table) String() string { return "table " + familyName(t.fam) + " " + t.name }

func (c *chain) header(t *table) string {
	s := "chain " + familyName(t.fam) + " " + t.name + " " + c.name
	if c.hook {
		s += " { type " + c.typ + " hook " + hookName(t.fam, c.hookNum)
		if c.dev != "" {
			s += " device " + c.dev
		}
		s += fmt.Sprintf(" priority %d;", c.prio)
		if c.hasPolicy {
			s += " policy " + policyName(c.policy) + ";"
		}
		s += " }"
	}
	return s
}

func (r *rule) line(t *table, c *chain) string {
	s := fmt.Sprintf("rule %s %s %s handle %d %s", familyName(t.fam), t.name, c.name, r.handle, r.expr)
	if r.comment != "" {
		s += " comment " + fmt.Sprintf("%q", r.comment)
	}
	return s
}

func (t *table) lines(sign string, out []string) []string {
	out = append(out, sign+" "+t.String())
	for _, sn := range sortedKeys(t.sets) {
		out = append(out, sign+" set "+familyName(t.fam)+" "+t.name+" "+sn)
	}
	for _, cn := range sortedKeys(t.chains) {
		out = t.chains[cn].lines(t, sign, out)
	}
	return out
}

func (c *chain) lines(t *table, sign string, out []string) []string {
	out = append(out, sign+" "+c.header(t))
	return c.ruleLines(t, sign, out)
}

func (c *chain) ruleLines(t *table, sign string, out []string) []string {
	hs := make([]uint64, 0, len(c.rules))
	for h := range c.rules {
		hs = append(hs, h)
	}
	sort.Slice(hs, func(i, j int) bool { return hs[i] < hs[j] })
	for _, h := range hs {
		out = append(out, sign+" "+c.rules[h].line(t, c))
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func (rs *ruleset) tableOf(fam uint8, name string) *table {
	k := tkey{fam, name}
	t := rs.tables[k]
	if t == nil {
		t = &table{fam: fam, name: name, chains: map[string]*chain{}, sets: map[string]*set{}}
		rs.tables[k] = t
	}
	return t
}

func chainFrom(m *Msg) *chain {
	return &chain{name: m.Name, hook: m.Hook, hookNum: m.HookNum, prio: m.Priority, dev: m.Device,
		typ: m.ChainType, hasPolicy: m.HasPolicy, policy: m.Policy, flags: m.Flags, rules: map[uint64]*rule{}}
}

// load applies a dumped object (a NEW* message) to the snapshot.
func (rs *ruleset) load(m *Msg) {
	switch m.Type {
	case msgNewTable:
		rs.tableOf(m.Family, m.Name).flags = m.Flags
	case msgNewChain:
		t := rs.tableOf(m.Family, m.Table)
		t.chains[m.Name] = chainFrom(m)
	case msgNewRule:
		t := rs.tableOf(m.Family, m.Table)
		c := t.chains[m.Chain]
		if c == nil {
			c = &chain{name: m.Chain, rules: map[uint64]*rule{}}
			t.chains[m.Chain] = c
		}
		c.rules[m.Handle] = &rule{handle: m.Handle, expr: m.Expr, comment: m.Comment}
	case msgNewSet:
		rs.tableOf(m.Family, m.Table).sets[m.Name] = &set{name: m.Name, flags: m.Flags}
	}
}

// diffRulesets lists what differs between two snapshots (for a resync).
func diffRulesets(a, b *ruleset) []string {
	var out []string
	keys := map[tkey]bool{}
	for k := range a.tables {
		keys[k] = true
	}
	for k := range b.tables {
		keys[k] = true
	}
	ks := make([]tkey, 0, len(keys))
	for k := range keys {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool {
		if ks[i].fam != ks[j].fam {
			return ks[i].fam < ks[j].fam
		}
		return ks[i].name < ks[j].name
	})
	for _, k := range ks {
		ta, tb := a.tables[k], b.tables[k]
		switch {
		case ta == nil:
			out = tb.lines("+", out)
		case tb == nil:
			out = ta.lines("-", out)
		default:
			if ta.flags != tb.flags {
				out = append(out, fmt.Sprintf("~ %s flags 0x%x -> 0x%x", ta, ta.flags, tb.flags))
			}
			for _, sn := range sortedKeys(ta.sets) {
				if tb.sets[sn] == nil {
					out = append(out, "- set "+familyName(ta.fam)+" "+ta.name+" "+sn)
				}
			}
			for _, sn := range sortedKeys(tb.sets) {
				if ta.sets[sn] == nil {
					out = append(out, "+ set "+familyName(tb.fam)+" "+tb.name+" "+sn)
				}
			}
			cn := map[string]bool{}
			for n := range ta.chains {
				cn[n] = true
			}
			for n := range tb.chains {
				cn[n] = true
			}
			for _, n := range sortedKeys(cn) {
				ca, cb := ta.chains[n], tb.chains[n]
				switch {
				case ca == nil:
					out = cb.lines(tb, "+", out)
				case cb == nil:
					out = ca.lines(ta, "-", out)
				default:
					if ca.header(ta) != cb.header(tb) {
						out = append(out, "- "+ca.header(ta), "+ "+cb.header(tb))
					}
					for _, r := range sortedRules(ca) {
						if o := cb.rules[r.handle]; o == nil || o.expr != r.expr {
							out = append(out, "- "+r.line(ta, ca))
						}
					}
					for _, r := range sortedRules(cb) {
						if o := ca.rules[r.handle]; o == nil || o.expr != r.expr {
							out = append(out, "+ "+r.line(tb, cb))
						}
					}
				}
			}
		}
	}
	return out
}

func sortedRules(c *chain) []*rule {
	rs := make([]*rule, 0, len(c.rules))
	for _, r := range c.rules {
		rs = append(rs, r)
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].handle < rs[j].handle })
	return rs
}

// change is one effect of a committed batch on the snapshot, before the
// effects are grouped into events.
type change struct {
	action   string // event.action
	typ      string // event.type: creation, deletion, change
	fam      uint8
	table    string
	chain    string
	set      string
	rule     *rule
	policy   [2]string // before, after
	lines    []string  // diff
	elements int
	count    int // rules removed by a chain flush
}

func (t *table) clone() *table {
	n := &table{fam: t.fam, name: t.name, flags: t.flags, chains: make(map[string]*chain, len(t.chains)), sets: make(map[string]*set, len(t.sets))}
	for k, c := range t.chains {
		cc := *c
		cc.rules = make(map[uint64]*rule, len(c.rules))
		for h, r := range c.rules {
			cc.rules[h] = r
		}
		n.chains[k] = &cc
	}
	for k, v := range t.sets {
		n.sets[k] = v
	}
	return n
}

// apply applies one committed batch of change messages to the snapshot
// and returns its net effect, per table touched, as changes: a table
// added or deleted (everything in it in its diff), a chain added or
// deleted (its rules in its diff), a policy or other chain change, every
// rule of a chain removed (a chain flush), rules added or deleted, sets
// added or deleted; and, from the messages themselves, set elements,
// objects and flowtables. A batch that empties a non-empty ruleset is one
// ruleset flush. A table deleted and re-created in one batch (as
// iptables-restore does) shows only what differs.
func (rs *ruleset) apply(batch []Msg) []*change {
	tablesBefore := len(rs.tables)
	before := map[tkey]*table{}
	var order []tkey
	touch := func(fam uint8, name string) {
		k := tkey{fam, name}
		if _, ok := before[k]; ok {
			return
		}
		order = append(order, k)
		if t := rs.tables[k]; t != nil {
			before[k] = t.clone()
		} else {
			before[k] = nil
		}
	}
	var extra []*change
	deleted := false
	for i := range batch {
		m := &batch[i]
		fam := familyName(m.Family)
		switch m.Type {
		case msgNewTable:
			touch(m.Family, m.Name)
			rs.load(m)
		case msgDelTable:
			touch(m.Family, m.Name)
			delete(rs.tables, tkey{m.Family, m.Name})
			deleted = true
		case msgNewChain:
			touch(m.Family, m.Table)
			t := rs.tableOf(m.Family, m.Table)
			nc := chainFrom(m)
			if old := t.chains[m.Name]; old != nil {
				nc.rules = old.rules
			}
			t.chains[m.Name] = nc
		case msgDelChain:
			touch(m.Family, m.Table)
			if t := rs.tables[tkey{m.Family, m.Table}]; t != nil {
				delete(t.chains, m.Name)
			}
		case msgNewRule, msgNewSet:
			touch(m.Family, m.Table)
			rs.load(m)
		case msgDelRule:
			touch(m.Family, m.Table)
			if t := rs.tables[tkey{m.Family, m.Table}]; t != nil && t.chains[m.Chain] != nil {
				delete(t.chains[m.Chain].rules, m.Handle)
			}
		case msgDelSet:
			touch(m.Family, m.Table)
			if t := rs.tables[tkey{m.Family, m.Table}]; t != nil {
				delete(t.sets, m.Name)
			}
		case msgNewSetElem, msgDelSetElem:
			c := &change{action: "nft_set_elements_added", typ: "change", fam: m.Family, table: m.Table, set: m.Name, elements: m.Elements}
			sign := "+"
			if m.Type == msgDelSetElem {
				c.action, sign = "nft_set_elements_deleted", "-"
			}
			c.lines = []string{fmt.Sprintf("%s %d element(s) set %s %s %s", sign, m.Elements, fam, m.Table, m.Name)}
			extra = append(extra, c)
		case msgNewObj, msgDelObj, msgNewFlowtab, msgDelFlowtab:
			what := "object"
			if m.Type == msgNewFlowtab || m.Type == msgDelFlowtab {
				what = "flowtable"
			}
			c := &change{action: "nft_" + what + "_added", typ: "creation", fam: m.Family, table: m.Table}
			sign := "+"
			if m.IsDel() {
				c.action, c.typ, sign = "nft_"+what+"_deleted", "deletion", "-"
			}
			c.lines = []string{sign + " " + what + " " + fam + " " + m.Table + " " + m.Name}
			extra = append(extra, c)
		}
	}
	var out []*change
	for _, k := range order {
		out = append(out, diffTable(before[k], rs.tables[k])...)
	}
	// Set-element changes inside a table added or deleted in this batch are
	// part of that change.
	for _, c := range extra {
		if bt, at := before[tkey{c.fam, c.table}], rs.tables[tkey{c.fam, c.table}]; (bt == nil) != (at == nil) {
			continue
		}
		out = append(out, c)
	}
	if deleted && len(rs.tables) == 0 && tablesBefore > 0 {
		f := &change{action: "nft_ruleset_flushed", typ: "deletion"}
		for _, c := range out {
			f.lines = append(f.lines, c.lines...)
		}
		return []*change{f}
	}
	return out
}

// diffTable is the net effect on one table.
func diffTable(a, b *table) []*change {
	switch {
	case a == nil && b == nil:
		return nil
	case a == nil:
		return []*change{{action: "nft_table_added", typ: "creation", fam: b.fam, table: b.name, lines: b.lines("+", nil)}}
	case b == nil:
		return []*change{{action: "nft_table_deleted", typ: "deletion", fam: a.fam, table: a.name, lines: a.lines("-", nil)}}
	}
	var out []*change
	fam := familyName(a.fam)
	if a.flags != b.flags {
		c := &change{action: "nft_table_updated", typ: "change", fam: a.fam, table: a.name,
			lines: []string{fmt.Sprintf("~ %s flags 0x%x -> 0x%x", a, a.flags, b.flags)}}
		if b.flags&1 != 0 && a.flags&1 == 0 {
			c.action = "nft_table_dormant" // NFT_TABLE_F_DORMANT: the table stops filtering
		}
		out = append(out, c)
	}
	for _, n := range sortedKeys(a.sets) {
		if b.sets[n] == nil {
			out = append(out, &change{action: "nft_set_deleted", typ: "deletion", fam: a.fam, table: a.name, set: n,
				lines: []string{"- set " + fam + " " + a.name + " " + n}})
		}
	}
	for _, n := range sortedKeys(b.sets) {
		if a.sets[n] == nil {
			out = append(out, &change{action: "nft_set_added", typ: "creation", fam: a.fam, table: a.name, set: n,
				lines: []string{"+ set " + fam + " " + a.name + " " + n}})
		}
	}
	names := map[string]bool{}
	for n := range a.chains {
		names[n] = true
	}
	for n := range b.chains {
		names[n] = true
	}
	for _, n := range sortedKeys(names) {
		ca, cb := a.chains[n], b.chains[n]
		switch {
		case ca == nil:
			c := &change{action: "nft_chain_added", typ: "creation", fam: a.fam, table: a.name, chain: n, lines: cb.lines(b, "+", nil)}
			if cb.hasPolicy {
				c.policy[1] = policyName(cb.policy)
			}
			out = append(out, c)
			continue
		case cb == nil:
			c := &change{action: "nft_chain_deleted", typ: "deletion", fam: a.fam, table: a.name, chain: n, lines: ca.lines(a, "-", nil)}
			if ca.hasPolicy {
				c.policy[0] = policyName(ca.policy)
			}
			out = append(out, c)
			continue
		}
		if ha, hb := ca.header(a), cb.header(b); ha != hb {
			c := &change{action: "nft_chain_updated", typ: "change", fam: a.fam, table: a.name, chain: n, lines: []string{"- " + ha, "+ " + hb}}
			if ca.hasPolicy {
				c.policy[0] = policyName(ca.policy)
			}
			if cb.hasPolicy {
				c.policy[1] = policyName(cb.policy)
			}
			if c.policy[0] != c.policy[1] {
				c.action = "nft_chain_policy_changed"
			}
			out = append(out, c)
		}
		// Rules are compared by content (a re-created table renumbers them).
		removed, added := ruleDiff(ca, cb)
		if len(removed) > 0 && len(cb.rules) == 0 {
			c := &change{action: "nft_chain_flushed", typ: "deletion", fam: a.fam, table: a.name, chain: n, count: len(removed)}
			if cb.hasPolicy {
				c.policy = [2]string{policyName(cb.policy), policyName(cb.policy)}
			}
			for _, r := range removed {
				c.lines = append(c.lines, "- "+r.line(a, ca))
			}
			out = append(out, c)
		} else {
			for _, r := range removed {
				out = append(out, &change{action: "nft_rule_deleted", typ: "deletion", fam: a.fam, table: a.name, chain: n, rule: r,
					lines: []string{"- " + r.line(a, ca)}})
			}
		}
		for _, r := range added {
			out = append(out, &change{action: "nft_rule_added", typ: "creation", fam: a.fam, table: a.name, chain: n, rule: r,
				lines: []string{"+ " + r.line(b, cb)}})
		}
	}
	return out
}

// ruleDiff compares two versions of a chain's rules as multisets of their
// text: a rule whose handle changed but whose content did not is the same.
func ruleDiff(a, b *chain) (removed, added []*rule) {
	key := func(r *rule) string { return r.expr + "\x00" + r.comment }
	count := map[string]int{}
	for _, r := range b.rules {
		count[key(r)]++
	}
	for _, r := range sortedRules(a) {
		if count[key(r)] > 0 {
			count[key(r)]--
			continue
		}
		removed = append(removed, r)
	}
	count = map[string]int{}
	for _, r := range a.rules {
		count[key(r)]++
	}
	for _, r := range sortedRules(b) {
		if count[key(r)] > 0 {
			count[key(r)]--
			continue
		}
		added = append(added, r)
	}
	return removed, added
}

func joinLines(ls []string) string { return strings.Join(ls, "\n") }
