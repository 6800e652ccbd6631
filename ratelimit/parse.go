package ratelimit

import (
	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"

	"github.com/apigw/apigw/dataplane"
)

// callView is what the service reads of a RateLimitRequest, decoded from
// the wire without allocating (wireRequest) or taken from a message
// (fromProto): the domain, the request's hits_addend and the
// descriptors, whose entries are consecutive in entries.
type callView struct {
	domain  string
	hits    uint32
	descs   []descView
	entries []dataplane.RateLimitEntry
}

// descView is one descriptor: entries[first:first+n], its own
// hits_addend if set, and is_negative_hits.
type descView struct {
	first, n int
	hits     uint64
	hasHits  bool
	negative bool
}

func (v *callView) reset() {
	v.domain, v.hits, v.descs, v.entries = "", 0, v.descs[:0], v.entries[:0]
}

// fromProto fills v from a message (its strings are the message's).
func (v *callView) fromProto(req *rlsv3.RateLimitRequest) {
	v.reset()
	v.domain, v.hits = req.GetDomain(), req.GetHitsAddend()
	for _, rd := range req.GetDescriptors() {
		d := descView{first: len(v.entries), n: len(rd.GetEntries()), negative: rd.GetIsNegativeHits()}
		if h := rd.GetHitsAddend(); h != nil {
			d.hits, d.hasHits = h.GetValue(), true
		}
		for _, e := range rd.GetEntries() {
			v.entries = append(v.entries, dataplane.RateLimitEntry{Key: e.GetKey(), Value: e.GetValue()})
		}
		v.descs = append(v.descs, d)
	}
}

// parse reads a descriptor of the apigw scheme. Entries may come in any
// order; unknown keys are ignored. It returns false when the descriptor
// lacks the instance, API, environment or dimension.
func parse(entries []dataplane.RateLimitEntry, rc *requestContext) (dataplane.RateLimitDescriptor, bool) {
	var d dataplane.RateLimitDescriptor
	var account, app, ip, rule string
	for _, e := range entries {
		switch e.Key {
		case dataplane.RateLimitKeyInstance:
			d.Instance = e.Value
		case dataplane.RateLimitKeyAPI:
			d.API = e.Value
		case dataplane.RateLimitKeyEnv:
			d.Env = e.Value
		case dataplane.RateLimitKeyDim:
			d.Dim = e.Value
		case dataplane.RateLimitKeyAccount:
			account = e.Value
		case dataplane.RateLimitKeyApp:
			app = e.Value
		case dataplane.RateLimitKeyClientIP:
			ip = e.Value
		case dataplane.RateLimitKeyRule:
			rule = e.Value
		case dataplane.RateLimitKeyRequestID:
			rc.requestID = e.Value
		case dataplane.RateLimitKeyMethod:
			rc.method = e.Value
		case dataplane.RateLimitKeyPath:
			rc.path = e.Value
		}
	}
	if d.Instance == "" || d.API == "" || d.Env == "" || d.Dim == "" {
		return d, false
	}
	switch dataplane.RateLimitSubjectKey(d.Dim) {
	case dataplane.RateLimitKeyAccount:
		d.Subject = account
	case dataplane.RateLimitKeyApp:
		d.Subject = app
	case dataplane.RateLimitKeyClientIP:
		d.Subject = ip
	case dataplane.RateLimitKeyRule:
		d.Subject = rule
	}
	switch d.Dim {
	case dataplane.RateLimitDimApp, dataplane.RateLimitDimAppQuota:
		rc.appID = d.Subject
	case dataplane.RateLimitDimIP:
		rc.clientIP = d.Subject
	case dataplane.RateLimitDimDebug:
		rc.debug = true
	}
	return d, true
}

// hits returns a descriptor's hits: its own hits_addend, else the
// request's; 0 counts as 1.
func hits(d *descView, reqHits uint32) uint64 {
	if d.hasHits {
		return max(d.hits, 1)
	}
	return uint64(max(reqHits, 1))
}
