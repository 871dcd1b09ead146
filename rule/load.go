package rule

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/firewarden/firewarden/lang/sigma"
	"github.com/firewarden/firewarden/lang/spl"
)

// Set is the outcome of loading: the rules that compiled and the ones
// refused, each with its path and reason. Sigma correlation and filter
// rules reference other rules by id or name; they are linked over the
// whole set (link.go), again after every Add.
type Set struct {
	Rules   []*Rule
	Refused []Refusal
	Files   int // rule files read

	// What was read, before linking.
	loaded      []entry
	loadRefused []Refusal
	refusedRefs map[string]Refusal // id or name of a document in a refused Sigma file
	tracked     bool               // loaded and loadRefused describe the set

	// ESCU detections wait for the macro files loaded with them.
	pendingSPL []pendingFile
	splMacros  *spl.Macros
}

// Add appends another set and links the union: a correlation or filter
// may reference rules of either.
func (s *Set) Add(o *Set) {
	s.track()
	o.track()
	s.loaded = append(s.loaded, o.loaded...)
	s.loadRefused = append(s.loadRefused, o.loadRefused...)
	for k, v := range o.refusedRefs {
		if s.refusedRefs == nil {
			s.refusedRefs = map[string]Refusal{}
		}
		if _, ok := s.refusedRefs[k]; !ok {
			s.refusedRefs[k] = v
		}
	}
	s.Files += o.Files
	s.link()
}

// track makes a set built by hand (Rules and Refused set directly) one
// that Add and link can work with.
func (s *Set) track() {
	if s.tracked {
		return
	}
	s.tracked = true
	for _, r := range s.Rules {
		s.loaded = append(s.loaded, entry{rule: r})
	}
	s.loadRefused = append(s.loadRefused, s.Refused...)
}

// LoadPaths loads rule files and folders (recursively) from disk.
func LoadPaths(paths []string) (*Set, error) {
	set := &Set{tracked: true}
	defer func() {
		set.finishSPL()
		set.link()
	}()
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return set, err
		}
		if !fi.IsDir() {
			data, err := os.ReadFile(p)
			if err != nil {
				return set, err
			}
			set.loadFile(p, data, false)
			continue
		}
		if err := set.loadFS(os.DirFS(p), ".", p, false); err != nil {
			return set, err
		}
	}
	return set, nil
}

// LoadFS loads every rule file under root of fsys; paths in the set are
// prefix + the file's path.
func LoadFS(fsys fs.FS, root, prefix string, builtin bool) (*Set, error) {
	set := &Set{tracked: true}
	err := set.loadFS(fsys, root, prefix, builtin)
	set.finishSPL()
	set.link()
	return set, err
}

// Files lists the rule files under root in fsys (recursively, skipping
// hidden folders and tests files), in name order.
func Files(fsys fs.FS, root string) ([]string, error) {
	var files []string
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			return nil
		}
		if isRuleFile(p) {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	return files, err
}

func (s *Set) loadFS(fsys fs.FS, root, prefix string, builtin bool) error {
	files, err := Files(fsys, root)
	if err != nil {
		return err
	}
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			return err
		}
		name := f
		if builtin {
			name = prefix + f
		} else {
			name = filepath.Join(prefix, filepath.FromSlash(f))
		}
		s.loadFile(name, data, builtin)
	}
	return nil
}

func isRuleFile(p string) bool {
	if IsTestFile(p) {
		return false
	}
	switch strings.ToLower(path.Ext(p)) {
	case ".yml", ".yaml", ".toml", ".kql":
		return true
	}
	return false
}

