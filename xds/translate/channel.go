package translate

import (
	"net/netip"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// channelCluster configures a load-balance channel's cluster
// (docs/apig-semantics.md#load-balance-channels):
// EDS when every member is an IP address (so member changes only touch
// endpoints), STRICT_DNS otherwise; its algorithm, active health check
// and, since APIG answers APIG.0610 when no member is healthy, no panic
// routing. It returns the EDS endpoints (nil for DNS channels).
func channelCluster(cl *clusterv3.Cluster, s *clusterSpec) *endpointv3.ClusterLoadAssignment {
	ch := s.channel
	cla := channelEndpoints(s.name, ch, s.group)
	if channelIsStatic(ch) {
		cl.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS}
		cl.EdsClusterConfig = &clusterv3.Cluster_EdsClusterConfig{EdsConfig: adsSource(), ServiceName: s.name}
	} else {
		cl.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STRICT_DNS}
		cl.LoadAssignment = cla
		cla = nil
	}
	switch ch.BalanceStrategy {
	case model.StrategyWLC:
		cl.LbPolicy = clusterv3.Cluster_LEAST_REQUEST
	case model.StrategySrcHash, model.StrategyURIHash:
		cl.LbPolicy = clusterv3.Cluster_RING_HASH
	default:
		cl.LbPolicy = clusterv3.Cluster_ROUND_ROBIN
	}
	cl.CommonLbConfig = &clusterv3.Cluster_CommonLbConfig{HealthyPanicThreshold: &typev3.Percent{Value: 0}}
	if hc := healthCheck(ch.VpcHealthConfig); hc != nil {
		cl.HealthChecks = []*corev3.HealthCheck{hc}
	}
	return cla
}

func channelIsStatic(ch *apigwv1.VpcChannel) bool {
	for _, m := range ch.Members {
		if _, err := netip.ParseAddr(m.Host); err != nil {
			return false
		}
	}
	return true
}

// channelEndpoints lists the enabled members with their weights (a member
// without a weight takes its member group's); backup members form the
// second priority. A group keeps only that member group's members.
func channelEndpoints(name string, ch *apigwv1.VpcChannel, group string) *endpointv3.ClusterLoadAssignment {
	var hcPort uint32
	if h := ch.VpcHealthConfig; h != nil && h.Port != 0 {
		hcPort = uint32(h.Port)
	}
	eps := func(ts []model.ChannelTarget) []*endpointv3.LbEndpoint {
		var out []*endpointv3.LbEndpoint
		for _, t := range ts {
			out = append(out, lbEndpoint(t.Host, uint32(t.Port), uint32(t.Weight), hcPort))
		}
		return out
	}
	targets, backups := model.ChannelTargets(ch, group)
	primary, backup := eps(targets), eps(backups)
	cla := &endpointv3.ClusterLoadAssignment{ClusterName: name}
	for _, eps := range [][]*endpointv3.LbEndpoint{primary, backup} {
		if len(eps) > 0 {
			cla.Endpoints = append(cla.Endpoints, &endpointv3.LocalityLbEndpoints{LbEndpoints: eps, Priority: uint32(len(cla.Endpoints))})
		}
	}
	return cla
}

// healthCheck maps a channel's health check: TCP, HTTP or HTTPS (over the
// cluster's TLS), thresholds, interval, timeout and expected codes. A
// failing status only counts toward the abnormal threshold, as in APIG.
func healthCheck(h *apigwv1.VpcHealthConfig) *corev3.HealthCheck {
	if h == nil || h.Status == 2 {
		return nil
	}
	sec := func(n int32) *durationpb.Duration { return durationpb.New(time.Duration(n) * time.Second) }
	hc := &corev3.HealthCheck{
		Timeout:            sec(h.Timeout),
		Interval:           sec(h.TimeInterval),
		NoTrafficInterval:  sec(h.TimeInterval),
		UnhealthyThreshold: wrapU32(uint32(h.ThresholdAbnormal)),
		HealthyThreshold:   wrapU32(uint32(h.ThresholdNormal)),
	}
	if h.Protocol == "TCP" || h.Protocol == "" {
		hc.HealthChecker = &corev3.HealthCheck_TcpHealthCheck_{TcpHealthCheck: &corev3.HealthCheck_TcpHealthCheck{}}
		return hc
	}
	path := h.Path
	if path == "" {
		path = "/"
	}
	method := corev3.RequestMethod_GET
	if h.Method == "HEAD" {
		method = corev3.RequestMethod_HEAD
	}
	var expected []*typev3.Int64Range
	codes, err := model.ParseHTTPCodes(h.HttpCode)
	if err != nil {
		codes = []model.CodeRange{{From: 200, To: 200}}
	}
	for _, c := range codes {
		expected = append(expected, &typev3.Int64Range{Start: int64(c.From), End: int64(c.To) + 1})
	}
	hc.HealthChecker = &corev3.HealthCheck_HttpHealthCheck_{HttpHealthCheck: &corev3.HealthCheck_HttpHealthCheck{
		Path: path, Method: method, ExpectedStatuses: expected,
		RetriableStatuses: []*typev3.Int64Range{{Start: 100, End: 600}},
	}}
	return hc
}

// adsSource makes a resource come over the ADS stream.
func adsSource() *corev3.ConfigSource {
	return &corev3.ConfigSource{
		ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
		ResourceApiVersion:    corev3.ApiVersion_V3,
	}
}
