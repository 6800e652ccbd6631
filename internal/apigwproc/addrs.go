package apigwproc

import (
	"slices"
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
	// Breakers is the breakers component (sidecar layout); FreeAddrs
	// leaves it empty.
	Breakers string
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
		{"--functions-addr", a.Functions}, {"--breakers-addr", a.Breakers},
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

// Renew gives every address of a that is set a new free loopback address,
// and returns args with each argument that is an old address (host:port, or
// a URL of it) replaced by its new one, the embedded etcd's URLs included: what a
// launch needs after apigw found an address taken.
func (a *Addrs) Renew(t testing.TB, args []string) []string {
	t.Helper()
	repl := map[string]string{}
	for _, f := range []*string{&a.XDS, &a.ExtAuth, &a.RateLimit, &a.Admin, &a.Ops, &a.AccessLog, &a.Console, &a.Breakers} {
		if *f != "" {
			next := testutil.FreeAddr(t)
			repl[*f], *f = next, next
		}
	}
	out := slices.Clone(args)
	for i := 0; i+1 < len(out); i++ {
		if out[i] == "--embedded-etcd-client-url" || out[i] == "--embedded-etcd-peer-url" {
			old := strings.TrimPrefix(out[i+1], "http://")
			repl[old] = testutil.FreeAddr(t)
		}
	}
	for i, arg := range out {
		scheme, hostport := "", arg
		if j := strings.Index(arg, "://"); j >= 0 {
			scheme, hostport = arg[:j+3], arg[j+3:]
		}
		if next, ok := repl[hostport]; ok {
			out[i] = scheme + next
		}
	}
	return out
}
