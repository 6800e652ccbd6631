// Package server wires the apigw components into one process.
package server

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apigw/apigw/accesslog/kafkalog"
	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/model"
)

// Components that --components can select.
const (
	CompAdmin     = "admin"
	CompXDS       = "xds"
	CompExtAuth   = "extauth"
	CompRateLimit = "ratelimit"
	CompAccessLog = "accesslog"
	CompConsole   = "console"
	// CompFunctions serves FUNCTION backends (HTTP; Envoy routes to it).
	CompFunctions = "functions"
	// CompBreakers is the breaker-only access-log sink of the sidecar
	// layout: it feeds the breakers of the ext_authz in this process
	// from the access log of the Envoy next to it (no per-API metrics,
	// no kafka_log). Not part of "all", where the accesslog component
	// feeds them.
	CompBreakers = "breakers"
)

// AllComponents returns the components run by default, in a new slice.
func AllComponents() []string {
	return []string{CompAdmin, CompXDS, CompExtAuth, CompRateLimit, CompAccessLog, CompConsole, CompFunctions}
}

// Config is the validated configuration of the apigw server.
type Config struct {
	Components []string

	EtcdEndpoints   []string
	EtcdCAFile      string
	EtcdCertFile    string
	EtcdKeyFile     string
	EtcdUsername    string
	EtcdPassword    string
	EtcdDialTimeout time.Duration
	// EtcdRequestTimeout bounds one etcd call of an admin request.
	EtcdRequestTimeout time.Duration

	DataDir           string
	EmbeddedClientURL string
	EmbeddedPeerURL   string

	SecretKeyFile string
	SecretKey     string

	XDSAddr       string
	ExtAuthAddr   string
	RateLimitAddr string
	AccessLogAddr string
	// BreakersAddr is the listen address of the breakers component.
	BreakersAddr string
	AdminAddr    string
	OpsAddr      string
	ConsoleAddr  string
	// FunctionsAddr is the function component's listen address;
	// EnvoyFunctionsAddr is where Envoy reaches it; FunctionsMaxAsync
	// bounds its async invocations in flight.
	FunctionsAddr      string
	EnvoyFunctionsAddr string
	FunctionsMaxAsync  int

	AdminTokenFile string
	AdminToken     string
	AdminTLSCert   string
	AdminTLSKey    string
	AdminInsecure  bool
	// AdminMaxRequestBytes bounds one admin request (an apply).
	AdminMaxRequestBytes int
	// AdminClientCAFile makes the admin API require client certificates
	// signed by this CA.
	AdminClientCAFile string

	// mTLS of the gRPC services Envoy calls (tlsconfig.go).
	TLSDir                           string
	XDSTLS, ExtAuthTLS, RateLimitTLS ServiceTLS
	AccessLogTLS, BreakersTLS        ServiceTLS
	XDSIdentitiesFile                string
	EnvoyServiceTLS                  string
	EnvoyTLSDir                      string

	RedisURL          string
	RateLimitFailOpen bool
	ExtAuthFailOpen   bool

	EnvoyHTTPPort, EnvoyHTTPSPort uint
	// HTTPSRedirectPort is the port of the HTTPS redirects (0: the
	// HTTPS listener's port).
	HTTPSRedirectPort  uint
	EnvoyExtAuthAddr   string
	EnvoyRateLimitAddr string
	EnvoyAccessLogAddr string
	// EnvoyBreakerAccessLogAddr, when set, is where Envoy streams a
	// second access log for the breakers component (the sidecar layout:
	// 127.0.0.1:18008); empty: no second stream.
	EnvoyBreakerAccessLogAddr string
	// APIMetricsMaxAPIs and APIMetricsMaxApps bound the per-API and
	// per-app series of the access-log component, per instance.
	APIMetricsMaxAPIs, APIMetricsMaxApps int
	// KafkaLogBufferRecords bounds the records each kafka_log plug-in
	// holds unacknowledged; beyond, records are dropped and counted.
	KafkaLogBufferRecords int
	HTTPRouting           string
	UpstreamCAFile        string
	ServerName            string

	// AuditMaxAge and AuditMaxEvents bound the audit trail per instance.
	AuditMaxAge    time.Duration
	AuditMaxEvents int

	// TracingCollector (host:port, OTLP/gRPC) receives the spans of the
	// admin, ext_authz and rate-limit servers; empty: no tracing.
	TracingCollector          string
	TracingSamplingPercentage float64

	LogLevel  slog.Level
	LogFormat string

	ShutdownTimeout time.Duration
}

