// Package redistest runs throwaway redis-server processes for tests, on
// free loopback ports, without persistence, stopped at cleanup.
package redistest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is one redis-server process.
type Server struct {
	Addr string
	cmd  *exec.Cmd
	once sync.Once
	done chan struct{}
}

// binary returns the path of a tool, or ends the test: CI installs
// redis (a missing binary fails there), elsewhere the test is skipped.
func binary(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s not found on PATH; CI must install redis-server (Debian package redis-server)", name)
	}
	t.Skipf("%s not found on PATH: install redis-server to run the Redis tests", name)
	return ""
}

// Start runs a redis-server and stops it when the test ends.
func Start(t testing.TB, args ...string) *Server {
	t.Helper()
	return start(t, freePort(t, false), args...)
}

func start(t testing.TB, port int, args ...string) *Server {
	t.Helper()
	bin := binary(t, "redis-server")
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), done: make(chan struct{})}
	all := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--protected-mode", "no", "--daemonize", "no", "--dir", t.TempDir()}, args...)
	s.cmd = exec.Command(bin, all...)
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stderr = s.cmd.Stdout
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("starting redis-server: %v", err)
	}
	ready := make(chan struct{})
	var log strings.Builder
	var logMu sync.Mutex
	go func() {
		sc := bufio.NewScanner(out)
		signalled := false
		for sc.Scan() {
			logMu.Lock()
			log.WriteString(sc.Text() + "\n")
			logMu.Unlock()
			if !signalled && strings.Contains(sc.Text(), "Ready to accept connections") {
				close(ready)
				signalled = true
			}
		}
		_ = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(s.Stop)
	select {
	case <-ready:
	case <-s.done:
		logMu.Lock()
		defer logMu.Unlock()
		t.Fatalf("redis-server exited before it was ready:\n%s", log.String())
	case <-time.After(10 * time.Second):
		t.Fatal("redis-server not ready after 10s")
	}
	return s
}

// Stop kills the server (simulating an outage) and waits for it to exit.
func (s *Server) Stop() {
	s.once.Do(func() {
		_ = s.cmd.Process.Kill()
		<-s.done
	})
}

// freePort returns a loopback port that is free now (and, for cluster
// nodes, whose bus port +10000 is free too).
func freePort(t testing.TB, bus bool) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		if !bus || port+10000 > 65535 {
			_ = l.Close()
			if !bus {
				return port
			}
			continue
		}
		b, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+10000))
		_ = l.Close()
		if err == nil {
			_ = b.Close()
			return port
		}
	}
	t.Fatal("no free port pair for a cluster node")
	return 0
}

// Cluster runs n cluster-enabled redis-servers, joins them into a
// cluster of n masters and returns their addresses once every node says
// the cluster is ok.
func Cluster(t testing.TB, n int) []string {
	t.Helper()
	cli := binary(t, "redis-cli")
	addrs := make([]string, n)
	for i := range addrs {
		s := startNode(t)
		addrs[i] = s.Addr
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a})
		for {
			info, err := c.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			select {
			case <-ctx.Done():
				_ = c.Close()
				t.Fatalf("cluster node %s not ok: %v %s", a, err, info)
			case <-tick.C:
			}
		}
		_ = c.Close()
	}
	return addrs
}

func startNode(t testing.TB) *Server {
	t.Helper()
	port := freePort(t, true) // the bus port (+10000) must be free too
	dir := t.TempDir()
	return start(t, port, "--cluster-enabled", "yes",
		"--cluster-config-file", fmt.Sprintf("%s/nodes-%d.conf", dir, port), "--cluster-node-timeout", "2000")
}
