package spl

import (
	"strings"

	"github.com/firewarden/firewarden/query"
)

// Parse expands the macros of text and parses the search.
func Parse(text string, opts Options) (*Search, error) {
	ms := opts.Macros
	if ms == nil {
		ms = Builtin()
	}
	src, origin, err := expand(text, ms, opts.Base)
	if err != nil {
		return nil, err
	}
	p := &parser{s: scanner{src: src, origin: origin, text: text, base: opts.Base}}
	return p.search()
}

type parser struct {
	s     scanner
	depth int
}

// refusedCommands are SPL commands firewarden knows and does not run,
// with the reason.
var refusedCommands = map[string]string{
	"lookup":       "lookup tables are not available to firewarden",
	"inputlookup":  "lookup tables are not available to firewarden",
	"outputlookup": "lookup tables are not available to firewarden",
	"join":         "joins of two searches are not supported",
	"append":       "subsearches are not supported",
	"appendcols":   "subsearches are not supported",
	"appendpipe":   "subsearches are not supported",
	"union":        "subsearches are not supported",
	"multisearch":  "subsearches are not supported",
	"map":          "subsearches are not supported",
	"transaction":  "transactions are not supported",
	"eventstats":   "eventstats needs the whole result set",
	"streamstats":  "streamstats is not supported",
	"sort":         "a streaming search has no end to sort at",
	"head":         "a streaming search has no end",
	"tail":         "a streaming search has no end",
	"reverse":      "a streaming search has no end",
	"top":          "a streaming search has no end",
	"rare":         "a streaming search has no end",
	"chart":        "charts are not supported",
	"timechart":    "charts are not supported",
	"fillnull":     "fillnull is not supported",
	"mvexpand":     "mvexpand is not supported",
	"makemv":       "makemv is not supported",
	"spath":        "spath is not supported",
	"xmlkv":        "xmlkv is not supported",
	"kvform":       "kvform is not supported",
	"iplocation":   "iplocation needs a geo database",
	"datamodel":    "the datamodel command is not supported (use tstats)",
	"from":         "from is not supported (use tstats … from datamodel=…)",
	"makeresults":  "makeresults is not supported",
	"return":       "subsearches are not supported",
	"format":       "subsearches are not supported",
	"collect":      "collect writes to an index",
	"sendalert":    "sendalert is not supported",
	"tstats":       "tstats must be the first command",
	"addinfo":      "addinfo is not supported",
	"search_id":    "not supported",
	"dbinspect":    "not supported",
	"rest":         "the REST API is not available",
	"metadata":     "not supported",
	"inputcsv":     "not supported",
	"outputcsv":    "not supported",
}

func (p *parser) peek(expr bool) token {
	save := p.s.off
	t, err := p.s.next(expr)
	p.s.off = save
	if err != nil {
		return token{kind: tEOF, off: save}
	}
	return t
}

func (p *parser) next(expr bool) (token, error) { return p.s.next(expr) }

func (p *parser) expectOp(op string, expr bool, what string) (token, error) {
	t, err := p.next(expr)
	if err != nil {
		return t, err
	}
	if t.kind != tOp || t.text != op {
		return t, p.s.errorf(t.off, "%s: expected %q, found %s", what, op, t.describe())
	}
	return t, nil
}

func isWord(t token, w string) bool { return t.kind == tWord && strings.EqualFold(t.text, w) }

func atEnd(t token) bool { return t.kind == tEOF || t.kind == tOp && (t.text == "|" || t.text == "]") }

func (p *parser) search() (*Search, error) {
	s := &Search{Text: p.s.src}
	first := true
	for {
		t := p.peek(false)
		if t.kind == tEOF {
			break
		}
		if t.kind == tOp && t.text == "|" {
			p.next(false)
			first = false
			cmd, err := p.command(len(s.Commands) == 0)
			if err != nil {
				return nil, err
			}
			s.Commands = append(s.Commands, cmd)
			continue
		}
		if !first {
			return nil, p.s.errorf(t.off, "expected | between commands, found %s", t.describe())
		}
		// The initial search, without a leading pipe.
		first = false
		x, err := p.searchExpr()
		if err != nil {
			return nil, err
		}
		s.Commands = append(s.Commands, &SearchCmd{node{p.s.pos(t.off)}, x})
	}
	if len(s.Commands) == 0 {
		return nil, p.s.errorf(0, "empty search")
	}
	return s, nil
}

