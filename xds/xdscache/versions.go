package xdscache

// versionLog remembers the etcd revision of the last versions of a type.
type versionLog struct {
	max   int
	order []string
	revs  map[string]int64
}

func newVersionLog(max int) *versionLog {
	return &versionLog{max: max, revs: map[string]int64{}}
}

func (v *versionLog) add(version string, rev int64) {
	v.order = append(v.order, version)
	v.revs[version] = rev
	if len(v.order) > v.max {
		delete(v.revs, v.order[0])
		v.order = v.order[1:]
	}
}

func (v *versionLog) touch(version string, rev int64) {
	if _, ok := v.revs[version]; ok {
		v.revs[version] = rev
	}
}

func (v *versionLog) get(version string) (int64, bool) {
	if v == nil {
		return 0, false
	}
	r, ok := v.revs[version]
	return r, ok
}
