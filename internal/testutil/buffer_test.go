package testutil

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// Concurrent writers and readers lose nothing (run with -race).
func TestBufferConcurrentWrites(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 100 {
				fmt.Fprintf(&b, "w%d-%d\n", i, j)
				_ = b.String()
			}
		})
	}
	wg.Wait()
	if n := strings.Count(b.String(), "\n"); n != 800 {
		t.Fatalf("%d lines, want 800", n)
	}
	if !strings.Contains(b.String(), "w7-99\n") {
		t.Fatalf("last write of writer 7 missing")
	}
}

func TestFreeAddrAndPort(t *testing.T) {
	a := FreeAddr(t)
	if !strings.HasPrefix(a, "127.0.0.1:") || Port(a) == 0 {
		t.Fatalf("FreeAddr %q, port %d", a, Port(a))
	}
	if p := Port("no-port"); p != 0 {
		t.Fatalf("Port of an address without a port: %d", p)
	}
}

func TestBufferTail(t *testing.T) {
	var b Buffer
	b.Write([]byte("0123456789"))
	if got := b.Tail(4); got != "6789" {
		t.Errorf("Tail(4) = %q", got)
	}
	if got := b.Tail(64); got != "0123456789" {
		t.Errorf("Tail(64) = %q", got)
	}
}
