package envoysim

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	datav3 "github.com/envoyproxy/go-control-plane/envoy/data/accesslog/v3"
	filealv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/file/v3"
	grpcalsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/grpc/v3"
	streamalv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
	alsv3 "github.com/envoyproxy/go-control-plane/envoy/service/accesslog/v3"
	metadatav3 "github.com/envoyproxy/go-control-plane/envoy/type/metadata/v3"
	tracingv3 "github.com/envoyproxy/go-control-plane/envoy/type/tracing/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Access logs, as Envoy's HCM writes them when a stream ends: each
// access_log entry's filter is evaluated, then the logger runs.
//
// The http_grpc logger (envoy.access_loggers.http_grpc) is emulated like
// Envoy's GrpcAccessLogger: one logger per distinct common_config (Envoy
// keeps one per worker thread; the emulation has one worker); entries are
// buffered and sent in one StreamAccessLogsMessage when the buffer reaches
// buffer_size_bytes (default 16384) or every buffer_flush_interval
// (default 1 s); the first message of a stream carries the identifier
// (node and log_name) and later ones only entries; a failed stream is
// dropped and the next flush opens a new one (the batch that failed is
// lost, as in Envoy). Envoy.FlushAccessLogs sends what is buffered now.

// alsLogger is one gRPC access logger.
type alsLogger struct {
	e      *Envoy
	cfg    *grpcalsv3.CommonGrpcAccessLogConfig
	limit  int
	stop   chan struct{}
	closed bool

	mu      sync.Mutex
	entries []*datav3.HTTPAccessLogEntry
	size    int
	stream  alsv3.AccessLogService_StreamAccessLogsClient
	cancel  context.CancelFunc
	sent    int // messages sent on the current stream
	dropped int
}

// accessLog runs the HCM's access loggers for a finished stream (none
// with Options.NoAccessLogs).
func (s *stream) accessLog(resp *Response, end time.Time) error {
	logs := s.hcm.GetAccessLog()
	if len(logs) == 0 || s.e.opts.NoAccessLogs {
		return nil
	}
	x := s.fmtCtx(HeadersFrom(resp.Header))
	x.status, x.details, x.flags = resp.Status, resp.Details, resp.Flags
	x.end, x.bytesIn, x.bytesOut = end, len(s.body), len(resp.Body)
	for _, l := range logs {
		ok, err := s.logFilter(l.GetFilter(), x)
		if err != nil {
			return fmt.Errorf("access log %s: %w", l.GetName(), err)
		}
		if !ok {
			continue
		}
		a := l.GetTypedConfig()
		switch {
		case a.MessageIs(&grpcalsv3.HttpGrpcAccessLogConfig{}):
			cfg := &grpcalsv3.HttpGrpcAccessLogConfig{}
			if err := unpack(a, cfg); err != nil {
				return err
			}
			entry, err := s.httpLogEntry(cfg, resp, end)
			if err != nil {
				return fmt.Errorf("access log %s: %w", l.GetName(), err)
			}
			s.e.alsLogger(s.cfg, cfg.GetCommonConfig()).log(s.cfg, entry)
		default:
			if err := s.fileAccessLog(l, x, end); err != nil {
				return err
			}
		}
	}
	return nil
}

// alsLogger returns the logger of a common config, creating it.
func (e *Envoy) alsLogger(cfg *Config, cc *grpcalsv3.CommonGrpcAccessLogConfig) *alsLogger {
	key := string(mustMarshal(cc))
	e.mu.Lock()
	defer e.mu.Unlock()
	if l := e.als[key]; l != nil {
		return l
	}
	limit := 16384
	if v := cc.GetBufferSizeBytes(); v != nil {
		limit = int(v.GetValue())
	}
	interval := time.Second
	if d := cc.GetBufferFlushInterval(); d != nil {
		interval = d.AsDuration()
	}
	l := &alsLogger{e: e, cfg: cc, limit: limit, stop: make(chan struct{})}
	e.als[key] = l
	go l.timer(cfg, interval)
	return l
}

