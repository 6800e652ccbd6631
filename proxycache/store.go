package proxycache

import (
	"container/list"
	"strings"
	"sync"
	"time"
)

// entry is one stored response.
type entry struct {
	key     string
	hash    string // the content hash of the plug-in it was stored under
	status  int
	headers [][2]string // replayed headers, lower-case names
	body    []byte
	expires time.Time
	size    int64
}

// store is an LRU of responses bounded by total size.
type store struct {
	mu      sync.Mutex
	max     int64
	bytes   int64
	order   *list.List // front: most recently used
	entries map[string]*list.Element
	m       *metrics
}

func newStore(max int64, m *metrics) *store {
	return &store{max: max, order: list.New(), entries: map[string]*list.Element{}, m: m}
}

func entrySize(e *entry) int64 {
	n := int64(len(e.key) + len(e.body) + 64)
	for _, h := range e.headers {
		n += int64(len(h[0]) + len(h[1]))
	}
	return n
}

// get returns a fresh entry (dropping an expired one).
func (s *store) get(key string, now time.Time) *entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	el := s.entries[key]
	if el == nil {
		return nil
	}
	e := el.Value.(*entry)
	if !now.Before(e.expires) {
		s.removeLocked(el)
		return nil
	}
	s.order.MoveToFront(el)
	return e
}

// put stores an entry, evicting the least recently used ones beyond the
// total size.
func (s *store) put(e *entry) {
	e.size = entrySize(e)
	if e.size > s.max {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.entries[e.key]; old != nil {
		s.removeLocked(old)
	}
	s.entries[e.key] = s.order.PushFront(e)
	s.bytes += e.size
	for s.bytes > s.max {
		last := s.order.Back()
		s.removeLocked(last)
		s.m.evictions.Inc()
	}
	s.m.stores.Inc()
	s.m.bytes.Set(float64(s.bytes))
}

func (s *store) removeLocked(el *list.Element) {
	e := el.Value.(*entry)
	s.order.Remove(el)
	delete(s.entries, e.key)
	s.bytes -= e.size
	s.m.bytes.Set(float64(s.bytes))
}

// retain drops the entries stored under a content hash that keep does not
// hold (a plug-in whose content changed or that was deleted).
func (s *store) retain(keep func(hash string) bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for el := s.order.Front(); el != nil; {
		next := el.Next()
		if !keep(el.Value.(*entry).hash) {
			s.removeLocked(el)
			n++
		}
		el = next
	}
	return n
}

// purge drops the entries whose scope starts with prefix ("" for all).
func (s *store) purge(prefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for el := s.order.Front(); el != nil; {
		next := el.Next()
		if strings.HasPrefix(el.Value.(*entry).key, prefix) {
			s.removeLocked(el)
			n++
		}
		el = next
	}
	return n
}

func (s *store) size() (entries int, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries), s.bytes
}
