//lint:file-ignore SA1019 Envoy still honours HeaderValueOption.append, so the emulator reads it too

package envoysim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	procv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/anypb"
)

// The ext_proc filter (envoy.filters.http.ext_proc) is emulated at the
// protocol level, as the API describes it
// (envoy/extensions/filters/http/ext_proc/v3/ext_proc.proto and
// processing_mode.proto, envoy/service/ext_proc/v3/external_processor.proto,
// Envoy 1.37-1.40) and Envoy's filter does it
// (source/extensions/filters/http/ext_proc/ext_proc.cc):
//
//   - one bidirectional Process stream per HTTP request to the first
//     endpoint of the filter's gRPC cluster, opened when the request
//     headers reach the filter, with the (per-route overridden)
//     grpc_initial_metadata as gRPC metadata;
//   - request_headers (all headers, values in raw_value, end_of_stream
//     when the request has no body) with protocol_config on the first
//     message; the answer's CommonResponse header mutation is applied
//     (clearing the route cache unless disable_clear_route_cache), an
//     immediate_response ends the request as a local reply (status,
//     header mutation over the default content-type, body, details);
//   - on the way back, response_headers (with :status and content-length
//     when known; end_of_stream without a body) and, in BUFFERED or
//     BUFFERED_PARTIAL mode, the response body in one message:
//     BUFFERED_PARTIAL sends at most the buffer limit (the listener's
//     per-connection limit, 1 MiB by default) with end_of_stream false
//     when the body is longer, BUFFERED answers 500 then; header and body
//     mutations of the answers are applied;
//   - every message waits for its answer at most message_timeout (200 ms
//     by default, widened by Options.MinServiceTimeout); a stream that
//     cannot be opened, fails, times out or answers out of order ends the
//     processing: with failure_mode_allow the request goes on unchanged,
//     otherwise a local reply 500 (504 on a timeout).
//
// Not emulated (Serve returns an error): http_service, request body
// modes other than NONE, STREAMED / FULL_DUPLEX_STREAMED / GRPC response
// bodies, trailers sent, async_mode and observability mode, attributes,
// metadata options, mode overrides, CONTINUE_AND_REPLACE and trailers
// mutations.

// extProcState is the ext_proc stream of a request between the request
// and the response path.
type extProcState struct {
	name    string
	cfg     *extprocv3.ExternalProcessor
	mode    *extprocv3.ProcessingMode
	stream  procv3.ExternalProcessor_ProcessClient
	cancel  context.CancelFunc
	timeout time.Duration
	allow   bool
}

// errExtProcTimeout is a message_timeout expiry.
var errExtProcTimeout = errors.New("message timeout")

