package ratelimit

import (
	ratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"

	"github.com/apigw/apigw/ratelimit/descriptor"
)

// parse reads a descriptor of the apigw scheme. Entries may come in any
// order; unknown keys are ignored. It returns false when the descriptor
// lacks the instance, API, environment or dimension.
func parse(rd *ratelimitv3.RateLimitDescriptor, rc *requestContext) (descriptor.Descriptor, bool) {
	var d descriptor.Descriptor
	var account, app, ip string
	for _, e := range rd.GetEntries() {
		switch e.Key {
		case descriptor.KeyInstance:
			d.Instance = e.Value
		case descriptor.KeyAPI:
			d.API = e.Value
		case descriptor.KeyEnv:
			d.Env = e.Value
		case descriptor.KeyDim:
			d.Dim = e.Value
		case descriptor.KeyAccount:
			account = e.Value
		case descriptor.KeyApp:
			app = e.Value
		case descriptor.KeyClientIP:
			ip = e.Value
		case descriptor.KeyRequestID:
			rc.requestID = e.Value
		case descriptor.KeyMethod:
			rc.method = e.Value
		case descriptor.KeyPath:
			rc.path = e.Value
		}
	}
	if d.Instance == "" || d.API == "" || d.Env == "" || d.Dim == "" {
		return d, false
	}
	switch descriptor.SubjectKey(d.Dim) {
	case descriptor.KeyAccount:
		d.Subject = account
	case descriptor.KeyApp:
		d.Subject = app
	case descriptor.KeyClientIP:
		d.Subject = ip
	}
	switch d.Dim {
	case descriptor.DimApp, descriptor.DimAppQuota:
		rc.appID = d.Subject
	case descriptor.DimIP:
		rc.clientIP = d.Subject
	case descriptor.DimDebug:
		rc.debug = true
	}
	return d, true
}

// hits returns a descriptor's hits: its own hits_addend, else the
// request's; 0 counts as 1.
func hits(rd *ratelimitv3.RateLimitDescriptor, reqHits uint32) uint64 {
	if h := rd.GetHitsAddend(); h != nil {
		return max(h.GetValue(), 1)
	}
	return uint64(max(reqHits, 1))
}
