package accesslog

import (
	datav3 "github.com/envoyproxy/go-control-plane/envoy/data/accesslog/v3"
)

// FlagNames returns Envoy's short names (%RESPONSE_FLAGS%) of the response
// flags set in an access-log entry, in Envoy's order.
func FlagNames(f *datav3.ResponseFlags) []string {
	if f == nil {
		return nil
	}
	var out []string
	add := func(set bool, name string) {
		if set {
			out = append(out, name)
		}
	}
	add(f.GetFailedLocalHealthcheck(), "LH")
	add(f.GetNoHealthyUpstream(), "UH")
	add(f.GetUpstreamRequestTimeout(), "UT")
	add(f.GetLocalReset(), "LR")
	add(f.GetUpstreamRemoteReset(), "UR")
	add(f.GetUpstreamConnectionFailure(), "UF")
	add(f.GetUpstreamConnectionTermination(), "UC")
	add(f.GetUpstreamOverflow(), "UO")
	add(f.GetNoRouteFound(), "NR")
	add(f.GetDelayInjected(), "DI")
	add(f.GetFaultInjected(), "FI")
	add(f.GetRateLimited(), "RL")
	add(f.GetUnauthorizedDetails() != nil, "UAEX")
	add(f.GetRateLimitServiceError(), "RLSE")
	add(f.GetDownstreamConnectionTermination(), "DC")
	add(f.GetUpstreamRetryLimitExceeded(), "URX")
	add(f.GetStreamIdleTimeout(), "SI")
	add(f.GetInvalidEnvoyRequestHeaders(), "IH")
	add(f.GetDownstreamProtocolError(), "DPE")
	add(f.GetUpstreamMaxStreamDurationReached(), "UMSDR")
	add(f.GetResponseFromCacheFilter(), "RFCF")
	add(f.GetNoFilterConfigFound(), "NFCF")
	add(f.GetDurationTimeout(), "DT")
	add(f.GetUpstreamProtocolError(), "UPE")
	add(f.GetNoClusterFound(), "NC")
	add(f.GetOverloadManager(), "OM")
	add(f.GetDnsResolutionFailure(), "DF")
	add(f.GetDownstreamRemoteReset(), "DR")
	return out
}
