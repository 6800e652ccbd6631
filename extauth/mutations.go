package extauth

// mutations are the changes to the backend request: headers and query
// parameters to set and to remove. The lists start in fixed-size buffers
// of the call, so the common cases allocate nothing.
type mutations struct {
	setHdr   []kv
	rmHdr    []string
	setQuery []kv
	rmQuery  []string

	setHdrBuf   [6]kv
	rmHdrBuf    [2]string
	setQueryBuf [2]kv
	rmQueryBuf  [2]string
}

// setHeader sets a backend request header; a value with a control
// character is never put on the wire.
func (m *mutations) setHeader(k, v string) {
	if validHeaderValue(v) {
		setKV(&m.setHdr, &m.rmHdr, m.setHdrBuf[:0], k, v)
	}
}

func (m *mutations) removeHeader(k string) { removeKey(m.setHdr, &m.rmHdr, m.rmHdrBuf[:0], k) }

func (m *mutations) setQueryParam(k, v string) {
	setKV(&m.setQuery, &m.rmQuery, m.setQueryBuf[:0], k, v)
}

func (m *mutations) removeQueryParam(k string) {
	removeKey(m.setQuery, &m.rmQuery, m.rmQueryBuf[:0], k)
}

// setKV sets k to v in a set list (overwriting), starting it in buf (a
// per-call buffer) when empty, and cancels a pending removal of k.
func setKV(set *[]kv, rm *[]string, buf []kv, k, v string) {
	for i := range *set {
		if (*set)[i].k == k {
			(*set)[i].v = v
			return
		}
	}
	if *set == nil {
		*set = buf
	}
	*set = append(*set, kv{k, v})
	*rm = remove(*rm, k)
}

// removeKey records the removal of k unless k is being set or already
// removed.
func removeKey(set []kv, rm *[]string, buf []string, k string) {
	for _, s := range set {
		if s.k == k {
			return
		}
	}
	for _, r := range *rm {
		if r == k {
			return
		}
	}
	if *rm == nil {
		*rm = buf
	}
	*rm = append(*rm, k)
}

func remove(list []string, k string) []string {
	for i, r := range list {
		if r == k {
			return append(list[:i], list[i+1:]...)
		}
	}
	return list
}
