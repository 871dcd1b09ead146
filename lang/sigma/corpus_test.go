package sigma

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firewarden/firewarden/query"
)

// corpusPath is ../shared/corpus relative to the repository: the field
// corpora, which exist only in the development workspace.
func corpusPath() (string, bool) {
	dir := filepath.Join("..", "..", "..", "shared", "corpus")
	fi, err := os.Stat(dir)
	return dir, err == nil && fi.IsDir()
}

// corpusDir returns the corpus or skips the test without it, except in CI
// where its absence is a failure.
func corpusDir(t *testing.T) string {
	t.Helper()
	dir, ok := corpusPath()
	if ok {
		return dir
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s: ../shared corpus not found", dir)
	}
	t.Skip("../shared corpus not found (it exists only in the development workspace)")
	return ""
}

func ymlFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".yaml")) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestCorpus: every SigmaHQ Linux rule compiles; every rule SigmaHQ files
// as unsupported is refused by name.
func TestCorpus(t *testing.T) {
	dir := corpusDir(t)

	t.Run("sigma", func(t *testing.T) {
		files := ymlFiles(t, filepath.Join(dir, "sigma"))
		if len(files) < 200 {
			t.Fatalf("found %d rules under %s, expected SigmaHQ's 210", len(files), dir)
		}
		compiled := 0
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			rs, err := ParseFile(f, data)
			if err != nil {
				t.Errorf("refused: %v", err)
				continue
			}
			for _, r := range rs {
				if r.Query == nil || r.Query.ScopeKey == "" || len(r.Query.Stages) != 1 {
					t.Errorf("%s: incomplete query %+v", f, r.Query)
				}
			}
			compiled++
		}
		t.Logf("compiled %d of %d SigmaHQ Linux rules", compiled, len(files))
	})

	t.Run("unsupported", func(t *testing.T) {
		want := map[string]string{
			"lnx_auditd_cve_2021_3156_sudo_buffer_overflow.yml":           "aggregation expression (| count ...)",
			"lnx_auditd_cve_2021_3156_sudo_buffer_overflow_brutforce.yml": "aggregation expression (| count ...)",
			"lnx_auth_susp_failed_logons_single_source.yml":               "aggregation expression (| count ...)",
			"lnx_shell_priv_esc_prep.yml":                                 "aggregation expression (| count ...)",
			"lnx_auditd_cve_2021_4034.yml":                                "near aggregation (| near ...)",
			"lnx_auditd_debugfs_usage.yml":                                "near aggregation (| near ...)",
			"lnx_auditd_omigod_scx_runasprovider_executescript.yml":       `auditd field "cmdline"`,
		}
		files := ymlFiles(t, filepath.Join(dir, "sigma-other", "unsupported"))
		if len(files) == 0 {
			t.Fatal("no rules under sigma-other/unsupported")
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParseFile(f, data)
			var u *query.Unsupported
			if !errors.As(err, &u) {
				t.Errorf("%s: got %v, want a refusal by name", f, err)
				continue
			}
			if u.Pos.Line == 0 || u.Pos.Col == 0 {
				t.Errorf("%s: refusal without a position: %v", f, err)
			}
			if w, ok := want[filepath.Base(f)]; ok && u.Construct != w {
				t.Errorf("%s: refused as %q, want %q", f, u.Construct, w)
			}
			t.Logf("refused: %v", err)
		}
	})

	t.Run("other", func(t *testing.T) {
		// Threat-hunting, deprecated and Windows-side rules about Linux: no
		// promise, but every outcome must be a rule or a positioned error.
		for _, sub := range []string{"rules", "rules-threat-hunting", "deprecated"} {
			for _, f := range ymlFiles(t, filepath.Join(dir, "sigma-other", sub)) {
				data, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := ParseFile(f, data); err != nil {
					t.Logf("refused: %v", err)
				}
			}
		}
	})
}