func mustMarshal(m proto.Message) []byte {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

func (l *alsLogger) timer(cfg *Config, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			l.mu.Lock()
			l.flush(l.e.src.Config())
			l.mu.Unlock()
		}
	}
}

// log adds an entry, flushing when the buffer is full (Envoy flushes
// once the approximate size reaches the limit).
func (l *alsLogger) log(cfg *Config, entry *datav3.HTTPAccessLogEntry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.entries = append(l.entries, entry)
	l.size += proto.Size(entry)
	if l.size >= l.limit {
		l.flush(cfg)
	}
}

// flush sends the buffered entries in one message. l.mu is held.
func (l *alsLogger) flush(cfg *Config) {
	if len(l.entries) == 0 {
		return
	}
	msg := &alsv3.StreamAccessLogsMessage{LogEntries: &alsv3.StreamAccessLogsMessage_HttpLogs{
		HttpLogs: &alsv3.StreamAccessLogsMessage_HTTPAccessLogEntries{LogEntry: l.entries},
	}}
	l.entries, l.size = nil, 0
	if l.stream == nil {
		if err := l.open(cfg); err != nil {
			l.dropped += len(msg.GetHttpLogs().GetLogEntry())
			l.e.log.Debug("access log stream", "err", err)
			return
		}
	}
	if l.sent == 0 {
		msg.Identifier = &alsv3.StreamAccessLogsMessage_Identifier{Node: l.e.node(), LogName: l.cfg.GetLogName()}
	}
	if err := l.stream.Send(msg); err != nil {
		l.dropped += len(msg.GetHttpLogs().GetLogEntry())
		l.e.log.Debug("access log stream", "err", err)
		l.cancel()
		l.stream, l.cancel = nil, nil
		return
	}
	l.sent++
}

func (l *alsLogger) open(cfg *Config) error {
	cluster := l.cfg.GetGrpcService().GetEnvoyGrpc().GetClusterName()
	if cluster == "" {
		return fmt.Errorf("access log %s: only envoy_grpc services are emulated", l.cfg.GetLogName())
	}
	conn, err := l.e.grpcConn(cfg, cluster)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	st, err := alsv3.NewAccessLogServiceClient(conn).StreamAccessLogs(ctx)
	if err != nil {
		cancel()
		return err
	}
	l.stream, l.cancel, l.sent = st, cancel, 0
	return nil
}

// close flushes and half-closes the stream, waiting for the server's
// answer.
func (l *alsLogger) close(cfg *Config) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.closed = true
	close(l.stop)
	l.flush(cfg)
	if l.stream != nil {
		_, _ = l.stream.CloseAndRecv()
		l.cancel()
		l.stream = nil
	}
}

// FlushAccessLogs sends the access-log entries buffered so far, as the
// flush timer would.
func (e *Envoy) FlushAccessLogs() {
	cfg := e.src.Config()
	for _, l := range e.loggers() {
		l.mu.Lock()
		l.flush(cfg)
		l.mu.Unlock()
	}
}

// DroppedAccessLogs is the number of entries Envoy would count in
// access_logs.grpc_access_log.logs_dropped (and batches lost on a failed
// stream).
func (e *Envoy) DroppedAccessLogs() int {
	n := 0
	for _, l := range e.loggers() {
		l.mu.Lock()
		n += l.dropped
		l.mu.Unlock()
	}
	return n
}

// loggers lists the gRPC access loggers (e.mu is not held while a logger
// is locked: a flush takes e.mu to dial).
func (e *Envoy) loggers() []*alsLogger {
	e.mu.Lock()
	defer e.mu.Unlock()
	ls := make([]*alsLogger, 0, len(e.als))
	for _, l := range e.als {
		ls = append(ls, l)
	}
	return ls
}

