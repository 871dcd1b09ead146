package exception

import "testing"

// TestPresetsParse: every shipped preset and group loads.
func TestPresetsParse(t *testing.T) {
	names := Presets()
	if len(names) < 12 {
		t.Fatalf("presets %v", names)
	}
	for _, n := range names {
		xs, err := LoadPresets([]string{n})
		if err != nil || len(xs) == 0 {
			t.Errorf("preset %s: %d exceptions, %v", n, len(xs), err)
		}
	}
	if _, err := LoadPresets([]string{"dokcer"}); err == nil {
		t.Error("an unknown preset loaded")
	}
}