// command parses one command after its pipe.
func (p *parser) command(leading bool) (Command, error) {
	t, err := p.next(false)
	if err != nil {
		return nil, err
	}
	if t.kind != tWord {
		return nil, p.s.errorf(t.off, "expected a command name, found %s", t.describe())
	}
	name := strings.ToLower(t.text)
	at := node{p.s.pos(t.off)}
	switch name {
	case "tstats":
		if !leading {
			return nil, &query.Unsupported{Pos: at.P, Construct: "tstats", Why: "tstats must be the first command"}
		}
		return p.tstats(at)
	case "search":
		x, err := p.searchExpr()
		if err != nil {
			return nil, err
		}
		return &SearchCmd{at, x}, nil
	case "where":
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		if err := p.endCommand("where"); err != nil {
			return nil, err
		}
		return &Where{at, x}, nil
	case "eval":
		return p.eval(at)
	case "stats":
		aggs, by, err := p.aggsBy("stats")
		if err != nil {
			return nil, err
		}
		return &Stats{at, aggs, by}, nil
	case "rex":
		return p.rex(at)
	case "regex":
		return p.regex(at)
	case "rename":
		return p.rename(at)
	case "table", "fields":
		return p.fields(at, name == "table")
	case "dedup":
		f, err := p.fields(at, true)
		if err != nil {
			return nil, err
		}
		return &Dedup{at, f.(*Fields).Names}, nil
	case "bin", "bucket":
		return p.bin(at)
	case "convert":
		return p.convert(at)
	case "foreach":
		return p.foreach(at)
	}
	if why, ok := refusedCommands[name]; ok {
		return nil, &query.Unsupported{Pos: at.P, Construct: name, Why: why}
	}
	return nil, &query.Unsupported{Pos: at.P, Construct: name, Why: "not a command firewarden knows"}
}

func (p *parser) endCommand(what string) error {
	t := p.peek(false)
	if !atEnd(t) {
		return p.s.errorf(t.off, "%s: expected | or end of search, found %s", what, t.describe())
	}
	return nil
}

// Search expressions: OR binds loosest, then AND (implicit between
// terms), then NOT.
func (p *parser) searchExpr() (Expr, error) {
	t := p.peek(false)
	if atEnd(t) {
		return nil, nil
	}
	x, err := p.searchOr(false)
	if err != nil {
		return nil, err
	}
	if t := p.peek(false); !atEnd(t) {
		return nil, p.s.errorf(t.off, "search: unexpected %s", t.describe())
	}
	return x, nil
}

// stopBy: a top-level "by" ends the expression (tstats where … by …).
func (p *parser) searchOr(stopBy bool) (Expr, error) {
	x, err := p.searchAnd(stopBy)
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek(false)
		if t.kind != tWord || t.text != "OR" {
			return x, nil
		}
		p.next(false)
		y, err := p.searchAnd(stopBy)
		if err != nil {
			return nil, err
		}
		x = &Binary{node{p.s.pos(t.off)}, "OR", x, y}
	}
}

func (p *parser) searchAnd(stopBy bool) (Expr, error) {
	x, err := p.searchNot(stopBy)
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek(false)
		if atEnd(t) || t.kind == tOp && t.text == ")" || t.kind == tWord && t.text == "OR" || stopBy && isWord(t, "by") {
			return x, nil
		}
		if t.kind == tWord && t.text == "AND" {
			p.next(false)
		}
		y, err := p.searchNot(stopBy)
		if err != nil {
			return nil, err
		}
		x = &Binary{node{p.s.pos(t.off)}, "AND", x, y}
	}
}

