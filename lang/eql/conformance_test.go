package eql_test

// The conformance harness runs Elasticsearch's own EQL spec tests
// (../shared/corpus/eql) the way Elasticsearch's harness runs them
// (../shared/corpus/eql/HARNESS.md): the same data, loaded into the same
// "indices" (the mappings' aliases, dates and null values applied), the
// same case modes, the same blacklist, the same comparison of event ids in
// order, of alternatives, and of join keys.
//
// Every spec that fails must be listed, with its reason, in
// testdata/conformance-failures.txt as "file/name-mode: reason"; the test
// fails when an unlisted spec fails, when a listed one passes (so the list
// stays true) and when a listed one no longer exists. With
// FIREWARDEN_CONFORMANCE_REPORT set the harness only logs: =1 logs every
// failure in the list's format; =PATH also writes those lines to PATH, to
// review before they replace the list.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/firewarden/firewarden/engine"
	"github.com/firewarden/firewarden/event"
	"github.com/firewarden/firewarden/internal/testenv"
	"github.com/firewarden/firewarden/lang/eql"
	"github.com/firewarden/firewarden/query"
	"github.com/firewarden/firewarden/source"
	"github.com/firewarden/firewarden/source/endgame"
)

const failuresFile = "testdata/conformance-failures.txt"

// defaultSize is the size Elasticsearch's harness requests when a spec
// gives none: at most 50 results (events, sequences or samples).
const defaultSize = 50

// suite is one group of spec files run over one set of indices.
type suite struct {
	specs       []string // spec files loaded together (names unique across them)
	unsupported string   // the blacklist, or ""
	oldEra      bool     // 2020 specs: case_sensitive / case_insensitive modes
	indices     []index
	tiebreaker  string // "" for none
	idField     string // the field expected_event_ids refers to
}

// index is one Elasticsearch index of a suite: its data and mapping.
type index struct {
	name, data, mapping string
	// fileTime applies the 2020 loader's transform:
	// @timestamp = timestamp / 10000 - 11644473600000.
	fileTime bool
}

func suites() []suite {
	sample := func(names ...string) []index {
		var out []index
		for _, n := range names {
			out = append(out, index{name: n, data: "data/" + n + ".data", mapping: "data/" + n + ".mapping"})
		}
		return out
	}
	return []suite{
		{
			specs:       []string{"test_queries.toml", "additional_test_queries.toml"},
			unsupported: "test_queries_unsupported.toml",
			oldEra:      true,
			indices:     []index{{name: endgame.DefaultIndex, data: "test_data.json", mapping: "mapping-default.json", fileTime: true}},
			tiebreaker:  "serial_event_id",
			idField:     "serial_event_id",
		},
		{
			// The older harness (@08ff29be) ran test_queries.toml with
			// test_queries_supported.toml instead of the additional file.
			specs:       []string{"test_queries_supported.toml"},
			unsupported: "test_queries_unsupported.toml",
			oldEra:      true,
			indices:     []index{{name: endgame.DefaultIndex, data: "test_data.json", mapping: "mapping-default.json", fileTime: true}},
			tiebreaker:  "serial_event_id",
			idField:     "serial_event_id",
		},
		{specs: []string{"test_extra.toml"}, indices: sample("extra"), tiebreaker: "sequence", idField: "sequence"},
		{specs: []string{"test_missing_events.toml"}, indices: sample("missing-events"), tiebreaker: "sequence", idField: "sequence"},
		{specs: []string{"test_sample.toml"}, indices: sample("sample1", "sample2", "sample3"), idField: "id"},
		{specs: []string{"test_sample_multi.toml"}, indices: sample("sample-multi"), idField: "id"},
		// EqlSampleTestCase@18b0492f read test_sampling.toml; data/sampling1-3
		// come from the same commit.
		{specs: []string{"test_sampling.toml"}, indices: sample("sampling1", "sampling2", "sampling3"), idField: "id"},
	}
}

// unnamed reports whether a spec file's entries have no names: the older
// harness (@08ff29be) ran test_queries_supported.toml, whose entries it
// told apart by position; here they are named #1, #2, ….
func unnamed(file string) bool { return file == "test_queries_supported.toml" }

// notLoaded lists the spec files of the corpus the harness does not run,
// and why; the test checks the list against the folder so a new file is
// not silently ignored.
func notLoaded() map[string]string {
	return map[string]string{
		"test_between_queries.toml": "names neither its data nor its specs (no name keys), so Elasticsearch's loader cannot run it",
	}
}

