package envoysim

import (
	"fmt"
	"strconv"

	xdsmatcherv3 "github.com/cncf/xds/go/xds/type/matcher/v3"
	headermutationv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/header_mutation/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

// deferredMatch is a match_delegate filter whose matcher reads the
// response: its header_mutation acts when the response headers pass it.
type deferredMatch struct {
	name    string
	matcher *xdsmatcherv3.Matcher
	hm      *headermutationv3.HeaderMutation
}

// encodeDeferred runs the match_delegate filters that read the response
// on the way back (last filter first).
func (s *stream) encodeDeferred(r *Response) error {
	for i := len(s.deferred) - 1; i >= 0; i-- {
		d := s.deferred[i]
		s.matchResp = HeadersFrom(r.Header)
		s.matchResp.Set(":status", strconv.Itoa(r.Status))
		if n, ok := s.filterContentLength(r); ok {
			s.matchResp.Set("content-length", strconv.FormatInt(n, 10))
		}
		skip, err := s.skipByMatcher(d.matcher)
		s.matchResp = nil
		if err != nil {
			return fmt.Errorf("filter %s: %w", d.name, err)
		}
		if skip {
			s.tracef("filter %s: skipped by its matcher", d.name)
			continue
		}
		opts, err := appendOptions(d.hm.GetMutations().GetResponseMutations())
		if err != nil {
			return fmt.Errorf("filter %s: %w", d.name, err)
		}
		h := HeadersFrom(r.Header)
		x := s.fmtCtx(h)
		x.status, x.details, x.flags = r.Status, r.Details, r.Flags
		if err := applyHeaderOptions(h, opts, x); err != nil {
			return err
		}
		r.Header = h.HTTP()
	}
	return nil
}

// filterContentLength is the content-length header the response has in
// Envoy's filter chain: the backend's own (none when it sent the body
// chunked), and for Envoy's own answers (direct responses, local replies)
// the body's length when there is a body (sendLocalReply sets it then).
// The emulation keeps content-length out of Response.Header (it is
// hop-by-hop here), so the matchers reading the response get it from
// here.
func (s *stream) filterContentLength(r *Response) (int64, bool) {
	if s.upstreamAnswered {
		return s.upstreamLength, s.upstreamLength >= 0
	}
	return int64(len(r.Body)), len(r.Body) > 0
}

// headerMutationFilter runs a header_mutation filter with its per-route
// config (request mutations now, response mutations on the way back).
func (s *stream) headerMutationFilter(name string, cfg, per *anypb.Any) error {
	hm := &headermutationv3.HeaderMutation{}
	if err := unpack(cfg, hm); err != nil {
		return err
	}
	muts := []*headermutationv3.Mutations{hm.GetMutations()}
	if per.GetTypeUrl() != "" {
		pr := &headermutationv3.HeaderMutationPerRoute{}
		if err := unpack(per, pr); err != nil {
			return err
		}
		muts = append(muts, pr.GetMutations())
	}
	for _, m := range muts {
		if err := s.applyMutations(name, m); err != nil {
			return err
		}
	}
	return nil
}