func (p *parser) searchNot(stopBy bool) (Expr, error) {
	t := p.peek(false)
	if t.kind == tWord && t.text == "NOT" {
		p.next(false)
		x, err := p.searchNot(stopBy)
		if err != nil {
			return nil, err
		}
		return &Unary{node{p.s.pos(t.off)}, "NOT", x}, nil
	}
	return p.searchTerm(stopBy)
}

func (p *parser) enter(off int) error {
	p.depth++
	if p.depth > 200 {
		return p.s.errorf(off, "expression nested too deeply")
	}
	return nil
}

func (p *parser) searchTerm(stopBy bool) (Expr, error) {
	t, err := p.next(false)
	if err != nil {
		return nil, err
	}
	at := node{p.s.pos(t.off)}
	switch {
	case t.kind == tOp && t.text == "(":
		if err := p.enter(t.off); err != nil {
			return nil, err
		}
		defer func() { p.depth-- }()
		x, err := p.searchOr(stopBy)
		if err != nil {
			return nil, err
		}
		if _, err := p.expectOp(")", false, "search"); err != nil {
			return nil, err
		}
		return x, nil
	case t.kind == tOp && t.text == "[":
		return nil, &query.Unsupported{Pos: at.P, Construct: "subsearch [ … ]", Why: "subsearches are not supported"}
	case t.kind == tString:
		return &Term{at, t.text, true}, nil
	case t.kind == tWord:
	default:
		return nil, p.s.errorf(t.off, "search: expected a search term, found %s", t.describe())
	}
	// A word: a field comparison, field IN (…), or a bare term.
	n := p.peek(false)
	if n.kind == tOp {
		switch n.text {
		case "=", "==", "!=", "<", "<=", ">", ">=":
			p.next(false)
			v, err := p.next(false)
			if err != nil {
				return nil, err
			}
			if v.kind != tWord && v.kind != tString {
				return nil, p.s.errorf(v.off, "search: expected a value after %s%s, found %s", t.text, n.text, v.describe())
			}
			op := n.text
			if op == "==" {
				op = "="
			}
			return &FieldTerm{at, t.text, op, v.text, v.kind == tString}, nil
		}
	}
	if isWord(n, "IN") {
		save := p.s.off
		p.next(false)
		if o := p.peek(false); o.kind == tOp && o.text == "(" {
			p.next(false)
			var vals []string
			for {
				v, err := p.next(false)
				if err != nil {
					return nil, err
				}
				if v.kind != tWord && v.kind != tString {
					return nil, p.s.errorf(v.off, "search: %s IN: expected a value, found %s", t.text, v.describe())
				}
				vals = append(vals, v.text)
				// Values are separated by commas or, as Splunk also
				// accepts, by white space alone.
				sep := p.peek(false)
				if sep.kind == tOp && sep.text == ")" {
					p.next(false)
					break
				}
				if sep.kind == tOp && sep.text == "," {
					p.next(false)
				} else if sep.kind != tWord && sep.kind != tString {
					return nil, p.s.errorf(sep.off, "search: %s IN: expected , or ), found %s", t.text, sep.describe())
				}
			}
			return &FieldIn{at, t.text, vals}, nil
		}
		p.s.off = save
	}
	if strings.HasPrefix(t.text, "`") {
		return nil, p.s.errorf(t.off, "search: unexpected macro text %s", t.describe())
	}
	return &Term{at, t.text, false}, nil
}