// node is the Envoy's node: Options.Node, else the ADS client's.
func (e *Envoy) node() *corev3.Node {
	if e.opts.Node != nil {
		return e.opts.Node
	}
	if n, ok := e.src.(interface{ Node() *corev3.Node }); ok {
		return n.Node()
	}
	return nil
}

// httpLogEntry builds the entry Envoy's http_grpc logger writes.
func (s *stream) httpLogEntry(cfg *grpcalsv3.HttpGrpcAccessLogConfig, resp *Response, end time.Time) (*datav3.HTTPAccessLogEntry, error) {
	t := s.timing
	since := func(at time.Time) *durationpb.Duration { return durationpb.New(at.Sub(t.start)) }
	c := &datav3.AccessLogCommon{
		DownstreamRemoteAddress:       socketAddress(s.remote),
		DownstreamDirectRemoteAddress: socketAddress(s.peer),
		DownstreamLocalAddress:        socketAddress(s.local),
		StartTime:                     timestamppb.New(t.start),
		Duration:                      since(end),
		TimeToLastRxByte:              since(t.start),
		TimeToFirstDownstreamTxByte:   since(end),
		TimeToLastDownstreamTxByte:    since(end),
		RouteName:                     s.route.GetName(),
		ResponseFlags:                 responseFlags(resp.Flags),
		AccessLogType:                 datav3.AccessLogType_DownstreamEnd,
	}
	if s.tls {
		c.TlsProperties = &datav3.TLSProperties{TlsSniHostname: s.sni}
	}
	if !t.upTx.IsZero() {
		c.TimeToFirstUpstreamTxByte, c.TimeToLastUpstreamTxByte = since(t.upTx), since(t.upTx)
		c.UpstreamCluster = t.upCluster
		c.UpstreamRemoteAddress = socketAddress(t.upAddr)
		c.UpstreamRequestAttemptCount = 1
		if !t.upRxFirst.IsZero() {
			c.TimeToFirstUpstreamRxByte, c.TimeToLastUpstreamRxByte = since(t.upRxFirst), since(t.upRxLast)
		}
	}
	if len(s.dynMeta) > 0 {
		c.Metadata = &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{}}
		for k, v := range s.dynMeta {
			c.Metadata.FilterMetadata[k] = proto.Clone(v).(*structpb.Struct)
		}
	}
	// filter_state_objects_to_log: none of the emulated filters stores
	// serializable filter state, so the map stays empty as in Envoy.
	for _, tag := range cfg.GetCommonConfig().GetCustomTags() {
		v, ok, err := s.customTag(tag)
		if err != nil {
			return nil, err
		}
		if ok {
			if c.CustomTags == nil {
				c.CustomTags = map[string]string{}
			}
			c.CustomTags[tag.GetTag()] = v
		}
	}
	h := s.hdr
	req := &datav3.HTTPRequestProperties{
		RequestMethod:       corev3.RequestMethod(corev3.RequestMethod_value[h.Value(":method")]),
		Scheme:              h.Value(":scheme"),
		Authority:           h.Value(":authority"),
		Path:                h.Value(":path"),
		UserAgent:           h.Value("user-agent"),
		Referer:             h.Value("referer"),
		ForwardedFor:        h.Value("x-forwarded-for"),
		RequestId:           h.Value("x-request-id"),
		OriginalPath:        h.Value("x-envoy-original-path"),
		RequestHeadersBytes: uint64(headerBytes(h)),
		RequestBodyBytes:    uint64(len(s.body)),
	}
	for _, n := range cfg.GetAdditionalRequestHeadersToLog() {
		if v, ok := h.Get(n); ok {
			if req.RequestHeaders == nil {
				req.RequestHeaders = map[string]string{}
			}
			req.RequestHeaders[n] = v
		}
	}
	rh := HeadersFrom(resp.Header)
	rsp := &datav3.HTTPResponseProperties{
		ResponseCode:         wrapperspb.UInt32(uint32(resp.Status)),
		ResponseCodeDetails:  resp.Details,
		ResponseHeadersBytes: uint64(headerBytes(rh)) + uint64(len(":status")+3),
		ResponseBodyBytes:    uint64(len(resp.Body)),
	}
	for _, n := range cfg.GetAdditionalResponseHeadersToLog() {
		if v, ok := rh.Get(n); ok {
			if rsp.ResponseHeaders == nil {
				rsp.ResponseHeaders = map[string]string{}
			}
			rsp.ResponseHeaders[n] = v
		}
	}
	return &datav3.HTTPAccessLogEntry{CommonProperties: c, ProtocolVersion: datav3.HTTPAccessLogEntry_HTTP11, Request: req, Response: rsp}, nil
}

