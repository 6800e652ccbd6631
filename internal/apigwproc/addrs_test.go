package apigwproc

import (
	"slices"
	"strings"
	"testing"
)

// Renew replaces every set address, wherever it appears in the arguments
// (flag values and URLs), and the embedded etcd's URLs; unset addresses
// and other arguments stay as they were.
func TestRenewReplacesEveryAddress(t *testing.T) {
	a := Addrs{XDS: "127.0.0.1:1", ExtAuth: "127.0.0.1:2", Ops: "127.0.0.1:3"}
	args := []string{"--xds-addr", "127.0.0.1:1", "--extauth-addr", "127.0.0.1:2", "--envoy-extauth-address", "127.0.0.1:2",
		"--ops-addr", "127.0.0.1:3", "--embedded-etcd-client-url", "http://127.0.0.1:4", "--embedded-etcd-peer-url", "http://127.0.0.1:5",
		"--etcd-endpoints", "127.0.0.1:9", "--log-level", "debug"}
	before := a
	got := a.Renew(t, args)
	if a.XDS == before.XDS || a.ExtAuth == before.ExtAuth || a.Ops == before.Ops || a.RateLimit != "" || a.Console != "" {
		t.Fatalf("addresses after Renew: %+v (before %+v)", a, before)
	}
	want := []string{"--xds-addr", a.XDS, "--extauth-addr", a.ExtAuth, "--envoy-extauth-address", a.ExtAuth, "--ops-addr", a.Ops}
	if !slices.Equal(got[:8], want) {
		t.Errorf("renewed flags %q, want %q", got[:8], want)
	}
	for _, i := range []int{9, 11} {
		if got[i] == args[i] || !strings.HasPrefix(got[i], "http://127.0.0.1:") {
			t.Errorf("etcd URL %q not renewed (was %q)", got[i], args[i])
		}
	}
	if !slices.Equal(got[12:], args[12:]) {
		t.Errorf("other arguments changed: %q", got[12:])
	}
	if args[1] != "127.0.0.1:1" {
		t.Error("Renew changed the caller's slice")
	}
}
