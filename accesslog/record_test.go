package accesslog_test

import (
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"

	"github.com/apigw/apigw/accesslog"
	"github.com/apigw/apigw/dataplane"
)

// The breaker plug-in's marks in ext_authz's metadata reach the record:
// the downgrade rule the request matched and a call sent to an HTTP
// downgrade.
func TestDecodeBreakerMarks(t *testing.T) {
	e := entry{api: "a1", env: "RELEASE", group: "g1", status: 200, total: 30 * time.Millisecond, upstream: 20 * time.Millisecond,
		authz: map[string]any{dataplane.ExtAuthzMetaBreakerRule: "reports", dataplane.ExtAuthzMetaBreakerDowngraded: true}}.build()
	r := accesslog.Decode(&corev3.Node{Cluster: "default"}, e)
	if r.BreakerRule != "reports" || !r.BreakerDowngraded || !r.HasUpstream {
		t.Fatalf("record %+v: want rule reports, downgraded, with a backend time", r)
	}
	plain := accesslog.Decode(&corev3.Node{Cluster: "default"}, entry{api: "a1", env: "RELEASE", status: 200}.build())
	if plain.BreakerRule != "" || plain.BreakerDowngraded {
		t.Fatalf("record %+v: no breaker marks expected", plain)
	}
}
