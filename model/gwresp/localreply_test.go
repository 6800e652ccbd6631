package gwresp_test

import (
	"testing"

	"github.com/apigw/apigw/model/gwresp"
)

// An Envoy local reply maps to one APIG error by response flag, else by
// response code details (whole or by prefix); others map to none. The
// table handed out is a copy.
func TestLocalReplyError(t *testing.T) {
	cases := []struct {
		flags   []string
		details string
		want    gwresp.Error
		ok      bool
	}{
		{[]string{"NR"}, "route_not_found", gwresp.ErrAPINotFound, true},
		{[]string{"UT"}, "upstream_response_timeout", gwresp.ErrBackendTimeout, true},
		{[]string{"URX", "UF"}, "", gwresp.ErrBackendUnavailable, true},
		{nil, "rbac_access_denied_matched_policy[none]", gwresp.ErrIPDenied, true},
		{nil, "request_payload_too_large", gwresp.ErrEntityTooLarge, true},
		{nil, "request_payload_too_large_x", gwresp.Error{}, false},
		{[]string{"UAEX"}, "ext_authz_denied", gwresp.Error{}, false},
		{nil, "via_upstream", gwresp.Error{}, false},
	}
	for _, c := range cases {
		got, ok := gwresp.LocalReplyError(c.flags, c.details)
		if got != c.want || ok != c.ok {
			t.Errorf("flags %v details %q: %v %v, want %v %v", c.flags, c.details, got, ok, c.want, c.ok)
		}
	}
	rs := gwresp.LocalReplies()
	rs[0].Flags[0], rs[0].Err = "XX", gwresp.ErrInternal
	if got, ok := gwresp.LocalReplyError([]string{"NR"}, ""); !ok || got != gwresp.ErrAPINotFound {
		t.Errorf("changing the returned table changed the mapping: NR → %v", got)
	}
}
