package deploy_test

import (
	"io"
	"net"
	"strconv"
	"testing"

	"github.com/apigw/apigw/cmd/apigw/server"
)

// defaults is apigw's configuration without flags.
func defaults(t *testing.T) *server.Config {
	t.Helper()
	cfg, err := server.ParseConfig(nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// parseFlags parses apigw flags as the binary would (no environment).
func parseFlags(t *testing.T, args []string, env map[string]string) (*server.Config, error) {
	t.Helper()
	return server.ParseConfig(args, func(k string) string { return env[k] }, io.Discard)
}

func port(t *testing.T, addr string) uint32 {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("%q: %v", addr, err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatalf("%q: %v", addr, err)
	}
	return uint32(n)
}
