package testutil

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
)

// FreeAddr returns a loopback address ("127.0.0.1:port") whose port was
// free a moment ago, for a process or server that must be told its
// address before it listens (a child process, etcd peers that must know
// each other's URLs). Whatever can listen on 127.0.0.1:0 itself should.
//
// The port is chosen at random below the kernel's ephemeral range
// (net.ipv4.ip_local_port_range), where outgoing connections never take
// their source port: a port from the ephemeral range (what listening on
// :0 gives) can be taken by any client's connect between this check and
// the child's listen, and on a busy machine (parallel test processes
// opening thousands of connections) that happened several times in a
// row. Below the range, only another listener can take it, which the
// callers' retries cover.
func FreeAddr(t testing.TB) string {
	t.Helper()
	lo, hi := listenRange()
	for range 200 {
		port := lo + rand.IntN(hi-lo)
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		addr := l.Addr().String()
		_ = l.Close()
		return addr
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// listenRange is the range FreeAddr draws ports from: from 10000 up to the
// start of the ephemeral range (32768 when it cannot be read, the
// kernel's default).
func listenRange() (lo, hi int) {
	lo, hi = 10000, 32768
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return lo, hi
	}
	var start, end int
	if _, err := fmt.Sscan(strings.TrimSpace(string(b)), &start, &end); err == nil && start > lo+1000 {
		hi = start
	}
	return lo, hi
}

// Port returns the port of a "host:port" address, 0 when it has none.
func Port(addr string) uint32 {
	_, p, _ := net.SplitHostPort(addr)
	n, _ := strconv.ParseUint(p, 10, 16)
	return uint32(n)
}