// tstats [opts] aggs from datamodel=M [where …] [by …]
func (p *parser) tstats(at node) (Command, error) {
	ts := &Tstats{node: at, Opts: map[string]string{}}
	// Options: key=value before the aggregates.
	for {
		t := p.peek(false)
		if t.kind != tWord {
			break
		}
		save := p.s.off
		p.next(false)
		if eq := p.peek(false); eq.kind == tOp && eq.text == "=" {
			p.next(false)
			v, err := p.next(false)
			if err != nil {
				return nil, err
			}
			ts.Opts[strings.ToLower(t.text)] = v.text
			continue
		}
		p.s.off = save
		break
	}
	aggs, err := p.aggList("tstats", func(t token) bool { return isWord(t, "from") })
	if err != nil {
		return nil, err
	}
	ts.Aggs = aggs
	t, err := p.next(false)
	if err != nil {
		return nil, err
	}
	if !isWord(t, "from") {
		return nil, p.s.errorf(t.off, "tstats: expected from datamodel=…, found %s", t.describe())
	}
	t, err = p.next(false)
	if err != nil {
		return nil, err
	}
	if !isWord(t, "datamodel") {
		return nil, &query.Unsupported{Pos: p.s.pos(t.off), Construct: "tstats from " + t.text, Why: "only data models are supported"}
	}
	if _, err := p.expectOp("=", false, "tstats from datamodel"); err != nil {
		return nil, err
	}
	dm, err := p.next(false)
	if err != nil {
		return nil, err
	}
	if dm.kind != tWord && dm.kind != tString {
		return nil, p.s.errorf(dm.off, "tstats: expected a data model name, found %s", dm.describe())
	}
	ts.DataModel = dm.text
	for {
		t := p.peek(false)
		switch {
		case atEnd(t):
			return ts, nil
		case isWord(t, "where"):
			p.next(false)
			x, err := p.searchOr(true)
			if err != nil {
				return nil, err
			}
			ts.Where = x
		case isWord(t, "by"):
			p.next(false)
			by, err := p.byList("tstats")
			if err != nil {
				return nil, err
			}
			ts.By = by
		default:
			return nil, p.s.errorf(t.off, "tstats: expected where, by or |, found %s", t.describe())
		}
	}
}

// aggList reads fn(field) [as name] … until stop or by or the end.
func (p *parser) aggList(cmd string, stop func(token) bool) ([]Agg, error) {
	var aggs []Agg
	for {
		t := p.peek(false)
		if atEnd(t) || stop(t) || isWord(t, "by") {
			return aggs, nil
		}
		if t.kind == tOp && t.text == "," {
			p.next(false)
			continue
		}
		p.next(false)
		if t.kind != tWord {
			return nil, p.s.errorf(t.off, "%s: expected an aggregate function, found %s", cmd, t.describe())
		}
		a := Agg{P: p.s.pos(t.off), Func: strings.ToLower(t.text)}
		if o := p.peek(false); o.kind == tOp && o.text == "(" {
			p.next(false)
			f, err := p.next(false)
			if err != nil {
				return nil, err
			}
			if f.kind != tWord && f.kind != tString {
				return nil, p.s.errorf(f.off, "%s: %s(): expected a field, found %s", cmd, a.Func, f.describe())
			}
			if f.kind == tWord && strings.HasPrefix(f.text, "eval") {
				return nil, &query.Unsupported{Pos: p.s.pos(f.off), Construct: a.Func + "(eval(…))", Why: "eval expressions inside aggregates are not supported"}
			}
			a.Field = f.text
			if _, err := p.expectOp(")", false, cmd+" "+a.Func+"()"); err != nil {
				return nil, err
			}
		} else if i := strings.IndexByte(t.text, '('); i > 0 {
			return nil, p.s.errorf(t.off, "%s: malformed aggregate %s", cmd, t.describe())
		}
		if as := p.peek(false); isWord(as, "as") {
			p.next(false)
			n, err := p.next(false)
			if err != nil {
				return nil, err
			}
			if n.kind != tWord && n.kind != tString {
				return nil, p.s.errorf(n.off, "%s: expected a name after as, found %s", cmd, n.describe())
			}
			a.As = n.text
		}
		aggs = append(aggs, a)
	}
}

