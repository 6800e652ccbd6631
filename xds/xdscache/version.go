package xdscache

import (
	"sort"
	"sync"
	"time"
)

// maxMemo bounds the encoded responses a Version keeps. Streams in the
// same state share one; more distinct states than this are encoded per
// stream.
const maxMemo = 64

// Version is the set of resources of one type an instance serves at one
// point. It never changes once installed, except for its memo of encoded
// responses.
type Version struct {
	// TypeURL is the resource type.
	TypeURL string
	// ID is the version sent to Envoys (version_info in SotW,
	// system_version_info in delta): unique per instance, feed and
	// process.
	ID string
	// Resources by name.
	Resources map[string]*Resource
	// Installed is when the version was installed in the cache.
	Installed time.Time

	namesOnce sync.Once
	names     []string

	memoMu sync.Mutex
	memo   map[string]*memoEntry
}

type memoEntry struct {
	once sync.Once
	val  any
	err  error
}

// Names returns the names of the resources, sorted.
func (v *Version) Names() []string {
	v.namesOnce.Do(func() {
		v.names = make([]string, 0, len(v.Resources))
		for n := range v.Resources {
			v.names = append(v.names, n)
		}
		sort.Strings(v.names)
	})
	return v.names
}

// Memo returns the value build computes for key, computing it at most
// once per key for this version (build runs outside the memo's lock;
// concurrent callers of the same key wait for the first). Beyond maxMemo
// keys, build runs for every call and shared is false.
func (v *Version) Memo(key string, build func() (any, error)) (val any, shared bool, err error) {
	v.memoMu.Lock()
	if v.memo == nil {
		v.memo = map[string]*memoEntry{}
	}
	e := v.memo[key]
	if e == nil {
		if len(v.memo) >= maxMemo {
			v.memoMu.Unlock()
			val, err := build()
			return val, false, err
		}
		e = &memoEntry{}
		v.memo[key] = e
	}
	v.memoMu.Unlock()
	e.once.Do(func() { e.val, e.err = build() })
	return e.val, true, e.err
}