// headerBytes is Envoy's HeaderMap::byteSize: the sum of key and value
// lengths.
func headerBytes(h *Headers) int {
	n := 0
	for _, k := range h.Names() {
		for _, v := range h.Values(k) {
			n += len(k) + len(v)
		}
	}
	return n
}

// customTag renders a custom tag as Envoy's CustomTag::applyLog does:
// missing values use the default value, or leave the tag out.
func (s *stream) customTag(tag *tracingv3.CustomTag) (string, bool, error) {
	withDefault := func(v string, ok bool, def string) (string, bool, error) {
		if ok {
			return v, true, nil
		}
		return def, def != "", nil
	}
	switch t := tag.GetType().(type) {
	case *tracingv3.CustomTag_Literal_:
		return t.Literal.GetValue(), true, nil
	case *tracingv3.CustomTag_Environment_:
		v, ok := os.LookupEnv(t.Environment.GetName())
		return withDefault(v, ok, t.Environment.GetDefaultValue())
	case *tracingv3.CustomTag_RequestHeader:
		v, ok := s.hdr.Get(t.RequestHeader.GetName())
		return withDefault(v, ok, t.RequestHeader.GetDefaultValue())
	case *tracingv3.CustomTag_Metadata_:
		m := t.Metadata
		var md *structpb.Struct
		switch m.GetKind().GetKind().(type) {
		case *metadatav3.MetadataKind_Request_:
			md = s.dynMeta[m.GetMetadataKey().GetKey()]
		case *metadatav3.MetadataKind_Route_:
			if s.route == nil {
				return withDefault("", false, m.GetDefaultValue())
			}
			md = s.route.GetMetadata().GetFilterMetadata()[m.GetMetadataKey().GetKey()]
		default:
			return "", false, fmt.Errorf("custom tag %s: metadata kind %T is not emulated", tag.GetTag(), m.GetKind().GetKind())
		}
		v := metadataPath(md, m.GetMetadataKey().GetPath())
		if v == nil {
			return withDefault("", false, m.GetDefaultValue())
		}
		switch k := v.GetKind().(type) {
		case *structpb.Value_StringValue:
			return k.StringValue, true, nil
		case *structpb.Value_BoolValue:
			return strconv.FormatBool(k.BoolValue), true, nil
		case *structpb.Value_NumberValue:
			return strconv.FormatFloat(k.NumberValue, 'g', -1, 64), true, nil
		case *structpb.Value_StructValue, *structpb.Value_ListValue:
			b, err := v.MarshalJSON()
			return string(b), err == nil, err
		}
		return withDefault("", false, m.GetDefaultValue())
	}
	return "", false, fmt.Errorf("custom tag %s: %T is not emulated", tag.GetTag(), tag.GetType())
}

func metadataPath(md *structpb.Struct, path []*metadatav3.MetadataKey_PathSegment) *structpb.Value {
	if md == nil {
		return nil
	}
	v := structpb.NewStructValue(md)
	for _, seg := range path {
		st := v.GetStructValue()
		if st == nil {
			return nil
		}
		if v = st.GetFields()[seg.GetKey()]; v == nil {
			return nil
		}
	}
	return v
}