func (p *parser) byList(cmd string) ([]ByField, error) {
	var by []ByField
	for {
		t := p.peek(false)
		if atEnd(t) {
			if len(by) == 0 {
				return nil, p.s.errorf(t.off, "%s: expected a field after by", cmd)
			}
			return by, nil
		}
		p.next(false)
		if t.kind == tOp && t.text == "," {
			continue
		}
		if t.kind != tWord && t.kind != tString {
			return nil, p.s.errorf(t.off, "%s by: expected a field, found %s", cmd, t.describe())
		}
		if eq := p.peek(false); eq.kind == tOp && eq.text == "=" {
			p.next(false)
			v, err := p.next(false)
			if err != nil {
				return nil, err
			}
			if !strings.EqualFold(t.text, "span") {
				return nil, &query.Unsupported{Pos: p.s.pos(t.off), Construct: cmd + " by option " + t.text, Why: "only span= is supported"}
			}
			if len(by) == 0 || by[len(by)-1].Name != "_time" {
				return nil, p.s.errorf(t.off, "%s: span= must follow _time", cmd)
			}
			by[len(by)-1].Span = v.text
			continue
		}
		by = append(by, ByField{P: p.s.pos(t.off), Name: t.text})
	}
}

func (p *parser) aggsBy(cmd string) ([]Agg, []ByField, error) {
	aggs, err := p.aggList(cmd, func(token) bool { return false })
	if err != nil {
		return nil, nil, err
	}
	if len(aggs) == 0 {
		t := p.peek(false)
		return nil, nil, p.s.errorf(t.off, "%s: expected an aggregate function, found %s", cmd, t.describe())
	}
	var by []ByField
	if t := p.peek(false); isWord(t, "by") {
		p.next(false)
		if by, err = p.byList(cmd); err != nil {
			return nil, nil, err
		}
	}
	return aggs, by, nil
}

func (p *parser) eval(at node) (Command, error) {
	ev := &Eval{node: at}
	for {
		t, err := p.next(true)
		if err != nil {
			return nil, err
		}
		if t.kind != tWord && t.kind != tField && t.kind != tString {
			return nil, p.s.errorf(t.off, "eval: expected a field name, found %s", t.describe())
		}
		if _, err := p.expectOp("=", true, "eval "+t.text); err != nil {
			return nil, err
		}
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		ev.Assigns = append(ev.Assigns, EvalAssign{P: p.s.pos(t.off), Field: t.text, X: x})
		n := p.peek(true)
		if n.kind == tOp && n.text == "," {
			p.next(true)
			continue
		}
		if err := p.endCommand("eval"); err != nil {
			return nil, err
		}
		return ev, nil
	}
}

type option struct {
	key  string // as written
	neg  bool   // key!=value
	val  token
	name string // lower-cased key
}

// options reads key=value pairs; it stops at anything else.
func (p *parser) options() ([]option, error) {
	var opts []option
	for {
		t := p.peek(false)
		if t.kind != tWord {
			return opts, nil
		}
		save := p.s.off
		p.next(false)
		eq := p.peek(false)
		if eq.kind != tOp || eq.text != "=" && eq.text != "!=" {
			p.s.off = save
			return opts, nil
		}
		p.next(false)
		v, err := p.next(false)
		if err != nil {
			return nil, err
		}
		opts = append(opts, option{key: t.text, neg: eq.text == "!=", val: v, name: strings.ToLower(t.text)})
	}
}

func (p *parser) rex(at node) (Command, error) {
	opts, err := p.options()
	if err != nil {
		return nil, err
	}
	r := &Rex{node: at, Field: "_raw"}
	for _, o := range opts {
		switch {
		case o.neg:
			return nil, p.s.errorf(o.val.off, "rex: unexpected %s!=", o.key)
		case o.name == "field":
			r.Field = o.val.text
		case o.name == "max_match":
			if o.val.text != "1" {
				return nil, &query.Unsupported{Pos: at.P, Construct: "rex max_match=" + o.val.text, Why: "only the first match is extracted"}
			}
		case o.name == "mode":
			return nil, &query.Unsupported{Pos: at.P, Construct: "rex mode=" + o.val.text}
		default:
			return nil, &query.Unsupported{Pos: at.P, Construct: "rex " + o.key + "="}
		}
	}
	t, err := p.next(false)
	if err != nil {
		return nil, err
	}
	if t.kind != tString {
		return nil, p.s.errorf(t.off, "rex: expected a quoted regular expression, found %s", t.describe())
	}
	r.Pattern = t.text
	return r, p.endCommand("rex")
}

