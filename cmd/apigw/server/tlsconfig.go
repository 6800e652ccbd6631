package server

import (
	"flag"
	"fmt"
	"path/filepath"

	"github.com/apigw/apigw/dataplane"
)

// ServiceTLS is the mTLS setting of one gRPC service Envoy calls.
type ServiceTLS struct {
	CertFile, KeyFile, ClientCAFile string
	// Insecure allows listening beyond loopback without mTLS.
	Insecure bool
}

// Enabled reports whether the service is served over mTLS.
func (s ServiceTLS) Enabled() bool { return s.CertFile != "" }

// tlsService names a gRPC service Envoy calls and its settings.
type tlsService struct {
	comp, flag string
	addr       *string
	tls        *ServiceTLS
}

func (c *Config) tlsServices() []tlsService {
	return []tlsService{
		{CompXDS, "xds", &c.XDSAddr, &c.XDSTLS},
		{CompExtAuth, "extauth", &c.ExtAuthAddr, &c.ExtAuthTLS},
		{CompRateLimit, "ratelimit", &c.RateLimitAddr, &c.RateLimitTLS},
		{CompAccessLog, "accesslog", &c.AccessLogAddr, &c.AccessLogTLS},
		{CompBreakers, "breakers", &c.BreakersAddr, &c.BreakersTLS},
	}
}

// tlsFlags registers the mTLS flags of xDS, ext_authz and the rate-limit
// service.
func (c *Config) tlsFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.TLSDir, "tls-dir", "", "Directory with tls.crt, tls.key and ca.crt (as `apigw certs` and cert-manager write them): the server certificate and client CA of xDS, ext_authz and the rate-limit service, unless set per service.")
	for _, s := range c.tlsServices() {
		fs.StringVar(&s.tls.CertFile, s.flag+"-tls-cert-file", "", "Server certificate of the "+s.comp+" service (mTLS).")
		fs.StringVar(&s.tls.KeyFile, s.flag+"-tls-key-file", "", "Server key of the "+s.comp+" service (mTLS).")
		fs.StringVar(&s.tls.ClientCAFile, s.flag+"-client-ca-file", "", "CA bundle that the client certificates of the "+s.comp+" service must chain to.")
		fs.BoolVar(&s.tls.Insecure, s.flag+"-insecure", false, "Allow the "+s.comp+" service beyond loopback without mTLS (logged as a warning).")
	}
	fs.StringVar(&c.XDSIdentitiesFile, "xds-identities-file", "", "File of `<identity> <instance>[,<instance>...]` lines: which Envoy certificate identities (SAN URI or DNS name) may subscribe to which instances (default: the SAN URI spiffe://<trust domain>/apigw/envoy/<instance>).")
	fs.StringVar(&c.EnvoyServiceTLS, "envoy-service-tls", "auto", "Whether Envoy reaches ext_authz and the rate-limit service over mTLS: on, off, or auto (on when apigw serves that service over mTLS or its --envoy-*-address is not loopback).")
	fs.StringVar(&c.EnvoyTLSDir, "envoy-tls-dir", dataplane.EnvoyTLSDir, "Directory on the Envoy hosts with Envoy's client certificate and its SDS files (see `apigw certs`), used when Envoy reaches ext_authz and the rate-limit service over mTLS.")
}

// finishTLS completes the per-service files from --tls-dir and applies the
// startup guard: beyond loopback, a service needs mTLS or its -insecure
// flag.
func (c *Config) finishTLS() []error {
	var errs []error
	for _, s := range c.tlsServices() {
		t := s.tls
		if c.TLSDir != "" {
			for _, f := range []struct {
				p    *string
				name string
			}{{&t.CertFile, dataplane.TLSCertFile}, {&t.KeyFile, dataplane.TLSKeyFile}, {&t.ClientCAFile, dataplane.TLSCAFile}} {
				if *f.p == "" {
					*f.p = filepath.Join(c.TLSDir, f.name)
				}
			}
		}
		if (t.CertFile != "" || t.KeyFile != "" || t.ClientCAFile != "") && (t.CertFile == "" || t.KeyFile == "" || t.ClientCAFile == "") {
			errs = append(errs, fmt.Errorf("--%[1]s-tls-cert-file, --%[1]s-tls-key-file and --%[1]s-client-ca-file go together (or --tls-dir): apigw authenticates Envoys by their client certificates", s.flag))
		}
		if c.Has(s.comp) && !loopback(*s.addr) && !t.Enabled() && !t.Insecure {
			errs = append(errs, fmt.Errorf("--%[1]s-addr %[2]s is not loopback: serve it over mTLS (--tls-dir, or --%[1]s-tls-cert-file, --%[1]s-tls-key-file and --%[1]s-client-ca-file) or pass --%[1]s-insecure", s.flag, *s.addr))
		}
	}
	if c.XDSIdentitiesFile != "" && !c.XDSTLS.Enabled() {
		errs = append(errs, fmt.Errorf("--xds-identities-file needs xDS over mTLS (--tls-dir or --xds-tls-cert-file ...): identities come from client certificates"))
	}
	switch c.EnvoyServiceTLS {
	case "auto", "on", "off":
	default:
		errs = append(errs, fmt.Errorf("--envoy-service-tls must be auto, on or off (got %q)", c.EnvoyServiceTLS))
	}
	return errs
}

// EnvoyUsesTLS reports whether Envoy reaches ext_authz, the rate-limit
// service or an access-log service (CompExtAuth, CompRateLimit,
// CompAccessLog, CompBreakers) over mTLS, as apigw tells it over CDS.
func (c *Config) EnvoyUsesTLS(comp string) bool {
	if comp == CompExtAuth {
		return c.envoyUsesTLS(comp, c.EnvoyExtAuthAddr)
	}
	if comp == CompAccessLog {
		return c.EnvoyAccessLogAddr != "off" && c.envoyUsesTLS(comp, c.EnvoyAccessLogAddr)
	}
	if comp == CompBreakers {
		return c.EnvoyBreakerAccessLogAddr != "" && c.envoyUsesTLS(comp, c.EnvoyBreakerAccessLogAddr)
	}
	return c.envoyUsesTLS(comp, c.EnvoyRateLimitAddr)
}

// envoyUsesTLS reports whether Envoy reaches a service (extauth or
// ratelimit) at addr over mTLS.
func (c *Config) envoyUsesTLS(comp, addr string) bool {
	switch c.EnvoyServiceTLS {
	case "on":
		return true
	case "off":
		return false
	}
	for _, s := range c.tlsServices() {
		if s.comp == comp && c.Has(comp) && s.tls.Enabled() {
			return true
		}
	}
	return !loopback(addr)
}
