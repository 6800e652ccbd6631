package envoysim

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/structpb"
)

// ConfigSource gives the configuration to serve with (an *ADS, or
// StaticConfig for tests).
type ConfigSource interface{ Config() *Config }

type staticConfig struct{ c *Config }

func (s staticConfig) Config() *Config { return s.c }

// StaticConfig serves a fixed configuration.
func StaticConfig(c *Config) ConfigSource { return staticConfig{c} }

// NewConfig returns an empty configuration to fill by hand.
func NewConfig() *Config { return newConfig() }

// Options tune the emulated Envoy.
type Options struct {
	// HTTPPort and HTTPSPort are the listener ports used when a Request
	// does not name one (apigw's --envoy-http-port / --envoy-https-port).
	HTTPPort, HTTPSPort uint32
	// MinServiceTimeout widens the ext_authz and rate-limit timeouts of the
	// configuration to at least this (0: use them as configured).
	MinServiceTimeout time.Duration
	// Log receives one line per request (default: discarded).
	Log *slog.Logger
	// Services, when set, gives the connection to the gRPC service of a
	// cluster (ext_authz, rate limit) instead of dialing its endpoint: a
	// nil result dials as usual.
	Services func(cluster string) grpc.ClientConnInterface
	// Upstream, when set, makes the upstream requests instead of a real
	// HTTP client (the request's URL carries the scheme and endpoint).
	Upstream http.RoundTripper
	// Node is the node sent in access-log identifiers (default: the ADS
	// client's node).
	Node *corev3.Node
	// AccessLogOut receives the lines of the stdout and stderr access
	// loggers (default: discarded).
	AccessLogOut io.Writer
	// NoAccessLogs skips every access logger of the configuration: a
	// request evaluated for a dry run is neither written nor streamed.
	NoAccessLogs bool
}

// Envoy processes requests with the configuration of a ConfigSource.
type Envoy struct {
	src  ConfigSource
	opts Options
	log  *slog.Logger
	http *http.Client

	mu    sync.Mutex
	conns map[string]*grpc.ClientConn
	rr    map[string]uint64
	als   map[string]*alsLogger
}

