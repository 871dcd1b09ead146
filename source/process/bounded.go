package process

// bounded is a map from (host, pid) bounded in size: when it is full, a
// new key evicts the oldest one. Table and Lineage keep their processes in
// one.
type bounded[V any] struct {
	m    map[key]V
	fifo []key
	head int
	cap  int
}

func newBounded[V any](capacity int) bounded[V] {
	if capacity <= 0 {
		capacity = DefaultCapacity
	}
	return bounded[V]{m: make(map[key]V), cap: capacity}
}

func (b *bounded[V]) get(k key) V { return b.m[k] }

// put stores v at k. When k is new and the map is full, the oldest entry
// makes room: it is returned (ok true) so its value may be reused.
func (b *bounded[V]) put(k key, v V) (evicted V, ok bool) {
	if _, exists := b.m[k]; !exists {
		if len(b.fifo) < b.cap {
			b.fifo = append(b.fifo, k)
		} else {
			old := b.fifo[b.head]
			evicted, ok = b.m[old], true
			delete(b.m, old)
			b.fifo[b.head] = k
			b.head = (b.head + 1) % b.cap
		}
	}
	b.m[k] = v
	return evicted, ok
}

func (b *bounded[V]) len() int { return len(b.m) }
