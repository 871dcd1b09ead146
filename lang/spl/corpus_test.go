package spl

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/firewarden/firewarden/engine"
	"github.com/firewarden/firewarden/internal/testenv"
	"github.com/firewarden/firewarden/query"
)

// corpusSearches reads the search of every ESCU detection of the corpus.
func corpusSearches(tb testing.TB) (map[string]string, *Macros) {
	dir := testenv.Shared(tb, "corpus", "splunk")
	ms, err := LoadMacroDir(filepath.Join(dir, "macros"))
	if err != nil {
		tb.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "detections", "*.yml"))
	out := map[string]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		var d struct {
			Search string `yaml:"search"`
		}
		if err := yaml.Unmarshal(data, &d); err != nil {
			tb.Fatal(err)
		}
		out[filepath.Base(f)] = d.Search
	}
	return out, Builtin().Merge(ms)
}

// TestCorpus compiles every ESCU detection search of the corpus and adds
// it to an engine; at least 95% must run, and every refusal must name the
// construct (query.Unsupported) listed in docs/spl.md.
func TestCorpus(t *testing.T) {
	searches, ms := corpusSearches(t)
	docs, err := os.ReadFile(filepath.Join(testenv.Root(), "docs", "spl.md"))
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(searches))
	for n := range searches {
		names = append(names, n)
	}
	sort.Strings(names)
	ok := 0
	refused := map[string][]string{}
	for _, n := range names {
		q, err := Compile(searches[n], Options{Macros: ms, Base: query.Pos{File: n}})
		if err == nil {
			_, err = engine.New().Add(q)
		}
		if err == nil {
			ok++
			continue
		}
		var u *query.Unsupported
		if !errors.As(err, &u) {
			t.Errorf("%s: %v", n, err)
			continue
		}
		refused[u.Construct] = append(refused[u.Construct], n)
		if !strings.Contains(string(docs), "`"+u.Construct+"`") {
			t.Errorf("%s: refused construct %q is not listed in docs/spl.md", n, u.Construct)
		}
	}
	for k, v := range refused {
		t.Logf("refused %s: %d (%s)", k, len(v), strings.Join(v, ", "))
	}
	t.Logf("%d of %d searches compile and run", ok, len(searches))
	if ok*100 < 95*len(searches) {
		t.Errorf("only %d of %d searches compile (want 95%%)", ok, len(searches))
	}
}
