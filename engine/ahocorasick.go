package engine

// acAutomaton is a byte-level Aho-Corasick automaton that reports every
// (overlapping) pattern occurrence without allocating. firewarden has its
// own because the prefilter runs once per field per event: the library it
// first used allocated on every match and made the prefilter slower than no
// prefilter at all (hunt.BenchmarkMatch).
type acAutomaton struct {
	root  [256]int32 // transitions of the root, dense (0 = stay at root)
	edges [][]acEdge // transitions of the other nodes, sorted by byte
	fail  []int32
	out   [][]int32 // patterns ending here, including through fail links
}

type acEdge struct {
	b    byte
	next int32
}

func (a *acAutomaton) child(n int32, b byte) int32 {
	if n == 0 {
		return a.root[b]
	}
	for _, e := range a.edges[n] {
		if e.b == b {
			return e.next
		}
		if e.b > b {
			break
		}
	}
	return -1
}

// newAutomaton builds the automaton of patterns (pattern i reports i).
func newAutomaton(patterns []string) *acAutomaton {
	a := &acAutomaton{edges: [][]acEdge{nil}, fail: []int32{0}, out: [][]int32{nil}}
	for i, p := range patterns {
		n := int32(0)
		for j := 0; j < len(p); j++ {
			c := p[j]
			next := int32(-1)
			if n == 0 {
				if a.root[c] != 0 {
					next = a.root[c]
				}
			} else {
				next = a.child(n, c)
			}
			if next < 0 {
				next = int32(len(a.edges))
				a.edges = append(a.edges, nil)
				a.fail = append(a.fail, 0)
				a.out = append(a.out, nil)
				if n == 0 {
					a.root[c] = next
				} else {
					es := a.edges[n]
					k := 0
					for k < len(es) && es[k].b < c {
						k++
					}
					es = append(es, acEdge{})
					copy(es[k+1:], es[k:])
					es[k] = acEdge{c, next}
					a.edges[n] = es
				}
			}
			n = next
		}
		a.out[n] = append(a.out[n], int32(i))
	}
	// Breadth-first: fail links and merged outputs.
	var queue []int32
	for c := 0; c < 256; c++ {
		if s := a.root[c]; s != 0 {
			a.fail[s] = 0
			queue = append(queue, s)
		}
	}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, e := range a.edges[n] {
			f := a.fail[n]
			for {
				if t := a.child(f, e.b); t > 0 || f == 0 && t == 0 {
					if t > 0 && t != e.next {
						a.fail[e.next] = t
					} else {
						a.fail[e.next] = 0
					}
					break
				}
				f = a.fail[f]
			}
			a.out[e.next] = append(a.out[e.next], a.out[a.fail[e.next]]...)
			queue = append(queue, e.next)
		}
	}
	return a
}

// scan calls fn(i) for every occurrence of pattern i in text.
func (a *acAutomaton) scan(text string, fn func(int32)) {
	n := int32(0)
	for i := 0; i < len(text); i++ {
		c := text[i]
		for {
			if t := a.child(n, c); t > 0 {
				n = t
				break
			}
			if n == 0 {
				break
			}
			n = a.fail[n]
		}
		for _, p := range a.out[n] {
			fn(p)
		}
	}
}