func (p *parser) regex(at node) (Command, error) {
	opts, err := p.options()
	if err != nil {
		return nil, err
	}
	r := &Regex{node: at, Field: "_raw"}
	switch len(opts) {
	case 0:
		t, err := p.next(false)
		if err != nil {
			return nil, err
		}
		if t.kind != tString {
			return nil, p.s.errorf(t.off, "regex: expected field=\"regex\", found %s", t.describe())
		}
		r.Pattern = t.text
	case 1:
		r.Field, r.Neg, r.Pattern = opts[0].key, opts[0].neg, opts[0].val.text
	default:
		return nil, p.s.errorf(opts[1].val.off, "regex: one field=\"regex\" expected")
	}
	return r, p.endCommand("regex")
}

func (p *parser) rename(at node) (Command, error) {
	r := &Rename{node: at}
	for {
		a, err := p.next(false)
		if err != nil {
			return nil, err
		}
		if a.kind != tWord && a.kind != tString {
			return nil, p.s.errorf(a.off, "rename: expected a field, found %s", a.describe())
		}
		as, err := p.next(false)
		if err != nil {
			return nil, err
		}
		if !isWord(as, "as") {
			return nil, p.s.errorf(as.off, "rename %s: expected as, found %s", a.text, as.describe())
		}
		b, err := p.next(false)
		if err != nil {
			return nil, err
		}
		if b.kind != tWord && b.kind != tString {
			return nil, p.s.errorf(b.off, "rename: expected a field, found %s", b.describe())
		}
		r.Pairs = append(r.Pairs, [2]string{a.text, b.text})
		n := p.peek(false)
		if n.kind == tOp && n.text == "," {
			p.next(false)
			n = p.peek(false)
		}
		if atEnd(n) {
			return r, nil
		}
	}
}

func (p *parser) fields(at node, table bool) (Command, error) {
	f := &Fields{node: at, Table: table}
	for {
		t := p.peek(false)
		if atEnd(t) {
			if len(f.Names) == 0 {
				return nil, p.s.errorf(t.off, "expected field names, found %s", t.describe())
			}
			return f, nil
		}
		p.next(false)
		switch {
		case t.kind == tOp && t.text == ",":
		case t.kind == tWord && (t.text == "-" || t.text == "+") && len(f.Names) == 0 && !table:
			f.Remove = t.text == "-"
		case t.kind == tWord || t.kind == tString:
			f.Names = append(f.Names, t.text)
		default:
			return nil, p.s.errorf(t.off, "expected a field name, found %s", t.describe())
		}
	}
}

func (p *parser) bin(at node) (Command, error) {
	b := &Bin{node: at}
	for {
		t := p.peek(false)
		if atEnd(t) {
			break
		}
		p.next(false)
		if t.kind != tWord && t.kind != tString {
			return nil, p.s.errorf(t.off, "bin: unexpected %s", t.describe())
		}
		if eq := p.peek(false); eq.kind == tOp && eq.text == "=" {
			p.next(false)
			v, err := p.next(false)
			if err != nil {
				return nil, err
			}
			if !strings.EqualFold(t.text, "span") {
				return nil, &query.Unsupported{Pos: p.s.pos(t.off), Construct: "bin " + t.text + "=", Why: "only span= is supported"}
			}
			b.Span = v.text
			continue
		}
		if isWord(t, "as") {
			n, err := p.next(false)
			if err != nil {
				return nil, err
			}
			b.As = n.text
			continue
		}
		if b.Field != "" {
			return nil, p.s.errorf(t.off, "bin: unexpected %s", t.describe())
		}
		b.Field = t.text
	}
	if b.Field == "" || b.Span == "" {
		return nil, query.Errorf(at.P, "bin: expected a field and span=")
	}
	return b, nil
}