// spec is one [[queries]] entry.
type spec struct {
	Name             string `toml:"name"`
	Query            string `toml:"query"`
	Expected         any    `toml:"expected_event_ids"`
	JoinKeys         []any  `toml:"join_keys"`
	CaseSensitive    *bool  `toml:"case_sensitive"`
	CaseInsensitive  *bool  `toml:"case_insensitive"`
	MaxSamplesPerKey int    `toml:"max_samples_per_key"`
	Size             int    `toml:"size"`
	// Informational, as in Elasticsearch's loader.
	Note        string   `toml:"note"`
	Description string   `toml:"description"`
	Tags        []string `toml:"tags"`
	Notes       any      `toml:"notes"`

	file string
	pos  query.Pos // where the query text starts
	want [][]int64 // acceptable id lists
	keys []string  // expected join keys, stringified
}

type mode string

const (
	sensitive   mode = "sensitive"
	insensitive mode = "insensitive"
)

// modes follows the 2020 loader: case_sensitive alone → sensitive only,
// case_insensitive alone → insensitive only, otherwise both. Newer specs
// have no modes: Elasticsearch 8 runs them as written.
func (s *spec) modes(oldEra bool) []mode {
	if !oldEra {
		return []mode{sensitive}
	}
	cs := s.CaseSensitive != nil && *s.CaseSensitive
	ci := s.CaseInsensitive != nil && *s.CaseInsensitive
	switch {
	case cs && !ci:
		return []mode{sensitive}
	case ci && !cs:
		return []mode{insensitive}
	}
	return []mode{sensitive, insensitive}
}

// tally counts outcomes per spec file.
type tally struct{ passed, knownFailed, failed, fixed, unsupported int }

// TestConformance runs every spec; see the top of this file.
func TestConformance(t *testing.T) {
	dir := testenv.Shared(t, "corpus", "eql")
	report := os.Getenv("FIREWARDEN_CONFORMANCE_REPORT")
	known, err := readFailures(failuresFile)
	if err != nil {
		t.Fatal(err)
	}
	checkCorpusFiles(t, dir)

	counts := map[string]*tally{}
	var order []string
	ran := map[string]bool{}
	var failLines []string

	for _, su := range suites() {
		events, err := loadIndices(dir, su)
		if err != nil {
			t.Fatalf("loading %v: %v", su.specs, err)
		}
		var skip map[string]bool
		if su.unsupported != "" {
			skip, err = unsupportedSet(filepath.Join(dir, su.unsupported))
			if err != nil {
				t.Fatal(err)
			}
		}
		names := map[string]string{}
		for _, file := range su.specs {
			specs, err := loadSpecs(filepath.Join(dir, file), file, su.oldEra)
			if err != nil {
				t.Fatal(err)
			}
			tl := &tally{}
			counts[file] = tl
			order = append(order, file)
			for _, sp := range specs {
				if prev, dup := names[sp.Name]; dup {
					t.Errorf("%s: spec name %q already used in %s (Elasticsearch's loader requires unique names)", file, sp.Name, prev)
				}
				names[sp.Name] = file
				for _, m := range sp.modes(su.oldEra) {
					key := file + "/" + sp.Name + "-" + string(m)
					ran[key] = true
					if skip[unsupportedKey(sp.Query, m)] {
						tl.unsupported++
						t.Run(key, func(t *testing.T) {
							t.Skipf("in %s: Elasticsearch does not run it", su.unsupported)
						})
						continue
					}
					t.Run(key, func(t *testing.T) {
						why := run(sp, m, events, su, eql.Compile)
						listed, isListed := known[key]
						switch {
						case why == "" && !isListed:
							tl.passed++
						case why == "" && isListed:
							tl.fixed++
							if report != "" {
								t.Logf("passes, but is listed in %s:%d", failuresFile, listed.line)
							} else {
								t.Errorf("passes, but is listed in %s:%d (%s): remove it from the list", failuresFile, listed.line, listed.reason)
							}
						case isListed:
							tl.knownFailed++
							t.Logf("known failure (%s:%d: %s): %s", failuresFile, listed.line, listed.reason, why)
						default:
							tl.failed++
							failLines = append(failLines, key+": "+oneLine(why))
							if report != "" {
								t.Logf("%s", why)
							} else {
								t.Errorf("%s\n(a failure we accept goes in %s as %q)", why, failuresFile, key+": reason")
							}
						}
					})
				}
			}
		}
	}

	var stale []string
	for key, f := range known {
		if !ran[key] {
			stale = append(stale, fmt.Sprintf("%s:%d: %s names no spec of the suite", failuresFile, f.line, key))
		}
	}
	sort.Strings(stale)
	for _, s := range stale {
		if report != "" {
			t.Log(s)
		} else {
			t.Error(s)
		}
	}

	var sum tally
	var b strings.Builder
	fmt.Fprintf(&b, "%-32s %7s %9s %10s %6s %12s\n", "spec file", "passed", "expected", "unexpected", "fixed", "unsupported")
	for _, f := range order {
		c := counts[f]
		fmt.Fprintf(&b, "%-32s %7d %9d %10d %6d %12d\n", f, c.passed, c.knownFailed, c.failed, c.fixed, c.unsupported)
		sum.passed += c.passed
		sum.knownFailed += c.knownFailed
		sum.failed += c.failed
		sum.fixed += c.fixed
		sum.unsupported += c.unsupported
	}
	fmt.Fprintf(&b, "%-32s %7d %9d %10d %6d %12d", "total", sum.passed, sum.knownFailed, sum.failed, sum.fixed, sum.unsupported)
	for f, why := range notLoaded() {
		fmt.Fprintf(&b, "\nnot run: %s: %s", f, why)
	}
	t.Logf("EQL conformance (passed / failed as listed / failed unlisted / listed but passing / skipped as unsupported by Elasticsearch):\n%s", b.String())
	if report != "" && len(failLines) > 0 {
		t.Logf("unlisted failures, in %s's format:\n%s", failuresFile, strings.Join(failLines, "\n"))
		if report != "1" {
			if err := os.WriteFile(report, []byte(strings.Join(failLines, "\n")+"\n"), 0o644); err != nil {
				t.Error(err)
			}
		}
	}
}

