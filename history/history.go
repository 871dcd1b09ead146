// Package history remembers which terms have been seen, and when: the
// memory Elastic's new_terms rules need ("has this user ever run this
// binary in the last 14 days?"). It is bounded — at most a fixed number of
// terms, the least recently seen forgotten first and counted — and kept
// in an embedded bbolt file so that it survives restarts.
package history

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// DefaultMaxTerms bounds a store's terms when the caller gives no bound.
const DefaultMaxTerms = 1 << 20

// Store is a bounded map from (namespace, term) to the time the term was
// last seen. It is safe for concurrent use.
type Store struct {
	mu    sync.Mutex
	db    *bolt.DB // nil: in memory only
	max   int
	seen  map[key]int64 // unix nanoseconds
	dirty map[key]bool
	stats Stats
}

type key struct{ ns, term string }

// Stats is what a store holds and has shed.
type Stats struct {
	Terms   int   // terms held now
	Evicted int64 // terms forgotten because the bound bit
}

// Open opens (creating if needed) the store at path, loading what it
// holds; path "" keeps the store in memory. maxTerms <= 0 means
// DefaultMaxTerms.
func Open(path string, maxTerms int) (*Store, error) {
	if maxTerms <= 0 {
		maxTerms = DefaultMaxTerms
	}
	s := &Store{max: maxTerms, seen: map[key]int64{}, dirty: map[key]bool{}}
	if path == "" {
		return s, nil
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("history %s: %w", path, err)
	}
	s.db = db
	err = db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(ns []byte, b *bolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error {
				if len(v) != 8 {
					return fmt.Errorf("bucket %q: a value of %d bytes, expected 8", ns, len(v))
				}
				s.seen[key{string(ns), string(k)}] = int64(binary.BigEndian.Uint64(v))
				return nil
			})
		})
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("history %s: %w", path, err)
	}
	s.prune()
	return s, nil
}

// Observe records that term was seen in namespace ns at time t, and
// reports whether it is new: not seen within window before t (window 0:
// never seen before). A term seen again later keeps its latest time.
func (s *Store) Observe(ns, term string, t time.Time, window time.Duration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key{ns, term}
	now := t.UnixNano()
	last, ok := s.seen[k]
	isNew := !ok || window > 0 && now-last > int64(window)
	if !ok || now > last {
		s.seen[k] = now
		s.dirty[k] = true
		if !ok && len(s.seen) > s.max {
			s.prune()
		}
	}
	s.stats.Terms = len(s.seen)
	return isNew
}

// prune forgets the least recently seen terms until a tenth of the bound
// is free, so that pruning happens rarely.
func (s *Store) prune() {
	if len(s.seen) <= s.max {
		return
	}
	keep := s.max - s.max/10
	type kt struct {
		k key
		t int64
	}
	all := make([]kt, 0, len(s.seen))
	for k, t := range s.seen {
		all = append(all, kt{k, t})
	}
	slices.SortFunc(all, func(a, b kt) int {
		switch {
		case a.t < b.t:
			return -1
		case a.t > b.t:
			return 1
		}
		return 0
	})
	for _, x := range all[:len(all)-keep] {
		delete(s.seen, x.k)
		s.dirty[x.k] = true // deleted on the next Sync
		s.stats.Evicted++
	}
	s.stats.Terms = len(s.seen)
}

// Stats reports what the store holds and has shed.
func (s *Store) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Sync writes what changed since the last Sync to disk (nothing for an
// in-memory store).
func (s *Store) Sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil || len(s.dirty) == 0 {
		return nil
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		var buf [8]byte
		for k := range s.dirty {
			b, err := tx.CreateBucketIfNotExists([]byte(k.ns))
			if err != nil {
				return err
			}
			t, ok := s.seen[k]
			if !ok {
				if err := b.Delete([]byte(k.term)); err != nil {
					return err
				}
				continue
			}
			binary.BigEndian.PutUint64(buf[:], uint64(t))
			if err := b.Put([]byte(k.term), buf[:]); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		clear(s.dirty)
	}
	return err
}

// Close syncs and closes the store.
func (s *Store) Close() error {
	err := s.Sync()
	if s.db != nil {
		err = errors.Join(err, s.db.Close())
	}
	return err
}