func (s *Set) loadFile(name string, data []byte, builtin bool) {
	s.Files++
	switch strings.ToLower(path.Ext(filepath.ToSlash(name))) {
	case ".yml", ".yaml":
		switch yamlKind(data) {
		case "sentinel":
			r, err := ParseSentinel(name, data)
			s.addRule(r, err, name, builtin)
			return
		case "escu":
			// Compiled once every file is read: macro files loaded with
			// it may define its macros (escu.go).
			s.pendingSPL = append(s.pendingSPL, pendingFile{name: name, data: data, builtin: builtin})
			return
		case "splmacro":
			s.Files--
			s.addSPLMacro(name, data)
			return
		}
		rules, err := sigma.ParseFile(name, data)
		if err != nil {
			ref := Refusal{Path: name, Err: err}
			s.loadRefused = append(s.loadRefused, ref)
			for _, id := range sigma.Identities(data) {
				for _, k := range []string{id.ID, id.Name} {
					if k == "" {
						continue
					}
					if s.refusedRefs == nil {
						s.refusedRefs = map[string]Refusal{}
					}
					s.refusedRefs[k] = ref
				}
			}
			return
		}
		for _, r := range rules {
			e := entry{doc: r}
			if r.Filter == nil {
				e.rule = FromSigma(r, builtin)
			}
			s.loaded = append(s.loaded, e)
		}
	case ".toml":
		// A rule that was read but cannot run keeps its metadata in the
		// refusal, so `rules check` and `rules list` can name it.
		r, err := ParseElastic(name, data)
		if err != nil {
			if r != nil {
				r.Builtin = builtin
			}
			s.loadRefused = append(s.loadRefused, Refusal{Path: name, Err: err, Rule: r})
			return
		}
		r.Builtin = builtin
		s.loaded = append(s.loaded, entry{rule: r})
	case ".kql":
		r, err := ParseKQL(name, data)
		s.addRule(r, err, name, builtin)
	default:
		s.loadRefused = append(s.loadRefused, Refusal{Path: name, Err: fmt.Errorf("%s: not a rule file firewarden reads", name)})
	}
}

// yamlKind tells apart, by their top-level keys, the ecosystems that
// write rules as YAML: "sentinel" (query: with queryFrequency:,
// relevantTechniques: or tactics:); anything else is "sigma".
func yamlKind(data []byte) string {
	switch {
	case IsSentinelYAML(data):
		return "sentinel"
	case IsESCU(data):
		return "escu"
	case spl.IsMacroFile(data):
		return "splmacro"
	}
	return "sigma"
}

// addRule records one rule read from a file, or its refusal (keeping the
// metadata of a rule that was read but cannot run).
func (s *Set) addRule(r *Rule, err error, name string, builtin bool) {
	if r != nil {
		r.Builtin = builtin
	}
	if err != nil {
		s.loadRefused = append(s.loadRefused, Refusal{Path: name, Err: err, Rule: r})
		return
	}
	s.loaded = append(s.loaded, entry{rule: r})
}

// FromSigma converts a parsed Sigma rule.
func FromSigma(r *sigma.Rule, builtin bool) *Rule {
	sev := strings.ToLower(r.Level)
	var authors []string
	if r.Author != "" {
		authors = []string{r.Author}
	}
	ls := r.LogSource
	var parts []string
	for _, p := range []string{ls.Product, ls.Category, ls.Service} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	out := &Rule{
		ID:             r.ID,
		Name:           r.Title,
		Description:    r.Description,
		Language:       "sigma",
		Status:         r.Status,
		Severity:       sev,
		RiskScore:      RiskOf(sev),
		Author:         authors,
		Date:           r.Date,
		Modified:       r.Modified,
		References:     r.References,
		Tags:           r.Tags,
		Threat:         ThreatFromTags(r.Tags),
		FalsePositives: r.FalsePositives,
		LogSource:      strings.Join(parts, "/"),
		Path:           r.Path,
		Builtin:        builtin,
		Query:          r.Query,
		Text:           string(r.Raw),
	}
	applyCustom(out, r.Raw)
	return out
}

// LoadData loads one rule file from its contents; name is its path in
// positions and in the rules' Path (package ruletest reads rule files
// from disk and from the embedded pack alike).
func LoadData(name string, data []byte, builtin bool) *Set {
	set := &Set{tracked: true}
	set.loadFile(name, data, builtin)
	set.finishSPL()
	set.link()
	return set
}