// Embedded reports whether apigw runs its own etcd.
func (c *Config) Embedded() bool { return len(c.EtcdEndpoints) == 0 }

// Has reports whether a component is enabled.
func (c *Config) Has(comp string) bool { return slices.Contains(c.Components, comp) }

// ParseConfig parses flags; every flag --foo-bar can also be set with the
// environment variable APIGW_FOO_BAR (flags win).
func ParseConfig(args []string, getenv func(string) string, out io.Writer) (*Config, error) {
	c := &Config{}
	fs := flag.NewFlagSet("apigw", flag.ContinueOnError)
	fs.SetOutput(out)
	var components, endpoints, logLevel string
	fs.StringVar(&components, "components", "all", "Comma-separated components to run: all, or any of admin, xds, extauth, ratelimit, accesslog, console, functions; also breakers (not in all: the sidecar layout's breaker-only access-log sink, with extauth).")
	fs.StringVar(&endpoints, "etcd-endpoints", "", "Comma-separated external etcd endpoints; empty runs an embedded etcd in --data-dir.")
	fs.StringVar(&c.EtcdCAFile, "etcd-ca-file", "", "CA bundle to verify the etcd servers (TLS).")
	fs.StringVar(&c.EtcdCertFile, "etcd-cert-file", "", "Client certificate for etcd (TLS).")
	fs.StringVar(&c.EtcdKeyFile, "etcd-key-file", "", "Client key for etcd (TLS).")
	fs.StringVar(&c.EtcdUsername, "etcd-username", "", "etcd user name.")
	fs.StringVar(&c.EtcdPassword, "etcd-password", "", "etcd password (prefer the APIGW_ETCD_PASSWORD variable).")
	fs.DurationVar(&c.EtcdDialTimeout, "etcd-dial-timeout", 5*time.Second, "Time allowed to reach etcd at startup.")
	fs.DurationVar(&c.EtcdRequestTimeout, "etcd-request-timeout", 5*time.Second, "Longest wait for etcd in one admin request (also ended before the caller's deadline); then UNAVAILABLE.")
	fs.StringVar(&c.DataDir, "data-dir", "./data", "Directory of the embedded etcd and the generated secret key.")
	fs.StringVar(&c.EmbeddedClientURL, "embedded-etcd-client-url", "http://127.0.0.1:2379", "Client URL of the embedded etcd (etcdctl can use it).")
	fs.StringVar(&c.EmbeddedPeerURL, "embedded-etcd-peer-url", "http://127.0.0.1:2380", "Peer URL of the embedded etcd.")
	fs.StringVar(&c.SecretKeyFile, "secret-key-file", "", "File with the 32-byte key that encrypts secrets at rest (default <data-dir>/secret.key with the embedded etcd, created if missing).")
	fs.StringVar(&c.SecretKey, "secret-key", "", "The secret key itself, hex or base64 (prefer the APIGW_SECRET_KEY variable).")
	fs.StringVar(&c.XDSAddr, "xds-addr", "127.0.0.1:18000", "Listen address of the xDS (ADS) server.")
	fs.StringVar(&c.ExtAuthAddr, "extauth-addr", "127.0.0.1:18001", "Listen address of the ext_authz server.")
	fs.StringVar(&c.RateLimitAddr, "ratelimit-addr", "127.0.0.1:18002", "Listen address of the rate-limit service.")
	fs.StringVar(&c.AccessLogAddr, "accesslog-addr", "127.0.0.1:18005", "Listen address of the access-log service (Envoy's gRPC AccessLogService).")
	fs.StringVar(&c.BreakersAddr, "breakers-addr", "127.0.0.1:"+strconv.Itoa(dataplane.PortBreakers), "Listen address of the breakers component (a breaker-only access-log service feeding this process's ext_authz).")
	fs.StringVar(&c.AdminAddr, "admin-addr", "127.0.0.1:18003", "Listen address of the admin gRPC API.")
	fs.StringVar(&c.OpsAddr, "ops-addr", ":18004", "Listen address of /healthz, /readyz and /metrics.")
	fs.StringVar(&c.ConsoleAddr, "console-addr", "127.0.0.1:"+strconv.Itoa(dataplane.PortConsole), "Listen address of the web console (HTTPS with --admin-tls-cert-file).")
	fs.StringVar(&c.AdminTokenFile, "admin-token-file", "", "File with the bearer token the admin API requires.")
	fs.StringVar(&c.AdminToken, "admin-token", "", "The admin bearer token (prefer the APIGW_ADMIN_TOKEN variable).")
	fs.StringVar(&c.AdminTLSCert, "admin-tls-cert-file", "", "TLS certificate of the admin API.")
	fs.StringVar(&c.AdminTLSKey, "admin-tls-key-file", "", "TLS key of the admin API.")
	fs.IntVar(&c.AdminMaxRequestBytes, "admin-max-request-bytes", 32<<20, "Largest admin request accepted (one apply), in bytes; larger ones fail with RESOURCE_EXHAUSTED.")
	fs.BoolVar(&c.AdminInsecure, "admin-insecure", false, "Allow the admin API beyond loopback without a token or client certificates.")
	fs.StringVar(&c.AdminClientCAFile, "admin-client-ca-file", "", "CA bundle of the client certificates the admin API requires (with --admin-tls-cert-file).")
	c.tlsFlags(fs)
	fs.StringVar(&c.RedisURL, "redis-url", "", "Redis URL for shared rate-limit counters (redis://host:port/0); empty keeps counters in memory.")
	fs.BoolVar(&c.RateLimitFailOpen, "ratelimit-fail-open", false, "Allow requests while Redis is unreachable (default: refuse them; other counter errors always refuse).")
	fs.BoolVar(&c.ExtAuthFailOpen, "extauth-fail-open", false, "Allow requests when ext_authz hits an internal error (a deny is never affected).")
	fs.UintVar(&c.EnvoyHTTPPort, "envoy-http-port", 8080, "Port of the HTTP listener given to Envoy.")
	fs.UintVar(&c.EnvoyHTTPSPort, "envoy-https-port", 8443, "Port of the HTTPS listener given to Envoy.")
	fs.UintVar(&c.HTTPSRedirectPort, "https-redirect-port", 0, "HTTPS port clients are redirected to by domains with is_http_redirect_to_https (0: --envoy-https-port; 443 behind a load balancer that maps 443).")
	fs.StringVar(&c.EnvoyExtAuthAddr, "envoy-extauth-address", "127.0.0.1:18001", "host:port at which Envoy reaches the ext_authz service (a sidecar: 127.0.0.1).")
	fs.StringVar(&c.EnvoyRateLimitAddr, "envoy-ratelimit-address", "127.0.0.1:18002", "host:port at which Envoy reaches the rate-limit service.")
	fs.StringVar(&c.FunctionsAddr, "functions-addr", "127.0.0.1:"+strconv.Itoa(dataplane.PortFunctions), "Listen address of the function component (plain HTTP; Envoy routes FUNCTION backends to it).")
	fs.StringVar(&c.EnvoyFunctionsAddr, "envoy-functions-address", "127.0.0.1:"+strconv.Itoa(dataplane.PortFunctions), "host:port at which Envoy reaches the function component.")
	fs.IntVar(&c.FunctionsMaxAsync, "functions-max-async", 256, "Async function invocations in flight at most; beyond, calls are dropped and counted (apigw_function_async_dropped_total).")
	fs.StringVar(&c.EnvoyAccessLogAddr, "envoy-accesslog-address", "127.0.0.1:18005", "host:port at which Envoy streams its access logs to apigw's access-log service; off: no access-log stream (no per-API metrics).")
	fs.StringVar(&c.EnvoyBreakerAccessLogAddr, "envoy-breaker-accesslog-address", "", "host:port at which Envoy streams a second access log to the breakers component next to it (sidecar layout: 127.0.0.1:18008), whose ext_authz then decides breaker plug-ins per node; empty: no second stream.")
	fs.IntVar(&c.APIMetricsMaxAPIs, "api-metrics-max-apis", 200, "(API, environment) pairs with their own metric series and windows, per instance; the calls of the others are counted under api=\"(other)\".")
	fs.IntVar(&c.APIMetricsMaxApps, "api-metrics-max-apps", 200, "Apps with their own apigw_app_requests_total series, per instance; the others are counted under app=\"(other)\".")
	fs.IntVar(&c.KafkaLogBufferRecords, "kafka-log-buffer-records", kafkalog.DefaultBufferRecords, "Records each kafka_log plug-in holds until Kafka acknowledges them; beyond, records are dropped and counted (apigw_kafka_log_records_total{result=\"dropped\"}).")
	fs.DurationVar(&c.AuditMaxAge, "audit-max-age", 90*24*time.Hour, "Audit events older than this are dropped.")
	fs.IntVar(&c.AuditMaxEvents, "audit-max-events", 10000, "Audit events kept per instance (the oldest beyond are dropped).")
	fs.StringVar(&c.TracingCollector, "tracing-collector", "", "host:port of an OpenTelemetry collector (OTLP/gRPC) for the spans of apigw's admin, ext_authz and rate-limit servers; empty: no tracing.")
	fs.Float64Var(&c.TracingSamplingPercentage, "tracing-sampling-percentage", 0, "Share (0-100) of calls without a sampled trace context that start a trace; calls Envoy traces are always traced.")
	fs.StringVar(&c.HTTPRouting, "http-routing", "auto", "How Envoy finds a group's routes: auto or scoped (one route table per group over SRDS for Envoy 1.38+, one table for older Envoys) or single (one table for every Envoy).")
	fs.StringVar(&c.UpstreamCAFile, "upstream-ca-file", "", "CA bundle path on the Envoy hosts to verify HTTPS backends (empty: not verified, as APIG).")
	fs.StringVar(&c.ServerName, "server-name", "", "Gateway server name for the serverName system parameter (default the host name).")
	fs.StringVar(&logLevel, "log-level", "info", "Log level: debug, info, warn, error.")
	fs.StringVar(&c.LogFormat, "log-format", "text", "Log format: text or json.")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "Time allowed for a graceful shutdown.")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (see --help)", fs.Arg(0))
	}
	if err := applyEnv(fs, getenv); err != nil {
		return nil, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return c, c.finish(components, endpoints, logLevel, set)
}