func (p *parser) convert(at node) (Command, error) {
	c := &Convert{node: at}
	for {
		t := p.peek(false)
		if atEnd(t) {
			break
		}
		p.next(false)
		if t.kind == tOp && t.text == "," {
			continue
		}
		if t.kind != tWord {
			return nil, p.s.errorf(t.off, "convert: unexpected %s", t.describe())
		}
		if eq := p.peek(false); eq.kind == tOp && eq.text == "=" {
			p.next(false)
			if _, err := p.next(false); err != nil {
				return nil, err
			}
			if !strings.EqualFold(t.text, "timeformat") {
				return nil, &query.Unsupported{Pos: p.s.pos(t.off), Construct: "convert " + t.text + "="}
			}
			continue
		}
		fn := strings.ToLower(t.text)
		if _, err := p.expectOp("(", false, "convert "+fn); err != nil {
			return nil, err
		}
		f, err := p.next(false)
		if err != nil {
			return nil, err
		}
		if _, err := p.expectOp(")", false, "convert "+fn); err != nil {
			return nil, err
		}
		cf := ConvertFn{Func: fn, Field: f.text}
		if as := p.peek(false); isWord(as, "as") {
			p.next(false)
			n, err := p.next(false)
			if err != nil {
				return nil, err
			}
			cf.As = n.text
		}
		switch fn {
		case "ctime", "mktime", "dur2sec", "num", "auto", "none", "rmunit", "memk", "mstime", "rmcomma":
		default:
			return nil, &query.Unsupported{Pos: p.s.pos(t.off), Construct: "convert " + fn + "()"}
		}
		c.Funcs = append(c.Funcs, cf)
	}
	return c, nil
}

func (p *parser) foreach(at node) (Command, error) {
	f := &Foreach{node: at}
	t, err := p.next(false)
	if err != nil {
		return nil, err
	}
	if t.kind != tWord && t.kind != tString {
		return nil, p.s.errorf(t.off, "foreach: expected a field pattern, found %s", t.describe())
	}
	f.Pattern = t.text
	if n := p.peek(false); n.kind != tOp || n.text != "[" {
		return nil, &query.Unsupported{Pos: p.s.pos(n.off), Construct: "foreach with several patterns or options"}
	}
	p.next(false)
	for {
		cmd, err := p.command(false)
		if err != nil {
			return nil, err
		}
		if _, ok := cmd.(*Eval); !ok {
			return nil, &query.Unsupported{Pos: cmd.Pos(), Construct: "foreach body other than eval"}
		}
		f.Body = append(f.Body, cmd)
		n, err := p.next(false)
		if err != nil {
			return nil, err
		}
		if n.kind == tOp && n.text == "]" {
			return f, nil
		}
		if n.kind != tOp || n.text != "|" {
			return nil, p.s.errorf(n.off, "foreach: expected ] or |, found %s", n.describe())
		}
	}
}

// Eval expressions, loosest first: OR, XOR, AND, NOT, comparison and
// LIKE/IN, + - and ., * / %, unary minus, primary.
func (p *parser) expr() (Expr, error) { return p.binary(0) }

var levels = [][]string{{"OR"}, {"XOR"}, {"AND"}}

func (p *parser) binary(level int) (Expr, error) {
	if level == len(levels) {
		return p.notExpr()
	}
	x, err := p.binary(level + 1)
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek(true)
		op := ""
		for _, o := range levels[level] {
			if isWord(t, o) {
				op = o
			}
		}
		if op == "" {
			return x, nil
		}
		p.next(true)
		y, err := p.binary(level + 1)
		if err != nil {
			return nil, err
		}
		x = &Binary{node{p.s.pos(t.off)}, op, x, y}
	}
}

func (p *parser) notExpr() (Expr, error) {
	t := p.peek(true)
	if isWord(t, "NOT") || t.kind == tOp && t.text == "!" {
		p.next(true)
		if err := p.enter(t.off); err != nil {
			return nil, err
		}
		defer func() { p.depth-- }()
		x, err := p.notExpr()
		if err != nil {
			return nil, err
		}
		return &Unary{node{p.s.pos(t.off)}, "NOT", x}, nil
	}
	return p.comparison()
}

