package testutil

import (
	"net"
	"testing"
)

// FreeAddr gives a loopback port below the ephemeral range, which can be
// listened on.
func TestFreeAddrIsBelowTheEphemeralRange(t *testing.T) {
	lo, hi := listenRange()
	for range 20 {
		addr := FreeAddr(t)
		p := int(Port(addr))
		if p < lo || p >= hi {
			t.Fatalf("FreeAddr = %s, want a port in [%d, %d)", addr, lo, hi)
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		l.Close()
	}
}