// applyEnv sets flags not given on the command line from APIGW_* variables.
func applyEnv(fs *flag.FlagSet, getenv func(string) string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		env := "APIGW_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(env); v != "" && !set[f.Name] {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", env, err))
			}
		}
	})
	return errors.Join(errs...)
}

func (c *Config) finish(components, endpoints, logLevel string, set map[string]bool) error {
	var errs []error
	all := AllComponents()
	for _, comp := range model.SplitList(components) {
		switch {
		case comp == "all":
			c.Components = append(c.Components, all...)
		case slices.Contains(all, comp) || comp == CompBreakers:
			c.Components = append(c.Components, comp)
		default:
			errs = append(errs, fmt.Errorf("--components: unknown component %q (all, %s, %s)", comp, strings.Join(all, ", "), CompBreakers))
		}
	}
	errs = append(errs, c.finishBreakers()...)
	if len(c.Components) == 0 {
		errs = append(errs, errors.New("--components: at least one component is required"))
	}
	c.EtcdEndpoints = model.SplitList(endpoints)
	if err := c.LogLevel.UnmarshalText([]byte(logLevel)); err != nil {
		errs = append(errs, fmt.Errorf("--log-level: %w", err))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("--log-format must be text or json (got %q)", c.LogFormat))
	}
	if c.Embedded() && c.SecretKeyFile == "" && c.SecretKey == "" {
		c.SecretKeyFile = filepath.Join(c.DataDir, "secret.key")
	}
	if !c.Embedded() && c.SecretKeyFile == "" && c.SecretKey == "" {
		errs = append(errs, errors.New("--secret-key-file or APIGW_SECRET_KEY is required with --etcd-endpoints (every replica must use the same key)"))
	}
	if (c.AdminTLSCert == "") != (c.AdminTLSKey == "") {
		errs = append(errs, errors.New("--admin-tls-cert-file and --admin-tls-key-file go together"))
	}
	errs = append(errs, c.finishAdminAuth(set["admin-token"])...)
	errs = append(errs, c.finishConsole()...)
	errs = append(errs, c.finishTLS()...)
	if c.EtcdRequestTimeout <= 0 {
		errs = append(errs, fmt.Errorf("--etcd-request-timeout must be positive (got %v)", c.EtcdRequestTimeout))
	}
	if c.AdminMaxRequestBytes < 64<<10 || c.AdminMaxRequestBytes > 1<<30 {
		errs = append(errs, fmt.Errorf("--admin-max-request-bytes must be between 65536 and 1073741824 (got %d)", c.AdminMaxRequestBytes))
	}
	if c.AuditMaxAge <= 0 || c.AuditMaxEvents < 1 || c.AuditMaxEvents > 1000000 {
		errs = append(errs, fmt.Errorf("--audit-max-age must be positive and --audit-max-events 1-1000000 (got %v, %d)", c.AuditMaxAge, c.AuditMaxEvents))
	}
	if p := c.TracingSamplingPercentage; p < 0 || p > 100 {
		errs = append(errs, fmt.Errorf("--tracing-sampling-percentage must be 0-100 (got %v)", p))
	}
	if c.TracingCollector != "" {
		if _, _, err := net.SplitHostPort(c.TracingCollector); err != nil {
			errs = append(errs, fmt.Errorf("--tracing-collector: %w", err))
		}
	}
	if c.HTTPRouting != "auto" && c.HTTPRouting != "scoped" && c.HTTPRouting != "single" {
		errs = append(errs, fmt.Errorf("--http-routing must be auto, scoped or single (got %q)", c.HTTPRouting))
	}
	if c.HTTPSRedirectPort > 65535 {
		errs = append(errs, fmt.Errorf("--https-redirect-port must be 0-65535 (got %d)", c.HTTPSRedirectPort))
	}
	for name, p := range map[string]uint{"--envoy-http-port": c.EnvoyHTTPPort, "--envoy-https-port": c.EnvoyHTTPSPort} {
		if p == 0 || p > 65535 {
			errs = append(errs, fmt.Errorf("%s must be 1-65535 (got %d)", name, p))
		}
	}
	addrs := map[string]string{"--xds-addr": c.XDSAddr, "--extauth-addr": c.ExtAuthAddr, "--ratelimit-addr": c.RateLimitAddr, "--admin-addr": c.AdminAddr, "--ops-addr": c.OpsAddr, "--console-addr": c.ConsoleAddr,
		"--envoy-extauth-address": c.EnvoyExtAuthAddr, "--envoy-ratelimit-address": c.EnvoyRateLimitAddr, "--accesslog-addr": c.AccessLogAddr, "--breakers-addr": c.BreakersAddr,
		"--functions-addr": c.FunctionsAddr, "--envoy-functions-address": c.EnvoyFunctionsAddr}
	if c.FunctionsMaxAsync < 1 || c.FunctionsMaxAsync > 100000 {
		errs = append(errs, fmt.Errorf("--functions-max-async must be 1-100000 (got %d)", c.FunctionsMaxAsync))
	}
	if c.EnvoyAccessLogAddr != "off" {
		addrs["--envoy-accesslog-address"] = c.EnvoyAccessLogAddr
	}
	if c.EnvoyBreakerAccessLogAddr != "" {
		addrs["--envoy-breaker-accesslog-address"] = c.EnvoyBreakerAccessLogAddr
		if !sameHost(c.EnvoyBreakerAccessLogAddr, c.EnvoyExtAuthAddr) {
			errs = append(errs, fmt.Errorf("--envoy-breaker-accesslog-address %s is not on the host of --envoy-extauth-address %s: the breakers component feeds the ext_authz of its own process, which Envoy must be the one to call",
				c.EnvoyBreakerAccessLogAddr, c.EnvoyExtAuthAddr))
		}
	}
	if c.KafkaLogBufferRecords < 1 || c.KafkaLogBufferRecords > 1000000 {
		errs = append(errs, fmt.Errorf("--kafka-log-buffer-records must be 1-1000000 (got %d)", c.KafkaLogBufferRecords))
	}
	for name, n := range map[string]int{"--api-metrics-max-apis": c.APIMetricsMaxAPIs, "--api-metrics-max-apps": c.APIMetricsMaxApps} {
		if n < 1 || n > 100000 {
			errs = append(errs, fmt.Errorf("%s must be 1-100000 (got %d)", name, n))
		}
	}
	for name, addr := range addrs {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// finishBreakers checks the breakers component: it feeds the ext_authz of
// its own process, and the accesslog component already feeds them where
// it runs.
func (c *Config) finishBreakers() []error {
	if !c.Has(CompBreakers) {
		return nil
	}
	var errs []error
	if !c.Has(CompExtAuth) {
		errs = append(errs, errors.New("--components: breakers feeds the breakers of the ext_authz in this process: add extauth"))
	}
	if c.Has(CompAccessLog) {
		errs = append(errs, errors.New("--components: accesslog already feeds the breakers of this process; breakers is for an apigw without it (the sidecar layout)"))
	}
	return errs
}

// sameHost reports whether two host:port addresses name the same host
// (any two loopback addresses do).
func sameHost(a, b string) bool {
	if loopback(a) && loopback(b) {
		return true
	}
	ha, _, errA := net.SplitHostPort(a)
	hb, _, errB := net.SplitHostPort(b)
	return errA == nil && errB == nil && strings.EqualFold(ha, hb)
}

func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