func (p *parser) comparison() (Expr, error) {
	x, err := p.additive()
	if err != nil {
		return nil, err
	}
	t := p.peek(true)
	switch {
	case t.kind == tOp && (t.text == "=" || t.text == "==" || t.text == "!=" || t.text == "<" || t.text == "<=" || t.text == ">" || t.text == ">="):
		p.next(true)
		y, err := p.additive()
		if err != nil {
			return nil, err
		}
		op := t.text
		if op == "==" {
			op = "="
		}
		return &Binary{node{p.s.pos(t.off)}, op, x, y}, nil
	case isWord(t, "LIKE"):
		p.next(true)
		y, err := p.additive()
		if err != nil {
			return nil, err
		}
		return &Binary{node{p.s.pos(t.off)}, "LIKE", x, y}, nil
	case isWord(t, "IN"):
		p.next(true)
		if _, err := p.expectOp("(", true, "IN"); err != nil {
			return nil, err
		}
		args, err := p.args("IN")
		if err != nil {
			return nil, err
		}
		return &In{node{p.s.pos(t.off)}, x, args}, nil
	}
	return x, nil
}

func (p *parser) additive() (Expr, error) {
	x, err := p.multiplicative()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek(true)
		if t.kind != tOp || t.text != "+" && t.text != "-" && t.text != "." {
			return x, nil
		}
		p.next(true)
		y, err := p.multiplicative()
		if err != nil {
			return nil, err
		}
		x = &Binary{node{p.s.pos(t.off)}, t.text, x, y}
	}
}

func (p *parser) multiplicative() (Expr, error) {
	x, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek(true)
		if t.kind != tOp || t.text != "*" && t.text != "/" && t.text != "%" {
			return x, nil
		}
		p.next(true)
		y, err := p.unary()
		if err != nil {
			return nil, err
		}
		x = &Binary{node{p.s.pos(t.off)}, t.text, x, y}
	}
}

func (p *parser) unary() (Expr, error) {
	t := p.peek(true)
	if t.kind == tOp && t.text == "-" {
		p.next(true)
		if err := p.enter(t.off); err != nil {
			return nil, err
		}
		defer func() { p.depth-- }()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &Unary{node{p.s.pos(t.off)}, "-", x}, nil
	}
	return p.primary()
}

func (p *parser) primary() (Expr, error) {
	t, err := p.next(true)
	if err != nil {
		return nil, err
	}
	at := node{p.s.pos(t.off)}
	switch t.kind {
	case tString:
		return &Str{at, t.text, true}, nil
	case tNumber:
		return &Num{at, t.text}, nil
	case tField:
		return &Ident{at, t.text}, nil
	case tWord:
		if n := p.peek(true); n.kind == tOp && n.text == "(" {
			p.next(true)
			if err := p.enter(t.off); err != nil {
				return nil, err
			}
			defer func() { p.depth-- }()
			args, err := p.args(t.text + "()")
			if err != nil {
				return nil, err
			}
			return &Call{at, strings.ToLower(t.text), args}, nil
		}
		switch strings.ToUpper(t.text) {
		case "AND", "OR", "NOT", "XOR", "LIKE", "IN":
			return nil, p.s.errorf(t.off, "expected a value, found %s", t.describe())
		}
		return &Ident{at, t.text}, nil
	case tOp:
		if t.text == "(" {
			if err := p.enter(t.off); err != nil {
				return nil, err
			}
			defer func() { p.depth-- }()
			x, err := p.expr()
			if err != nil {
				return nil, err
			}
			if _, err := p.expectOp(")", true, "expression"); err != nil {
				return nil, err
			}
			return x, nil
		}
	}
	return nil, p.s.errorf(t.off, "expected a value, found %s", t.describe())
}

// args reads a parenthesised argument list after its "(".
func (p *parser) args(what string) ([]Expr, error) {
	var args []Expr
	if t := p.peek(true); t.kind == tOp && t.text == ")" {
		p.next(true)
		return nil, nil
	}
	for {
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		args = append(args, x)
		t, err := p.next(true)
		if err != nil {
			return nil, err
		}
		if t.kind == tOp && t.text == ")" {
			return args, nil
		}
		if t.kind != tOp || t.text != "," {
			return nil, p.s.errorf(t.off, "%s: expected , or ), found %s", what, t.describe())
		}
	}
}
