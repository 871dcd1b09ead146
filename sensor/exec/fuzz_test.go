package exec

import "testing"

// FuzzDecode: no ring-buffer record, however cut or corrupted, panics the
// decoder or the event builder; a record that decodes makes an event with
// its pid. Seeded from records captured on a live kernel.
func FuzzDecode(f *testing.F) {
	for _, r := range loadRecords(f) {
		f.Add(r)
		f.Add(r[:len(r)/2])
	}
	f.Add([]byte{})
	s := offlineSensor()
	f.Fuzz(func(t *testing.T, b []byte) {
		r, ok := decode(b)
		if !ok {
			return
		}
		ev := s.event(&r)
		if ev == nil || !ev.Has("process.pid") {
			t.Fatalf("decoded record made no event with a pid: %v", ev)
		}
	})
}
