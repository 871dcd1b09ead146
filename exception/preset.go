package exception

import (
	"embed"
	"fmt"
	"path"
	"sort"
	"strings"
)

// presetFS holds the shipped exception presets: firewarden exceptions
// files a user turns on by name (hunt/watch --preset NAME), one per tool
// that changes the firewall as part of its job.
//
//go:embed presets/*.yml
var presetFS embed.FS

// presetGroups name several presets at once.
var presetGroups = map[string][]string{
	"config-management": {"ansible", "puppet", "chef", "salt"},
	"containers":        {"docker", "podman", "kubernetes"},
}

// Presets lists the preset names (files and groups), sorted.
func Presets() []string {
	var out []string
	ents, _ := presetFS.ReadDir("presets")
	for _, e := range ents {
		out = append(out, strings.TrimSuffix(e.Name(), path.Ext(e.Name())))
	}
	for g := range presetGroups {
		out = append(out, g)
	}
	sort.Strings(out)
	return out
}

// PresetText is a preset file as shipped (for groups: nothing).
func PresetText(name string) ([]byte, error) {
	return presetFS.ReadFile("presets/" + name + ".yml")
}

// LoadPresets reads the named presets (a group names several). Each
// exception's position is "preset:NAME:line:col". An unknown name is an
// error naming the known ones; a preset is loaded once however often it
// is named.
func LoadPresets(names []string) ([]*Exception, error) {
	var out []*Exception
	seen := map[string]bool{}
	var load func(n string) error
	load = func(n string) error {
		n = strings.ToLower(strings.TrimSpace(n))
		if n == "" || seen[n] {
			return nil
		}
		seen[n] = true
		if g, ok := presetGroups[n]; ok {
			for _, m := range g {
				if err := load(m); err != nil {
					return err
				}
			}
			return nil
		}
		data, err := PresetText(n)
		if err != nil {
			return fmt.Errorf("unknown preset %q, expected one of %s", n, strings.Join(Presets(), ", "))
		}
		xs, errs := ParseYAML("preset:"+n, data)
		if len(errs) > 0 {
			return errs[0]
		}
		out = append(out, xs...)
		return nil
	}
	for _, n := range names {
		if err := load(n); err != nil {
			return nil, err
		}
	}
	return out, nil
}
