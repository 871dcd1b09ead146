package kuery

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/firewarden/firewarden/engine"
	"github.com/firewarden/firewarden/internal/testenv"
	"github.com/firewarden/firewarden/query"
)

// FuzzCompile checks that no input panics either parser or the compiler,
// that every error is a positioned *query.Error or *query.Unsupported, and
// that whatever compiles is accepted by the engine and runs over an event.
// It is seeded with inline queries covering each construct, and with every
// query of the Elastic rule corpora when ../shared is there.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		`host.os.type:linux and event.type:start and process.name:(bash or "sh" or py*) and not process.args:(-c and *&)`,
		`a:(* and not (b or *c*)) or d >= 5 or e<"x" or f:{ g:h } or "bare phrase" or bare or *`,
		`a:\*b\(\)\:\"\\\{\}\<\>\or\and\not\t\u00e9 and "q\"\\\n\ud83d\ude00" and c:x* y z`,
		"a:b\u00a0and\nnot c:10.0.0.0/8 and null:x and d:null and e:true",
		`not not a`,
		`a:(b or`,
	} {
		f.Add(s, false)
	}
	for _, s := range []string{
		`+a:b -c:"d e" f:g* OR h:/i.*[j]/ AND NOT k:[1 TO 5} && l:>=2 || !m:{* TO "z"]`,
		`_exists_:a *:* a:* (b:c OR (d:e)) \+f\:g\u0041 a\ b:c`,
		`a:b^2 c~2 "d e"~3 f - g x y z`,
		`a:[now-1d TO now] b:/x~/ c.\*:d /e/ [1 TO 2]`,
		`a:"unterminated`,
		`a:(b`,
	} {
		f.Add(s, true)
	}
	shared := filepath.Join(testenv.Root(), "..", "shared", "corpus")
	if _, err := os.Stat(shared); err == nil {
		for _, dir := range []string{"elastic", "elastic-cross-platform"} {
			for _, r := range corpusRules(f, filepath.Join(shared, dir)) {
				f.Add(r.query, r.language == Lucene)
			}
		}
	}
	ev := testEvent()
	f.Fuzz(func(t *testing.T, src string, lucene bool) {
		lang := KQL
		if lucene {
			lang = Lucene
		}
		q, err := Compile(src, lang, Options{Base: query.Pos{File: "fuzz", Line: 3, Col: 7}})
		if err != nil {
			var qe *query.Error
			var qu *query.Unsupported
			switch {
			case errors.As(err, &qe):
				if qe.Pos.File != "fuzz" || qe.Pos.Line < 3 || qe.Pos.Col < 1 {
					t.Errorf("error badly positioned: %v", err)
				}
			case errors.As(err, &qu):
				if qu.Pos.File != "fuzz" || qu.Pos.Line < 3 || qu.Pos.Col < 1 || qu.Construct == "" {
					t.Errorf("refusal badly positioned or unnamed: %v", err)
				}
			default:
				t.Errorf("error is a %T: %v", err, err)
			}
			return
		}
		e := engine.New()
		if _, err := e.Add(q); err != nil {
			t.Fatalf("%q: the engine refuses the compiled query: %v", src, err)
		}
		e.Match(ev, func(*engine.Result) {})
		e.Flush(func(*engine.Result) {})
	})
}
