package hunt

import (
	"strings"
	"time"

	"github.com/firewarden/firewarden/alert"
	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/exception"
	"github.com/firewarden/firewarden/history"
	"github.com/firewarden/firewarden/rule"
)

// policy is what happens to a rule's alert between the engine and the
// sink, in this order: the rule's exceptions (single-event rules; a
// stateful rule has them compiled into its query), new terms (Elastic
// new_terms rules), deduplication by alert id within the look-back, alert
// suppression, and the rate limit of the rule's schedule (max_signals per
// interval).
type policy struct {
	rule *rule.Rule
	exc  []int // indices into the engine's exception set

	suppress *rule.Suppression
	groups   map[string]time.Time // suppression group -> end of its window

	seen map[string]time.Time // alert id -> event time (dedup)

	bucket      int64 // the schedule interval the rate count is for
	bucketCount int

	counts PolicyCounts
}

// PolicyCounts are the alerts a rule's policy held back.
type PolicyCounts struct {
	Excepted    int // dropped by an exception
	KnownTerms  int // new_terms: every term already seen within the history window
	Duplicates  int // the same alert id again within the look-back
	Suppressed  int // grouped into an earlier alert (alert suppression)
	RateLimited int // beyond max_signals within one interval
}

func (c PolicyCounts) any() bool { return c != PolicyCounts{} }

// maxPolicyState bounds a policy's dedup and suppression maps: beyond
// it, entries past their window are dropped, then the oldest.
const maxPolicyState = 100_000

// defaultDedupHorizon is how long an alert id is remembered for a rule
// without a schedule of its own.
const defaultDedupHorizon = time.Hour

// admit decides whether alert a of the policy's rule reaches the sink,
// counting it where it does not. hits reports which exceptions match an
// event (computed once per event).
func (p *policy) admit(a *alert.Alert, evs []*event.Event, hits func(*event.Event) []bool, terms *history.Store, excepted []int) bool {
	r := p.rule
	if len(evs) == 0 {
		return true
	}
	first := evs[0]
	if len(p.exc) > 0 {
		hs := hits(first)
		dropped := false
		for _, i := range p.exc {
			if hs[i] {
				excepted[i]++
				dropped = true
			}
		}
		if dropped {
			p.counts.Excepted++
			return false
		}
	}
	if nt := r.NewTerms; nt != nil && !p.newTerm(first, nt, terms) {
		p.counts.KnownTerms++
		return false
	}
	horizon := r.Schedule.LookBack
	if horizon <= 0 {
		horizon = defaultDedupHorizon
	}
	t := first.Time
	if last, ok := p.seen[a.ID]; ok && absDur(t.Sub(last)) <= horizon {
		p.counts.Duplicates++
		return false
	}
	if p.seen == nil {
		p.seen = map[string]time.Time{}
	}
	prune(p.seen, t, horizon)
	p.seen[a.ID] = t
	if s := p.suppress; s != nil {
		if key, ok := suppressionKey(first, s); ok {
			if end, ok := p.groups[key]; ok && !t.After(end) {
				p.counts.Suppressed++
				return false
			}
			if p.groups == nil {
				p.groups = map[string]time.Time{}
			}
			prune(p.groups, t, 0)
			p.groups[key] = t.Add(suppressFor(r, s))
		}
	}
	if sc := r.Schedule; sc.MaxSignals > 0 && sc.Interval > 0 {
		b := t.UnixNano() / int64(sc.Interval)
		if b != p.bucket {
			p.bucket, p.bucketCount = b, 0
		}
		if p.bucketCount++; p.bucketCount > sc.MaxSignals {
			p.counts.RateLimited++
			return false
		}
	}
	return true
}

// newTerm reports whether any combination of the fields' values of ev was
// not seen within the history window (and records them all). A field
// missing from the event makes no term, as Elasticsearch's terms
// aggregation has no bucket for it.
func (p *policy) newTerm(ev *event.Event, nt *rule.NewTerms, terms *history.Store) bool {
	combos := []string{""}
	for i, f := range nt.Fields {
		var vals []string
		ev.Get(f).Each(func(v event.Value) bool {
			if !v.IsNull() {
				vals = append(vals, v.String())
			}
			return true
		})
		if len(vals) == 0 {
			return false
		}
		var next []string
		for _, c := range combos {
			for _, v := range vals {
				if i > 0 {
					next = append(next, c+"\x1f"+v)
				} else {
					next = append(next, v)
				}
				if len(next) >= maxCombos {
					break
				}
			}
		}
		combos = next
	}
	isNew := false
	for _, c := range combos {
		if terms.Observe(p.rule.ID, c, ev.Time, nt.History) {
			isNew = true
		}
	}
	return isNew
}

// maxCombos bounds the value combinations of one event's new terms.
const maxCombos = 100

// suppressionKey is the alert's group: the values of the group-by fields.
// ok is false when a field is missing and the rule says not to suppress
// such alerts.
func suppressionKey(ev *event.Event, s *rule.Suppression) (string, bool) {
	var b strings.Builder
	for _, f := range s.GroupBy {
		v := ev.Get(f)
		if v.IsNull() && !s.SuppressMissing {
			return "", false
		}
		b.WriteString(v.String())
		b.WriteByte(0)
	}
	return b.String(), true
}

// suppressFor is the suppression window: its own duration, else the
// rule's interval (Kibana's "per rule execution"), else five minutes.
func suppressFor(r *rule.Rule, s *rule.Suppression) time.Duration {
	switch {
	case s.Duration > 0:
		return s.Duration
	case r.Schedule.Interval > 0:
		return r.Schedule.Interval
	}
	return 5 * time.Minute
}

// prune keeps a policy map bounded: when it is full, entries older than
// horizon before t (or whose window ended before t, for horizon 0) go.
func prune(m map[string]time.Time, t time.Time, horizon time.Duration) {
	if len(m) < maxPolicyState {
		return
	}
	for k, v := range m {
		if horizon > 0 && t.Sub(v) > horizon || horizon == 0 && t.After(v) {
			delete(m, k)
		}
	}
	for k := range m {
		if len(m) < maxPolicyState*9/10 {
			break
		}
		delete(m, k) // still full of live entries: forget arbitrary ones
	}
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// exceptionSet compiles the exceptions and decides, per rule, which
// apply: single-event rules check alerts against them (so each removal is
// counted); stateful rules get them compiled into their query.
func applicable(xs []*exception.Exception, r *rule.Rule, now time.Time) []int {
	var out []int
	for i, x := range xs {
		if x.AppliesTo(r.ID, r.Name, r.Tags, r.ExceptionLists, now) {
			out = append(out, i)
		}
	}
	return out
}