// compileFunc is eql.Compile's signature; the harness's own test passes
// hand-built IR through it.
type compileFunc func(src string, opts eql.Options) (*query.Query, error)

// run runs one spec in one mode and returns why it failed ("" when it
// passed).
func run(sp *spec, m mode, events []*event.Event, su suite, compile compileFunc) (why string) {
	defer func() {
		if r := recover(); r != nil {
			why = fmt.Sprintf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	q, err := compile(sp.Query, eql.Options{Base: sp.pos, CaseInsensitive: m == insensitive})
	if err != nil {
		return "compile: " + err.Error()
	}
	if sp.MaxSamplesPerKey > 0 {
		// A request parameter in Elasticsearch: it bounds the sample stage.
		set := false
		for i, st := range q.Stages {
			if s, ok := st.(query.Sample); ok {
				s.MaxPerKey = sp.MaxSamplesPerKey
				q.Stages[i] = s
				set = true
			}
		}
		if !set {
			return "max_samples_per_key given, but the compiled query has no sample stage"
		}
	}
	e := engine.New()
	if _, err := e.Add(q); err != nil {
		return "engine: " + err.Error()
	}
	size := sp.Size
	if size <= 0 {
		size = defaultSize
	}
	var ids []int64
	var keys []string
	results := 0
	var bad error
	collect := func(r *engine.Result) {
		// The request's size keeps the first results (result_position
		// head, the default).
		if results++; results > size {
			return
		}
		for _, ev := range r.Events {
			if ev == nil {
				ids = append(ids, -1) // a missing-event placeholder
				continue
			}
			v := ev.Get(su.idField)
			if v.Kind != event.Int {
				bad = fmt.Errorf("a result event has %s = %v, expected an integer id", su.idField, v.Interface())
				continue
			}
			ids = append(ids, v.Int)
		}
		for _, k := range r.Keys {
			keys = append(keys, keyString(k))
		}
	}
	for _, ev := range events {
		e.Match(ev, collect)
	}
	e.Flush(collect)
	if bad != nil {
		return bad.Error()
	}
	match := false
	for _, w := range sp.want {
		if slices.Equal(ids, w) || len(ids) == 0 && len(w) == 0 {
			match = true
		}
	}
	if !match {
		want := fmt.Sprint(sp.want[0])
		if len(sp.want) > 1 {
			want = "one of " + fmt.Sprint(sp.want)
		}
		return fmt.Sprintf("event ids: got %v, want %s", nonNil(ids), want)
	}
	if len(sp.keys) > 0 && !slices.Equal(keys, sp.keys) {
		return fmt.Sprintf("join keys: got %q, want %q", keys, sp.keys)
	}
	return ""
}

func nonNil(ids []int64) []int64 {
	if ids == nil {
		return []int64{}
	}
	return ids
}

// keyString renders a join key as Elasticsearch's harness compares it:
// null as "null", booleans as "true"/"false", dates (already epoch
// milliseconds here, see applyMapping) and numbers as decimal text.
func keyString(v event.Value) string {
	switch v.Kind {
	case event.Absent, event.Null:
		return "null"
	case event.Float:
		return strconv.FormatFloat(v.Num, 'f', -1, 64)
	}
	return v.String()
}

// expectedKey renders a join_keys entry of a spec the same way.
func expectedKey(x any) string {
	switch v := x.(type) {
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return fmt.Sprint(x)
}

func oneLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// Spec files.

// loadSpecs reads the [[queries]] of one TOML spec file.
func loadSpecs(path, file string, oldEra bool) ([]*spec, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Queries []*spec `toml:"queries"`
	}
	md, err := toml.Decode(string(raw), &doc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		// A key the harness does not know could change what a spec means.
		return nil, fmt.Errorf("%s: keys the harness does not know: %v", path, und)
	}
	// Positions name the file relative to the repository
	// (../shared/corpus/eql/…), as a user would.
	shown := path
	if rel, err := filepath.Rel(testenv.Root(), path); err == nil {
		shown = rel
	}
	starts := queryStarts(string(raw), shown)
	for i, sp := range doc.Queries {
		sp.file = file
		if len(starts) == len(doc.Queries) {
			sp.pos = starts[i]
		} else {
			sp.pos = query.Pos{File: shown}
		}
		where := fmt.Sprintf("%s: [[queries]] #%d (%q)", path, i+1, sp.Name)
		sp.Query = strings.TrimSpace(sp.Query)
		if sp.Name == "" && unnamed(file) {
			sp.Name = fmt.Sprintf("#%d", i+1)
		}
		if sp.Name == "" || sp.Query == "" || sp.Expected == nil {
			return nil, fmt.Errorf("%s: name, query and expected_event_ids are required", where)
		}
		if !oldEra && (sp.CaseSensitive != nil || sp.CaseInsensitive != nil) {
			return nil, fmt.Errorf("%s: case_sensitive/case_insensitive in a spec of the newer harness", where)
		}
		if sp.want, err = expectedIDs(sp.Expected); err != nil {
			return nil, fmt.Errorf("%s: expected_event_ids: %w", where, err)
		}
		for _, k := range sp.JoinKeys {
			sp.keys = append(sp.keys, expectedKey(k))
		}
	}
	return doc.Queries, nil
}

// expectedIDs reads expected_event_ids: a list of ids, [] for none, or a
// list of acceptable lists.
func expectedIDs(x any) ([][]int64, error) {
	list, ok := x.([]any)
	if !ok {
		return nil, fmt.Errorf("%T, expected an array", x)
	}
	if len(list) == 0 {
		return [][]int64{{}}, nil
	}
	if _, nested := list[0].([]any); nested {
		var out [][]int64
		for _, alt := range list {
			a, ok := alt.([]any)
			if !ok {
				return nil, fmt.Errorf("mixes lists and ids")
			}
			ids, err := intList(a)
			if err != nil {
				return nil, err
			}
			out = append(out, ids)
		}
		return out, nil
	}
	ids, err := intList(list)
	if err != nil {
		return nil, err
	}
	return [][]int64{ids}, nil
}

func intList(a []any) ([]int64, error) {
	out := make([]int64, 0, len(a))
	for _, x := range a {
		n, ok := x.(int64)
		if !ok {
			return nil, fmt.Errorf("%v (%T), expected an integer id", x, x)
		}
		out = append(out, n)
	}
	return out, nil
}

var (
	queriesHeader = regexp.MustCompile(`^\s*\[\[\s*queries\s*\]\]`)
	queryKey      = regexp.MustCompile(`^\s*query\s*=\s*`)
)

// queryStarts finds where each entry's query text starts in the TOML file
// (the first non-blank character of the value), so compile errors point
// into the spec file. The decoder gives no positions; this scan relies on
// the files' plain layout and is only used when it finds one query per
// [[queries]].
func queryStarts(raw, path string) []query.Pos {
	var out []query.Pos
	lines := strings.Split(raw, "\n")
	inEntry := false
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if queriesHeader.MatchString(l) {
			inEntry = true
			continue
		}
		loc := queryKey.FindStringIndex(l)
		if !inEntry || loc == nil {
			continue
		}
		inEntry = false
		line, col := i, loc[1]
		rest := l[col:]
		for _, q := range []string{"'''", `"""`, "'", `"`} {
			if strings.HasPrefix(rest, q) {
				col += len(q)
				if len(q) == 3 && strings.TrimSpace(l[col:]) == "" {
					// a newline right after ''' is not part of the string
					line, col = i+1, 0
				}
				break
			}
		}
		// skip leading white space, as the loader trims the query
		for line < len(lines) {
			t := strings.TrimLeft(lines[line][col:], " \t\r")
			if t != "" {
				col = len(lines[line]) - len(t)
				break
			}
			line, col = line+1, 0
		}
		out = append(out, query.Pos{File: path, Line: line + 1, Col: col + 1})
	}
	return out
}

// unsupportedSet reads the blacklist: each entry as (query, mode), in
// every mode its flags give it.
func unsupportedSet(path string) (map[string]bool, error) {
	specs, err := loadSpecs(path, filepath.Base(path), true)
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for _, sp := range specs {
		for _, m := range sp.modes(true) {
			set[unsupportedKey(sp.Query, m)] = true
		}
	}
	return set, nil
}

func unsupportedKey(q string, m mode) string { return string(m) + "\x00" + strings.TrimSpace(q) }

// checkCorpusFiles fails when the corpus has a spec file the harness
// neither runs nor explains.
func checkCorpusFiles(t *testing.T, dir string) {
	files, _ := filepath.Glob(filepath.Join(dir, "*.toml"))
	known := map[string]bool{}
	for _, su := range suites() {
		for _, f := range su.specs {
			known[f] = true
		}
		known[su.unsupported] = true
	}
	for _, f := range files {
		b := filepath.Base(f)
		if !known[b] && notLoaded()[b] == "" {
			t.Errorf("%s: a spec file the harness neither runs nor lists in notLoaded", f)
		}
	}
}

// The failures list.

type knownFailure struct {
	reason string
	line   int
}

// readFailures reads "file/name-mode: reason" lines; blank lines and lines
// starting with # are ignored.
func readFailures(path string) (map[string]knownFailure, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]knownFailure{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		key, reason, ok := strings.Cut(l, ": ")
		key, reason = strings.TrimSpace(key), strings.TrimSpace(reason)
		if !ok || reason == "" || !strings.Contains(key, "/") ||
			!strings.HasSuffix(key, "-"+string(sensitive)) && !strings.HasSuffix(key, "-"+string(insensitive)) {
			return nil, fmt.Errorf("%s:%d: %q, expected \"file/name-sensitive: reason\" (or -insensitive)", path, n, l)
		}
		if prev, dup := out[key]; dup {
			return nil, fmt.Errorf("%s:%d: %s listed again (first at line %d)", path, n, key, prev.line)
		}
		out[key] = knownFailure{reason: reason, line: n}
	}
	return out, sc.Err()
}

