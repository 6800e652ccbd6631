package envoysim

import (
	"context"
	"fmt"
	"net/http"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	ratelimitcommonv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	ratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ratelimit/v3"
	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	"google.golang.org/protobuf/types/known/structpb"
)

// Namespace of the dynamic metadata the rate-limit filter stores.
const rateLimitNamespace = "envoy.filters.http.ratelimit"

// rateLimit is Envoy's global rate-limit filter: descriptors from the
// route's actions, one ShouldRateLimit call, 429 when over the limit.
func (s *stream) rateLimit(ctx context.Context, f *ratelimitv3.RateLimit) (*Response, error) {
	if s.route.GetRoute() == nil {
		s.tracef("ratelimit: route without a cluster, skipped")
		return nil, nil
	}
	if len(s.vh.GetRateLimits()) > 0 {
		return nil, fmt.Errorf("virtual-host and filter-level rate limits are not emulated")
	}
	descs, err := s.descriptors(s.route.GetRoute().GetRateLimits(), f.GetStage())
	if err != nil {
		return nil, err
	}
	if len(descs) == 0 {
		s.tracef("ratelimit: no descriptor")
		return nil, nil
	}
	svc := f.GetRateLimitService().GetGrpcService()
	conn, err := s.e.grpcConn(s.cfg, svc.GetEnvoyGrpc().GetClusterName())
	if err != nil {
		return nil, err
	}
	timeout := f.GetTimeout().AsDuration()
	if f.GetTimeout() == nil {
		timeout = 20 * time.Millisecond
	}
	cctx, cancel := context.WithTimeout(ctx, s.e.serviceTimeout(timeout, 20*time.Millisecond))
	defer cancel()
	resp, err := rlsv3.NewRateLimitServiceClient(conn).ShouldRateLimit(cctx, &rlsv3.RateLimitRequest{Domain: f.GetDomain(), Descriptors: descs, HitsAddend: 1})
	if err != nil || resp.GetOverallCode() == rlsv3.RateLimitResponse_UNKNOWN {
		s.tracef("ratelimit: service error %v", err)
		if f.GetFailureModeDeny() {
			return s.localReply(http.StatusInternalServerError, "", nil, "rate_limiter_error", "RLSE"), nil
		}
		return nil, nil
	}
	if md := resp.GetDynamicMetadata(); md != nil {
		s.dynMeta[rateLimitNamespace] = md
	}
	if resp.GetOverallCode() == rlsv3.RateLimitResponse_OVER_LIMIT {
		h := &Headers{}
		for _, o := range resp.GetResponseHeadersToAdd() {
			h.Add(o.GetKey(), o.GetValue())
		}
		if !f.GetDisableXEnvoyRatelimitedHeader() {
			h.Set("x-envoy-ratelimited", "true")
		}
		status := http.StatusTooManyRequests
		if c := f.GetRateLimitedStatus().GetCode(); c != 0 {
			status = int(c)
		}
		s.tracef("ratelimit: over limit")
		return s.localReply(status, string(resp.GetRawBody()), h, "request_rate_limited", "RL"), nil
	}
	for _, o := range resp.GetResponseHeadersToAdd() {
		s.respAdd = append(s.respAdd, respHeader{name: o.GetKey(), value: o.GetValue(), appendValue: true})
	}
	for _, o := range resp.GetRequestHeadersToAdd() {
		s.hdr.Add(o.GetKey(), o.GetValue())
	}
	s.tracef("ratelimit: OK (%d descriptors)", len(descs))
	return nil, nil
}

// descriptors computes the descriptors of a route's rate limits of the
// filter's stage; a descriptor with an action that produces nothing is
// dropped, as Envoy does.
func (s *stream) descriptors(rls []*routev3.RateLimit, stage uint32) ([]*ratelimitcommonv3.RateLimitDescriptor, error) {
	var out []*ratelimitcommonv3.RateLimitDescriptor
	for _, rl := range rls {
		if rl.GetStage().GetValue() != stage {
			continue
		}
		if rl.GetLimit() != nil || rl.GetHitsAddend() != nil || rl.GetApplyOnStreamDone() {
			return nil, fmt.Errorf("rate limit overrides and hits_addend are not emulated")
		}
		d := &ratelimitcommonv3.RateLimitDescriptor{}
		ok := true
		for _, a := range rl.GetActions() {
			e, produced, err := s.action(a)
			if err != nil {
				return nil, err
			}
			if !produced {
				ok = false
				break
			}
			if e != nil {
				d.Entries = append(d.Entries, e)
			}
		}
		if ok && len(d.Entries) > 0 {
			out = append(out, d)
		}
	}
	return out, nil
}

// action returns an action's entry; produced=false drops the descriptor;
// a nil entry with produced=true skips the action.
func (s *stream) action(a *routev3.RateLimit_Action) (*ratelimitcommonv3.RateLimitDescriptor_Entry, bool, error) {
	entry := func(k, v string) (*ratelimitcommonv3.RateLimitDescriptor_Entry, bool, error) {
		return &ratelimitcommonv3.RateLimitDescriptor_Entry{Key: k, Value: v}, true, nil
	}
	switch x := a.GetActionSpecifier().(type) {
	case *routev3.RateLimit_Action_GenericKey_:
		k := x.GenericKey.GetDescriptorKey()
		if k == "" {
			k = "generic_key"
		}
		return entry(k, x.GenericKey.GetDescriptorValue())
	case *routev3.RateLimit_Action_RequestHeaders_:
		v, present := s.hdr.Joined(x.RequestHeaders.GetHeaderName())
		if !present {
			return nil, x.RequestHeaders.GetSkipIfAbsent(), nil
		}
		return entry(x.RequestHeaders.GetDescriptorKey(), v)
	case *routev3.RateLimit_Action_RemoteAddress_:
		return entry("remote_address", hostOf(s.remote))
	case *routev3.RateLimit_Action_HeaderValueMatch_:
		m := x.HeaderValueMatch
		matched := true
		for _, h := range m.GetHeaders() {
			ok, err := matchHeader(h, s.hdr)
			if err != nil {
				return nil, false, err
			}
			matched = matched && ok
		}
		expect := m.GetExpectMatch() == nil || m.GetExpectMatch().GetValue()
		if matched != expect {
			return nil, false, nil
		}
		k := m.GetDescriptorKey()
		if k == "" {
			k = "header_match"
		}
		return entry(k, m.GetDescriptorValue())
	case *routev3.RateLimit_Action_Metadata:
		m := x.Metadata
		var src *structpb.Struct
		switch m.GetSource() {
		case routev3.RateLimit_Action_MetaData_DYNAMIC:
			src = s.dynMeta[m.GetMetadataKey().GetKey()]
		case routev3.RateLimit_Action_MetaData_ROUTE_ENTRY:
			src = s.route.GetMetadata().GetFilterMetadata()[m.GetMetadataKey().GetKey()]
		}
		var v *structpb.Value
		if src != nil {
			v = structpb.NewStructValue(src)
			for _, p := range m.GetMetadataKey().GetPath() {
				v = v.GetStructValue().GetFields()[p.GetKey()]
			}
		}
		if sv := v.GetStringValue(); sv != "" {
			return entry(m.GetDescriptorKey(), sv)
		}
		if m.GetDefaultValue() != "" {
			return entry(m.GetDescriptorKey(), m.GetDefaultValue())
		}
		return nil, m.GetSkipIfAbsent(), nil
	}
	return nil, false, fmt.Errorf("rate-limit action %T is not emulated", a.GetActionSpecifier())
}
