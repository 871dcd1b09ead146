package kuery

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/firewarden/firewarden/internal/testenv"
	"github.com/firewarden/firewarden/query"
)

// corpusRule is one query, threshold or new_terms rule of an Elastic rule
// corpus.
type corpusRule struct {
	file, typ, language, query string
}

// corpusRules reads the rules of dir whose type is query, threshold or
// new_terms.
func corpusRules(tb testing.TB, dir string) []corpusRule {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.toml"))
	if err != nil {
		tb.Fatal(err)
	}
	var out []corpusRule
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		var doc struct {
			Rule struct {
				Type     string `toml:"type"`
				Language string `toml:"language"`
				Query    string `toml:"query"`
			} `toml:"rule"`
		}
		if _, err := toml.Decode(string(data), &doc); err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		switch doc.Rule.Type {
		case "query", "threshold", "new_terms":
			out = append(out, corpusRule{file: f, typ: doc.Rule.Type, language: doc.Rule.Language, query: doc.Rule.Query})
		}
	}
	return out
}

// TestCorpus: every query, threshold and new_terms rule of Elastic's Linux
// and cross-platform rule sets parses and compiles, and the engine takes
// the result; a refusal must name its construct.
func TestCorpus(t *testing.T) {
	root := testenv.Shared(t, "corpus")
	for _, dir := range []string{"elastic", "elastic-cross-platform"} {
		rules := corpusRules(t, filepath.Join(root, dir))
		if len(rules) == 0 {
			t.Fatalf("%s: no query, threshold or new_terms rules", dir)
		}
		counts := map[string]int{}
		refused := map[string]int{}
		for _, r := range rules {
			lang := r.language
			if lang == "" {
				lang = KQL // Kibana's default for query rules
			}
			counts[r.typ+"/"+lang]++
			q, err := Compile(r.query, lang, Options{Base: query.Pos{File: filepath.Base(r.file), Line: 1, Col: 1}})
			if err != nil {
				var u *query.Unsupported
				if errors.As(err, &u) && u.Construct != "" {
					refused[u.Construct]++
					t.Logf("refused: %v", err)
					continue
				}
				t.Errorf("%s: %v", r.file, err)
				continue
			}
			if _, err := newEngine(q); err != nil {
				t.Errorf("%s: the engine refuses the compiled query: %v", r.file, err)
			}
		}
		var keys []string
		for k := range counts {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		total := 0
		for _, k := range keys {
			b.WriteString(" " + k + "=" + itoa(counts[k]))
			total += counts[k]
		}
		n := 0
		for _, c := range refused {
			n += c
		}
		t.Logf("%s: %d rules (%s), %d compiled, %d refused %v", dir, total, strings.TrimSpace(b.String()), total-n, n, refused)
	}
}