func (s *stream) extProc(ctx context.Context, name string, a, per *anypb.Any) (*Response, error) {
	cfg := &extprocv3.ExternalProcessor{}
	if err := unpack(a, cfg); err != nil {
		return nil, err
	}
	if cfg.GetHttpService() != nil || cfg.GetObservabilityMode() || len(cfg.GetRequestAttributes()) > 0 || len(cfg.GetResponseAttributes()) > 0 ||
		cfg.GetMetadataOptions() != nil || cfg.GetAllowModeOverride() || cfg.GetMutationRules() != nil || cfg.GetSendBodyWithoutWaitingForHeaderResponse() {
		return nil, fmt.Errorf("only grpc_service, processing_mode, failure_mode_allow, message_timeout and disable_clear_route_cache are emulated")
	}
	svc, allow, mode := cfg.GetGrpcService(), cfg.GetFailureModeAllow(), cfg.GetProcessingMode()
	md := metadata.MD{}
	for _, h := range svc.GetInitialMetadata() {
		md.Append(h.GetKey(), headerValue(h))
	}
	if per.GetTypeUrl() != "" {
		pr := &extprocv3.ExtProcPerRoute{}
		if err := unpack(per, pr); err != nil {
			return nil, err
		}
		if pr.GetDisabled() {
			s.tracef("filter %s: disabled on the route", name)
			return nil, nil
		}
		o := pr.GetOverrides()
		if o.GetAsyncMode() || len(o.GetRequestAttributes()) > 0 || len(o.GetResponseAttributes()) > 0 || o.GetMetadataOptions() != nil || o.GetProcessingRequestModifier() != nil {
			return nil, fmt.Errorf("per-route overrides other than grpc_service, grpc_initial_metadata, processing_mode and failure_mode_allow are not emulated")
		}
		if o.GetGrpcService() != nil {
			svc = o.GetGrpcService()
		}
		if o.GetProcessingMode() != nil {
			mode = o.GetProcessingMode()
		}
		if o.GetFailureModeAllow() != nil {
			allow = o.GetFailureModeAllow().GetValue()
		}
		for _, h := range o.GetGrpcInitialMetadata() {
			md.Set(h.GetKey(), headerValue(h))
		}
	}
	if svc.GetEnvoyGrpc() == nil {
		return nil, fmt.Errorf("only envoy_grpc services are emulated")
	}
	if mode.GetRequestBodyMode() != extprocv3.ProcessingMode_NONE || mode.GetRequestTrailerMode() == extprocv3.ProcessingMode_SEND || mode.GetResponseTrailerMode() == extprocv3.ProcessingMode_SEND {
		return nil, fmt.Errorf("request bodies and trailers are not emulated")
	}
	switch mode.GetResponseBodyMode() {
	case extprocv3.ProcessingMode_NONE, extprocv3.ProcessingMode_BUFFERED, extprocv3.ProcessingMode_BUFFERED_PARTIAL:
	default:
		return nil, fmt.Errorf("response body mode %s is not emulated", mode.GetResponseBodyMode())
	}
	def := 200 * time.Millisecond
	if cfg.GetMessageTimeout() != nil {
		def = cfg.GetMessageTimeout().AsDuration()
	}
	st := &extProcState{name: name, cfg: cfg, mode: mode, allow: allow, timeout: s.e.serviceTimeout(def, def)}
	fail := func(err error) (*Response, error) {
		s.tracef("filter %s: %v", name, err)
		st.close()
		if st.allow {
			s.tracef("filter %s: failure_mode_allow: the request goes on", name)
			return nil, nil
		}
		status := http.StatusInternalServerError
		if errors.Is(err, errExtProcTimeout) {
			status = http.StatusGatewayTimeout
		}
		return s.localReply(status, "", nil, "ext_proc_error_gRPC_error"), nil
	}
	conn, err := s.e.grpcConn(s.cfg, svc.GetEnvoyGrpc().GetClusterName())
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(metadata.NewOutgoingContext(ctx, md))
	st.cancel = cancel
	if st.stream, err = procv3.NewExternalProcessorClient(conn).Process(sctx); err != nil {
		return fail(err)
	}
	if mode.GetRequestHeaderMode() == extprocv3.ProcessingMode_SKIP {
		s.extproc = append(s.extproc, st)
		return nil, nil
	}
	hm := &corev3.HeaderMap{}
	s.hdr.Each(func(k, v string) { hm.Headers = append(hm.Headers, &corev3.HeaderValue{Key: k, RawValue: []byte(v)}) })
	req := &procv3.ProcessingRequest{
		Request:        &procv3.ProcessingRequest_RequestHeaders{RequestHeaders: &procv3.HttpHeaders{Headers: hm, EndOfStream: len(s.body) == 0}},
		ProtocolConfig: &procv3.ProtocolConfiguration{RequestBodyMode: mode.GetRequestBodyMode(), ResponseBodyMode: mode.GetResponseBodyMode()},
	}
	resp, err := st.roundTrip(req)
	if err != nil {
		return fail(err)
	}
	switch r := resp.GetResponse().(type) {
	case *procv3.ProcessingResponse_RequestHeaders:
		if err := s.extProcCommon(st, r.RequestHeaders.GetResponse(), s.hdr, nil); err != nil {
			return fail(err)
		}
		if r.RequestHeaders.GetResponse().GetHeaderMutation() != nil && !cfg.GetDisableClearRouteCache() {
			s.clearRouteCache()
		}
		s.tracef("filter %s: request headers: continue", name)
		s.extproc = append(s.extproc, st)
		return nil, nil
	case *procv3.ProcessingResponse_ImmediateResponse:
		st.close()
		return s.extProcImmediate(r.ImmediateResponse), nil
	default:
		return fail(fmt.Errorf("spurious answer %T to request_headers", r))
	}
}

func (st *extProcState) close() {
	if st.stream != nil {
		_ = st.stream.CloseSend()
	}
	if st.cancel != nil {
		st.cancel()
	}
	st.stream = nil
}

// roundTrip sends a message and waits for its answer at most the message
// timeout.
func (st *extProcState) roundTrip(req *procv3.ProcessingRequest) (*procv3.ProcessingResponse, error) {
	if err := st.stream.Send(req); err != nil {
		return nil, err
	}
	type result struct {
		r   *procv3.ProcessingResponse
		err error
	}
	ch := make(chan result, 1)
	go func() {
		r, err := st.stream.Recv()
		ch <- result{r, err}
	}()
	t := time.NewTimer(st.timeout)
	defer t.Stop()
	select {
	case res := <-ch:
		return res.r, res.err
	case <-t.C:
		return nil, errExtProcTimeout
	}
}

// extProcImmediate is an immediate_response: a local reply whose default
// headers (content-type text/plain with a body) the mutation changes.
func (s *stream) extProcImmediate(ir *procv3.ImmediateResponse) *Response {
	status := int(ir.GetStatus().GetCode())
	if status == 0 {
		status = http.StatusOK
	}
	h := &Headers{}
	if len(ir.GetBody()) > 0 {
		h.Set("content-type", "text/plain")
	}
	applyExtProcMutation(h, ir.GetHeaders())
	s.tracef("ext_proc: immediate response %d (%s)", status, ir.GetDetails())
	return s.localReply(status, string(ir.GetBody()), h, ir.GetDetails())
}

