package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/apigw/apigw/internal/envoysim"
	"github.com/apigw/apigw/internal/testutil"
)

// TestProtocolLevelSidecarLayout plays the sidecar layout of
// deploy/kubernetes/sidecar: a central apigw (--components=admin,xds)
// tells Envoy where ext_authz and the rate-limit service are — the
// sidecar's addresses, which stand for 127.0.0.1:18001/18002 in the pod —
// and a second apigw (--components=extauth,ratelimit) serves them against
// the central apigw's etcd with the same secret key, its counters in
// Redis.
func TestProtocolLevelSidecarLayout(t *testing.T) {
	redisAddr := startRedis(t)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	secret := hex.EncodeToString(key)

	side := newAPIGW(t)
	central := startAPIGW(t, "--components", "admin,xds", "--secret-key", secret,
		"--envoy-extauth-address", side.ExtAuth, "--envoy-ratelimit-address", side.RateLimit)
	startSidecar(t, side, central, "--secret-key", secret, "--redis-url", "redis://"+redisAddr+"/0")
	be := newBackends(t)
	ps := deployPetstore(t, central, be)

	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	ads := connectEnvoy(t, ctx, central, "e2e-sidecar-envoy", log)
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	cfg, err := ads.WaitFor(wctx, servesPetstore(ps, true))
	wcancel()
	if err != nil {
		t.Fatal(err)
	}
	checkServiceTLS(t, cfg, false) // the sidecar is on the pod's loopback
	envoy := envoysim.New(ads, envoysim.Options{HTTPPort: central.envoyHTTP, HTTPSPort: central.envoyHTTPS, MinServiceTimeout: 10 * time.Second, Log: log})
	t.Cleanup(envoy.Close)
	// The sidecar follows etcd on its own: wait until it knows the APIs.
	gw := simGateway{envoy}
	eventually(t, 10*time.Second, func() error {
		if r := do(t, gw, call{path: "/pets", key: webKey, secret: webSecret}); r.status != http.StatusOK {
			return fmt.Errorf("sidecar not serving yet: %s", r)
		}
		return nil
	})
	runScenarios(t, &world{gw: gw, g: central, be: be, ps: ps})

	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer rdb.Close()
	keys, err := rdb.Keys(ctx, "apigw:rl:*").Result()
	if err != nil || len(keys) == 0 {
		t.Errorf("the sidecar's rate-limit counters are not in Redis: %v %v", keys, err)
	}
	checkStatus(t, central, "e2e-sidecar-envoy")
}

// startRedis runs a throwaway redis-server; it skips the test when there
// is none (CI installs it and fails instead).
func startRedis(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-server not found on PATH; CI must install it (Debian package redis-server)")
		}
		t.Skip("redis-server not found on PATH: the sidecar layout shares rate-limit counters in Redis; install redis-server to run this test")
	}
	addr := testutil.FreeAddr(t)
	cmd := exec.Command(bin, "--port", strconv.Itoa(int(testutil.Port(addr))), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--protected-mode", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	eventually(t, 10*time.Second, func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	})
	return addr
}
