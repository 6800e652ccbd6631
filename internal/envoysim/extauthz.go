//lint:file-ignore SA1019 Envoy still honours these deprecated fields, so the emulator reads them too

package envoysim

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	mutationv3 "github.com/envoyproxy/go-control-plane/envoy/config/common/mutation_rules/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Namespace of the dynamic metadata ext_authz emits.
const extAuthzNamespace = "envoy.filters.http.ext_authz"

// extAuthz is Envoy's ext_authz filter on a gRPC service.
func (s *stream) extAuthz(ctx context.Context, f *extauthzv3.ExtAuthz) (*Response, error) {
	if s.route == nil {
		s.tracef("ext_authz: no route, no check")
		return nil, nil
	}
	per, ctxExt, err := s.extAuthzPerRoute()
	if err != nil {
		return nil, err
	}
	if per.GetDisabled() {
		s.tracef("ext_authz: disabled on the route")
		return nil, nil
	}
	if f.GetHttpService() != nil || f.GetFilterEnabled() != nil || f.GetFilterEnabledMetadata() != nil || f.GetAllowedHeaders() != nil || f.GetDisallowedHeaders() != nil {
		return nil, fmt.Errorf("ext_authz settings beyond a gRPC service are not emulated")
	}
	svc := f.GetGrpcService()
	if g := per.GetCheckSettings().GetGrpcService(); g != nil {
		svc = g
	}
	body := f.GetWithRequestBody()
	if b := per.GetCheckSettings().GetWithRequestBody(); b != nil {
		body = b
	}
	if per.GetCheckSettings().GetDisableRequestBodyBuffering() {
		body = nil
	}
	req, tooLarge := s.checkRequest(f, body, ctxExt)
	if tooLarge {
		return s.localReply(http.StatusRequestEntityTooLarge, "Payload Too Large", nil, "request_payload_too_large"), nil
	}
	conn, err := s.e.grpcConn(s.cfg, svc.GetEnvoyGrpc().GetClusterName())
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, s.e.serviceTimeout(svc.GetTimeout().AsDuration(), 200*time.Millisecond))
	defer cancel()
	resp, err := authv3.NewAuthorizationClient(conn).Check(cctx, req)
	if err != nil {
		s.tracef("ext_authz: call failed: %v", err)
		if f.GetFailureModeAllow() {
			return nil, nil
		}
		status := http.StatusForbidden
		if c := f.GetStatusOnError().GetCode(); c != 0 {
			status = int(c)
		}
		return s.localReply(status, "", nil, "ext_authz_error", "UAEX"), nil
	}
	if md := resp.GetDynamicMetadata(); md != nil {
		s.dynMeta[extAuthzNamespace] = md
	}
	if resp.GetStatus().GetCode() != int32(codes.OK) {
		d := resp.GetDeniedResponse()
		status := http.StatusForbidden
		if c := d.GetStatus().GetCode(); c != 0 {
			status = int(c)
		}
		h := &Headers{}
		for _, o := range d.GetHeaders() {
			if o.GetAppend().GetValue() {
				h.Add(o.GetHeader().GetKey(), headerValue(o.GetHeader()))
			} else {
				h.Set(o.GetHeader().GetKey(), headerValue(o.GetHeader()))
			}
		}
		s.tracef("ext_authz: denied %d", status)
		return s.localReply(status, d.GetBody(), h, "ext_authz_denied", "UAEX"), nil
	}
	return s.applyOK(f, resp.GetOkResponse())
}

// extAuthzPerRoute merges the ExtAuthzPerRoute configs of the route
// configuration, virtual host and route (context extensions add up, the
// most specific config wins otherwise).
func (s *stream) extAuthzPerRoute() (*extauthzv3.ExtAuthzPerRoute, map[string]string, error) {
	var most *extauthzv3.ExtAuthzPerRoute
	ctxExt := map[string]string{}
	for _, m := range []map[string]*anypb.Any{s.rc.GetTypedPerFilterConfig(), s.vh.GetTypedPerFilterConfig(), s.route.GetTypedPerFilterConfig()} {
		a := m[filterExtAuthz]
		if a == nil {
			continue
		}
		p := &extauthzv3.ExtAuthzPerRoute{}
		if err := unpack(a, p); err != nil {
			return nil, nil, err
		}
		for k, v := range p.GetCheckSettings().GetContextExtensions() {
			ctxExt[k] = v
		}
		most = p
	}
	return most, ctxExt, nil
}

func headerValue(h *corev3.HeaderValue) string {
	if h.GetValue() != "" {
		return h.GetValue()
	}
	return string(h.GetRawValue())
}