// extProcCommon applies a CommonResponse to headers and, when body is not
// nil, to the body.
func (s *stream) extProcCommon(st *extProcState, c *procv3.CommonResponse, h *Headers, body *[]byte) error {
	if c.GetStatus() == procv3.CommonResponse_CONTINUE_AND_REPLACE || c.GetTrailers() != nil {
		return fmt.Errorf("CONTINUE_AND_REPLACE and trailers are not emulated")
	}
	applyExtProcMutation(h, c.GetHeaderMutation())
	if bm := c.GetBodyMutation(); bm != nil {
		if body == nil {
			return fmt.Errorf("body mutation in a headers answer")
		}
		switch m := bm.GetMutation().(type) {
		case *procv3.BodyMutation_Body:
			*body = m.Body
		case *procv3.BodyMutation_ClearBody:
			if m.ClearBody {
				*body = nil
			}
		default:
			return fmt.Errorf("body mutation %T is not emulated", m)
		}
	}
	return nil
}

// applyExtProcMutation applies an ext_proc HeaderMutation: set_headers by
// their append (when set) or append_action, then remove_headers.
func applyExtProcMutation(h *Headers, m *procv3.HeaderMutation) {
	for _, o := range m.GetSetHeaders() {
		setHeaderOption(h, o, headerValue(o.GetHeader()))
	}
	for _, k := range m.GetRemoveHeaders() {
		h.Del(k)
	}
}

// extProcEncode runs the response through the ext_proc streams opened on
// the way in (last filter first).
func (s *stream) extProcEncode(r *Response) error {
	for i := len(s.extproc) - 1; i >= 0; i-- {
		st := s.extproc[i]
		if st.stream == nil {
			continue
		}
		if err := s.extProcResponse(st, r); err != nil {
			return err
		}
		st.close()
	}
	s.extproc = nil
	return nil
}

func (s *stream) extProcResponse(st *extProcState, r *Response) error {
	fail := func(err error) error {
		s.tracef("filter %s: response: %v", st.name, err)
		if st.allow {
			s.tracef("filter %s: failure_mode_allow: the response goes on", st.name)
			return nil
		}
		status := http.StatusInternalServerError
		if errors.Is(err, errExtProcTimeout) {
			status = http.StatusGatewayTimeout
		}
		*r = *s.localReply(status, "", nil, "ext_proc_error_gRPC_error")
		return nil
	}
	bodyMode := st.mode.GetResponseBodyMode()
	if st.mode.GetResponseHeaderMode() != extprocv3.ProcessingMode_SKIP {
		h := HeadersFrom(r.Header)
		h.Set(":status", strconv.Itoa(r.Status))
		if n, ok := s.filterContentLength(r); ok {
			h.Set("content-length", strconv.FormatInt(n, 10))
		}
		hm := &corev3.HeaderMap{}
		h.Each(func(k, v string) { hm.Headers = append(hm.Headers, &corev3.HeaderValue{Key: k, RawValue: []byte(v)}) })
		resp, err := st.roundTrip(&procv3.ProcessingRequest{Request: &procv3.ProcessingRequest_ResponseHeaders{ResponseHeaders: &procv3.HttpHeaders{Headers: hm, EndOfStream: len(r.Body) == 0}}})
		if err != nil {
			return fail(err)
		}
		switch a := resp.GetResponse().(type) {
		case *procv3.ProcessingResponse_ResponseHeaders:
			out := HeadersFrom(r.Header)
			if err := s.extProcCommon(st, a.ResponseHeaders.GetResponse(), out, nil); err != nil {
				return fail(err)
			}
			r.Header = out.HTTP()
		case *procv3.ProcessingResponse_ImmediateResponse:
			*r = *s.extProcImmediate(a.ImmediateResponse)
			return nil
		default:
			return fail(fmt.Errorf("spurious answer %T to response_headers", a))
		}
	}
	if len(r.Body) == 0 || bodyMode == extprocv3.ProcessingMode_NONE {
		return nil
	}
	limit := s.connBufferLimit
	body, eos := r.Body, true
	if uint64(len(body)) > limit {
		if bodyMode == extprocv3.ProcessingMode_BUFFERED {
			*r = *s.localReply(http.StatusInternalServerError, "", nil, "ext_proc_buffer_limit_exceeded")
			return nil
		}
		body, eos = body[:limit], false
	}
	resp, err := st.roundTrip(&procv3.ProcessingRequest{Request: &procv3.ProcessingRequest_ResponseBody{ResponseBody: &procv3.HttpBody{Body: body, EndOfStream: eos}}})
	if err != nil {
		return fail(err)
	}
	switch a := resp.GetResponse().(type) {
	case *procv3.ProcessingResponse_ResponseBody:
		nb := body
		h := HeadersFrom(r.Header)
		if err := s.extProcCommon(st, a.ResponseBody.GetResponse(), h, &nb); err != nil {
			return fail(err)
		}
		r.Header = h.HTTP()
		if eos {
			r.Body = nb
		} else {
			r.Body = append(nb, r.Body[limit:]...)
		}
	case *procv3.ProcessingResponse_ImmediateResponse:
		*r = *s.extProcImmediate(a.ImmediateResponse)
	default:
		return fail(fmt.Errorf("spurious answer %T to response_body", a))
	}
	return nil
}