// Data.

// loadIndices reads the suite's data files through the Endgame reader
// (its generic path for the newer, non-Endgame files), applies each
// index's mapping, and returns the events in the order Elasticsearch
// returns them: by @timestamp, then by the tiebreaker.
func loadIndices(dir string, su suite) ([]*event.Event, error) {
	var all []*event.Event
	for _, ix := range su.indices {
		mapping, err := readMapping(filepath.Join(dir, ix.mapping))
		if err != nil {
			return nil, err
		}
		path := filepath.Join(dir, ix.data)
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		st := &source.Stats{Name: path}
		var evs []*event.Event
		err = endgame.JSON{}.Read(context.Background(), &source.Input{Name: path, R: f, Stats: st}, func(ev *event.Event) error {
			evs = append(evs, ev)
			return nil
		})
		f.Close()
		if err != nil {
			return nil, err
		}
		if st.BadCount > 0 {
			return nil, fmt.Errorf("%s: %d bad records, first: %v", path, st.BadCount, st.Examples[0])
		}
		for _, ev := range evs {
			ev.Index = ix.name
			if ix.fileTime {
				ts := ev.Get("timestamp")
				if ts.Kind != event.Int {
					return nil, fmt.Errorf("%s:%d: timestamp %v, expected a FILETIME integer", path, ev.Line, ts.Interface())
				}
				ms := ts.Int/10_000 - 11_644_473_600_000
				ev.Set("@timestamp", event.IntV(ms))
			}
			if err := applyMapping(ev, mapping); err != nil {
				return nil, fmt.Errorf("%s:%d: %w", path, ev.Line, err)
			}
			// The reader's time and the index's @timestamp must agree:
			// sequences and maxspan run on Event.Time.
			if ts := ev.Get("@timestamp"); ts.Kind == event.Int && ev.Time.UnixMilli() != ts.Int {
				return nil, fmt.Errorf("%s:%d: the reader's time %v is not @timestamp %d ms", path, ev.Line, ev.Time, ts.Int)
			}
		}
		all = append(all, evs...)
	}
	if su.tiebreaker != "" {
		for _, ev := range all {
			if ev.Get(su.tiebreaker).Kind != event.Int {
				return nil, fmt.Errorf("%s:%d: tiebreaker %s is %v, expected an integer", ev.File, ev.Line, su.tiebreaker, ev.Get(su.tiebreaker).Interface())
			}
		}
	}
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if !a.Time.Equal(b.Time) {
			return a.Time.Before(b.Time)
		}
		if su.tiebreaker == "" {
			return false
		}
		return a.Get(su.tiebreaker).Int < b.Get(su.tiebreaker).Int
	})
	return all, nil
}

