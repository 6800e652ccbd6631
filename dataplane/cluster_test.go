package dataplane

import "testing"

func TestChannelOfCluster(t *testing.T) {
	for _, tc := range []struct {
		cluster, id string
		ok          bool
	}{
		{ChannelCluster("c0ffee", "https"), "c0ffee", true},
		{"channel.abc.http", "abc", true},
		{MemberGroupCluster("abc", "组.a", "https"), "abc", true},
		{"backend.http.example.com.80", "", false},
		{"channel.", "", false},
		{"channel.abc", "", false},
		{"apigw.extauth", "", false},
	} {
		if id, ok := ChannelOfCluster(tc.cluster); id != tc.id || ok != tc.ok {
			t.Errorf("ChannelOfCluster(%q) = %q, %v; want %q, %v", tc.cluster, id, ok, tc.id, tc.ok)
		}
	}
}
