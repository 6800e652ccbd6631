package explain

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/apigw/apigw/dataplane"
	"github.com/apigw/apigw/internal/envoysim"
	"github.com/apigw/apigw/internal/inproc"
	"github.com/apigw/apigw/model"
	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
	"github.com/apigw/apigw/xds/translate"
)

// Explain evaluates the request against the instance's published
// configuration and reports every decision.
func (s *Service) Explain(ctx context.Context, req *adminv1.ExplainRequest) (*adminv1.ExplainResponse, error) {
	snap, in, err := s.instance(req.GetInstance())
	if err != nil {
		return nil, err
	}
	t, err := s.config(snap, in)
	if err != nil {
		return nil, err
	}
	hr, err := httpRequest(in, "", req.GetRequest(), req.GetCredentials(), time.Now())
	if err != nil {
		return nil, err
	}
	auth := &recorder{conn: inproc.New(&authv3.Authorization_ServiceDesc, s.auth)}
	rl := &recorder{conn: inproc.New(&rlsv3.RateLimitService_ServiceDesc, s.rls)}
	up := &capture{}
	opts := s.opts.Translate
	envoy := envoysim.New(envoysim.StaticConfig(t.cfg), envoysim.Options{HTTPPort: opts.HTTPPort, HTTPSPort: opts.HTTPSPort, Upstream: up, NoAccessLogs: true,
		Services: func(cluster string) grpc.ClientConnInterface {
			switch cluster {
			case translate.ClusterExtAuthz:
				return auth
			case translate.ClusterRateLimit:
				return rl
			case translate.ClusterProxyCache:
				// The evaluation never answers from apigw's cache: the
				// ext_proc stream cannot be opened in process, and the
				// filter's failure_mode_allow sends the request on to the
				// backend as on a miss (the trace says so).
				return inproc.New(&extprocv3.ExternalProcessor_ServiceDesc, nil)
			}
			return nil
		}})
	defer envoy.Close()
	source := "127.0.0.1:40000"
	if ip := req.GetRequest().GetClientIp(); ip != "" {
		source = net.JoinHostPort(ip, "40000")
	}
	out := &adminv1.ExplainResponse{Revision: snap.Revision, Request: wireRequest(hr, req.GetRequest()), Route: &adminv1.RouteResult{}, Auth: &adminv1.AuthResult{}}
	resp, err := envoy.Serve(ctx, &envoysim.Request{Method: hr.Method, Path: hr.URL.RequestURI(), Host: hr.Host, Header: hr.Header,
		Body: req.GetRequest().GetBody(), TLS: req.GetRequest().GetTls(), Source: source, InsecureSkipVerify: true})
	if err != nil {
		// Not a decision of the gateway: something Envoy would do that
		// the evaluation does not cover, or no listener for the request.
		out.Route.Reason = "the request could not be evaluated: " + err.Error()
		out.Trace = strings.Split(err.Error(), "\n")
		return out, nil
	}
	out.Trace = resp.Trace
	route(in, t, resp, out)
	explainAuth(auth, out)
	explainLimits(rl, out)
	if r, body := up.sent(); r != nil {
		out.Backend = &adminv1.BackendRequest{Url: r.URL.Scheme + "://" + r.Host + r.URL.Opaque + query(r.URL.RawQuery), Method: r.Method,
			Headers: append([]*adminv1.Header{{Name: "Host", Value: r.Host}}, adminv1.HeadersOf(r.Header)...), Body: body, Cluster: resp.Cluster, Endpoint: resp.Endpoint}
	} else {
		out.Response = &adminv1.HttpResponse{Status: int32(resp.Status), Headers: adminv1.HeadersOf(resp.Header), Body: resp.Body}
	}
	return out, nil
}

func query(q string) string {
	if q == "" {
		return ""
	}
	return "?" + q
}

