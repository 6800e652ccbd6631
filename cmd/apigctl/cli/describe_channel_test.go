package cli_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/apigw/apigw/accesslog"
	"github.com/apigw/apigw/model/admin"
	"github.com/apigw/apigw/model/admin/admintest"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
)

// members answers GetChannelHealth from an access-log member tracker.
type members struct{ *accesslog.Members }

func (m members) ChannelHealth(instance, channelID string) ([]*adminv1.MemberHealth, string) {
	return m.Channel(instance, channelID), "5m"
}

// describe vpc_channel lists every member with its passive health: the
// definition's members in order (no_traffic when not called), then the
// addresses called that the definition does not list.
func TestDescribeChannelShowsMemberHealth(t *testing.T) {
	tracker := accesslog.NewMembers(accesslog.MembersOptions{})
	e := &env{t: t, srv: admintest.Start(t, admin.WithChannelHealth(members{tracker}))}
	e.must("kind: vpc_channel\nname: pool\nport: 80\nmembers: [{host: 10.0.0.2}, {host: 10.0.0.1, is_backup: true}]\n", "apply", "-f", "-")
	var got struct{ ID string }
	if err := json.Unmarshal([]byte(e.must("", "get", "vpc_channel", "pool", "-o", "json")), &got); err != nil || got.ID == "" {
		t.Fatalf("channel id: %v", err)
	}
	id := got.ID
	add := func(host string, status int, flags ...string) {
		tracker.Add(&accesslog.Record{Instance: "default", UpstreamCluster: "channel." + id + ".http", UpstreamHost: host, Status: status, HasUpstream: len(flags) == 0, Flags: flags})
	}
	add("10.0.0.1:80", 200)
	add("10.0.0.1:80", 503, "UF")
	add("10.0.0.9:80", 200)
	out := e.must("", "describe", "vpc_channel", "pool")
	i := strings.Index(out, "Member health (last 5m")
	if i < 0 {
		t.Fatalf("no member health:\n%s", out)
	}
	lines := strings.Split(strings.TrimSpace(out[i:]), "\n")
	want := [][]string{
		{"ADDRESS", "ROLE", "STATE", "CALLS", "FAILURES", "LAST FAILURE"},
		{"10.0.0.2:80", "member", "no_traffic", "0", "0", "-"},
		{"10.0.0.1:80", "backup", "unhealthy", "2", "1", "UF"},
		{"10.0.0.9:80", "not", "in", "the", "definition", "healthy", "1", "0", "-"},
	}
	if len(lines) != 1+len(want) {
		t.Fatalf("member health:\n%s", out[i:])
	}
	for j, w := range want {
		got := strings.Fields(lines[1+j])
		if j == 2 {
			// The last failure's time precedes its reason.
			got = append(got[:5], got[len(got)-1])
		}
		if strings.Join(got, " ") != strings.Join(w, " ") {
			t.Errorf("row %d = %q, want %q", j, got, w)
		}
	}

	// Without the accesslog component the admin API says so.
	e2 := start(t)
	e2.must("kind: vpc_channel\nname: pool\nport: 80\nmembers: [{host: 10.0.0.2}]\n", "apply", "-f", "-")
	if out := e2.must("", "describe", "vpc_channel", "pool"); !strings.Contains(out, "Member health: the accesslog component does not run") {
		t.Errorf("without the accesslog component:\n%s", out)
	}
}
