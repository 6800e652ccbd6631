package accesslog

import (
	"testing"
	"time"

	"github.com/apigw/apigw/dataplane"
)

// Member health counts the calls of each channel member address over five
// one-minute buckets: connect failures, upstream timeouts and resets and
// 5xx answers of the member are failures; an APIG error Envoy or apigw
// sent (a denial) is not; other clusters are not tracked.
func TestMemberHealth(t *testing.T) {
	now := time.Date(2026, 12, 4, 10, 0, 30, 0, time.UTC)
	m := NewMembers(MembersOptions{Now: func() time.Time { return now }})
	ch := dataplane.ChannelCluster("pool", "http")
	call := func(host string, status int, flags ...string) {
		m.Add(&Record{Instance: "default", UpstreamCluster: ch, UpstreamHost: host, Status: status, HasUpstream: len(flags) == 0, Flags: flags})
	}
	for range 3 {
		call("10.0.0.1:80", 200)
	}
	call("10.0.0.2:80", 200)
	call("10.0.0.2:80", 502)
	call("10.0.0.2:80", 200)
	call("10.0.0.3:80", 200)
	call("10.0.0.3:80", 503, "UF")
	call("10.0.0.3:80", 504, "UT")
	m.Add(&Record{Instance: "default", UpstreamCluster: ch, UpstreamHost: "10.0.0.1:80", Status: 500, HasUpstream: true, ErrorCode: "APIG.0601"})
	m.Add(&Record{Instance: "default", UpstreamCluster: "backend.http.example.com.80", UpstreamHost: "10.9.9.9:80", Status: 200})
	m.Add(&Record{Instance: "other", UpstreamCluster: ch, UpstreamHost: "10.0.0.1:80", Status: 200})

	got := m.Channel("default", "pool")
	want := []struct {
		addr, state, reason string
		calls, failures     int64
	}{
		{"10.0.0.1:80", MemberHealthy, "", 4, 0},
		{"10.0.0.2:80", MemberDegraded, "502", 3, 1},
		{"10.0.0.3:80", MemberUnhealthy, "UT", 3, 2},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d members: %v", len(got), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Address != w.addr || g.State != w.state || g.Calls != w.calls || g.Failures != w.failures || g.LastFailureReason != w.reason {
			t.Errorf("member %d = %v, want %+v", i, g, w)
		}
	}

	// Four minutes on, the calls still count; six minutes on, they do not,
	// and Expire forgets the addresses.
	now = now.Add(4 * time.Minute)
	if got := m.Channel("default", "pool"); len(got) != 3 || got[0].Calls != 4 {
		t.Fatalf("after 4 minutes: %v", got)
	}
	now = now.Add(2 * time.Minute)
	if got := m.Channel("default", "pool"); len(got) != 0 {
		t.Fatalf("after 6 minutes: %v", got)
	}
	call("10.0.0.1:80", 200)
	if got := m.Channel("default", "pool"); len(got) != 1 || got[0].Calls != 1 || got[0].State != MemberHealthy {
		t.Fatalf("a new call after the window: %v", got)
	}
	m.Expire()
	if len(m.hosts) != 1 || m.count["default"] != 1 || m.count["other"] != 0 {
		t.Errorf("after Expire: %d addresses, counts %v", len(m.hosts), m.count)
	}
}

// The number of addresses tracked per instance is bounded.
func TestMemberHealthIsBounded(t *testing.T) {
	m := NewMembers(MembersOptions{MaxPerInstance: 2})
	for _, h := range []string{"10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"} {
		m.Add(&Record{Instance: "default", UpstreamCluster: "channel.pool.http", UpstreamHost: h, Status: 200})
	}
	if got := m.Channel("default", "pool"); len(got) != 2 {
		t.Errorf("tracked %d addresses, want 2", len(got))
	}
}