// checkRequest builds the CheckRequest Envoy sends for this request.
func (s *stream) checkRequest(f *extauthzv3.ExtAuthz, withBody *extauthzv3.BufferSettings, ctxExt map[string]string) (*authv3.CheckRequest, bool) {
	hdr := s.hdr.Clone()
	httpReq := &authv3.AttributeContext_HttpRequest{
		Id:       strconv.FormatUint(randUint64(), 10),
		Method:   s.hdr.Value(":method"),
		Path:     s.hdr.Value(":path"),
		Host:     s.hdr.Value(":authority"),
		Scheme:   s.hdr.Value(":scheme"),
		Protocol: "HTTP/1.1",
		Size:     -1,
	}
	if cl, err := strconv.ParseInt(s.hdr.Value("content-length"), 10, 64); err == nil {
		httpReq.Size = cl
	}
	if withBody != nil && len(s.body) > 0 {
		body := s.body
		max := int(withBody.GetMaxRequestBytes())
		partial := false
		if len(body) > max {
			if !withBody.GetAllowPartialMessage() {
				return nil, true
			}
			body, partial = body[:max], true
		}
		// With allow_partial_message the filter buffers under the
		// stream's buffer limit, whose overflow is a 413 before the check.
		if withBody.GetAllowPartialMessage() && uint64(len(body)) > s.bufferLimit() {
			s.tracef("ext_authz: buffering %d bytes overflows the buffer limit %d", len(body), s.bufferLimit())
			return nil, true
		}
		hdr.Set("x-envoy-auth-partial-body", strconv.FormatBool(partial))
		if withBody.GetPackAsBytes() {
			httpReq.RawBody = body
		} else {
			httpReq.Body = string(body)
		}
	}
	if f.GetEncodeRawHeaders() {
		hm := &corev3.HeaderMap{}
		hdr.Each(func(k, v string) { hm.Headers = append(hm.Headers, &corev3.HeaderValue{Key: k, RawValue: []byte(v)}) })
		httpReq.HeaderMap = hm
	} else {
		httpReq.Headers = map[string]string{}
		for _, n := range hdr.Names() {
			httpReq.Headers[n], _ = hdr.Joined(n)
		}
	}
	attrs := &authv3.AttributeContext{
		Source:            &authv3.AttributeContext_Peer{Address: socketAddress(s.peer)},
		Destination:       &authv3.AttributeContext_Peer{Address: socketAddress(s.local)},
		Request:           &authv3.AttributeContext_Request{Time: timestamppb.Now(), Http: httpReq},
		ContextExtensions: ctxExt,
	}
	if f.GetIncludeTlsSession() && s.tls {
		attrs.TlsSession = &authv3.AttributeContext_TLSSession{Sni: s.sni}
	}
	if ns := f.GetRouteMetadataContextNamespaces(); len(ns) > 0 {
		attrs.RouteMetadataContext = &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{}}
		for _, n := range ns {
			if v := s.route.GetMetadata().GetFilterMetadata()[n]; v != nil {
				attrs.RouteMetadataContext.FilterMetadata[n] = v
			}
		}
	}
	if ns := f.GetMetadataContextNamespaces(); len(ns) > 0 {
		attrs.MetadataContext = &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{}}
		for _, n := range ns {
			if v := s.dynMeta[n]; v != nil {
				attrs.MetadataContext.FilterMetadata[n] = v
			}
		}
	}
	return &authv3.CheckRequest{Attributes: attrs}, false
}

func socketAddress(addr string) *corev3.Address {
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address: host, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: uint32(p)}}}}
}

