package apigwproc

import (
	"net"
	"testing"
	"time"
)

// An address taken between FreeAddr and apigw's start makes StartReady
// launch again on new addresses.
func TestStartReadyRetriesBusyAddresses(t *testing.T) {
	bin, err := Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	p := &Proc{Bin: bin}
	calls := 0
	p.StartReady(t, 60*time.Second, func() []string {
		calls++
		p.Addrs = FreeAddrs(t)
		if calls == 1 {
			p.Ops = taken.Addr().String()
		}
		return append(append(NewEtcd(t).Flags(), p.Addrs.Flags()...), "--secret-key", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	})
	if calls != 2 {
		t.Fatalf("%d launches, want 2\n%s", calls, p.Out.String())
	}
}
