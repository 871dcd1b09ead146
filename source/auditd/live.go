package auditd

import (
	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/source"
)

// Live normalises audit records read live from the kernel (sensor/audit)
// exactly as Raw does records read from audit.log: the same ECS events,
// the same auditd.* raw fields. One Live keeps one process table, like one
// input file. It is not safe for concurrent use.
type Live struct {
	in *source.Input
	n  *normaliser
}

// NewLive returns a normaliser for live records; name stands for the
// input's name (log.file.path on its events: callers may delete it).
func NewLive(name string) *Live {
	in := &source.Input{Name: name, Stats: &source.Stats{Name: name, Format: "auditd"}}
	return &Live{in: in, n: newNormaliser(in)}
}

// Events normalises the records of one audit event id, each given as a
// raw log line ("type=NETFILTER_CFG msg=audit(1700000000.123:42): …"),
// in the order the kernel sent them. A malformed line is counted in
// Stats and left out.
func (l *Live) Events(lines []string) []*event.Event {
	var h header
	var recs []record
	for i, line := range lines {
		hh, rec, col, msg := parseLine([]byte(line))
		if msg != "" {
			l.in.Badf(i+1, col, "%s", msg)
			continue
		}
		if rec.typ == "EOE" {
			continue
		}
		if len(recs) == 0 {
			h = hh
		}
		recs = append(recs, rec)
	}
	return l.n.events(h, 0, recs)
}

// Stats counts the malformed lines Events met.
func (l *Live) Stats() *source.Stats { return l.in.Stats }
