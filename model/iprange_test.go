package model_test

import (
	"net/netip"
	"testing"

	"github.com/apigw/apigw/model"
)

func TestIPRanges(t *testing.T) {
	cases := []struct {
		in       string
		inside   []string
		outside  []string
		prefixes []string
	}{
		{"10.0.0.5", []string{"10.0.0.5", "::ffff:10.0.0.5"}, []string{"10.0.0.6"}, []string{"10.0.0.5/32"}},
		{"192.168.0.1/16", []string{"192.168.255.255"}, []string{"192.169.0.0"}, []string{"192.168.0.0/16"}},
		{"10.0.0.1-10.0.0.6", []string{"10.0.0.1", "10.0.0.6"}, []string{"10.0.0.0", "10.0.0.7"}, []string{"10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32"}},
		{"2001:db8::/64", []string{"2001:db8::1"}, []string{"10.0.0.1", "2001:db9::"}, []string{"2001:db8::/64"}},
	}
	for _, c := range cases {
		r, err := model.ParseIPRange(c.in)
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		for _, ip := range c.inside {
			if !r.Contains(netip.MustParseAddr(ip)) {
				t.Errorf("%s should contain %s", c.in, ip)
			}
		}
		for _, ip := range c.outside {
			if r.Contains(netip.MustParseAddr(ip)) {
				t.Errorf("%s should not contain %s", c.in, ip)
			}
		}
		var got []string
		for _, p := range r.Prefixes() {
			got = append(got, p.String())
		}
		if len(got) != len(c.prefixes) {
			t.Errorf("%s prefixes %v, want %v", c.in, got, c.prefixes)
			continue
		}
		for i := range got {
			if got[i] != c.prefixes[i] {
				t.Errorf("%s prefixes %v, want %v", c.in, got, c.prefixes)
			}
		}
	}
	for _, bad := range []string{"10.0.0.9-10.0.0.1", "10.0.0.1-::1", "1.2.3", "10.0.0.0/33"} {
		if _, err := model.ParseIPRange(bad); err == nil {
			t.Errorf("%q must be refused", bad)
		}
	}
}
