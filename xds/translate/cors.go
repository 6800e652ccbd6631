package translate

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
)

// APIG's CORS answers for APIs with cors enabled
// (docs/apig-semantics.md#cors).
const (
	corsAllowMethods  = "GET,POST,PUT,DELETE,HEAD,OPTIONS,PATCH"
	corsAllowHeaders  = "X-Stage,X-Sdk-Date,X-Sdk-Nonce,X-Proxy-Signed-Headers,X-Sdk-Content-Sha256,X-Forwarded-For,Authorization,Content-Type,Accept,Accept-Ranges,Cache-Control,Range"
	corsExposeHeaders = "X-Request-Id,X-Apig-Latency,X-Apig-Upstream-Latency,X-Apig-RateLimit-Api,X-Apig-RateLimit-User,X-Apig-RateLimit-App,X-Apig-RateLimit-Ip,X-Apig-RateLimit-Api-Allenv"
	corsMaxAge        = "172800"
)

// corsRoute is the CORS policy of a CORS-enabled API: any origin, APIG's
// header lists; preflights are answered by the cors filter before
// authentication.
func corsRoute() *corsv3.CorsPolicy {
	return &corsv3.CorsPolicy{
		AllowOriginStringMatch: []*matcherv3.StringMatcher{{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "*"}}},
		AllowMethods:           corsAllowMethods,
		AllowHeaders:           corsAllowHeaders,
		ExposeHeaders:          corsExposeHeaders,
		MaxAge:                 corsMaxAge,
	}
}

// corsMockHeaders are added to mock responses of CORS-enabled APIs, which
// the cors filter skips (no route entry on direct responses).
func corsMockHeaders() []*corev3.HeaderValueOption {
	return []*corev3.HeaderValueOption{{
		Header:       &corev3.HeaderValue{Key: "access-control-allow-origin", Value: "*"},
		AppendAction: corev3.HeaderValueOption_ADD_IF_ABSENT,
	}}
}

// corsPreflightResponse answers preflights of mock APIs, whose routes the
// cors filter skips.
func corsPreflightResponse() routeAction {
	var hdrs []*corev3.HeaderValueOption
	for _, kv := range [][2]string{
		{"access-control-allow-origin", "*"},
		{"access-control-allow-methods", corsAllowMethods},
		{"access-control-allow-headers", corsAllowHeaders},
		{"access-control-max-age", corsMaxAge},
	} {
		hdrs = append(hdrs, &corev3.HeaderValueOption{
			Header:       &corev3.HeaderValue{Key: kv[0], Value: kv[1]},
			AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
		})
	}
	return routeAction{direct: &routev3.DirectResponseAction{Status: 200}, respHeaders: hdrs}
}