// applyOK applies an OK response: request header and query mutations
// (under the mutation rules), response headers for later, and the route
// cache clearing clear_route_cache(_headers) ask for.
func (s *stream) applyOK(f *extauthzv3.ExtAuthz, ok *authv3.OkHttpResponse) (*Response, error) {
	rules := f.GetDecoderHeaderMutationRules()
	var touched []string
	for _, o := range ok.GetHeaders() {
		k := strings.ToLower(o.GetHeader().GetKey())
		if allowed, err := mutationAllowed(rules, k); err != nil {
			return nil, err
		} else if !allowed {
			s.tracef("ext_authz: mutation of %s rejected by the mutation rules", k)
			if rules.GetDisallowIsError().GetValue() {
				return s.localReply(http.StatusInternalServerError, "", nil, "ext_authz_invalid"), nil
			}
			continue
		}
		if applyHeaderOption(s.hdr, k, headerValue(o.GetHeader()), o) {
			touched = append(touched, k)
		}
	}
	for _, k := range ok.GetHeadersToRemove() {
		k = strings.ToLower(k)
		if strings.HasPrefix(k, ":") || k == "host" {
			continue
		}
		if allowed, err := mutationAllowed(rules, k); err != nil {
			return nil, err
		} else if !allowed {
			continue
		}
		s.hdr.Del(k)
		touched = append(touched, k)
	}
	queryChanged := len(ok.GetQueryParametersToSet()) > 0 || len(ok.GetQueryParametersToRemove()) > 0
	if queryChanged {
		s.hdr.Set(":path", mutateQuery(s.hdr.Value(":path"), ok.GetQueryParametersToSet(), ok.GetQueryParametersToRemove()))
	}
	for _, o := range ok.GetResponseHeadersToAdd() {
		s.respAdd = append(s.respAdd, respHeader{name: strings.ToLower(o.GetHeader().GetKey()), value: headerValue(o.GetHeader()), appendValue: o.GetAppend().GetValue()})
	}
	s.tracef("ext_authz: allowed, headers %v, path %s", touched, s.hdr.Value(":path"))
	if f.GetClearRouteCache() && (len(touched) > 0 || queryChanged) {
		clearIt := true
		if list := f.GetClearRouteCacheHeaders(); len(list) > 0 {
			clearIt = queryChanged
			for _, k := range touched {
				if slices.ContainsFunc(list, func(l string) bool { return strings.EqualFold(l, k) }) {
					clearIt = true
				}
			}
		}
		if clearIt {
			s.tracef("ext_authz: route cache cleared")
			s.clearRouteCache()
		}
	}
	return nil, nil
}

// applyHeaderOption applies one OkHttpResponse.headers entry the way an
// Envoy with append_action support on ext_authz OK responses does (1.38,
// envoyproxy/envoy#42878): the deprecated append, when present, decides
// (true appends the value to the existing header, false overwrites);
// otherwise append_action does, and its default, APPEND_IF_EXISTS_OR_ADD,
// adds one more header of that name (a client-sent one stays). It reports
// whether the headers changed.
func applyHeaderOption(h *Headers, k, v string, o *corev3.HeaderValueOption) bool {
	_, exists := h.Get(k)
	if o.GetAppend() != nil {
		if !o.GetAppend().GetValue() {
			h.Set(k, v)
			return true
		}
		if !exists {
			h.Add(k, v)
			return true
		}
		joined, _ := h.Joined(k)
		h.Set(k, joined+","+v)
		return true
	}
	switch o.GetAppendAction() {
	case corev3.HeaderValueOption_ADD_IF_ABSENT:
		if exists {
			return false
		}
		h.Add(k, v)
	case corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD:
		h.Set(k, v)
	case corev3.HeaderValueOption_OVERWRITE_IF_EXISTS:
		if !exists {
			return false
		}
		h.Set(k, v)
	default: // APPEND_IF_EXISTS_OR_ADD
		h.Add(k, v)
	}
	return true
}

// mutationAllowed applies HeaderMutationRules (nil: everything allowed).
func mutationAllowed(r *mutationv3.HeaderMutationRules, k string) (bool, error) {
	if r == nil {
		return true, nil
	}
	if re := r.GetDisallowExpression().GetRegex(); re != "" {
		if m, err := regexp.MatchString(re, k); err != nil || m {
			return false, err
		}
	}
	if re := r.GetAllowExpression().GetRegex(); re != "" {
		if m, err := regexp.MatchString(re, k); err != nil || m {
			return m, err
		}
	}
	if r.GetDisallowAll().GetValue() || r.GetDisallowSystem().GetValue() && strings.HasPrefix(k, ":") {
		return false, nil
	}
	switch {
	case k == "host" || k == ":authority" || k == ":scheme" || k == ":method":
		return r.GetAllowAllRouting().GetValue(), nil
	case strings.HasPrefix(k, "x-envoy"):
		return r.GetAllowEnvoy().GetValue(), nil
	}
	return true, nil
}

// mutateQuery sets and removes query parameters the way Envoy rebuilds
// the query string: parameters sorted by name, values as given.
func mutateQuery(target string, set []*corev3.QueryParameter, remove []string) string {
	path, query, _ := strings.Cut(target, "?")
	params := map[string][]string{}
	for _, kv := range strings.Split(query, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		params[k] = append(params[k], v)
	}
	for _, q := range set {
		params[q.GetKey()] = []string{q.GetValue()}
	}
	for _, k := range remove {
		delete(params, k)
	}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		for _, v := range params[k] {
			parts = append(parts, k+"="+v)
		}
	}
	if len(parts) == 0 {
		return path
	}
	return path + "?" + strings.Join(parts, "&")
}
