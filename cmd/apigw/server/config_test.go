package server

import (
	"io"
	"strings"
	"testing"
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
