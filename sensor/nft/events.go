package nft

import (
	"context"
	"time"

	"github.com/firewarden/firewarden/event"
)

// Index is the index the sensor's events would live in.
const Index = "logs-firewarden.nft-default"

func (w *watcher) base(when time.Time, kind string) *event.Event {
	ev := event.New(24)
	ev.Time = when.UTC()
	ev.Format = "nft"
	ev.Index = Index
	ev.SetStr("@timestamp", ev.Time.Format("2006-01-02T15:04:05.000000Z07:00"))
	ev.SetStr("event.kind", kind)
	ev.SetStr("event.module", "firewarden")
	ev.SetStr("event.dataset", "firewarden.nft")
	ev.SetStr("event.provider", "nftables")
	ev.Set("event.category", event.Strs("configuration"))
	ev.SetStr("firewall.backend", "nftables")
	ev.Set("firewall.netns.inode", event.IntV(int64(w.ino)))
	if n := w.getName(); n != "" {
		ev.SetStr("firewall.netns.name", n)
	}
	return ev
}

// changeEvent renders one grouped change of the batch committed by gen.
func (w *watcher) changeEvent(when time.Time, gen *Msg, c *change, batchLen int) *event.Event {
	ev := w.base(when, "event")
	ev.SetStr("event.action", c.action)
	ev.Set("event.type", event.Strs(c.typ))
	ev.SetStr("event.outcome", "success")
	ev.Set("firewall.generation", event.IntV(int64(gen.GenID)))
	ev.Set("firewall.batch.messages", event.IntV(int64(batchLen)))
	if gen.PID != 0 {
		ev.Set("process.pid", event.IntV(int64(gen.PID)))
	}
	if gen.Comm != "" {
		ev.SetStr("process.name", gen.Comm)
	}
	if c.action != "nft_ruleset_flushed" {
		ev.SetStr("firewall.family", familyName(c.fam))
		if c.table != "" {
			ev.SetStr("firewall.table", c.table)
		}
	}
	if c.chain != "" {
		ev.SetStr("firewall.chain", c.chain)
	}
	if c.set != "" {
		ev.SetStr("firewall.set", c.set)
	}
	if c.rule != nil {
		ev.SetStr("firewall.rule", c.rule.expr)
		ev.Set("firewall.rule_handle", event.IntV(int64(c.rule.handle)))
		if c.rule.comment != "" {
			ev.SetStr("firewall.rule_comment", c.rule.comment)
		}
	}
	if c.policy[0] != "" {
		ev.SetStr("firewall.policy.before", c.policy[0])
	}
	if c.policy[1] != "" {
		ev.SetStr("firewall.policy.after", c.policy[1])
	}
	if c.elements > 0 {
		ev.Set("firewall.elements", event.IntV(int64(c.elements)))
	}
	if c.count > 0 {
		ev.Set("firewall.rules_removed", event.IntV(int64(c.count)))
	}
	if len(c.lines) > 0 {
		ev.SetStr("firewall.diff", joinLines(c.lines))
	}
	return ev
}

// resyncEvent says the monitor lost track (an overrun or an error) and
// shows what changed between the old snapshot and the fresh dump; who
// made those changes is unknown.
func (w *watcher) resyncEvent(ctx context.Context, reason string, cause error, old, fresh *ruleset) {
	ev := w.base(time.Now(), "event")
	ev.SetStr("event.action", "nft_monitor_resync")
	ev.Set("event.type", event.Strs("info"))
	ev.SetStr("event.reason", reason)
	ev.SetStr("error.message", cause.Error())
	ev.Set("firewall.generation", event.IntV(int64(fresh.gen)))
	if d := diffRulesets(old, fresh); len(d) > 0 {
		ev.SetStr("firewall.diff", joinLines(d))
		ev.SetStr("event.outcome", "unknown")
	}
	w.send(ctx, ev)
}
