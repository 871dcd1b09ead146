package sigma

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/firewarden/firewarden/query"
)

// irString renders an IR expression compactly, for tests:
//
//	and(…) or(…) not(…) sel:name(…) field~op[values] (~ when folded)
//	kw~[…] kw~all[…] exists(path) cmp(l op r) call:name(args) lit
func irString(x query.Expr) string {
	var b strings.Builder
	writeIR(&b, x)
	return b.String()
}

func writeIR(b *strings.Builder, x query.Expr) {
	list := func(name string, xs []query.Expr) {
		b.WriteString(name + "(")
		for i, y := range xs {
			if i > 0 {
				b.WriteString(", ")
			}
			writeIR(b, y)
		}
		b.WriteString(")")
	}
	quoted := func(vs []string) string {
		qs := make([]string, len(vs))
		for i, v := range vs {
			qs[i] = strconv.Quote(v)
		}
		return "[" + strings.Join(qs, " ") + "]"
	}
	switch t := x.(type) {
	case nil:
		b.WriteString("<nil>")
	case query.And:
		list("and", t.X)
	case query.Or:
		list("or", t.X)
	case query.Not:
		list("not", []query.Expr{t.X})
	case query.Named:
		list("sel:"+t.Name, []query.Expr{t.X})
	case query.Const:
		fmt.Fprintf(b, "%v", t.V)
	case query.Match:
		writeIR(b, t.Field)
		if t.Fold {
			b.WriteString("~")
		}
		b.WriteString(t.Op.String())
		if t.All {
			b.WriteString("-all")
		}
		if t.Quant == query.Every {
			b.WriteString("-every")
		}
		b.WriteString(quoted(t.Values))
	case query.Keyword:
		b.WriteString("kw")
		if t.Fold {
			b.WriteString("~")
		}
		if t.All {
			b.WriteString("all")
		}
		b.WriteString(quoted(t.Values))
	case query.Exists:
		b.WriteString("exists(" + t.Path + ")")
	case query.Field:
		b.WriteString(t.Path)
	case query.Lit:
		if t.V.Kind == 5 { // string
			b.WriteString(strconv.Quote(t.V.Str))
		} else {
			b.WriteString(t.V.String())
		}
	case query.Call:
		name := "call:" + t.Name
		if t.Fold {
			name += "~"
		}
		list(name, t.Args)
	case query.Truthy:
		list("truthy", []query.Expr{t.X})
	case query.Compare:
		b.WriteString("cmp(")
		writeIR(b, t.L)
		b.WriteString(" " + t.Op.String())
		if t.Fold {
			b.WriteString("~")
		}
		b.WriteString(" ")
		writeIR(b, t.R)
		b.WriteString(")")
	default:
		fmt.Fprintf(b, "%#v", x)
	}
}