// New returns an emulated Envoy.
func New(src ConfigSource, opts Options) *Envoy {
	if opts.HTTPPort == 0 {
		opts.HTTPPort = 8080
	}
	if opts.HTTPSPort == 0 {
		opts.HTTPSPort = 8443
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Envoy{src: src, opts: opts, log: log.With("component", "envoysim"), conns: map[string]*grpc.ClientConn{}, rr: map[string]uint64{}, als: map[string]*alsLogger{},
		http: &http.Client{Transport: &http.Transport{DisableCompression: true, ForceAttemptHTTP2: false}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Close flushes the access logs and releases the connections to apigw's
// services.
func (e *Envoy) Close() {
	e.stopAccessLogs()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, c := range e.conns {
		c.Close()
	}
	clear(e.conns)
}

// Request is one client request.
type Request struct {
	Method string
	// Path is the request target: path and query, as sent.
	Path string
	// Host is :authority.
	Host   string
	Header http.Header
	Body   []byte
	// TLS sends the request over TLS with SNI (default: the host of Host).
	TLS bool
	SNI string
	// Port is the listener port (default Options.HTTPPort or HTTPSPort).
	Port uint32
	// Source is the client's address ip:port (default 127.0.0.1:40000).
	Source string
	// InsecureSkipVerify accepts a certificate that does not cover the SNI
	// (curl -k); otherwise such a request fails like a verifying client.
	InsecureSkipVerify bool
}

// Response is what the client receives, with what Envoy did to produce it.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	// Route is the name of the route that served the request ("" if none).
	Route string
	// Flags are Envoy's response flags (NR, UAEX, RL, UF, ...); Details
	// its response code details.
	Flags   []string
	Details string
	// Cluster and Endpoint are the upstream chosen by the router ("" when
	// the request did not reach it).
	Cluster, Endpoint string
	// Certificate is the server certificate of a TLS request.
	Certificate *x509.Certificate
	// Trace lists the steps taken, for test failure messages.
	Trace []string
}

func (r *Response) String() string {
	return fmt.Sprintf("%d route=%q flags=%v details=%q body=%q\n  %s", r.Status, r.Route, r.Flags, r.Details, truncate(string(r.Body), 300), strings.Join(r.Trace, "\n  "))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// stream is one request in flight.
type stream struct {
	e     *Envoy
	cfg   *Config
	hcm   *hcmv3.HttpConnectionManager
	chain *listenerv3.FilterChain
	// connBufferLimit is the listener's per_connection_buffer_limit_bytes.
	connBufferLimit uint64
	hdr             *Headers
	body            []byte
	tls             bool
	sni             string
	peer            string // TCP peer ip:port
	remote          string // the trusted client address ip:port
	local           string // Envoy's address ip:port
	dynMeta         map[string]*structpb.Struct
	// streamID is the stream's random value: every route's runtime_fraction
	// is matched against it, on every route selection of the stream.
	streamID uint64
	// resolved route (route cache)
	resolved bool
	rc       *routev3.RouteConfiguration
	vh       *routev3.VirtualHost
	route    *routev3.Route
	// response headers filters add on the way back
	respAdd []respHeader
	// the upstream chosen by the router
	cluster, endpoint string
	cert              *x509.Certificate
	trace             []string
	timing            timing
	// respMutations are the response header mutations of the
	// header_mutation filters that ran.
	respMutations []*corev3.HeaderValueOption
	// deferred are the match_delegate filters that read the response;
	// matchResp is the response their matchers read (matchresp.go).
	deferred  []deferredMatch
	matchResp *Headers
	// upstreamLength is the Content-Length of the backend's response (-1
	// when it sent none, as with chunked encoding); upstreamAnswered says
	// the response is the backend's (router.go).
	upstreamLength   int64
	upstreamAnswered bool
	// extproc are the ext_proc streams opened on the way in, which the
	// response passes on the way back (extproc.go).
	extproc []*extProcState
}

// defaultConnBufferLimit is Envoy's default per-connection buffer limit.
const defaultConnBufferLimit = 1 << 20

// bufferLimit is how much of the request body Envoy's filters may buffer:
// the route's request_body_buffer_limit (applied when the route is matched,
// Envoy 1.37+), else the connection's limit.
func (s *stream) bufferLimit() uint64 {
	if v := s.route.GetRequestBodyBufferLimit(); v != nil {
		return v.GetValue()
	}
	return s.connBufferLimit
}

type respHeader struct {
	name, value string
	appendValue bool
}

func (s *stream) tracef(format string, args ...any) {
	s.trace = append(s.trace, fmt.Sprintf(format, args...))
}

// Serve processes one request and returns the response the client gets.
// An error means Envoy could not be emulated for this request (or the
// connection itself failed, as with no listener on the port).
func (e *Envoy) Serve(ctx context.Context, req *Request) (*Response, error) {
	s := &stream{e: e, cfg: e.src.Config(), tls: req.TLS, dynMeta: map[string]*structpb.Struct{}, timing: timing{start: time.Now()}, streamID: mrand.Uint64()}
	if err := s.connect(req); err != nil {
		return nil, err
	}
	s.prepare(req)
	resp, err := s.decode(ctx)
	defer func() {
		for _, st := range s.extproc {
			st.close()
		}
	}()
	if err != nil {
		return nil, fmt.Errorf("%w\n  %s", err, strings.Join(s.trace, "\n  "))
	}
	if err := s.extProcEncode(resp); err != nil {
		return nil, fmt.Errorf("%w\n  %s", err, strings.Join(s.trace, "\n  "))
	}
	if err := s.encodeDeferred(resp); err != nil {
		return nil, fmt.Errorf("%w\n  %s", err, strings.Join(s.trace, "\n  "))
	}
	s.finish(resp)
	if err := s.applyResponseMutations(resp); err != nil {
		return nil, fmt.Errorf("%w\n  %s", err, strings.Join(s.trace, "\n  "))
	}
	if err := s.accessLog(resp, time.Now()); err != nil {
		return nil, fmt.Errorf("%w\n  %s", err, strings.Join(s.trace, "\n  "))
	}
	e.log.Debug("request", "method", req.Method, "path", req.Path, "host", req.Host, "status", resp.Status, "route", resp.Route, "flags", resp.Flags)
	return resp, nil
}

// connect finds the listener, the filter chain and its HCM, and checks the
// certificate of a TLS request.
func (s *stream) connect(req *Request) error {
	port := req.Port
	if port == 0 {
		port = s.e.opts.HTTPPort
		if req.TLS {
			port = s.e.opts.HTTPSPort
		}
	}
	l := s.cfg.listenerOn(port)
	if l == nil {
		return fmt.Errorf("no listener on port %d: connection refused", port)
	}
	s.sni = req.SNI
	if s.sni == "" && req.TLS {
		s.sni = hostOf(req.Host)
	}
	fc, err := filterChain(l, req.TLS, s.sni)
	if err != nil {
		return err
	}
	s.chain = fc
	s.connBufferLimit = defaultConnBufferLimit
	if v := l.GetPerConnectionBufferLimitBytes(); v != nil {
		s.connBufferLimit = uint64(v.GetValue())
	}
	s.tracef("listener %s, filter chain %q", l.GetName(), fc.GetName())
	if req.TLS {
		leaf, secret, err := s.cfg.serverCertificate(fc)
		if err != nil {
			return err
		}
		s.cert = leaf
		if err := leaf.VerifyHostname(s.sni); err != nil && !req.InsecureSkipVerify {
			return fmt.Errorf("TLS: certificate of secret %s: %w", secret, err)
		}
		s.tracef("TLS: SNI %s, certificate %s (CN %s)", s.sni, secret, leaf.Subject.CommonName)
	} else if fc.GetTransportSocket() != nil {
		return fmt.Errorf("filter chain %s expects TLS", fc.GetName())
	}
	h, err := chainHCM(fc)
	if err != nil {
		return err
	}
	if h == nil {
		return fmt.Errorf("filter chain %s has no HTTP connection manager", fc.GetName())
	}
	s.hcm = h
	s.peer = req.Source
	if s.peer == "" {
		s.peer = "127.0.0.1:40000"
	}
	addr := l.GetAddress().GetSocketAddress()
	ip := addr.GetAddress()
	if ip == "0.0.0.0" || ip == "::" || ip == "" {
		ip = "127.0.0.1"
	}
	s.local = net.JoinHostPort(ip, strconv.Itoa(int(addr.GetPortValue())))
	return nil
}

// prepare builds the request headers the filters see: pseudo headers,
// path normalisation, x-forwarded-for/-proto and a new x-request-id.
func (s *stream) prepare(req *Request) {
	h := &Headers{}
	scheme := "http"
	if req.TLS {
		scheme = "https"
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	h.Add(":authority", req.Host)
	h.Add(":path", normalizePath(s.hcm, req.Path))
	h.Add(":method", method)
	h.Add(":scheme", scheme)
	for k, vs := range req.Header {
		if strings.EqualFold(k, "host") {
			continue
		}
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	if len(req.Body) > 0 && !hasHeader(h, "content-length") && !hasHeader(h, "transfer-encoding") {
		h.Add("content-length", strconv.Itoa(len(req.Body)))
	}
	s.remote = s.peer
	if s.hcm.GetUseRemoteAddress().GetValue() {
		if n := int(s.hcm.GetXffNumTrustedHops()); n > 0 {
			xff := splitXFF(h.Value("x-forwarded-for"))
			if len(xff) >= n {
				s.remote = net.JoinHostPort(xff[len(xff)-n], "0")
			}
		}
		for _, n := range h.Names() {
			if strings.HasPrefix(n, "x-envoy-") {
				h.Del(n)
			}
		}
		if xff, ok := h.Get("x-forwarded-for"); ok {
			h.Set("x-forwarded-for", xff+","+hostOf(s.peer))
		} else {
			h.Set("x-forwarded-for", hostOf(s.peer))
		}
		h.Set("x-forwarded-proto", scheme)
		h.Set("x-envoy-external-address", hostOf(s.remote))
	}
	if s.hcm.GetGenerateRequestId() == nil || s.hcm.GetGenerateRequestId().GetValue() {
		if _, ok := h.Get("x-request-id"); !ok || !s.hcm.GetPreserveExternalRequestId() {
			h.Set("x-request-id", uuid4())
		}
	}
	s.hdr = h
	s.body = req.Body
}

func hasHeader(h *Headers, name string) bool { _, ok := h.Get(name); return ok }

func splitXFF(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func uuid4() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// normalizePath applies the HCM's path options to the path (the query is
// kept as sent): unescaping %2F/%5C, dot-segment removal, slash merging.
func normalizePath(h *hcmv3.HttpConnectionManager, target string) string {
	path, query, hasQuery := strings.Cut(target, "?")
	if h.GetPathWithEscapedSlashesAction() == hcmv3.HttpConnectionManager_UNESCAPE_AND_FORWARD {
		for _, r := range [][2]string{{"%2F", "/"}, {"%2f", "/"}, {"%5C", `\`}, {"%5c", `\`}} {
			path = strings.ReplaceAll(path, r[0], r[1])
		}
	}
	if h.GetNormalizePath().GetValue() {
		path = removeDotSegments(strings.ReplaceAll(path, `\`, "/"))
	}
	if h.GetMergeSlashes() {
		for strings.Contains(path, "//") {
			path = strings.ReplaceAll(path, "//", "/")
		}
	}
	if hasQuery {
		return path + "?" + query
	}
	return path
}

func removeDotSegments(p string) string {
	var out []string
	segs := strings.Split(p, "/")
	for i, seg := range segs {
		switch seg {
		case ".":
			if i == len(segs)-1 {
				out = append(out, "")
			}
		case "..":
			if len(out) > 1 {
				out = out[:len(out)-1]
			}
			if i == len(segs)-1 {
				out = append(out, "")
			}
		default:
			out = append(out, seg)
		}
	}
	r := strings.Join(out, "/")
	if !strings.HasPrefix(r, "/") {
		r = "/" + r
	}
	return r
}