// responseFlags maps short names onto the access-log proto as Envoy's
// responseFlagsToAccessLogResponseFlags does.
func responseFlags(flags []string) *datav3.ResponseFlags {
	if len(flags) == 0 {
		return nil
	}
	f := &datav3.ResponseFlags{}
	for _, fl := range flags {
		switch fl {
		case "LH":
			f.FailedLocalHealthcheck = true
		case "UH":
			f.NoHealthyUpstream = true
		case "UT":
			f.UpstreamRequestTimeout = true
		case "LR":
			f.LocalReset = true
		case "UR":
			f.UpstreamRemoteReset = true
		case "UF":
			f.UpstreamConnectionFailure = true
		case "UC":
			f.UpstreamConnectionTermination = true
		case "UO":
			f.UpstreamOverflow = true
		case "NR":
			f.NoRouteFound = true
		case "RL":
			f.RateLimited = true
		case "UAEX":
			f.UnauthorizedDetails = &datav3.ResponseFlags_Unauthorized{Reason: datav3.ResponseFlags_Unauthorized_EXTERNAL_SERVICE}
		case "RLSE":
			f.RateLimitServiceError = true
		case "URX":
			f.UpstreamRetryLimitExceeded = true
		case "DPE":
			f.DownstreamProtocolError = true
		case "UPE":
			f.UpstreamProtocolError = true
		case "NC":
			f.NoClusterFound = true
		case "DF":
			f.DnsResolutionFailure = true
		}
	}
	return f
}

// timing is when a stream's events happened.
type timing struct {
	start                     time.Time
	upTx, upRxFirst, upRxLast time.Time
	upCluster, upAddr         string
}

// stopAccessLogs flushes and closes every logger.
func (e *Envoy) stopAccessLogs() {
	cfg := e.src.Config()
	for _, l := range e.loggers() {
		l.close(cfg)
	}
}

// fileAccessLog runs the stdout, stderr and file loggers: the line is
// rendered with the formatter and written to Options.AccessLogOut (stdout
// and stderr) or appended to the file.
func (s *stream) fileAccessLog(l *accesslogv3.AccessLog, x *fmtCtx, _ time.Time) error {
	a := l.GetTypedConfig()
	var format *corev3.SubstitutionFormatString
	path := ""
	switch {
	case a.MessageIs(&streamalv3.StdoutAccessLog{}):
		c := &streamalv3.StdoutAccessLog{}
		if err := unpack(a, c); err != nil {
			return err
		}
		format = c.GetLogFormat()
	case a.MessageIs(&streamalv3.StderrAccessLog{}):
		c := &streamalv3.StderrAccessLog{}
		if err := unpack(a, c); err != nil {
			return err
		}
		format = c.GetLogFormat()
	case a.MessageIs(&filealv3.FileAccessLog{}):
		c := &filealv3.FileAccessLog{}
		if err := unpack(a, c); err != nil {
			return err
		}
		if c.GetLogFormat() == nil {
			return fmt.Errorf("access log %s: only log_format is emulated", l.GetName())
		}
		format, path = c.GetLogFormat(), c.GetPath()
	default:
		return fmt.Errorf("access logger %s (%s) is not emulated", l.GetName(), a.GetTypeUrl())
	}
	if format.GetJsonFormat() == nil {
		return fmt.Errorf("access log %s: only json_format is emulated", l.GetName())
	}
	js, err := formatJSON(format.GetJsonFormat(), x)
	if err != nil {
		return fmt.Errorf("access log %s: %w", l.GetName(), err)
	}
	line, err := protojson.Marshal(js)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	if path != "" {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return fmt.Errorf("access log %s: %w", l.GetName(), err)
		}
		defer f.Close()
		_, err = f.Write(line)
		return err
	}
	if w := s.e.opts.AccessLogOut; w != nil {
		s.e.mu.Lock()
		defer s.e.mu.Unlock()
		_, err = w.Write(line)
		return err
	}
	return nil
}
