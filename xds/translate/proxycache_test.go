package translate

import (
	"regexp"
	"strconv"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// decimalAtMost matches exactly the numbers 0..limit written without
// leading zeros (RE2 syntax, matched in full as Envoy's safe_regex is).
func TestDecimalAtMost(t *testing.T) {
	for _, limit := range []int64{1, 9, 10, 100, 1000, 1047, 4096, model.ProxyCacheMaxBodyBytes} {
		re := regexp.MustCompile("^(?:" + decimalAtMost(limit) + ")$")
		check := func(n int64) {
			if got, want := re.MatchString(strconv.FormatInt(n, 10)), n <= limit; got != want {
				t.Errorf("limit %d: %d matches = %v, want %v (%s)", limit, n, got, want, decimalAtMost(limit))
			}
		}
		for n := int64(0); n <= 2200; n++ {
			check(n)
		}
		for _, n := range []int64{limit - 1, limit, limit + 1, limit * 10, limit*10 + 9, 999999, 1000000, 1048575, 1048576, 1048577, 1049999, 2000000, 10485760} {
			if n >= 0 {
				check(n)
			}
		}
		for _, s := range []string{"", "01", "00", "-1", "1e3", " 1", "+1"} {
			if re.MatchString(s) {
				t.Errorf("limit %d: %q matches", limit, s)
			}
		}
	}
}

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
	base := cacheContentHash(parse(`{"cache_key":{"headers":["X-Tenant"]},"cache_http_status_and_ttl":[{"http_status":[200],"ttl":60}]}`))
	if same := cacheContentHash(parse(`{"cache_http_status_and_ttl":[{"ttl":60,"http_status":[200]}],"cache_key":{"headers":["X-Tenant"]}}`)); same != base || base == "" {
		t.Errorf("same content, other field order: %q vs %q", same, base)
	}
	for _, other := range []string{
		`{"cache_key":{"headers":["X-Tenant"]},"cache_http_status_and_ttl":[{"http_status":[200],"ttl":61}]}`,
		`{"cache_key":{"headers":["X-Other"]},"cache_http_status_and_ttl":[{"http_status":[200],"ttl":60}]}`,
		`{"cache_key":{"headers":["X-Tenant"]},"cache_http_status_and_ttl":[{"http_status":[200],"ttl":60}],"client_cache_control":{"mode":"all"}}`,
	} {
		if h := cacheContentHash(parse(other)); h == base {
			t.Errorf("changed content %s keeps the hash %s", other, h)
		}
	}
	if got := cacheScope("r1", &cachePlan{content: base}); got != "r1;content="+base {
		t.Errorf("scope %q", got)
	}
}
