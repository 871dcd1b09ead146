package engine

import (
	"strings"

	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/query"
)

func (c *compiler) compare(x query.Compare) (pred, error) {
	l, err := c.value(x.L)
	if err != nil {
		return nil, err
	}
	r, err := c.value(x.R)
	if err != nil {
		return nil, err
	}
	op, fold, null, every := x.Op, x.Fold, x.Null, x.Quant == query.Every
	return func(k *ctx) bool {
		lv, rv := l(k), r(k)
		if lv.IsNull() || rv.IsNull() {
			return null
		}
		n := 0
		res := lv.Each(func(a event.Value) bool {
			if a.Kind == event.Null {
				return true
			}
			n++
			hit := false
			rv.Each(func(b event.Value) bool {
				if b.Kind != event.Null && cmpHolds(op, a, b, fold) {
					hit = true
				}
				return !hit
			})
			if every {
				return hit
			}
			return !hit
		})
		if every {
			return res && n > 0
		}
		return !res
	}, nil
}

// cmpHolds compares two scalars: numerically when both are numbers (or one
// is a number and the other a string holding one), by text otherwise.
func cmpHolds(op query.CmpOp, a, b event.Value, fold bool) bool {
	if d, ok := numCmp(a, b); ok {
		return holds(op, d)
	}
	as, bs := a.String(), b.String()
	if fold {
		as, bs = lower(as), lower(bs)
	}
	return holds(op, strings.Compare(as, bs))
}

func numCmp(a, b event.Value) (int, bool) {
	an, bn := isNum(a), isNum(b)
	if !an && !bn {
		return 0, false
	}
	if a.Kind == event.Int && b.Kind == event.Int {
		return cmpInt(a.Int, b.Int), true
	}
	x, ok1 := a.Number()
	y, ok2 := b.Number()
	if !ok1 || !ok2 {
		return 0, false
	}
	switch {
	case x < y:
		return -1, true
	case x > y:
		return 1, true
	}
	return 0, true
}

func isNum(v event.Value) bool { return v.Kind == event.Int || v.Kind == event.Float }

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func holds(op query.CmpOp, d int) bool {
	switch op {
	case query.Eq:
		return d == 0
	case query.Ne:
		return d != 0
	case query.Lt:
		return d < 0
	case query.Le:
		return d <= 0
	case query.Gt:
		return d > 0
	case query.Ge:
		return d >= 0
	}
	return false
}
