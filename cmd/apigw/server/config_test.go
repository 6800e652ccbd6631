package server

import (
	"io"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/apigw/apigw/dataplane"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestEnvironmentVariablesMirrorFlags(t *testing.T) {
	c, err := ParseConfig([]string{"--admin-addr", "127.0.0.1:9000"}, env(map[string]string{
		"APIGW_ADMIN_ADDR":     "127.0.0.1:9999", // the flag wins
		"APIGW_ETCD_ENDPOINTS": "a:2379, b:2379",
		"APIGW_SECRET_KEY":     "k",
		"APIGW_COMPONENTS":     "extauth,ratelimit",
		"APIGW_LOG_LEVEL":      "debug",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.AdminAddr != "127.0.0.1:9000" {
		t.Errorf("flag must win over env: %s", c.AdminAddr)
	}
	if len(c.EtcdEndpoints) != 2 || c.EtcdEndpoints[1] != "b:2379" || c.Embedded() {
		t.Errorf("endpoints: %v", c.EtcdEndpoints)
	}
	if c.Has(CompAdmin) || !c.Has(CompExtAuth) || !c.Has(CompRateLimit) {
		t.Errorf("components: %v", c.Components)
	}
	if c.LogLevel.String() != "DEBUG" {
		t.Errorf("log level %v", c.LogLevel)
	}
}

func TestConfigErrorsNameTheFlag(t *testing.T) {
	cases := map[string][]string{
		"--secret-key-file or APIGW_SECRET_KEY is required": {"--etcd-endpoints", "x:2379"},
		"--log-format":           {"--log-format", "xml"},
		"--admin-tls-key-file":   {"--admin-tls-cert-file", "c.pem"},
		"--xds-addr":             {"--xds-addr", "nocolon"},
		"APIGW_SHUTDOWN_TIMEOUT": {},
	}
	for want, args := range cases {
		e := map[string]string{}
		if want == "APIGW_SHUTDOWN_TIMEOUT" {
			e["APIGW_SHUTDOWN_TIMEOUT"] = "soon"
		}
		_, err := ParseConfig(args, env(e), io.Discard)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: got %v, want an error mentioning %s", args, err, want)
		}
	}
	c, err := ParseConfig(nil, env(nil), io.Discard)
	if err != nil || !c.Embedded() || c.SecretKeyFile != "data/secret.key" || len(c.Components) != len(AllComponents()) {
		t.Errorf("defaults: %+v %v", c, err)
	}
}

// The components' default listen addresses are the ports the dataplane
// package reserves, one each: with every component on, nothing collides.
func TestDefaultListenAddressesAreDistinct(t *testing.T) {
	c, err := ParseConfig(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"xds": dataplane.PortXDS, "extauth": dataplane.PortExtAuth, "ratelimit": dataplane.PortRateLimit,
		"admin": dataplane.PortAdmin, "ops": dataplane.PortOps, "accesslog": dataplane.PortAccessLog, "console": dataplane.PortConsole, "functions": dataplane.PortFunctions}
	got := map[string]string{"xds": c.XDSAddr, "extauth": c.ExtAuthAddr, "ratelimit": c.RateLimitAddr,
		"admin": c.AdminAddr, "ops": c.OpsAddr, "accesslog": c.AccessLogAddr, "console": c.ConsoleAddr, "functions": c.FunctionsAddr}
	owner := map[string]string{}
	for name, addr := range got {
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if port != strconv.Itoa(want[name]) {
			t.Errorf("%s listens on %s by default, want port %d", name, addr, want[name])
		}
		if other, ok := owner[port]; ok {
			t.Errorf("%s and %s both listen on port %s by default", name, other, port)
		}
		owner[port] = name
	}
}
