package engine

import (
	"fmt"
	"regexp"
	"strconv"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/query"
)

// Assign and Extract stages (SPL eval and rex, KQL extend and parse) set
// fields for the stages after them. The fields are the program's own: each
// stage that sets a field gives it a fresh slot under a private path no
// event carries, and the program's later references to the field read
// that slot (compiler.locals). Other programs, and the program's earlier
// stages, still read the event's own field of that name; the event is
// never written.
//
// A stage runs as one of the program's filters, in stage order, and always
// passes; so a Filter after it sees the value it set. The stateful stage
// (an aggregation's group-by and functions) reads the values too.

// local gives field path a fresh program-local slot and returns it.
func (c *compiler) local(path string) int {
	if c.locals == nil {
		c.locals = map[string]int{}
	}
	n := len(c.locals)
	i := c.e.slot("\x00local/" + strconv.Itoa(c.prog.ID) + "/" + strconv.Itoa(n) + "/" + path)
	c.locals[path] = i
	return i
}

// set stores v in slot i for the current event.
func (k *ctx) set(i int, v event.Value) {
	s := &k.slots[i]
	s.gen, s.val = k.gen, v
	s.tgen, s.lgen = 0, 0 // texts are stale
}

func (c *compiler) assign(a query.Assign) (pred, error) {
	if a.Field == "" {
		return nil, &query.Error{Msg: "assign: no field name"}
	}
	v, err := c.value(a.Value) // reads the field's previous value, if any
	if err != nil {
		return nil, err
	}
	i := c.local(a.Field)
	return func(k *ctx) bool {
		k.set(i, v(k))
		return true
	}, nil
}

// extract applies the regular expression to the first value of the field
// it matches (each scalar of a list in turn) and sets each named capture:
// the matched text, or null when the group took no part in the match. On
// no match every capture keeps the value it had before the stage.
func (c *compiler) extract(x query.Extract) (pred, error) {
	re, err := regexp.Compile(x.Regex)
	if err != nil {
		return nil, &query.Error{Msg: fmt.Sprintf("extract: regular expression %q: %v", x.Regex, err)}
	}
	src := c.slot(x.Field)
	type capture struct {
		group     int
		prev, dst int
	}
	var caps []capture
	for g, name := range re.SubexpNames() {
		if name == "" {
			continue
		}
		prev := c.slot(name)
		caps = append(caps, capture{group: g, prev: prev})
	}
	if len(caps) == 0 {
		return nil, &query.Error{Msg: fmt.Sprintf("extract: regular expression %q has no named group", x.Regex)}
	}
	for j := range caps {
		caps[j].dst = c.local(re.SubexpNames()[caps[j].group])
	}
	return func(k *ctx) bool {
		var m []int
		var text string
		for _, t := range k.texts(src, false) {
			if m = re.FindStringSubmatchIndex(t); m != nil {
				text = t
				break
			}
		}
		for _, cp := range caps {
			switch {
			case m == nil:
				k.set(cp.dst, k.get(cp.prev).val)
			case m[2*cp.group] < 0:
				k.set(cp.dst, event.NullV())
			default:
				k.set(cp.dst, event.Str(text[m[2*cp.group]:m[2*cp.group+1]]))
			}
		}
		return true
	}, nil
}
