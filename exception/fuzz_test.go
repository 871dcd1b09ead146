package exception

import (
	"testing"
)

// FuzzParseKibana: no input panics the export reader or the compiler, and
// every error carries the file's name.
func FuzzParseKibana(f *testing.F) {
	for _, line := range splitLines(kibanaExport) {
		f.Add(line)
	}
	f.Add(`{"item_id":"a","entries":[{"field":"x","type":"nested","entries":[{"field":"y","type":"nested"}]}]}`)
	f.Fuzz(func(t *testing.T, s string) {
		xs, errs := ParseKibana("f.ndjson", []byte(s))
		for _, err := range errs {
			if len(err.Error()) < 9 || err.Error()[:9] != "f.ndjson:" {
				t.Errorf("unpositioned error %v", err)
			}
		}
		Compile(xs)
	})
}

// FuzzParseYAML: the same for firewarden exceptions files.
func FuzzParseYAML(f *testing.F) {
	f.Add(yamlFile)
	f.Add("exceptions:\n  - name: a\n    all: true\n    eql: 'any where a : \"x*\"'\n")
	f.Fuzz(func(t *testing.T, s string) {
		xs, errs := ParseYAML("f.yml", []byte(s))
		for _, err := range errs {
			if len(err.Error()) < 6 || err.Error()[:6] != "f.yml:" {
				t.Errorf("unpositioned error %v", err)
			}
		}
		Compile(xs)
	})
}

func splitLines(s string) []string {
	var out []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\n' {
			i++
		}
		out = append(out, s[:i])
		if i < len(s) {
			i++
		}
		s = s[i:]
	}
	return out
}
