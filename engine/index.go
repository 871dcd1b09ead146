package engine

import "strings"

// indexPatterns are Elastic index patterns: globs where only * is special,
// comma-separated lists, and "-pattern" entries that exclude what earlier
// entries included (Elasticsearch's multi-target syntax).
type indexPatterns struct {
	pats []indexPattern
}

type indexPattern struct {
	g       *glob
	exclude bool
}

func newIndexPatterns(list []string) *indexPatterns {
	ip := &indexPatterns{}
	for _, l := range list {
		for _, p := range strings.Split(l, ",") {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			ex := strings.HasPrefix(p, "-")
			if ex {
				p = p[1:]
			}
			// Only * is a wildcard in an index pattern: escape the rest.
			p = strings.NewReplacer(`\`, `\\`, `?`, `\?`).Replace(p)
			ip.pats = append(ip.pats, indexPattern{g: compileGlob(p, false), exclude: ex})
		}
	}
	return ip
}

// match reports whether index is selected. An event whose index is unknown
// is never selected in strict mode.
func (ip *indexPatterns) match(index string) bool {
	if index == "" {
		return false
	}
	in := false
	for _, p := range ip.pats {
		if p.g.match(index) {
			in = !p.exclude
		}
	}
	return in
}
