// Package translate turns one apigw instance (a model.Instance view of a
// snapshot) into the Envoy resources that serve it: listeners, route
// configurations, clusters, endpoints and secrets. It is pure: no I/O, no
// clock and no globals. Every resource passes go-control-plane's
// ValidateAll (typed configs are validated before they are packed), names
// and order are deterministic, and a published API that cannot be served
// is left out and reported in Resources.Problems while the rest is served.
//
// Build translates from scratch; a Builder does the same but reuses the
// results of publications, groups and clusters whose inputs did not change
// since its previous Build, so that a one-API change costs one API.
package translate

import (
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
)

// Options are the deployment settings the definitions do not carry.
type Options struct {
	// ListenAddress is the address both listeners bind (default 0.0.0.0).
	ListenAddress string
	// HTTPPort and HTTPSPort are the listener ports (default 8080, 8443).
	HTTPPort, HTTPSPort uint32
	// HTTPSRedirectPort is the port in the Location of the redirects of
	// domains with is_http_redirect_to_https and no inbound HTTPS port of
	// their own: the HTTPS port clients reach (default HTTPSPort; 443 when
	// a load balancer maps 443 to the listener).
	HTTPSRedirectPort uint32
	// ExtAuthzAddress and RateLimitAddress are host:port of the ext_authz
	// and rate-limit services (default 127.0.0.1 on apigw's own ports).
	ExtAuthzAddress, RateLimitAddress string
	// AccessLogAddress is host:port of the access-log service (default
	// 127.0.0.1 on apigw's port); AccessLogOff configures no gRPC access
	// log.
	AccessLogAddress string
	// AccessLogTLS is the same for the access-log service.
	AccessLogTLS bool
	// BreakerAccessLogAddress, when set, is host:port of a breaker-only
	// access-log sink (apigw --components=extauth,breakers, the sidecar
	// layout's loopback apigw): every HCM gets a second gRPC access
	// logger streaming to it (cluster apigw.breakers), so that the
	// breakers of the ext_authz next to each Envoy are fed by that
	// Envoy's own calls. Empty: no second logger. BreakerAccessLogTLS
	// makes Envoy reach it over mTLS, as ExtAuthzTLS.
	BreakerAccessLogAddress string
	BreakerAccessLogTLS     bool
	// FunctionsAddress is host:port of the function component (plain
	// HTTP) that FUNCTION backends are routed to (default 127.0.0.1 on
	// apigw's port).
	FunctionsAddress string
	// ExtAuthzTLS and RateLimitTLS make Envoy reach those services over
	// mTLS with its client certificate from EnvoyTLSDir, a directory on the
	// Envoy hosts (default dataplane.EnvoyTLSDir).
	ExtAuthzTLS, RateLimitTLS bool
	EnvoyTLSDir               string
	// ExtAuthzTimeout bounds a Check call (default 2s); routes of APIs
	// with a custom authorizer get the authorizer's timeout plus 1s.
	ExtAuthzTimeout time.Duration
	// RateLimitTimeout bounds a ShouldRateLimit call (default 100ms).
	RateLimitTimeout time.Duration
	// ConnectTimeout is the upstream connect timeout (default 5s).
	ConnectTimeout time.Duration
	// HTTPRouting chooses how the HTTP listener finds a group's routes.
	// "single" puts every group in one RouteConfiguration (RouteHTTP) for
	// every Envoy. "auto" (the default; "scoped" is the same) gives each
	// group its own RouteConfiguration, chosen by the request's host over
	// SRDS, so that a change to one API sends one group's routes; the
	// result then also carries the single-RouteConfiguration variant
	// (Resources.SingleListeners, SingleRoutes) for the Envoys that cannot
	// use scoped routes. The choice never depends on the definitions, so
	// a listener never switches between the two while apigw runs.
	HTTPRouting string
	// UpstreamCAFile, when set, is a CA bundle path on the Envoy hosts used
	// to verify HTTPS backends (SAN = backend host). Empty: not verified,
	// as APIG does by default.
	UpstreamCAFile string

	// parts are the rate-limit actions the routes share (set by
	// withDefaults, so per Builder).
	parts *rlParts
}

func (o Options) withDefaults() Options {
	if o.ListenAddress == "" {
		o.ListenAddress = "0.0.0.0"
	}
	if o.HTTPPort == 0 {
		o.HTTPPort = 8080
	}
	if o.HTTPSPort == 0 {
		o.HTTPSPort = 8443
	}
	if o.ExtAuthzAddress == "" {
		o.ExtAuthzAddress = "127.0.0.1:" + itoa(dataplane.PortExtAuth)
	}
	if o.RateLimitAddress == "" {
		o.RateLimitAddress = "127.0.0.1:" + itoa(dataplane.PortRateLimit)
	}
	if o.AccessLogAddress == "" {
		o.AccessLogAddress = "127.0.0.1:" + itoa(dataplane.PortAccessLog)
	}
	if o.FunctionsAddress == "" {
		o.FunctionsAddress = "127.0.0.1:" + itoa(dataplane.PortFunctions)
	}
	if o.ExtAuthzTimeout == 0 {
		o.ExtAuthzTimeout = 2 * time.Second
	}
	if o.RateLimitTimeout == 0 {
		o.RateLimitTimeout = 100 * time.Millisecond
	}
	if o.HTTPRouting == "" {
		o.HTTPRouting = RoutingAuto
	}
	if o.ConnectTimeout == 0 {
		o.ConnectTimeout = 5 * time.Second
	}
	if o.parts == nil {
		o.parts = newRLParts()
	}
	return o
}

// HTTP routing modes (Options.HTTPRouting).
const (
	RoutingAuto   = "auto"
	RoutingScoped = "scoped"
	RoutingSingle = "single"
)

// Resources are the Envoy resources of one instance, each list sorted by
// name. Never modify them: a Builder shares unchanged messages between
// successive results.
type Resources struct {
	Listeners []*listenerv3.Listener
	Routes    []*routev3.RouteConfiguration
	Scopes    []*routev3.ScopedRouteConfiguration
	Clusters  []*clusterv3.Cluster
	Endpoints []*endpointv3.ClusterLoadAssignment
	Secrets   []*tlsv3.Secret
	// Problems lists the published APIs (and domains) left out, with why.
	Problems []model.APIProblem

	// SingleListeners and SingleRoutes are set in scoped routing: the
	// listeners and route configurations of the Envoys served a single
	// RouteConfiguration instead (the same listeners, with the HTTP
	// listener on RDS RouteHTTP, which has every group's virtual host).
	SingleListeners []*listenerv3.Listener
	SingleRoutes    []*routev3.RouteConfiguration
}

// Build translates an instance from scratch.
func Build(in *model.Instance, opts Options) (*Resources, error) {
	return NewBuilder(opts).Build(in)
}