// field is one mapped field.
type field struct {
	Type      string `json:"type"`
	Path      string `json:"path"`   // alias target
	Format    string `json:"format"` // date format
	NullValue any    `json:"null_value"`
}

// readMapping reads an index mapping into its fields by dotted path, as
// the newer DataLoader does: lines starting with # are dropped, and
// [runtime_random_keyword_type] — which the loader replaces at random by
// keyword or wildcard, so every spec must pass with either — becomes
// keyword.
func readMapping(path string) (map[string]field, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var kept []string
	for _, l := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			kept = append(kept, l)
		}
	}
	text := strings.ReplaceAll(strings.Join(kept, "\n"), "[runtime_random_keyword_type]", "keyword")
	var m struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal([]byte(text), &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := map[string]field{}
	if err := walkProperties(m.Properties, "", out); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

func walkProperties(props map[string]json.RawMessage, prefix string, out map[string]field) error {
	for name, raw := range props {
		p := name
		if prefix != "" {
			p = prefix + "." + name
		}
		var node struct {
			field
			Properties map[string]json.RawMessage `json:"properties"`
		}
		if err := json.Unmarshal(raw, &node); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if node.Properties != nil {
			if err := walkProperties(node.Properties, p, out); err != nil {
				return err
			}
			continue
		}
		out[p] = node.field
	}
	return nil
}

// applyMapping makes an event look as the index holds it, for the
// mapping types that change what a query sees:
//
//   - alias: the target's value is copied (event.category ← event_type,
//     event.sequence ← serial_event_id or sequence);
//   - date: the value becomes epoch milliseconds (an Int), parsed with
//     the field's format — join keys on dates are epoch milliseconds;
//   - long: numeric strings become numbers (Elasticsearch coerces them);
//     boolean: "true"/"false" become booleans;
//   - null_value: a null is indexed as that value, so queries see it.
//
// Types that change semantics and are left to the engine: ip (cidrMatch,
// and equality on the parsed address), version (ordered as semantic
// versions, not as text), wildcard (like keyword for EQL's operators),
// text (mapping-default.json's file_name and hostname: EQL matches their
// keyword subfield, which has ignore_above 256 — a longer value matches
// nothing); unmapped strings are dynamically text with a keyword subfield
// (ignore_above 256) too, and unmapped fields are never ip or version.
func applyMapping(ev *event.Event, m map[string]field) error {
	for p, f := range m {
		v := ev.Get(p)
		if f.NullValue != nil && v.Kind == event.Null {
			ev.Set(p, event.FromInterface(f.NullValue))
			v = ev.Get(p)
		}
		if !v.Exists() || v.Kind == event.Null {
			continue
		}
		switch f.Type {
		case "date":
			ms, err := dateMillis(v, f.Format)
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			ev.Set(p, event.IntV(ms))
		case "long", "integer", "short", "byte":
			if v.Kind == event.String {
				n, err := strconv.ParseInt(v.Str, 10, 64)
				if err != nil {
					return fmt.Errorf("%s: %q is not a long", p, v.Str)
				}
				ev.Set(p, event.IntV(n))
			}
		case "boolean":
			if v.Kind == event.String {
				b, err := strconv.ParseBool(v.Str)
				if err != nil || v.Str != "true" && v.Str != "false" {
					return fmt.Errorf("%s: %q is not a boolean", p, v.Str)
				}
				ev.Set(p, event.BoolV(b))
			}
		}
	}
	for p, f := range m {
		if f.Type == "alias" {
			if v := ev.Get(f.Path); v.Exists() {
				ev.Fill(p, v)
			}
		}
	}
	return nil
}

// dateMillis reads a date as Elasticsearch indexes it: epoch milliseconds.
// The formats are the mappings' (Java patterns dd-MM-yyyy, yyyy-MM-dd);
// without one, strict_date_optional_time||epoch_millis.
func dateMillis(v event.Value, format string) (int64, error) {
	if v.Kind == event.Int {
		return v.Int, nil
	}
	if v.Kind != event.String {
		return 0, fmt.Errorf("%v is not a date", v.Interface())
	}
	layouts := []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"}
	switch format {
	case "":
		if n, err := strconv.ParseInt(v.Str, 10, 64); err == nil {
			return n, nil
		}
	case "dd-MM-yyyy":
		layouts = []string{"02-01-2006"}
	case "yyyy-MM-dd":
		layouts = []string{"2006-01-02"}
	default:
		return 0, fmt.Errorf("date format %q is not known to the harness", format)
	}
	for _, l := range layouts {
		if t, err := time.Parse(l, v.Str); err == nil {
			return t.UnixMilli(), nil
		}
	}
	return 0, errors.New(strconv.Quote(v.Str) + " does not match the date format " + strconv.Quote(format))
}

// TestConformanceHarness checks the harness itself, independently of the
// EQL compiler: hand-built IR for a few specs — an event query, a sequence
// and a sample with join keys — must pass through loading, ordering, the
// engine and the comparison, and a wrong query must fail with a mismatch.
func TestConformanceHarness(t *testing.T) {
	dir := testenv.Shared(t, "corpus", "eql")
	cat := func(c string) query.Expr {
		return query.Match{Field: query.Field{Path: "event.category"}, Op: query.Equal, Values: []string{c}}
	}
	field := func(p string) query.Expr { return query.Field{Path: p} }
	cmp := func(op query.CmpOp, p string, v event.Value) query.Expr {
		return query.Compare{Op: op, L: field(p), R: query.Lit{V: v}}
	}
	sampleOR := &query.Query{Stages: []query.Stage{query.Sample{
		By: []query.Expr{field("bool"), field("host")},
		Steps: []query.Step{
			{Filter: query.Or{X: []query.Expr{cmp(query.Gt, "uptime", event.IntV(0)), cmp(query.Eq, "bool", event.BoolV(false))}}},
			{Filter: query.Or{X: []query.Expr{cmp(query.Gt, "port", event.IntV(10000)), cmp(query.Eq, "bool", event.BoolV(false))}}},
		},
	}}}
	for _, tc := range []struct {
		file, name string
		q          *query.Query
		fails      string   // "" when the spec must pass
		keys       []string // replaces the spec's join keys
	}{
		{"test_queries.toml", "simpleQueryLt", &query.Query{Scope: cat("process"), ScopeKey: "p",
			Stages: []query.Stage{query.Filter{Expr: cmp(query.Lt, "serial_event_id", event.IntV(4))}}}, "", nil},
		{"test_queries.toml", "simpleQueryLt", &query.Query{Scope: cat("process"), ScopeKey: "p",
			Stages: []query.Stage{query.Filter{Expr: cmp(query.Lt, "serial_event_id", event.IntV(3))}}}, "event ids: got [1 2], want [1 2 3]", nil},
		{"test_extra.toml", "basic", &query.Query{Stages: []query.Stage{query.Sequence{
			By:    []query.Expr{field("transID")},
			Steps: []query.Step{{Filter: cat("REQUEST")}, {Filter: cat("ERROR")}, {Filter: cat("STAT")}},
		}}}, "", nil},
		{"test_sample.toml", "anyRulesWithORFilters", sampleOR, "", nil},
		// A missing event is -1.
		{"test_missing_events.toml", "missingInBetween_match", &query.Query{Stages: []query.Stage{query.Sequence{
			MaxSpan: time.Second,
			Steps: []query.Step{
				{Filter: query.And{X: []query.Expr{cat("test1"), cmp(query.Eq, "tag", event.Str("normal"))}}},
				{Filter: query.And{X: []query.Expr{cat("test1"), cmp(query.Eq, "tag", event.Str("missing"))}}, Missing: true},
				{Filter: query.And{X: []query.Expr{cat("test1"), cmp(query.Eq, "tag", event.Str("normal"))}}},
			},
		}}}, "", nil},
		// Samples come in key order: swapping the keys reorders them.
		{"test_sample.toml", "anyRulesWithORFilters", &query.Query{Stages: []query.Stage{query.Sample{
			By: []query.Expr{field("host"), field("bool")},
			Steps: []query.Step{
				{Filter: query.Or{X: []query.Expr{cmp(query.Gt, "uptime", event.IntV(0)), cmp(query.Eq, "bool", event.BoolV(false))}}},
				{Filter: query.Or{X: []query.Expr{cmp(query.Gt, "port", event.IntV(10000)), cmp(query.Eq, "bool", event.BoolV(false))}}},
			},
		}}}, "event ids: got [17 16 13 23], want [13 23 17 16]", nil},
	} {
		t.Run(tc.file+"/"+tc.name, func(t *testing.T) {
			var su suite
			for _, s := range suites() {
				if slices.Contains(s.specs, tc.file) {
					su = s
				}
			}
			events, err := loadIndices(dir, su)
			if err != nil {
				t.Fatal(err)
			}
			specs, err := loadSpecs(filepath.Join(dir, tc.file), tc.file, su.oldEra)
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(specs, func(s *spec) bool { return s.Name == tc.name })
			if i < 0 {
				t.Fatalf("no spec %s", tc.name)
			}
			compile := func(src string, opts eql.Options) (*query.Query, error) {
				if src != specs[i].Query || opts.Base.Line == 0 {
					t.Errorf("compile(%q, %+v): not the spec's query and position", src, opts)
				}
				return tc.q, nil
			}
			sp := *specs[i]
			if tc.keys != nil {
				sp.keys = tc.keys
			}
			why := run(&sp, sensitive, events, su, compile)
			switch {
			case tc.fails == "" && why != "":
				t.Errorf("harness: %s", why)
			case tc.fails != "" && !strings.HasPrefix(why, tc.fails):
				t.Errorf("harness said %q, want a failure starting %q", why, tc.fails)
			}
		})
	}
}

func TestReadFailures(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       map[string]knownFailure
		err        string
	}{
		{"empty", "# only comments\n\n", map[string]knownFailure{}, ""},
		{"entries", "# c\nf.toml/a-sensitive: wildcards: not yet\n  f.toml/b-insensitive:  why \n",
			map[string]knownFailure{"f.toml/a-sensitive": {"wildcards: not yet", 2}, "f.toml/b-insensitive": {"why", 3}}, ""},
		{"no reason", "f.toml/a-sensitive:\n", nil, `x.txt:1: "f.toml/a-sensitive:", expected "file/name-sensitive: reason" (or -insensitive)`},
		{"no mode", "f.toml/a: why\n", nil, `x.txt:1: "f.toml/a: why", expected "file/name-sensitive: reason" (or -insensitive)`},
		{"no file", "a-sensitive: why\n", nil, `x.txt:1: "a-sensitive: why", expected "file/name-sensitive: reason" (or -insensitive)`},
		{"duplicate", "f.toml/a-sensitive: x\nf.toml/a-sensitive: y\n", nil, "x.txt:2: f.toml/a-sensitive listed again (first at line 1)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.txt")
			if err := os.WriteFile(path, []byte(tc.text), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := readFailures(path)
			if tc.err != "" {
				if err == nil || !strings.HasSuffix(err.Error(), tc.err) {
					t.Fatalf("err = %v, want …%s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	// The list in the repository reads.
	if _, err := readFailures(failuresFile); err != nil {
		t.Error(err)
	}
}

func TestExpectedIDs(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want [][]int64
		err  bool
	}{
		{[]any{}, [][]int64{{}}, false},
		{[]any{int64(1), int64(-1)}, [][]int64{{1, -1}}, false},
		{[]any{[]any{int64(1)}, []any{int64(2), int64(3)}}, [][]int64{{1}, {2, 3}}, false},
		{[]any{[]any{int64(1)}, int64(2)}, nil, true},
		{[]any{"1"}, nil, true},
		{int64(1), nil, true},
	} {
		got, err := expectedIDs(tc.in)
		if (err != nil) != tc.err || fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("expectedIDs(%v) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestQueryStarts(t *testing.T) {
	src := "[[queries]]\nname = \"a\"\nquery = '''\n  process where true\n'''\n\n[[queries]]\nquery = 'any where x'\n[[queries]]\nname='c'\nquery = \"\"\"   sequence\"\"\"\n"
	got := queryStarts(src, "f.toml")
	want := []query.Pos{{File: "f.toml", Line: 4, Col: 3}, {File: "f.toml", Line: 8, Col: 10}, {File: "f.toml", Line: 11, Col: 15}}
	if !slices.Equal(got, want) {
		t.Errorf("queryStarts = %v, want %v", got, want)
	}
}
