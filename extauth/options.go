package extauth

import (
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/apigw/apigw/breaker"
)

// Option configures a Server.
type Option func(*config)

type config struct {
	now        func() time.Time
	reg        prometheus.Registerer
	httpClient *http.Client
	failOpen   bool
	serverName string
	cacheSize  int
	jwksTTL    time.Duration
	breakers   *breaker.Registry
}

func defaults() config {
	name, _ := os.Hostname()
	return config{now: time.Now, serverName: name}
}

// WithClock sets the clock used for signature expiry, authorizer cache
// TTLs, token expiry and handleTime (default time.Now).
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithRegisterer registers the server's metrics (default: not exported).
func WithRegisterer(r prometheus.Registerer) Option { return func(c *config) { c.reg = r } }

// WithHTTPClient sets the client for custom authorizers and JWKS fetches
// (default http.DefaultClient; the authorizer's timeout always applies).
func WithHTTPClient(hc *http.Client) Option { return func(c *config) { c.httpClient = hc } }

// WithFailOpen makes internal errors (no snapshot yet, a definition that
// cannot be compiled, a panic) allow the request instead of denying it
// with 500 APIG.0601. Denials are never affected.
func WithFailOpen(open bool) Option { return func(c *config) { c.failOpen = open } }

// WithServerName sets the system parameter serverName (default the host
// name).
func WithServerName(name string) Option { return func(c *config) { c.serverName = name } }

// WithAuthorizerCacheSize sets how many custom-authorizer decisions are
// cached across all authorizers (default 10000).
func WithAuthorizerCacheSize(n int) Option { return func(c *config) { c.cacheSize = n } }

// WithJWKSTTL sets how long fetched IAM key sets are kept (default 10 min).
func WithJWKSTTL(d time.Duration) Option { return func(c *config) { c.jwksTTL = d } }

// WithBreakers sets the breakers of breaker plug-ins (fed by the
// access-log stream in the same process). Without it, breaker plug-ins
// never open.
func WithBreakers(r *breaker.Registry) Option { return func(c *config) { c.breakers = r } }
