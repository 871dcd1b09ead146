package exception

import (
	"github.com/firewarden/firewarden/engine"
	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/query"
)

// Set runs many exceptions over an event at once (in an engine of their
// own, so the literal prefilter skips those that cannot match).
type Set struct {
	List []*Exception
	eng  *engine.Engine
	hit  []bool
}

// Compile compiles exceptions; one the engine cannot run is returned as
// an error and left out.
func Compile(xs []*Exception) (*Set, []error) {
	s := &Set{eng: engine.New()}
	var errs []error
	for _, x := range xs {
		if _, err := s.eng.Add(&query.Query{Stages: []query.Stage{query.Filter{Expr: x.Match}}}); err != nil {
			errs = append(errs, query.Errorf(x.Pos, "exception %q: %v", x.Name, err))
			continue
		}
		s.List = append(s.List, x)
	}
	s.hit = make([]bool, len(s.List))
	return s, errs
}

// Hits reports, by index into List, which exceptions match ev. The slice
// is reused: it is valid until the next call.
func (s *Set) Hits(ev *event.Event) []bool {
	clear(s.hit)
	s.eng.Match(ev, func(r *engine.Result) { s.hit[r.ID] = true })
	return s.hit
}
