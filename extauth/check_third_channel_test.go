package extauth_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// channelMember is an authentication service member of a channel on
// loopback: it accepts every call and records its Host header.
type channelMember struct {
	port  int32
	mu    sync.Mutex
	hosts []string
}

func newChannelMember(t *testing.T) *channelMember {
	t.Helper()
	m := &channelMember{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		m.hosts = append(m.hosts, r.Host)
		m.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	n, _ := strconv.Atoi(port)
	m.port = int32(n)
	return m
}

func (m *channelMember) calls() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.hosts...)
}

// vpc_channel_enabled: the service is called at a member of the channel
// picked by weight among the enabled primary members, the backup members
// only when no primary member takes traffic; vpc_proxy_host is the Host
// header. A channel without a member taking traffic cannot be reached
// (500 APIG.0616, or let through in relaxed mode).
func TestThirdAuthThroughChannel(t *testing.T) {
	a, b, disabled, backup := newChannelMember(t), newChannelMember(t), newChannelMember(t), newChannelMember(t)
	member := func(m *channelMember, weight, status int32, isBackup bool) *apigwv1.Member {
		return &apigwv1.Member{Host: "127.0.0.1", Port: m.port, Weight: weight, Status: status, IsBackup: isBackup}
	}
	f := newFixture("", nil)
	f.api(&apigwv1.Api{Id: "api-ch", Name: "third_ch", ReqUri: "/ch"})
	f.api(&apigwv1.Api{Id: "api-ch-backup", Name: "third_ch_backup", ReqUri: "/ch-backup"})
	f.api(&apigwv1.Api{Id: "api-ch-empty", Name: "third_ch_empty", ReqUri: "/ch-empty"})
	f.api(&apigwv1.Api{Id: "api-ch-relaxed", Name: "third_ch_relaxed", ReqUri: "/ch-relaxed"})
	viaChannel := func(ch string, extra map[string]any) string {
		v := map[string]any{"auth_request": map[string]any{"method": "GET", "protocol": "HTTP", "path": "/check",
			"vpc_channel_enabled": true, "vpc_channel_info": map[string]any{"vpc_id": ch, "vpc_proxy_host": "auth.internal"}}}
		for k, x := range extra {
			v[k] = x
		}
		return thirdContent(t, v)
	}
	f.add(
		&apigwv1.VpcChannel{Id: "ch-main", Name: "auth_main", Port: 1, Members: []*apigwv1.Member{
			member(a, 1, 1, false), member(b, 3, 1, false), member(disabled, 100, 2, false), member(backup, 100, 1, true)}},
		&apigwv1.VpcChannel{Id: "ch-backup", Name: "auth_backup", Port: 1, Members: []*apigwv1.Member{
			member(a, 5, 2, false), member(backup, 1, 1, true)}},
		&apigwv1.VpcChannel{Id: "ch-empty", Name: "auth_empty", Port: 1, Members: []*apigwv1.Member{member(a, 5, 2, false)}},
		&apigwv1.Plugin{Id: "pt-ch", PluginName: "third_ch", PluginType: model.PluginThirdAuth, PluginContent: viaChannel("ch-main", nil)},
		&apigwv1.Plugin{Id: "pt-ch-backup", PluginName: "third_ch_backup", PluginType: model.PluginThirdAuth, PluginContent: viaChannel("ch-backup", nil)},
		&apigwv1.Plugin{Id: "pt-ch-empty", PluginName: "third_ch_empty", PluginType: model.PluginThirdAuth, PluginContent: viaChannel("ch-empty", nil)},
		&apigwv1.Plugin{Id: "pt-ch-relaxed", PluginName: "third_ch_relaxed", PluginType: model.PluginThirdAuth, PluginContent: viaChannel("ch-empty", map[string]any{"auth_downgrade_enabled": true})},
		&apigwv1.PluginBinding{Id: "pb-ch", ApiId: "api-ch", EnvId: model.ReleaseEnvID, PluginId: "pt-ch"},
		&apigwv1.PluginBinding{Id: "pb-ch-backup", ApiId: "api-ch-backup", EnvId: model.ReleaseEnvID, PluginId: "pt-ch-backup"},
		&apigwv1.PluginBinding{Id: "pb-ch-empty", ApiId: "api-ch-empty", EnvId: model.ReleaseEnvID, PluginId: "pt-ch-empty"},
		&apigwv1.PluginBinding{Id: "pb-ch-relaxed", ApiId: "api-ch-relaxed", EnvId: model.ReleaseEnvID, PluginId: "pt-ch-relaxed"},
	)
	h := newHarness(t, f.instance(t))

	const n = 200
	for i := 0; i < n; i++ {
		allowedResp(t, h.check(envoyRequest{api: "api-ch", path: "/ch"}.checkRequest()))
	}
	na, nb := len(a.calls()), len(b.calls())
	if na+nb != n || len(disabled.calls()) != 0 || len(backup.calls()) != 0 {
		t.Fatalf("calls: a %d, b %d, disabled %d, backup %d", na, nb, len(disabled.calls()), len(backup.calls()))
	}
	// Weights 1:3: b gets about three quarters (bounds far outside chance).
	if nb < n/2 || na < n/10 {
		t.Errorf("weighted pick: a %d, b %d", na, nb)
	}
	if got := a.calls()[0]; got != "auth.internal" {
		t.Errorf("Host of the call = %q, want vpc_proxy_host", got)
	}

	allowedResp(t, h.check(envoyRequest{api: "api-ch-backup", path: "/ch-backup"}.checkRequest()))
	if len(backup.calls()) != 1 || len(a.calls()) != na {
		t.Errorf("backup channel: backup %d calls, a %d (was %d)", len(backup.calls()), len(a.calls()), na)
	}

	status, body, _ := denied(t, h.check(envoyRequest{api: "api-ch-empty", path: "/ch-empty"}.checkRequest()))
	if status != 500 || body.Code != "APIG.0616" {
		t.Errorf("channel without members: %d %+v", status, body)
	}
	allowedResp(t, h.check(envoyRequest{api: "api-ch-relaxed", path: "/ch-relaxed"}.checkRequest()))
}
