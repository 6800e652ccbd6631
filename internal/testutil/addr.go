package testutil

import (
	"net"
	"strconv"
	"testing"
)

// FreeAddr returns a loopback address ("127.0.0.1:port") whose port was
// free a moment ago, for a process or server that must be told its
// address before it listens (a child process, etcd peers that must know
// each other's URLs). Whatever can listen on 127.0.0.1:0 itself should.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Port returns the port of a "host:port" address, 0 when it has none.
func Port(addr string) uint32 {
	_, p, _ := net.SplitHostPort(addr)
	n, _ := strconv.ParseUint(p, 10, 16)
	return uint32(n)
}
