package apigwproc

import (
	"strings"
	"testing"

	"github.com/apigw/apigw/internal/testutil"
)

// Addrs are the addresses apigw's servers listen on; an empty one is left
// to apigw's default (or to a component that does not run).
type Addrs struct {
	XDS, ExtAuth, RateLimit, Admin, Ops string
	AccessLog                           string // the access-log service
	Console                             string // the web console
	Functions                           string // the function component
}

// FreeAddrs returns free loopback addresses for every server.
func FreeAddrs(t testing.TB) Addrs {
	t.Helper()
	return Addrs{XDS: testutil.FreeAddr(t), ExtAuth: testutil.FreeAddr(t), RateLimit: testutil.FreeAddr(t),
		Admin: testutil.FreeAddr(t), Ops: testutil.FreeAddr(t), AccessLog: testutil.FreeAddr(t), Console: testutil.FreeAddr(t),
		Functions: testutil.FreeAddr(t)}
}

// Flags returns the flags that make apigw listen on a.
func (a Addrs) Flags() []string {
	var out []string
	for _, f := range []struct{ flag, addr string }{
		{"--xds-addr", a.XDS}, {"--extauth-addr", a.ExtAuth}, {"--ratelimit-addr", a.RateLimit},
		{"--admin-addr", a.Admin}, {"--ops-addr", a.Ops}, {"--accesslog-addr", a.AccessLog}, {"--console-addr", a.Console},
		{"--functions-addr", a.Functions},
	} {
		if f.addr != "" {
			out = append(out, f.flag, f.addr)
		}
	}
	return out
}

// Etcd is apigw's embedded etcd: its data directory and its client and
// peer URLs. Launching again with the same Etcd keeps the data.
type Etcd struct {
	Dir, ClientURL, PeerURL string
}

// NewEtcd returns an embedded etcd in a temporary directory on free
// loopback ports.
func NewEtcd(t testing.TB) Etcd {
	t.Helper()
	return Etcd{Dir: t.TempDir(), ClientURL: "http://" + testutil.FreeAddr(t), PeerURL: "http://" + testutil.FreeAddr(t)}
}

// Flags returns the flags that make apigw run this embedded etcd.
func (e Etcd) Flags() []string {
	return []string{"--data-dir", e.Dir, "--embedded-etcd-client-url", e.ClientURL, "--embedded-etcd-peer-url", e.PeerURL}
}

// Endpoint is the client address for an etcd client (host:port).
func (e Etcd) Endpoint() string { return strings.TrimPrefix(e.ClientURL, "http://") }
