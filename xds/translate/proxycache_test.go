package translate

import (
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// The cache scope carries a hash of the content: any change of the
// content changes it (so old entries are never answered), the same
// content in another order of JSON fields does not.
func TestCacheContentHashFollowsTheContent(t *testing.T) {
	parse := func(s string) *apigwv1.ProxyCacheContent {
		t.Helper()
		v := &apigwv1.ProxyCacheContent{}
		if err := protojson.Unmarshal([]byte(s), v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	base := model.ProxyCacheContentHash(parse(`{"cache_key":{"headers":["X-Tenant"]},"cache_http_status_and_ttl":[{"http_status":[200],"ttl":60}]}`))
	if same := model.ProxyCacheContentHash(parse(`{"cache_http_status_and_ttl":[{"ttl":60,"http_status":[200]}],"cache_key":{"headers":["X-Tenant"]}}`)); same != base || base == "" {
		t.Errorf("same content, other field order: %q vs %q", same, base)
	}
	for _, other := range []string{
		`{"cache_key":{"headers":["X-Tenant"]},"cache_http_status_and_ttl":[{"http_status":[200],"ttl":61}]}`,
		`{"cache_key":{"headers":["X-Other"]},"cache_http_status_and_ttl":[{"http_status":[200],"ttl":60}]}`,
		`{"cache_key":{"headers":["X-Tenant"]},"cache_http_status_and_ttl":[{"http_status":[200],"ttl":60}],"client_cache_control":{"mode":"all"}}`,
	} {
		if h := model.ProxyCacheContentHash(parse(other)); h == base {
			t.Errorf("changed content %s keeps the hash %s", other, h)
		}
	}
	if got := cacheScope("r1", &cachePlan{content: base}); got != "r1;content="+base {
		t.Errorf("scope %q", got)
	}
}
