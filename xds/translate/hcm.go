package translate

import (
	"time"

	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	uuidv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/request_id/uuid/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// HCM limits and timeouts. Routes carry each API's timeout (≤600 s) and
// the same idle timeout; the stream idle timeout lets 600 s backends
// answer; APIG allows a 32 KB URI plus 128 KB of headers.
const (
	streamIdleTimeout     = 605 * time.Second
	requestHeadersTimeout = 10 * time.Second
	maxRequestHeadersKB   = 160
	serverName            = "api-gateway"
)

// connectionManager builds the HCM of a listener or filter chain.
func connectionManager(statPrefix string, routes routing, cfg *apigwv1.InstanceConfig, filters []*hcmv3.HttpFilter, replies *hcmv3.LocalReplyConfig, obs *hcmObservability) (*hcmv3.HttpConnectionManager, error) {
	rid, err := toAny(&uuidv3.UuidRequestIdConfig{PackTraceReason: wrapperspb.Bool(false)})
	if err != nil {
		return nil, err
	}
	h := &hcmv3.HttpConnectionManager{
		StatPrefix:                   statPrefix,
		CodecType:                    hcmv3.HttpConnectionManager_AUTO,
		HttpFilters:                  filters,
		UseRemoteAddress:             wrapperspb.Bool(true),
		XffNumTrustedHops:            trustedHops(cfg),
		AlwaysSetRequestIdInResponse: true,
		RequestIdExtension:           &hcmv3.RequestIDExtension{TypedConfig: rid},
		ServerName:                   serverName,
		ServerHeaderTransformation:   hcmv3.HttpConnectionManager_OVERWRITE,
		NormalizePath:                wrapperspb.Bool(true),
		MergeSlashes:                 true,
		PathWithEscapedSlashesAction: hcmv3.HttpConnectionManager_UNESCAPE_AND_FORWARD,
		MaxRequestHeadersKb:          wrapperspb.UInt32(maxRequestHeadersKB),
		StreamIdleTimeout:            durationpb.New(streamIdleTimeout),
		RequestHeadersTimeout:        durationpb.New(requestHeadersTimeout),
		UpgradeConfigs:               []*hcmv3.HttpConnectionManager_UpgradeConfig{{UpgradeType: "websocket"}},
		LocalReplyConfig:             replies,
	}
	routes.apply(h)
	obs.apply(h)
	return h, validate(h)
}

// trustedHops maps real_ip_from_xff: with xff_index -n (from the right)
// Envoy trusts n hops; an index from the left cannot be expressed and
// leaves the client address to the TCP peer (ext_authz still reports the
// configured address in its client_ip metadata).
func trustedHops(cfg *apigwv1.InstanceConfig) uint32 {
	x := cfg.GetRealIpFromXff()
	if !x.GetEnable() || x.GetXffIndex() >= 0 {
		return 0
	}
	return uint32(-x.GetXffIndex())
}

// routing is how an HCM finds its routes: one RouteConfiguration over RDS,
// or (scoped) a RouteConfiguration per host chosen by the :authority
// header without its port, over SRDS.
type routing struct {
	rds    string
	scoped bool
}

func (r routing) apply(h *hcmv3.HttpConnectionManager) {
	if !r.scoped {
		h.RouteSpecifier = &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{ConfigSource: adsSource(), RouteConfigName: r.rds}}
		return
	}
	h.RouteSpecifier = &hcmv3.HttpConnectionManager_ScopedRoutes{ScopedRoutes: &hcmv3.ScopedRoutes{
		Name: RouteHTTP,
		ScopeKeyBuilder: &hcmv3.ScopedRoutes_ScopeKeyBuilder{Fragments: []*hcmv3.ScopedRoutes_ScopeKeyBuilder_FragmentBuilder{{
			Type: &hcmv3.ScopedRoutes_ScopeKeyBuilder_FragmentBuilder_HeaderValueExtractor_{HeaderValueExtractor: &hcmv3.ScopedRoutes_ScopeKeyBuilder_FragmentBuilder_HeaderValueExtractor{
				Name: ":authority", ElementSeparator: ":", ExtractType: &hcmv3.ScopedRoutes_ScopeKeyBuilder_FragmentBuilder_HeaderValueExtractor_Index{Index: 0},
			}},
		}}},
		RdsConfigSource: adsSource(),
		ConfigSpecifier: &hcmv3.ScopedRoutes_ScopedRds{ScopedRds: &hcmv3.ScopedRds{ScopedRdsConfigSource: adsSource()}},
	}}
}
