package engine

import (
	"unsafe"

	"github.com/firewarden/firewarden/event"
)

// Loading the slots of an event in one pass over its fields is cheaper
// than looking each slot's path up in the event: most sources intern
// their field paths, so a path is recognised by the address of its bytes
// (one word hashed) rather than by its text, and the slots the event lacks
// cost nothing.

// pathRef is what the engine knows of one interned path string. It holds
// the string, so the address cannot be reused for other text while the
// entry exists.
type pathRef struct {
	s    string
	slot int32 // -1: no program reads the path
}

// maxPathRefs bounds the address cache; paths seen after it is full are
// looked up by text.
const maxPathRefs = 4096

// slotOfPath returns the slot of path, or -1.
func (e *Engine) slotOfPath(path string) int {
	if len(path) == 0 {
		i, ok := e.slotOf[path]
		if !ok {
			return -1
		}
		return i
	}
	p := uintptr(unsafe.Pointer(unsafe.StringData(path)))
	if r, ok := e.pathRefs[p]; ok && len(r.s) == len(path) {
		return int(r.slot)
	}
	i, ok := e.slotOf[path]
	if !ok {
		i = -1
	}
	if e.pathRefs == nil {
		e.pathRefs = make(map[uintptr]pathRef)
	}
	if len(e.pathRefs) < maxPathRefs {
		e.pathRefs[p] = pathRef{s: path, slot: int32(i)}
	}
	return i
}

// load fills every slot of the current event in one pass over its fields;
// ctx.get then knows a slot it did not fill is absent.
func (c *ctx) load() {
	e, gen := c.e, c.gen
	c.ev.Range(func(path string, v event.Value) bool {
		if i := e.slotOfPath(path); i >= 0 {
			s := &c.slots[i]
			s.gen, s.val = gen, v
		}
		return true
	})
	c.loaded = gen
}
