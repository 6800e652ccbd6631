// Package live holds what the running components share at run time, apart
// from the resource rules of package model: the immutable Snapshot of
// every instance that the store's watch publishes, the Feed that
// distributes it, and the Status registry where the components report what
// they serve (the APIs left out, what each Envoy acknowledged). The
// consumers of Status define the interfaces they need (admin reads it, the
// xDS server and controller write it).
package live

import (
	"sort"

	"github.com/apigw/apigw/model"
)

// Snapshot is an immutable, revision-stamped view of every instance. The
// data-plane components serve from the latest one and never modify it.
type Snapshot struct {
	// Revision is the etcd revision the snapshot reflects.
	Revision  int64
	instances map[string]*model.Instance
	// Invalid lists the objects in the store that failed validation.
	Invalid []InvalidObject
}

// InvalidObject is an object in the store that apigw could not use.
type InvalidObject struct {
	Key         string
	ModRevision int64
	Reason      string
	// InForce says that an earlier good version is still being served.
	InForce bool
}

// NewSnapshot assembles a snapshot. Instance "default" always exists.
func NewSnapshot(rev int64, instances map[string]*model.Instance, invalid []InvalidObject) *Snapshot {
	m := make(map[string]*model.Instance, len(instances)+1)
	for k, v := range instances {
		m[k] = v
	}
	if m[model.DefaultInstance] == nil {
		m[model.DefaultInstance] = model.NewInstance(model.DefaultInstance, nil)
	}
	return &Snapshot{Revision: rev, instances: m, Invalid: invalid}
}

// Instance returns an instance by name, or nil.
func (s *Snapshot) Instance(name string) *model.Instance { return s.instances[name] }

// Instances returns every instance, sorted by name.
func (s *Snapshot) Instances() []*model.Instance {
	out := make([]*model.Instance, 0, len(s.instances))
	for _, in := range s.instances {
		out = append(out, in)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