// route reports the route the request took and what it serves: the
// context extensions apigw puts on every API route.
func route(in *model.Instance, t *translated, resp *envoysim.Response, out *adminv1.ExplainResponse) {
	r := out.Route
	if resp.Route == "" {
		r.Reason = fmt.Sprintf("no route: %s %s (flags %s)", out.Request.GetMethod(), out.Request.GetPath(), strings.Join(resp.Flags, ","))
		if i := slices.IndexFunc(resp.Trace, func(l string) bool { return strings.Contains(l, "no virtual host") || strings.Contains(l, "no scope") }); i >= 0 {
			r.Reason = resp.Trace[i] + ": the Host is not a domain of a group with published APIs"
		} else if !slices.Contains(resp.Flags, "NR") {
			r.Reason = "the gateway answered before routing (flags " + strings.Join(resp.Flags, ",") + ")"
		} else {
			r.Reason = "no published API of the group matches " + out.Request.GetMethod() + " " + out.Request.GetPath()
		}
		return
	}
	r.Matched, r.RouteName = true, resp.Route
	route := t.cfg.Route(resp.Route)
	if a := route.GetTypedPerFilterConfig()["envoy.filters.http.ext_authz"]; a != nil {
		per := &extauthzv3.ExtAuthzPerRoute{}
		if a.UnmarshalTo(per) == nil {
			ext := per.GetCheckSettings().GetContextExtensions()
			r.ApiId, r.GroupId, r.EnvId = ext[dataplane.ExtAuthzCtxAPI], ext[dataplane.ExtAuthzCtxGroup], ext[dataplane.ExtAuthzCtxEnv]
			r.Backend = ext[dataplane.ExtAuthzCtxPolicy]
		}
	}
	if r.ApiId == "" {
		// The group's fallback or a redirect: no API serves the request.
		r.Matched = false
		r.Reason = fmt.Sprintf("no published API of the group matches %s %s in the environment; route %s answers", out.Request.GetMethod(), out.Request.GetPath(), resp.Route)
		return
	}
	if r.Backend == "" {
		r.Backend = "default"
	}
	r.ApiName = in.API(r.ApiId).GetName()
	r.EnvName = model.ReleaseEnvName
	if e := in.Env(r.EnvId); e != nil {
		r.EnvName = e.GetName()
	}
	for _, l := range resp.Trace {
		if vh, ok := strings.CutPrefix(l, "route configuration "); ok {
			if i := strings.Index(vh, "virtual host "); i >= 0 {
				r.VirtualHost = strings.SplitN(vh[i+len("virtual host "):], ",", 2)[0]
			}
		}
	}
}

// explainAuth reports ext_authz's decision.
func explainAuth(rec *recorder, out *adminv1.ExplainResponse) {
	req, resp := rec.last()
	if req == nil {
		return
	}
	a := out.Auth
	a.Checked = true
	cr, _ := resp.(*authv3.CheckResponse)
	if cr == nil {
		a.ErrorMsg = "ext_authz was not reached"
		return
	}
	md := cr.GetDynamicMetadata().GetFields()
	if b, err := protojson.Marshal(cr.GetDynamicMetadata()); err == nil && cr.GetDynamicMetadata() != nil {
		a.Metadata = string(b)
	}
	if ok := cr.GetOkResponse(); ok != nil || cr.GetStatus().GetCode() == 0 {
		a.Allowed, a.Status = true, http.StatusOK
		for _, h := range ok.GetHeaders() {
			a.HeadersSet = append(a.HeadersSet, &adminv1.Header{Name: h.GetHeader().GetKey(), Value: h.GetHeader().GetValue()})
		}
		a.HeadersRemoved = ok.GetHeadersToRemove()
		return
	}
	d := cr.GetDeniedResponse()
	a.Status = int32(d.GetStatus().GetCode())
	a.ErrorCode = md[dataplane.ExtAuthzMetaErrorCode].GetStringValue()
	if a.ErrorCode == "" {
		a.ErrorCode = cr.GetStatus().GetMessage()
	}
	a.ErrorMsg = md[dataplane.ExtAuthzMetaErrorMessage].GetStringValue()
}

// explainLimits reports the rate-limit service's answer per descriptor.
func explainLimits(rec *recorder, out *adminv1.ExplainResponse) {
	req, resp := rec.last()
	rr, _ := req.(*rlsv3.RateLimitRequest)
	rs, _ := resp.(*rlsv3.RateLimitResponse)
	if rr == nil || rs == nil {
		return
	}
	for i, d := range rr.GetDescriptors() {
		var parts []string
		for _, e := range d.GetEntries() {
			parts = append(parts, e.GetKey()+"="+e.GetValue())
		}
		l := &adminv1.LimitResult{Descriptor_: strings.Join(parts, ", "), Code: "OK"}
		if i < len(rs.GetStatuses()) {
			st := rs.GetStatuses()[i]
			l.Code = st.GetCode().String()
			if cl := st.GetCurrentLimit(); cl != nil {
				l.Limit, l.Unit, l.Remaining = cl.GetRequestsPerUnit(), cl.GetUnit().String(), st.GetLimitRemaining()
			}
		}
		out.Limits = append(out.Limits, l)
	}
}
