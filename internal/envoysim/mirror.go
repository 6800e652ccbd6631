package envoysim

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	upstreamhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
)

// mirror sends the shadow requests of a route's request_mirror_policies,
// as Envoy does: a copy of the upstream request (headers after the route's
// mutations and rewrites, the same body) to the mirror cluster, sampled by
// runtime_fraction's default value (no runtime is emulated), with the
// Host rewritten to host_rewrite_literal or suffixed with "-shadow".
// Envoy does not wait for shadows and ignores their responses; neither
// does the emulator (each shadow runs in its own goroutine, bounded by the
// cluster's max_stream_duration, else 15 s).
func (s *stream) mirror(policies []*routev3.RouteAction_RequestMirrorPolicy, up *Headers) {
	for _, p := range policies {
		if !sampled(p.GetRuntimeFraction().GetDefaultValue()) {
			s.tracef("mirror %s: not sampled", p.GetCluster())
			continue
		}
		cl := s.cfg.Clusters[p.GetCluster()]
		if cl == nil {
			s.tracef("mirror %s: no such cluster", p.GetCluster())
			continue
		}
		ep, _, err := s.e.endpoint(s.cfg, cl)
		if err != nil || ep == "" {
			s.tracef("mirror %s: no endpoint", p.GetCluster())
			continue
		}
		h := up.Clone()
		switch {
		case p.GetHostRewriteLiteral() != "":
			h.Set(":authority", p.GetHostRewriteLiteral())
		case !p.GetDisableShadowHostSuffixAppend():
			host := h.Value(":authority")
			if i := strings.LastIndex(host, ":"); i > 0 && !strings.Contains(host[i:], "]") {
				host = host[:i] + "-shadow" + host[i:]
			} else {
				host += "-shadow"
			}
			h.Set(":authority", host)
		}
		timeout := 15 * time.Second
		if ts := cl.GetTypedExtensionProtocolOptions()["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]; ts != nil {
			po := &upstreamhttpv3.HttpProtocolOptions{}
			if unpack(ts, po) == nil && po.GetCommonHttpProtocolOptions().GetMaxStreamDuration() != nil {
				timeout = po.GetCommonHttpProtocolOptions().GetMaxStreamDuration().AsDuration()
			}
		}
		scheme := "http"
		var tlsCfg *tls.Config
		if cl.GetTransportSocket() != nil {
			scheme = "https"
			tlsCfg = &tls.Config{ServerName: hostOf(h.Value(":authority")), InsecureSkipVerify: true} //nolint:gosec // the shadow's answer is ignored
		}
		s.tracef("mirror %s %s → cluster %s endpoint %s host %s", h.Value(":method"), h.Value(":path"), cl.GetName(), ep, h.Value(":authority"))
		go sendShadow(scheme, ep, h, s.body, tlsCfg, timeout)
	}
}

func sendShadow(scheme, ep string, h *Headers, body []byte, tlsCfg *tls.Config, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	p, q, _ := strings.Cut(h.Value(":path"), "?")
	req, err := http.NewRequestWithContext(ctx, h.Value(":method"), scheme+"://"+ep, bytes.NewReader(body))
	if err != nil {
		return
	}
	req.URL = &url.URL{Scheme: scheme, Host: ep, Opaque: p, RawQuery: q}
	req.Host = h.Value(":authority")
	req.ContentLength = int64(len(body))
	req.Header = h.HTTP()
	for _, k := range hopByHop {
		req.Header.Del(k)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsCfg, DisableCompression: true}}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
}

// sampled draws against a fractional percent (nil: always).
func sampled(f *typev3.FractionalPercent) bool {
	if f == nil {
		return true
	}
	d := map[typev3.FractionalPercent_DenominatorType]uint32{
		typev3.FractionalPercent_HUNDRED: 100, typev3.FractionalPercent_TEN_THOUSAND: 10_000, typev3.FractionalPercent_MILLION: 1_000_000,
	}[f.GetDenominator()]
	return rand.Uint32N(d) < f.GetNumerator()
}
